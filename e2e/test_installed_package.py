"""The .deb as a user's machine meets it, and the .rpm's contents (issue 25).

The .deb is installed with dpkg (which refuses it when a Depends is not installed), checked
and used through the INSTALLED files only (/usr/bin/loopline, the app binary the package puts
on the PATH, its desktop entry), then purged: the machine is left as it was found. The user's
data directory (here a scratch $HOME) survives the removal.

Paths come from scripts/package.sh's output: LOOPLINE_DEB and LOOPLINE_RPM (scripts/test.sh
sets them). Without them this module skips on a developer's machine and fails under CI=true.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from harness.processes import ARTIFACTS, Peer, free_port, missing_peer, wait_for_port
from test_timeline import FIXTURES, add_source, post

pytestmark = pytest.mark.desktop

PACKAGE = "loopline"


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, check=True, timeout=120, **kw)


def as_root(*args: str) -> list[str]:
    return list(args) if os.geteuid() == 0 else ["sudo", "-n", *args]


def package_path(var: str) -> Path:
    value = os.environ.get(var)
    if not value or not Path(value).is_file():
        missing_peer(f"{var} does not name a built package ({value!r}); run scripts/package.sh")
    return Path(value)


def is_installed() -> bool:
    q = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True)
    return q.returncode == 0 and "install ok installed" in q.stdout


def depends_of(deb: Path) -> set[str]:
    field = run("dpkg-deb", "-f", str(deb), "Depends").stdout
    # "libfoo1 (>= 1.2), libbar2 | libbaz2" -> every package name named.
    return {re.sub(r"\s*\(.*\)", "", alt).strip() for dep in field.split(",") for alt in dep.split("|") if alt.strip()}


@pytest.fixture(scope="module")
def deb() -> Path:
    return package_path("LOOPLINE_DEB")


@pytest.fixture(scope="module")
def installed(deb):
    """dpkg -i, and dpkg --purge at the end whatever happens (the machine as it was)."""
    if is_installed():
        pytest.fail(f"a {PACKAGE} package is already installed here; this test will not replace it")
    proc = subprocess.run(as_root("dpkg", "-i", str(deb)), capture_output=True, text=True)
    try:
        assert proc.returncode == 0, f"dpkg -i failed (a Depends not installed?):\n{proc.stdout}\n{proc.stderr}"
        files = run("dpkg", "-L", PACKAGE).stdout.split()
        yield files
    finally:
        if is_installed():
            subprocess.run(as_root("dpkg", "--purge", PACKAGE), capture_output=True, text=True)
        assert not is_installed()


@pytest.fixture(scope="module")
def app_binary(installed) -> Path:
    """The installed app: the one program in /usr/bin that is not the CLI."""
    apps = [f for f in installed if f.startswith("/usr/bin/") and f != "/usr/bin/loopline"]
    assert len(apps) == 1, f"one app binary in /usr/bin: {apps}"
    return Path(apps[0])


@pytest.fixture(scope="module")
def cli_binary(installed) -> Path:
    assert "/usr/bin/loopline" in installed
    return Path("/usr/bin/loopline")


@pytest.fixture(scope="module")
def desktop_entry(installed) -> Path:
    entries = [f for f in installed if f.startswith("/usr/share/applications/") and f.endswith(".desktop")]
    assert len(entries) == 1, entries
    return Path(entries[0])


def needed(binary: Path) -> list[str]:
    out = run("readelf", "-d", str(binary)).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)


def owner(path: str) -> str:
    # Debian 12's merged /usr: dpkg may know the file as /lib/... rather than /usr/lib/...
    for candidate in (path, path.removeprefix("/usr"), os.path.realpath(path)):
        q = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if q.returncode == 0:
            return q.stdout.split(":")[0].strip()
    raise AssertionError(f"no package owns {path}")


def test_every_library_resolves_to_a_package_named_in_depends(deb, app_binary, cli_binary):
    depends = depends_of(deb)
    assert not [d for d in depends if d.endswith("-dev")], f"-dev packages in Depends: {depends}"
    used: set[str] = set()
    for binary in (app_binary, cli_binary):
        ldd = run("ldd", str(binary)).stdout
        assert "not found" not in ldd, f"{binary}: a library does not resolve:\n{ldd}"
        resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.M))
        # The dynamic loader is listed by its path, not as "name => path" (libc6 ships it).
        resolved.update({Path(p).name: p for p in re.findall(r"^\s*(/\S*ld-linux\S*) \(", ldd, re.M)})
        for soname in needed(binary):
            assert soname in resolved, f"{binary} needs {soname}, which ldd does not resolve"
            pkg = owner(resolved[soname])
            assert pkg in depends, f"{binary} needs {soname} from {pkg}, which Depends does not name: {depends}"
            used.add(pkg)
        # What those libraries pull in comes from packages too (their own Depends), not from
        # stray files in /usr/local.
        for path in resolved.values():
            owner(path)
    assert depends == used, f"Depends names packages no binary links: {sorted(depends - used)}"


def test_the_tray_loads_no_appindicator_so_depends_need_not_name_it(deb, app_binary):
    # ldd only sees linked libraries; libappindicator is dlopen'ed by name when tray-icon's
    # gtk backend is compiled in. The ksni backend replaces it, so the name is not in the
    # binary at all, and package.sh drops the bundler's libayatana-appindicator3-1.
    assert b"appindicator" not in app_binary.read_bytes().lower()
    assert not [d for d in depends_of(deb) if "appindicator" in d]


def test_the_desktop_entry_validates_and_starts_the_installed_app(desktop_entry, app_binary, installed):
    if shutil.which("desktop-file-validate") is None:
        missing_peer("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    proc = subprocess.run(["desktop-file-validate", str(desktop_entry)], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
    entry = desktop_entry.read_text()
    assert re.search(rf"^Exec={re.escape(app_binary.name)}\b", entry, re.M), entry
    icon = re.search(r"^Icon=(.+)$", entry, re.M).group(1)
    icons = [f for f in installed if f.startswith("/usr/share/icons/hicolor/") and Path(f).stem == icon]
    assert {"32x32", "128x128"} <= {Path(f).parts[5] for f in icons}, icons


def test_the_installed_cli_prints_the_package_version(deb, cli_binary):
    version = run("dpkg-deb", "-f", str(deb), "Version").stdout.strip()
    out = run(str(cli_binary), "--version").stdout
    assert out.startswith(f"loopline {version}"), out


def test_the_installed_serve_answers_healthz(cli_binary, tmp_path):
    port = free_port()
    serve = Peer("installed-serve", [str(cli_binary), "--data-dir", str(tmp_path / "data"), "--secrets", "env",
                                     "serve", "--listen", f"127.0.0.1:{port}"])
    try:
        wait_for_port(port, serve.proc)
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["db"] == "ok"
    finally:
        serve.stop()


def test_the_installed_app_opens_on_setup_and_receives_a_webhook(launch_app, run_cli, data_dir):
    port = free_port()
    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
    # A fresh data directory opens on Setup (one with a source already opens on the Timeline).
    app.wait_text('[data-testid="setup-progress"]', "next: 1. Label Studio", timeout=30)
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
    # The installed CLI adds the source; the running app's receiver takes it without a restart.
    source = add_source(run_cli, data_dir)
    resp = post(port, source, (FIXTURES / "label-studio/ANNOTATION_CREATED.json").read_bytes())
    assert resp.status_code == 200, resp.text
    app.click(app.find('[data-testid="nav-timeline"]'))
    app.wait_text('[data-testid="timeline-row"]', "Annotation 1 created on task 1")
    ARTIFACTS.mkdir(exist_ok=True)
    app.screenshot(ARTIFACTS / "installed-app-timeline.png")


def test_removing_the_package_leaves_the_users_data_alone(installed, cli_binary, tmp_path):
    # Last in this module: it removes the package the tests above use.
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local/share")}
    info = json.loads(run(str(cli_binary), "--secrets", "env", "info", "--json", env=env).stdout)
    data = Path(info["data_dir"])
    assert data.is_relative_to(home), info
    assert (data / "loopline.db").exists()
    before = sorted(p.name for p in data.iterdir())
    run(*as_root("dpkg", "--purge", PACKAGE))
    assert not is_installed() and not cli_binary.exists()
    assert sorted(p.name for p in data.iterdir()) == before


def test_the_rpm_holds_the_app_the_cli_the_desktop_entry_and_icons():
    rpm = package_path("LOOPLINE_RPM")
    if shutil.which("rpm") is None:
        missing_peer("rpm is not installed (apt-get install rpm)")
    files = run("rpm", "-qlp", str(rpm)).stdout.split()
    assert "/usr/bin/loopline" in files
    apps = [f for f in files if f.startswith("/usr/bin/") and f != "/usr/bin/loopline"]
    assert len(apps) == 1, files
    assert [f for f in files if f.startswith("/usr/share/applications/") and f.endswith(".desktop")], files
    assert [f for f in files if f.startswith("/usr/share/icons/hicolor/") and f.endswith(".png")], files
    requires = run("rpm", "-qRp", str(rpm)).stdout.split("\n")
    requires = [r.strip() for r in requires if r.strip() and not r.startswith("rpmlib(")]
    assert requires, "the .rpm names what it needs"
    assert not [r for r in requires if "-devel" in r or "-dev " in r], requires
    # Every library requirement names a soname, the way rpm's own generator writes them.
    libs = [r for r in requires if ".so" in r]
    assert "libwebkit2gtk-4.1.so.0()(64bit)" in libs and "libgtk-3.so.0()(64bit)" in libs, requires
