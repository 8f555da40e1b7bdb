"""B8: what the desktop app costs, against a bare Tauri v2 window built in the same run
(bench/bare-tauri). Figures and goals; nothing is asserted.

1. Start to first paint: from spawning the process to the first frame in which its window's
   pixels are not all one colour. The same external probe serves both apps and neither is
   changed for it: every 10 ms the window of the spawned process (found by _NET_WM_PID) is
   read back from the X server (XGetImage on Xvfb). A window that is mapped but not drawn
   yet, or drawn with a plain background only (GTK's, or WebKit's white before the page
   renders), is one colour; the first frame with anything on it (text, the sidebar) is the
   first paint. Polling continues until the window has not changed for 2 s: the last change
   is "settled" (for Loopline, the timeline with its rows or its empty state).
   Fresh data dir, then a copy of a data dir with 100k events; several rounds, median.
2. Memory after 60 s idle: PSS (/proc/PID/smaps_rollup) of the app and every descendant
   (WebKitWebProcess, WebKitNetworkProcess), so pages they share are counted once.
3. CPU while idle for 60 s: utime + stime (/proc/PID/stat) of the same processes, first with
   the window open, then with it unmapped from outside (XUnmapWindow: what a window hidden
   in the tray looks like to GTK and WebKit). The threads that woke up most (voluntary
   context switches) show what keeps the process busy.

Usage: python3 bench/app_footprint.py APP_BIN BARE_BIN SEEDED_DATA_DIR
Environment: B8_ROUNDS (5), B8_IDLE_SECONDS (60), B8_ARTIFACTS (test-artifacts/b8).
Run it under scripts/with-keyring: the app keeps its secrets in a private keychain.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import x11  # noqa: E402

APP, BARE, SEEDED = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
ROUNDS = int(os.environ.get("B8_ROUNDS", "5"))
IDLE = float(os.environ.get("B8_IDLE_SECONDS", "60"))
ARTIFACTS = Path(os.environ.get("B8_ARTIFACTS", "test-artifacts/b8"))
POLL = 0.010
SETTLE = 2.0
TICK = os.sysconf("SC_CLK_TCK")

GOAL_PAINT_RATIO = 1.3
GOAL_MEM_RATIO = 1.5
GOAL_MEM_MB = 200
GOAL_CPU_PCT = 0.5


def start_xvfb():
    read_fd, write_fd = os.pipe()
    # -br: a black root, so an undrawn window reads as one colour.
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp", "-br"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    os.close(write_fd)
    with os.fdopen(read_fd) as r:
        number = r.readline().strip()
    if not number:
        sys.exit("Xvfb did not start")
    return proc, f":{number}"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def machine_busy():
    with open("/proc/stat") as f:
        v = list(map(int, f.readline().split()[1:]))
    return v[0] + v[1] + v[2] + v[5] + v[6], v[3] + v[4], v[7]


def busy_steal(before, after):
    busy, idle, steal = (b - a for a, b in zip(before, after))
    total = max(busy + idle + steal, 1)
    return 100 * busy / total, 100 * steal / total


class Config:
    def __init__(self, label: str, binary: Path, data: str | None):
        self.label, self.binary, self.data = label, binary, data

    def spawn(self, display: str, tmp: Path):
        args, env = [str(self.binary)], dict(os.environ, DISPLAY=display)
        if self.data is not None:
            d = tmp / "data"
            shutil.rmtree(d, ignore_errors=True)
            if self.data == "100k":
                shutil.copytree(SEEDED, d)
            args += ["--data-dir", str(d), "--listen", f"127.0.0.1:{free_port()}"]
        log = open(tmp / f"{self.label}.log", "ab")
        return subprocess.Popen(args, env=env, stdout=log, stderr=log, start_new_session=True)


def stop(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def watch_paint(disp: x11.Display, proc, shot: Path | None, timeout: float = 60.0):
    """Seconds from `spawned` to the first non-uniform frame, and to the last change before
    SETTLE seconds without one; plus the window id."""
    t0 = time.monotonic()
    first = last_change = None
    last = None
    window = None
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited ({proc.returncode}) before painting")
        found = disp.viewable_window(proc.pid)
        now = time.monotonic()
        if found:
            window, rect = found
            data = disp.pixels(rect)
            if data is not None and not x11.uniform(data):
                if first is None:
                    first = last_change = now - t0
                    if shot:
                        x11.write_png(shot.with_suffix(".first.png"), data, rect[2], rect[3])
                elif data != last:
                    last_change = now - t0
                last = data
        if first is not None and now - t0 - last_change >= SETTLE:
            if shot and last is not None:
                x11.write_png(shot.with_suffix(".settled.png"), last, rect[2], rect[3])
            return first, last_change, window
        time.sleep(POLL)
    raise RuntimeError("no paint within the timeout")


def tree(pid: int) -> list[int]:
    parents = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    parents[int(p)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [c for c, pp in parents.items() if pp == p]
    return out


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pids) -> dict[int, int]:
    out = {}
    for p in pids:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            out[p] = int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        except (OSError, IndexError):
            pass
    return out


def threads(pids) -> dict[tuple[int, int], tuple[str, int, int]]:
    """Per thread: (process/thread name, voluntary context switches, CPU ticks)."""
    out = {}
    for p in pids:
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tids:
            try:
                status = Path(f"/proc/{p}/task/{t}/status").read_text()
                f = Path(f"/proc/{p}/task/{t}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            vol = int(next(line.split()[1] for line in status.splitlines()
                           if line.startswith("voluntary_ctxt_switches")))
            name = Path(f"/proc/{p}/task/{t}/comm").read_text().strip()
            out[(p, int(t))] = (f"{comm(p)}/{name}", vol, int(f[11]) + int(f[12]))
    return out


def idle_window(pids, seconds: float):
    """CPU % of one core of `pids` over `seconds`, and the busiest waking threads."""
    c0, th0, t0 = cpu_ticks(pids), threads(pids), time.monotonic()
    time.sleep(seconds)
    c1, th1, t1 = cpu_ticks(pids), threads(pids), time.monotonic()
    used = sum(c1[p] - c0[p] for p in c1 if p in c0) / TICK
    per = {}
    for k, (name, vol, ticks) in th1.items():
        if k in th0:
            agg = per.setdefault(name, [0, 0, 0])
            agg[0] += 1
            agg[1] += vol - th0[k][1]
            agg[2] += ticks - th0[k][2]
    wall = t1 - t0
    top = sorted(per.items(), key=lambda kv: -kv[1][1])[:8]
    return 100 * used / wall, [(n, c, v / wall, 1000 * t / TICK / wall) for n, (c, v, t) in top]


def main() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    xvfb, display = start_xvfb()
    tmp = Path(tempfile.mkdtemp(prefix="b8-"))
    try:
        disp = x11.Display(display)
        configs = [Config("bare", BARE, None), Config("loopline-fresh", APP, "fresh"),
                   Config("loopline-100k", APP, "100k")]
        print(f"B8: {ROUNDS} rounds of start-to-first-paint, then {IDLE:.0f} s idle windows; "
              f"{os.cpu_count()} cores, Xvfb {display} 1280x800, release builds")
        paints: dict[str, list] = {c.label: [] for c in configs}
        # A round not counted first, so no configuration alone pays for a cold page cache.
        for r in range(ROUNDS + 1):
            for c in configs:
                proc = c.spawn(display, tmp)
                before = machine_busy()
                try:
                    first, settled, _ = watch_paint(disp, proc, ARTIFACTS / f"{c.label}" if r == 1 else None)
                finally:
                    busy, steal = busy_steal(before, machine_busy())
                    stop(proc)
                if r > 0:
                    paints[c.label].append((first, settled, busy, steal))
                    print(f"  round {r} {c.label:<15} first paint {1000 * first:6.0f} ms  settled "
                          f"{1000 * settled:6.0f} ms  busy {busy:3.0f}%  steal {steal:4.1f}%", flush=True)

        idle = {}
        for c in configs:
            proc = c.spawn(display, tmp)
            _, _, window = watch_paint(disp, proc, None)
            time.sleep(IDLE)
            pids = tree(proc.pid)
            parts = [(comm(p), pss_kb(p)) for p in pids]
            cpu_open, top_open = idle_window(pids, IDLE)
            disp.unmap(window)
            time.sleep(2)
            pids = tree(proc.pid)
            cpu_hidden, top_hidden = idle_window(pids, IDLE)
            still = disp.viewable_window(proc.pid) is not None
            stop(proc)
            idle[c.label] = (parts, cpu_open, cpu_hidden, top_open, top_hidden, still)
            mb = sum(k for _, k in parts) / 1024
            print(f"  {c.label:<15} PSS {mb:6.1f} MB ({', '.join(f'{n} {k / 1024:.1f}' for n, k in parts)})"
                  f"  CPU open {cpu_open:.2f}%  hidden {cpu_hidden:.2f}%"
                  + ("  (window still viewable after unmap!)" if still else ""), flush=True)
            for title, top in (("open", top_open), ("hidden", top_hidden)):
                print(f"    wakeups while {title}: " + "; ".join(
                    f"{n} x{k} {w:.1f}/s {ms:.2f} ms/s" for n, k, w, ms in top if w >= 0.05))
        report(paints, idle)
    finally:
        xvfb.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(paints, idle) -> None:
    med = {k: (statistics.median(v[0] for v in vs), statistics.median(v[1] for v in vs)) for k, vs in paints.items()}
    bare_first, bare_settled = med["bare"]
    print()
    print(f"  {'':<34}{'bare':>10}{'loopline':>10}{'ratio':>8}  goal")
    for label, data in (("fresh data dir", "loopline-fresh"), ("100k events", "loopline-100k")):
        first, settled = med[data]
        ratio = first / bare_first
        print(f"  {'first paint, ' + label:<34}{1000 * bare_first:>8.0f}ms{1000 * first:>8.0f}ms{ratio:>7.2f}x"
              f"  <= {GOAL_PAINT_RATIO}x bare  {verdict(ratio <= GOAL_PAINT_RATIO)}")
        print(f"  {'settled, ' + label:<34}{1000 * bare_settled:>8.0f}ms{1000 * settled:>8.0f}ms"
              f"{settled / bare_settled:>7.2f}x  (figure only)")
    bare_mb = sum(k for _, k in idle["bare"][0]) / 1024
    for label, data in (("fresh data dir", "loopline-fresh"), ("100k events", "loopline-100k")):
        mb = sum(k for _, k in idle[data][0]) / 1024
        ratio = mb / bare_mb
        print(f"  {'PSS after 60 s idle, ' + label:<34}{bare_mb:>8.0f}MB{mb:>8.0f}MB{ratio:>7.2f}x"
              f"  <= {GOAL_MEM_RATIO}x bare {verdict(ratio <= GOAL_MEM_RATIO)}, < {GOAL_MEM_MB} MB "
              f"{verdict(mb < GOAL_MEM_MB)}")
    for label, data in (("fresh data dir", "loopline-fresh"), ("100k events", "loopline-100k")):
        _, bare_open, bare_hidden, *_ = idle["bare"]
        _, cpu_open, cpu_hidden, *_ = idle[data]
        print(f"  {'CPU idle, window open, ' + label:<34}{bare_open:>9.2f}%{cpu_open:>9.2f}%{'':>8}  (figure only)")
        print(f"  {'CPU idle, window hidden, ' + label:<34}{bare_hidden:>9.2f}%{cpu_hidden:>9.2f}%{'':>8}"
              f"  < {GOAL_CPU_PCT}% of a core {verdict(cpu_hidden < GOAL_CPU_PCT)}")


if __name__ == "__main__":
    main()
