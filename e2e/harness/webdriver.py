"""A small W3C WebDriver client: enough to drive Loopline's window through tauri-driver."""
from __future__ import annotations

import base64
import time
from typing import Any, Callable

import requests

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(RuntimeError):
    pass


class Session:
    def __init__(self, base_url: str, capabilities: dict):
        self.base = base_url.rstrip("/")
        resp = requests.post(f"{self.base}/session", json={"capabilities": capabilities}, timeout=120)
        body = resp.json()
        if resp.status_code != 200:
            raise WebDriverError(f"new session failed: {body}")
        self.id = body["value"]["sessionId"]

    def _cmd(self, method: str, path: str, payload: dict | None = None) -> Any:
        url = f"{self.base}/session/{self.id}{path}"
        resp = requests.request(method, url, json=payload if method != "GET" else None, timeout=60)
        body = resp.json()
        if resp.status_code != 200:
            raise WebDriverError(f"{method} {path}: {body.get('value', body)}")
        return body.get("value")

    def close(self) -> None:
        try:
            requests.delete(f"{self.base}/session/{self.id}", timeout=30)
        except requests.RequestException:
            pass

    # Elements

    def find_all(self, css: str) -> list[str]:
        found = self._cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [e[ELEMENT] for e in found]

    def find(self, css: str, timeout: float = 15.0) -> str:
        return self.wait(lambda: (self.find_all(css) or [None])[0], timeout, f"element {css!r}")

    def text(self, element: str) -> str:
        """The element's text content. WebKit's W3C "element text" leaves out cells it
        considers hidden (ellipsised, transformed rows), so read the DOM instead."""
        return self.execute("return arguments[0].textContent", {ELEMENT: element})

    def attribute(self, element: str, name: str) -> str | None:
        return self._cmd("GET", f"/element/{element}/attribute/{name}")

    def reveal(self, element: str) -> None:
        """WebKitWebDriver scrolls only the document, not the app's own scrolling pane
        (.main), so an element below the fold there reads as "not interactable". A person
        scrolls to it first; so does the test."""
        self.execute("arguments[0].scrollIntoView({block: 'center', inline: 'nearest'})", {ELEMENT: element})

    def click(self, element: str) -> None:
        self.reveal(element)
        self._cmd("POST", f"/element/{element}/click", {})

    def clear(self, element: str) -> None:
        self.reveal(element)
        self._cmd("POST", f"/element/{element}/clear", {})

    def type(self, element: str, text: str) -> None:
        self.reveal(element)
        self._cmd("POST", f"/element/{element}/value", {"text": text})

    def keys(self, text: str) -> None:
        """Types into whatever has focus, as a person at the keyboard would."""
        actions = [{"type": "keyDown", "value": ch} for ch in text]
        actions += [{"type": "keyUp", "value": ch} for ch in text]
        self._cmd("POST", "/actions", {"actions": [{"type": "key", "id": "kbd", "actions": actions}]})

    def execute(self, script: str, *args: Any) -> Any:
        return self._cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path) -> None:
        png = base64.b64decode(self._cmd("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    # Waiting: the UI updates asynchronously, so tests wait for a condition, never sleep.

    def wait(self, probe: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                value = probe()
                if value:
                    return value
            except WebDriverError as e:
                last_error = e
            time.sleep(0.1)
        raise TimeoutError(f"timed out after {timeout}s waiting for {what}" + (f" ({last_error})" if last_error else ""))

    def wait_text(self, css: str, contains: str, timeout: float = 15.0) -> str:
        def probe():
            for el in self.find_all(css):
                t = self.text(el)
                if contains in t:
                    return t
            return None

        return self.wait(probe, timeout, f"{css!r} to contain {contains!r}")
