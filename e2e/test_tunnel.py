"""The tunnel against real peers: a bore server on 127.0.0.1 (the same bore library the app's
client uses; control port 7835, so these tests run one at a time) and a real Label Studio.
Loopline opens the tunnel inside `loopline serve`, self-tests it through the public URL,
registers Label Studio's webhook at the tunnel URL, survives the bore server's restart, and
moves the webhook (actions, header, active) when the URL changes. Only the hook paths are
reachable through it."""
from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from harness.processes import Peer, binary, free_port, wait_for_port, wait_until

BORE_SECRET = "e2e-bore-secret-1234"


def start_bore() -> Peer:
    bore = Peer("bore-server", [str(binary("bore_server", "LOOPLINE_BORE_SERVER")), "--secret", BORE_SECRET,
                                "--min-port", "20000", "--max-port", "40000"])
    wait_for_port(7835, bore.proc)
    return bore


class Served:
    def __init__(self, cli: Path, data: Path):
        self.cli, self.data = cli, data
        self.port = free_port()
        self.serve: Peer | None = None

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(self.cli), "--data-dir", str(self.data), *args], input=stdin,
                              capture_output=True, text=True, timeout=90)
        if check:
            assert proc.returncode == 0, f"loopline {' '.join(args)}: {proc.stderr}"
        return proc

    def json(self, *args: str, stdin: str | None = None):
        return json.loads(self.run(*args, "--json", stdin=stdin).stdout)

    def start(self) -> None:
        self.serve = Peer("serve-tunnel", [str(self.cli), "--data-dir", str(self.data), "serve", "--listen",
                                           f"127.0.0.1:{self.port}"])
        wait_for_port(self.port, self.serve.proc)

    def stop(self) -> None:
        if self.serve is not None:
            assert self.serve.stop(signal.SIGTERM) == 0, self.serve.log()
            self.serve = None

    def status(self) -> dict:
        return self.json("tunnel", "status")

    def reachable(self, url_prefix: str = "") -> dict:
        return wait_until(
            lambda: (s := self.status())["state"] == "reachable" and (s.get("public_url") or "").startswith(url_prefix) and s,
            f"the tunnel reachable at {url_prefix or 'any URL'}", timeout=60)

    def events(self) -> list[dict]:
        return self.json("events", "list", "--limit", "500")


def heartbeats_pass(s: Served, n: int) -> None:
    """Waits until `n` different heartbeats of the running process have been seen."""
    seen: set[str] = set()

    def more():
        seen.update(p["heartbeat_at"] for p in s.json("info")["processes"])
        return len(seen) >= n

    wait_until(more, f"{n} heartbeats", timeout=60)


@pytest.fixture
def served(cli_binary, tmp_path, label_studio):
    s = Served(cli_binary, tmp_path / "data")
    s.run("connect", "label-studio", "--url", label_studio.base, stdin=label_studio.token)
    s.run("secret", "set", "bore-secret", stdin=BORE_SECRET)
    s.start()
    yield s
    s.stop()


def test_bore_tunnel_carries_label_studio_and_follows_every_url_change(label_studio, served):
    ls = label_studio
    bore = start_bore()
    try:
        # Nothing set yet: the status says so in words.
        assert served.status()["state"] == "stopped"
        set_ = served.json("tunnel", "set", "bore", "--server", "127.0.0.1", "--secret-name", "bore-secret")
        assert set_["provider"] == "bore"
        status = served.reachable("http://127.0.0.1:")
        public = status["public_url"]
        assert status["rtt_ms"] is not None and status["verified_at"] and status["kept_by"].startswith("serve")
        assert served.json("tunnel", "test")["reachable"] is True
        assert served.events() == [], "self-tests are never events"

        # Only the hook paths are reachable through the tunnel.
        for path in ["/", "/api", "/api/projects", "/admin", "/hooks/../admin", "/hooks/%2e%2e/admin", "/hooks/_loopline"]:
            for method in ("GET", "POST"):
                r = requests.request(method, public + path, timeout=10, allow_redirects=False)
                assert r.status_code in (404, 405), f"{method} {path} through the tunnel answered {r.status_code}"
        assert requests.get(public + "/healthz", timeout=10).status_code == 200

        # Label Studio's webhook goes to the tunnel URL by default, and annotations arrive.
        project = ls.create_project("Tunnel e2e")
        pid = project["id"]
        source = served.json("source", "add", "label-studio", "--name", "Through the tunnel")
        hook = served.json("label-studio", "hook", "--source", source["id"], "--project", str(pid))
        assert hook["url"] == public + source["hook_path"], hook
        tasks = ls.import_tasks(pid, [f"text {i}" for i in range(4)])
        ls.annotate(tasks[0])
        wait_until(lambda: [e for e in served.events() if e["action"] == "ANNOTATION_CREATED"], "the first annotation through bore")

        # The bore server dies and comes back: Loopline reconnects on the pinned port, the URL
        # survives, and deliveries continue.
        bore.stop(signal.SIGKILL)
        wait_until(lambda: served.status()["state"] != "reachable" or None, "the tunnel noticed the drop", timeout=60)
        bore = start_bore()
        again = served.reachable("http://127.0.0.1:")
        assert again["public_url"] == public, "the remote port is pinned across reconnects"
        ls.annotate(tasks[1])
        wait_until(lambda: len([e for e in served.events() if e["action"] == "ANNOTATION_CREATED"]) >= 2,
                   "the annotation after the reconnect")

        # Switch providers: the webhook follows the new URL, keeps its actions and header, and
        # is active; the timeline says so.
        before = requests.get(f"{ls.base}/api/webhooks/{hook['webhook_id']}/", headers=ls.http.headers, timeout=10).json()
        direct = f"http://127.0.0.1:{served.port}"
        served.json("tunnel", "set", "url", "--public-url", direct)
        served.reachable(direct)

        def moved():
            w = requests.get(f"{ls.base}/api/webhooks/{hook['webhook_id']}/", headers=ls.http.headers, timeout=10).json()
            return w if w["url"] == direct + source["hook_path"] else None

        w = wait_until(moved, "Label Studio's webhook at the new URL", timeout=60)
        assert w["is_active"] is True
        assert "ANNOTATION_CREATED" in w["actions"] and "ANNOTATIONS_CREATED" in w["actions"], w
        assert "X-Loopline-Token" in (w.get("headers") or {}), w
        assert sorted(before["actions"]) == sorted(w["actions"]), "a PATCH without actions would have cleared them"
        notice = wait_until(lambda: [e for e in served.events() if e["action"] == "LOOPLINE_TUNNEL_URL_CHANGED"],
                            "the timeline entry for the URL change")
        assert f"{public} → {direct}" in notice[0]["summary"] and str(hook["webhook_id"]) in notice[0]["summary"]
        ls.annotate(tasks[2])
        wait_until(lambda: len([e for e in served.events() if e["action"] == "ANNOTATION_CREATED"]) >= 3,
                   "the annotation at the new URL")
        # Self-tests never counted: three annotations, three events of that kind.
        assert len([e for e in served.events() if e["action"] == "ANNOTATION_CREATED"]) == 3
    finally:
        bore.stop()


def test_moving_back_to_a_url_used_before_moves_the_webhook_every_time(label_studio, served):
    """Issue 22.1: with a stable URL (own proxy, named tunnel, ngrok domain) the webhook goes
    A -> B -> A -> B -> A. Each move back to a URL used before must reach Label Studio, or it
    keeps posting to the URL just left and every annotation is lost."""
    ls = label_studio
    a, b = f"http://127.0.0.1:{served.port}", f"http://localhost:{served.port}"
    served.json("tunnel", "set", "url", "--public-url", a)
    served.reachable(a)
    pid = ls.create_project("Move back e2e")["id"]
    source = served.json("source", "add", "label-studio", "--name", "Moves back")
    hook = served.json("label-studio", "hook", "--source", source["id"], "--project", str(pid))
    assert hook["url"] == a + source["hook_path"], hook

    def webhook_at(url):
        def check():
            w = requests.get(f"{ls.base}/api/webhooks/{hook['webhook_id']}/", headers=ls.http.headers, timeout=10).json()
            return w if w["url"] == url + source["hook_path"] else None
        return check

    tasks = ls.import_tasks(pid, [f"text {i}" for i in range(2)])
    for n, target in enumerate([b, a, b, a], start=1):
        served.json("tunnel", "set", "url", "--public-url", target)
        served.reachable(target)
        w = wait_until(webhook_at(target), f"move {n}: Label Studio's webhook at {target}", timeout=60)
        assert w["is_active"] is True, w
    ls.annotate(tasks[0])
    wait_until(lambda: [e for e in served.events() if e["action"] == "ANNOTATION_CREATED"],
               "the annotation after the fourth move")


def test_tunnel_status_says_when_nothing_runs_it(cli_binary, tmp_path):
    data = tmp_path / "data"
    run = lambda *a: subprocess.run([str(cli_binary), "--data-dir", str(data), *a], capture_output=True, text=True, timeout=60)
    assert run("tunnel", "set", "url", "--public-url", "https://hooks.example.org/").returncode == 0
    status = json.loads(run("tunnel", "status", "--json").stdout)
    assert status["state"] == "stopped" and "Nothing is running it" in status["note"]
    refused = run("tunnel", "set", "bore", "--server", "bore.example:9000", "--json")
    assert refused.returncode == 1
    err = json.loads(refused.stderr.strip().splitlines()[-1])
    assert err["code"] == "invalid_argument" and "7835" in err["message"]


@pytest.mark.desktop
def test_the_app_sets_a_bore_tunnel_and_shows_it_green(launch_app, data_dir, run_cli):
    from harness.processes import ARTIFACTS

    run_cli("secret", "set", "bore-secret", data_dir=data_dir, input=BORE_SECRET)
    bore = start_bore()
    try:
        port = free_port()
        app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
        app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
        app.click(app.find('[data-testid="nav-settings"]'))
        app.wait_text('[data-testid="tunnel-summary"]', "Off")
        app.click(app.find('[data-testid="tunnel-provider-bore"]'))
        app.type(app.find('[data-testid="tunnel-server"]'), "127.0.0.1")
        app.click(app.find('[data-testid="tunnel-save"]'))
        app.wait_text('[data-testid="tunnel-summary"]', "Reachable from the internet", timeout=60)
        url = app.text(app.find('[data-testid="tunnel-public-url"]'))
        assert url.startswith("http://127.0.0.1:"), url
        # The URL shown really reaches this app's receiver from outside.
        assert requests.get(url + "/healthz", timeout=10).json()["db"] == "ok"
        bar = app.find('[data-testid="tunnel-status"]')
        assert app.attribute(bar, "data-state") == "reachable"
        app.click(app.find('[data-testid="tunnel-test"]'))
        app.wait_text('[data-testid="tunnel-test-result"]', "Reachable from the internet")
        ARTIFACTS.mkdir(exist_ok=True)
        app.screenshot(ARTIFACTS / "tunnel-settings.png")
        # The CLI sees what the app keeps.
        status = json.loads(run_cli("tunnel", "status", "--json", data_dir=data_dir).stdout)
        assert status["state"] == "reachable" and status["kept_by"].startswith("app")
    finally:
        bore.stop()


def fake_cloudflared(tmp_path: Path) -> tuple[Path, Path]:
    """Writes the stand-in cloudflared (harness/fake_cloudflared.py) as an executable."""
    import os
    import sys

    state = tmp_path / "cloudflared-state"
    state.mkdir()
    exe = tmp_path / "bin" / "cloudflared"
    exe.parent.mkdir()
    script = Path(__file__).parent / "harness" / "fake_cloudflared.py"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    exe.chmod(0o755)
    os.environ["FAKE_CLOUDFLARED_DIR"] = str(state)  # inherited by serve, then by cloudflared
    return exe, state


def test_cloudflared_is_supervised_and_label_studio_follows_each_new_hostname(label_studio, cli_binary, tmp_path):
    import os

    ls = label_studio
    exe, state = fake_cloudflared(tmp_path)
    s = Served(cli_binary, tmp_path / "data")
    s.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
    s.start()
    try:
        s.json("tunnel", "set", "cloudflared", "--binary", str(exe))
        first = s.reachable("http://127.0.0.1:")["public_url"]
        starts = lambda: len((state / "starts").read_text().splitlines())
        assert starts() == 1

        project = ls.create_project("Cloudflared e2e")
        pid = project["id"]
        source = s.json("source", "add", "label-studio", "--name", "Quick tunnel")
        hook = s.json("label-studio", "hook", "--source", source["id"], "--project", str(pid))
        assert hook["url"] == first + source["hook_path"]

        # cloudflared dies: Loopline starts it again, learns the new hostname, and moves the
        # webhook there.
        os.kill(int((state / "pid").read_text()), signal.SIGKILL)
        second = wait_until(lambda: (u := s.status().get("public_url")) and u != first and s.status()["state"] == "reachable" and u,
                            "a new quick-tunnel hostname", timeout=60)
        assert starts() == 2

        def webhook_url():
            w = requests.get(f"{ls.base}/api/webhooks/{hook['webhook_id']}/", headers=ls.http.headers, timeout=10).json()
            return w["url"] if w["url"] == second + source["hook_path"] else None

        wait_until(webhook_url, "the webhook at the new hostname", timeout=60)
        tasks = ls.import_tasks(pid, ["one"])
        ls.annotate(tasks[0])
        wait_until(lambda: [e for e in s.events() if e["action"] == "ANNOTATION_CREATED"], "the annotation via the new hostname")

        # Rate limited (429, error code 1015): said in words, and retried after a long wait,
        # not in a hot loop.
        (state / "mode").write_text("ratelimit")
        os.kill(int((state / "pid").read_text()), signal.SIGKILL)
        limited = wait_until(lambda: (st := s.status()).get("error") and st["error"]["code"] == "tunnel_rate_limited" and st,
                             "the rate limit reported", timeout=60)
        message = limited["error"]["message"]
        assert "1015" in message, message
        wait_s = int(re.search(r"Trying again in (\d+) s", message).group(1))
        assert wait_s >= 60, message
        tried = starts()
        # Wait on the engine's own clockwork, not on time: serve's heartbeat is written every
        # 2 s, and the keeper ticks every second, so two new heartbeats span several keeper
        # steps, in which a hot loop would have started cloudflared again.
        heartbeats_pass(s, 3)
        assert starts() == tried, "no restart before the long backoff ends"
    finally:
        s.stop()


def test_a_webhook_deleted_in_label_studio_is_recreated_or_reported_as_the_user_chose(label_studio, cli_binary, tmp_path):
    """The `url` provider at two loopback spellings of the same receiver: each switch is a
    URL change that moves Label Studio's webhooks, so no bore server is needed."""
    ls = label_studio
    s = Served(cli_binary, tmp_path / "data")
    s.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
    s.start()
    try:
        a, b = f"http://127.0.0.1:{s.port}", f"http://localhost:{s.port}"
        s.json("tunnel", "set", "url", "--public-url", a)
        s.reachable(a)
        pid = ls.create_project("Deleted hook e2e")["id"]
        source = s.json("source", "add", "label-studio", "--name", "Deleted hook")
        hook = s.json("label-studio", "hook", "--source", source["id"], "--project", str(pid))
        webhook = lambda wid: requests.get(f"{ls.base}/api/webhooks/{wid}/", headers=ls.http.headers, timeout=10)
        project_hooks = lambda: [w for w in requests.get(f"{ls.base}/api/webhooks/", params={"project": pid},
                                                         headers=ls.http.headers, timeout=10).json()
                                 if w.get("project") == pid]

        # Recreate (the default): deleted in Label Studio, then the URL changes; the webhook is
        # registered again at the new URL, with its actions, and the timeline says so.
        assert s.json("label-studio", "hook-policy")["if_deleted"] == "recreate"
        assert requests.delete(f"{ls.base}/api/webhooks/{hook['webhook_id']}/", headers=ls.http.headers, timeout=10).status_code == 204
        s.json("tunnel", "set", "url", "--public-url", b)
        s.reachable(b)
        again = wait_until(lambda: [w for w in project_hooks() if w["url"] == b + source["hook_path"]],
                           "the webhook registered again at the new URL", timeout=60)[0]
        assert again["is_active"] and "ANNOTATION_CREATED" in again["actions"], again
        # (The periodic webhook check may notice the deletion before the URL change does;
        # either way the timeline says the webhook had been deleted and was registered again.)
        wait_until(lambda: [e for e in s.events() if e["action"].startswith("LOOPLINE_") and "had been deleted" in e["summary"]],
                   "the timeline entry for the recreated webhook")

        # Report: deleted again, the URL changes back; nothing is registered, the timeline
        # says how to resume, and it says so once.
        assert s.json("label-studio", "hook-policy", "--if-deleted", "report")["if_deleted"] == "report"
        assert webhook(again["id"]).status_code == 200
        requests.delete(f"{ls.base}/api/webhooks/{again['id']}/", headers=ls.http.headers, timeout=10)
        s.json("tunnel", "set", "url", "--public-url", a)
        s.reachable(a)
        notice = wait_until(lambda: [e for e in s.events() if e["action"] == "LOOPLINE_WEBHOOK_DELETED"],
                            "the timeline entry for the deleted webhook", timeout=60)
        assert "label-studio hook --source" in notice[0]["summary"], notice
        wait_until(lambda: s.json("info")["activity"]["quiescent"], "the engine idle")
        assert project_hooks() == [], "the webhook stays deleted, as the user chose"
        assert len([e for e in s.events() if e["action"] == "LOOPLINE_WEBHOOK_DELETED"]) == 1
    finally:
        s.stop()


@pytest.mark.desktop
def test_the_app_opened_while_serve_owns_the_port_leaves_the_tunnel_to_serve(launch_app, data_dir, run_cli, cli_binary):
    """Issue 22.2 with the real peers: `serve` keeps a bore tunnel; the app opens on the same
    data directory while serve owns the port. The app, with no receiver, never takes the
    tunnel (one tunnel, serve's, at its URL). Once serve stops and the app's receiver moves
    to a free port, the app takes it over."""
    run_cli("secret", "set", "bore-secret", data_dir=data_dir, input=BORE_SECRET)
    bore = start_bore()
    s = Served(cli_binary, data_dir)
    s.start()
    try:
        s.json("tunnel", "set", "bore", "--server", "127.0.0.1", "--secret-name", "bore-secret")
        first = s.reachable("http://127.0.0.1:")
        assert first["kept_by"].startswith("serve"), first

        app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{s.port}"])
        app.wait_text('[data-testid="receiver-error"]', "already in use")
        # Several ticks of both keepers (heartbeats are 2 s apart, keepers tick every second).
        heartbeats_pass(s, 4)
        kinds = sorted(p["kind"] for p in s.json("info")["processes"])
        assert kinds == ["app", "serve"], kinds
        now = s.status()
        assert now["state"] == "reachable" and now["kept_by"].startswith("serve"), now
        assert now["public_url"] == first["public_url"], "one tunnel, never a second one"

        s.stop()
        # Nothing with a receiver is running: the app does not pick the tunnel up.
        idle = wait_until(lambda: (st := s.status())["state"] == "stopped" and st, "the tunnel left alone", timeout=60)
        assert "Nothing is running it" in idle["note"], idle

        use = app.find('[data-testid="receiver-use-suggested"]')
        app.click(use)
        taken = wait_until(lambda: (st := s.status())["state"] == "reachable" and st, "the app's tunnel", timeout=90)
        assert taken["kept_by"].startswith("app"), taken
    finally:
        s.stop()
        bore.stop()
