"""The little of Xlib that B8 needs, through ctypes (python-xlib is not installed here):
find a process's top-level window, read its pixels, unmap it."""
from __future__ import annotations

import ctypes
from ctypes import POINTER, byref, c_char_p, c_int, c_long, c_uint, c_ulong, c_void_p

_X = ctypes.cdll.LoadLibrary("libX11.so.6")

IS_VIEWABLE = 2
Z_PIXMAP = 2
XA_CARDINAL = 6


class WindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", c_int), ("y", c_int), ("width", c_int), ("height", c_int), ("border_width", c_int),
        ("depth", c_int), ("visual", c_void_p), ("root", c_ulong), ("class_", c_int),
        ("bit_gravity", c_int), ("win_gravity", c_int), ("backing_store", c_int),
        ("backing_planes", c_ulong), ("backing_pixel", c_ulong), ("save_under", c_int),
        ("colormap", c_ulong), ("map_installed", c_int), ("map_state", c_int),
        ("all_event_masks", c_long), ("your_event_mask", c_long),
        ("do_not_propagate_mask", c_long), ("override_redirect", c_int), ("screen", c_void_p),
    ]


class Image(ctypes.Structure):
    # Only the leading fields are read; the rest of XImage follows in memory.
    _fields_ = [
        ("width", c_int), ("height", c_int), ("xoffset", c_int), ("format", c_int),
        ("data", c_void_p), ("byte_order", c_int), ("bitmap_unit", c_int),
        ("bitmap_bit_order", c_int), ("bitmap_pad", c_int), ("depth", c_int),
        ("bytes_per_line", c_int), ("bits_per_pixel", c_int),
    ]


_X.XOpenDisplay.restype = c_void_p
_X.XOpenDisplay.argtypes = [c_char_p]
_X.XDefaultRootWindow.restype = c_ulong
_X.XDefaultRootWindow.argtypes = [c_void_p]
_X.XQueryTree.argtypes = [c_void_p, c_ulong, POINTER(c_ulong), POINTER(c_ulong),
                          POINTER(POINTER(c_ulong)), POINTER(c_uint)]
_X.XGetWindowAttributes.argtypes = [c_void_p, c_ulong, POINTER(WindowAttributes)]
_X.XGetImage.restype = POINTER(Image)
_X.XGetImage.argtypes = [c_void_p, c_ulong, c_int, c_int, c_uint, c_uint, c_ulong, c_int]
_X.XDestroyImage.argtypes = [POINTER(Image)]
_X.XInternAtom.restype = c_ulong
_X.XInternAtom.argtypes = [c_void_p, c_char_p, c_int]
_X.XGetWindowProperty.argtypes = [c_void_p, c_ulong, c_ulong, c_long, c_long, c_int, c_ulong,
                                  POINTER(c_ulong), POINTER(c_int), POINTER(c_ulong),
                                  POINTER(c_ulong), POINTER(c_void_p)]
_X.XFree.argtypes = [c_void_p]
_X.XUnmapWindow.argtypes = [c_void_p, c_ulong]
_X.XSync.argtypes = [c_void_p, c_int]
_X.XDisplayWidth.argtypes = [c_void_p, c_int]
_X.XDisplayHeight.argtypes = [c_void_p, c_int]

# A window can vanish between listing it and reading it; Xlib's default handler would then
# end this process. Errors are ignored, and the call's result (NULL, 0) says it failed.
_IGNORE = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p)(lambda _d, _e: 0)
_X.XSetErrorHandler(_IGNORE)


class Display:
    def __init__(self, name: str):
        self.d = _X.XOpenDisplay(name.encode())
        if not self.d:
            raise RuntimeError(f"cannot open X display {name}")
        self.root = _X.XDefaultRootWindow(self.d)
        self.screen_w = _X.XDisplayWidth(self.d, 0)
        self.screen_h = _X.XDisplayHeight(self.d, 0)
        self.pid_atom = _X.XInternAtom(self.d, b"_NET_WM_PID", 0)

    def _pid_of(self, w: int) -> int | None:
        t, f, n, after, prop = c_ulong(), c_int(), c_ulong(), c_ulong(), c_void_p()
        ok = _X.XGetWindowProperty(self.d, w, self.pid_atom, 0, 1, 0, XA_CARDINAL,
                                   byref(t), byref(f), byref(n), byref(after), byref(prop))
        if ok != 0 or not prop.value:
            return None
        try:
            return ctypes.cast(prop, POINTER(c_ulong))[0] if n.value == 1 and f.value == 32 else None
        finally:
            _X.XFree(prop)

    def viewable_window(self, pid: int):
        """The viewable top-level window of `pid` at least 200 px wide, as (x, y, w, h), or None."""
        root_ret, parent, children, n = c_ulong(), c_ulong(), POINTER(c_ulong)(), c_uint()
        if not _X.XQueryTree(self.d, self.root, byref(root_ret), byref(parent), byref(children), byref(n)):
            return None
        try:
            for i in range(n.value):
                w = children[i]
                a = WindowAttributes()
                if not _X.XGetWindowAttributes(self.d, w, byref(a)):
                    continue
                if a.map_state == IS_VIEWABLE and a.width >= 200 and self._pid_of(w) == pid:
                    return w, (a.x, a.y, a.width, a.height)
        finally:
            if children:
                _X.XFree(children)
        return None

    def pixels(self, rect) -> bytes | None:
        """The screen's pixels in `rect` (clipped to the screen), read from the root window so
        that a window partly off screen still reads."""
        x, y, w, h = rect
        x0, y0 = max(x, 0), max(y, 0)
        w, h = min(x + w, self.screen_w) - x0, min(y + h, self.screen_h) - y0
        if w <= 0 or h <= 0:
            return None
        img = _X.XGetImage(self.d, self.root, x0, y0, w, h, c_ulong(-1).value, Z_PIXMAP)
        if not img:
            return None
        try:
            i = img.contents
            return ctypes.string_at(i.data, i.bytes_per_line * i.height)
        finally:
            _X.XDestroyImage(img)

    def unmap(self, window: int) -> None:
        _X.XUnmapWindow(self.d, window)
        _X.XSync(self.d, 0)


def uniform(data: bytes) -> bool:
    """Every 32-bit pixel the same colour: nothing drawn yet (or a plain background)."""
    return data == data[:4] * (len(data) // 4)


def write_png(path, data: bytes, width: int, height: int) -> None:
    """A ZPixmap of 32-bit BGRX pixels as an RGB PNG, to look at what counted as first paint."""
    import struct
    import zlib

    rows = bytearray()
    for y in range(height):
        row = data[y * width * 4:(y + 1) * width * 4]
        rows.append(0)
        rgb = bytearray(width * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = row[2::4], row[1::4], row[0::4]
        rows += rgb

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(bytes(rows), 6)))
        f.write(chunk(b"IEND", b""))
