#!/usr/bin/env bash
# Installs what is missing, builds Loopline and starts it: the desktop app when there is a
# display, otherwise the headless receiver (`loopline serve`), and it says which.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/loopline/target}"
scripts/install.sh

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  echo "==> building the UI and the desktop app (the first build takes a few minutes)"
  (cd ui && npm run --silent build)
  cargo build -p loopline-app --features tauri/custom-protocol
  exec "$CARGO_TARGET_DIR/debug/loopline-app" "$@"
else
  echo "==> No display found (DISPLAY and WAYLAND_DISPLAY are unset), so the desktop window cannot open."
  echo "==> Starting the headless receiver instead: loopline serve $*"
  cargo build -p loopline-cli
  exec "$CARGO_TARGET_DIR/debug/loopline" serve "$@"
fi
