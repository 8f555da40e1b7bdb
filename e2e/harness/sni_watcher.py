"""A StatusNotifierWatcher on the test's private D-Bus session, as a desktop's tray host runs
one (KDE Plasma, GNOME's AppIndicator extension). It records which items register, and lets
a test read an item's properties and its menu (com.canonical.dbusmenu) and click menu items
through the menu's `Event` method: the same calls a real tray makes.

Built on dbus-next, running its own asyncio loop in a thread.
"""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from dbus_next import BusType, Message, MessageType, Variant
from dbus_next.aio import MessageBus
from dbus_next.service import PropertyAccess, ServiceInterface, dbus_property, method, signal

WATCHER = "org.kde.StatusNotifierWatcher"
ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"


class _Watcher(ServiceInterface):
    def __init__(self) -> None:
        super().__init__(WATCHER)
        self.items: list[str] = []

    @method()
    def RegisterStatusNotifierItem(self, service: "s"):  # noqa: F821 (D-Bus signature)
        self.items.append(service)
        self.StatusNotifierItemRegistered(service)

    @method()
    def RegisterStatusNotifierHost(self, service: "s"):  # noqa: F821
        pass

    @signal()
    def StatusNotifierItemRegistered(self, service) -> "s":  # noqa: F821
        return service

    @dbus_property(access=PropertyAccess.READ)
    def RegisteredStatusNotifierItems(self) -> "as":  # noqa: F821
        return list(self.items)

    @dbus_property(access=PropertyAccess.READ)
    def IsStatusNotifierHostRegistered(self) -> "b":  # noqa: F821
        return True

    @dbus_property(access=PropertyAccess.READ)
    def ProtocolVersion(self) -> "i":  # noqa: F821
        return 0


def _unwrap(v: Any) -> Any:
    if isinstance(v, Variant):
        return _unwrap(v.value)
    if isinstance(v, list):
        return [_unwrap(x) for x in v]
    if isinstance(v, dict):
        return {k: _unwrap(x) for k, x in v.items()}
    return v


class SniWatcher:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._watcher = _Watcher()
        self._bus: MessageBus = self._run(self._connect())

    async def _connect(self) -> MessageBus:
        bus = await MessageBus(bus_type=BusType.SESSION).connect()
        bus.export("/StatusNotifierWatcher", self._watcher)
        await bus.request_name(WATCHER)
        return bus

    def _run(self, coro, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        try:
            self._bus.disconnect()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    @property
    def items(self) -> list[str]:
        return list(self._watcher.items)

    def wait_item(self, timeout: float = 30.0, exclude: tuple[str, ...] = ()) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = [i for i in self._watcher.items if i not in exclude]
            if fresh:
                return fresh[-1]
            time.sleep(0.1)
        raise AssertionError(f"no tray item registered with the StatusNotifierWatcher within {timeout} s")

    def _call(self, dest: str, path: str, iface: str, member: str, signature: str = "", body: list | None = None) -> list:
        async def go():
            reply = await self._bus.call(
                Message(destination=dest, path=path, interface=iface, member=member, signature=signature, body=body or [])
            )
            if reply.message_type == MessageType.ERROR:
                raise AssertionError(f"{iface}.{member} on {dest}{path}: {reply.error_name} {reply.body}")
            return reply.body

        return self._run(go())

    def alive(self, service: str) -> bool:
        (owner,) = self._call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s", [service])
        return bool(owner)

    @staticmethod
    def _split(service: str) -> tuple[str, str]:
        # Registered as a bus name (the item is at /StatusNotifierItem) or as "name/path".
        if "/" in service:
            name, _, path = service.partition("/")
            return name, "/" + path
        return service, "/StatusNotifierItem"

    def prop(self, service: str, name: str) -> Any:
        dest, path = self._split(service)
        (value,) = self._call(dest, path, "org.freedesktop.DBus.Properties", "Get", "ss", [ITEM_IFACE, name])
        return _unwrap(value)

    def tooltip(self, service: str) -> str:
        # ToolTip is (icon name, icon pixmaps, title, description).
        _icon, _pixmaps, title, description = self.prop(service, "ToolTip")
        return f"{title}\n{description}"

    def icon_pixels(self, service: str) -> bytes:
        pixmaps = self.prop(service, "IconPixmap")
        return bytes(pixmaps[0][2]) if pixmaps else b""

    def menu(self, service: str) -> list[dict]:
        """The menu's items, flattened: {id, label, enabled, type}."""
        dest, _ = self._split(service)
        menu_path = self.prop(service, "Menu")
        _rev, layout = self._call(dest, menu_path, MENU_IFACE, "GetLayout", "iias", [0, -1, []])
        out: list[dict] = []

        def walk(node):
            node_id, props, children = node
            props = _unwrap(props)
            if node_id != 0:
                out.append(
                    {
                        "id": node_id,
                        "label": props.get("label", ""),
                        "enabled": props.get("enabled", True),
                        "type": props.get("type", "standard"),
                    }
                )
            for c in children:
                walk(_unwrap(c))

        walk(layout)
        return out

    def click(self, service: str, label_starts: str) -> None:
        items = [i for i in self.menu(service) if i["label"].replace("_", "").startswith(label_starts)]
        assert items, f"no menu item starting with {label_starts!r} in {self.menu(service)}"
        dest, _ = self._split(service)
        menu_path = self.prop(service, "Menu")
        self._call(dest, menu_path, MENU_IFACE, "Event", "isvu", [items[0]["id"], "clicked", Variant("s", ""), 0])
