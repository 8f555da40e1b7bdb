"""Whether the app's window is on screen, read from the X server (xwininfo, x11-utils) the
way a user sees it: mapped and viewable, or not."""
from __future__ import annotations

import re
import subprocess


def viewable_windows(title: str = "Loopline") -> list[str]:
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, timeout=10).stdout
    ids = re.findall(r'^\s*(0x[0-9a-f]+) "' + re.escape(title) + r'"', tree, re.M)
    out = []
    for wid in ids:
        info = subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True, timeout=10).stdout
        if "Map State: IsViewable" in info:
            out.append(wid)
    return out


def window_shown(title: str = "Loopline") -> bool:
    return bool(viewable_windows(title))


def close_like_the_user(title: str = "Loopline") -> None:
    """Sends WM_DELETE_WINDOW to each viewable window of that title: what the window manager
    does when the user clicks the close button."""
    from Xlib import X, display as xdisplay
    from Xlib.protocol import event

    d = xdisplay.Display()
    try:
        protocols = d.intern_atom("WM_PROTOCOLS")
        delete = d.intern_atom("WM_DELETE_WINDOW")
        sent = 0
        for wid in viewable_windows(title):
            w = d.create_resource_object("window", int(wid, 16))
            if delete not in (w.get_wm_protocols() or []):
                continue
            msg = event.ClientMessage(window=w, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
            w.send_event(msg, event_mask=X.NoEventMask)
            sent += 1
        d.flush()
        assert sent, f"no window titled {title!r} takes WM_DELETE_WINDOW"
    finally:
        d.close()
