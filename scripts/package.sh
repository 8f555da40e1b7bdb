#!/usr/bin/env bash
# Builds Loopline's Linux packages, a .deb and an .rpm, with the Tauri bundler (release build,
# custom-protocol). Each holds the desktop app, the `loopline` CLI as /usr/bin/loopline (for
# headless use: `loopline serve`), a desktop entry and the icons from icons/.
#
# Depends/Requires are computed from the two binaries, not written by hand: every shared
# library either one links directly (ELF NEEDED) is mapped to the Debian package that ships
# it (dpkg -S), and to its soname for the .rpm. -dev packages never appear: only runtime
# libraries are linked at run time. e2e/test_installed_package.py checks the result.
#
# Prints the paths of the two packages on stdout (one a line), progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/loopline/target}"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Every tool below, checked first: a missing one fails here, with what to install.
for tool in readelf ldd dpkg dpkg-deb rpm rpmbuild rpm2archive; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed (scripts/install.sh)" >&2; exit 1; }
done

release="$CARGO_TARGET_DIR/release"
tauri=ui/node_modules/.bin/tauri
[ -x "$tauri" ] || npm --prefix ui ci >&2

say "cargo: the loopline CLI (release)"
cargo build --release --locked -p loopline-cli --bin loopline >&2

say "ui: the production build"
# The app embeds ui/dist, and cargo rebuilds it when any file there is newer (a few minutes
# in release). A fresh vite build rewrites every file, so it goes to a scratch dir and
# replaces ui/dist only when its content differs: a rerun with no change stays a no-op.
ui_out=$(mktemp -d)
trap 'rm -rf "$ui_out"' EXIT
npm --prefix ui run build -- --outDir "$ui_out" --emptyOutDir >&2
if ! diff -rq "$ui_out" ui/dist >/dev/null 2>&1; then
  rm -rf ui/dist
  cp -a "$ui_out" ui/dist && chmod 755 ui/dist
fi
rm -rf "$ui_out"

say "tauri: the app (release, custom-protocol), no bundle yet"
# tauri build turns custom-protocol on itself; its beforeBuildCommand (the UI build) has
# just run above, so it is switched off here (null removes the key in the merged config).
"$tauri" build --no-bundle --config '{"build":{"beforeBuildCommand":null}}' -- --locked >&2

bins=("$release/loopline-app" "$release/loopline")

# The Debian packages that ship the libraries the binaries link directly. ldd resolves each
# soname to the file this machine would load; dpkg -S names the package that owns it.
needed_sonames() {
  for b in "${bins[@]}"; do
    readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
  done | sort -u
}
deb_package_of() { # soname -> package (without :arch)
  local so=$1 path
  path=$(ldd "${bins[@]}" | awk -v so="$so" '$1 == so && $3 ~ /^\// { print $3; exit }')
  # The dynamic loader is listed by its path ("/lib64/ld-linux-x86-64.so.2 (0x...)").
  [ -n "$path" ] || path=$(ldd "${bins[@]}" | awk -v so="$so" '$1 ~ "/" so "$" { print $1; exit }')
  [ -n "$path" ] || { echo "error: $so does not resolve on this machine" >&2; return 1; }
  # Debian's merged /usr: the file may be registered under /lib rather than /usr/lib.
  dpkg -S "$path" 2>/dev/null || dpkg -S "${path#/usr}" 2>/dev/null || dpkg -S "$(readlink -f "$path")"
}
mapfile -t sonames < <(needed_sonames)
deb_depends=()
for so in "${sonames[@]}"; do
  pkg=$(deb_package_of "$so" | head -1 | cut -d: -f1)
  deb_depends+=("$pkg")
done
mapfile -t deb_depends < <(printf '%s\n' "${deb_depends[@]}" | sort -u)
# The .rpm names the same libraries the way rpm's own dependency generator does, so any
# distribution's package that ships the soname satisfies it.
rpm_requires=()
for so in "${sonames[@]}"; do rpm_requires+=("$so()(64bit)"); done
say "Depends: ${deb_depends[*]}"

json_list() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"; }
config=$(mktemp --suffix=.json)
trap 'rm -f "$config"' EXIT
cat >"$config" <<EOF
{
  "bundle": {
    "linux": {
      "deb": {
        "depends": $(json_list "${deb_depends[@]}"),
        "files": { "/usr/bin/loopline": "$release/loopline" }
      },
      "rpm": {
        "depends": $(json_list "${rpm_requires[@]}"),
        "files": { "/usr/bin/loopline": "$release/loopline" }
      }
    }
  }
}
EOF

say "tauri: bundling .deb and .rpm"
"$tauri" bundle --bundles deb,rpm --config "$config" >&2

version=$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["version"])')
deb="$release/bundle/deb/Loopline_${version}_amd64.deb"
rpm="$release/bundle/rpm/Loopline-${version}-1.x86_64.rpm"

# The bundler appends its own guesses to what it is given: libwebkit2gtk-4.1-0 and libgtk-3-0
# again, and libayatana-appindicator3-1 because tauri's tray-icon feature is on. Loopline's
# tray is ksni (StatusNotifierItem over D-Bus, see Cargo.toml): no binary links or loads
# libayatana. So the packages are rewritten to name exactly the list computed above.
work=$(mktemp -d)
trap 'rm -f "$config"; rm -rf "$work"' EXIT

say "deb: Depends rewritten to the computed list"
dpkg-deb -R "$deb" "$work/deb"
depends_line=$(printf '%s, ' "${deb_depends[@]}")
depends_line=${depends_line%, }
sed -i "s/^Depends: .*/Depends: $depends_line/" "$work/deb/DEBIAN/control"
dpkg-deb -b --root-owner-group "$work/deb" "$deb" >/dev/null

say "rpm: Requires rewritten to the computed sonames (rpmbuild, the same header fields and payload)"
# The bundler's own payload is kept (its app binary is marked as the rpm bundle type, the
# .deb's as the deb one); rpm2archive unpacks it, since Debian has no cpio.
q() { rpm -qp --qf "$1" "$rpm"; }
mapfile -t rpm_files < <(rpm -qlp "$rpm")
mkdir "$work/rpmroot"
rpm2archive - <"$rpm" | tar -xz -C "$work/rpmroot"
{
  echo "Name: $(q '%{NAME}')"
  echo "Version: $(q '%{VERSION}')"
  echo "Release: $(q '%{RELEASE}')"
  echo "Summary: $(q '%{SUMMARY}')"
  echo "License: $(q '%{LICENSE}')"
  # Requires are written out, not generated: the same list whatever rpm's generators are.
  echo "AutoReqProv: no"
  for r in "${rpm_requires[@]}"; do echo "Requires: $r"; done
  echo
  echo "%description"
  q '%{DESCRIPTION}\n'
  echo
  echo "%install"
  echo "cp -a '$work/rpmroot/.' %{buildroot}/"
  echo
  echo "%files"
  echo "%defattr(-,root,root,-)"
  printf '"%s"\n' "${rpm_files[@]}"
} >"$work/loopline.spec"
# No strip, no debuginfo package, no /usr/lib/.build-id links: the payload stays the bundle's.
rpmbuild -bb --quiet "$work/loopline.spec" \
  --define "_topdir $work/rpmbuild" --define "_rpmdir $work/rpms" \
  --define '__os_install_post %{nil}' --define 'debug_package %{nil}' \
  --define '_build_id_links none' >&2
mv "$work"/rpms/x86_64/*.rpm "$rpm"

ls "$deb" "$rpm"
