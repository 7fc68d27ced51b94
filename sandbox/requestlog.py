"""The request log ``serve`` prints: one line per exchange, in and out, as it happens (the way
WireMock, Prism and the Stripe CLI show traffic). Coloured on a terminal; a 5xx, a failed
attempt and a contract violation stand out. ``serve --quiet`` turns it off, and then nothing of
it runs on a request."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

_RESET, _BOLD = "\033[0m", "\033[1m"
_GREEN, _YELLOW, _RED, _MAGENTA, _CYAN = (f"\033[{n}m" for n in (32, 33, 31, 35, 36))


@dataclass(frozen=True)
class Line:
    direction: str  # "in": to the sandbox; "out": the sandbox to an app or a platform
    method: str
    target: str  # the path (in) or the URL (out)
    status: int | None
    duration_ms: float
    shop_id: int | None = None
    payment_id: str | None = None
    violation: str | None = None
    error: str | None = None


class RequestLog:
    def __init__(
        self,
        shop_handle: Callable[[int], str | None],
        stream: TextIO | None = None,
        color: bool | None = None,
    ):
        """``shop_handle``: a shop's handle from its id (asked once per shop)."""
        self.stream = stream or sys.stdout
        self.color = self.stream.isatty() if color is None else color
        self._shop_handle = shop_handle
        self._handles: dict[int, str] = {}
        self._lock = threading.Lock()  # one line at a time from the worker's threads

    def write(self, line: Line) -> None:
        text = self.render(line)
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def render(self, line: Line) -> str:
        arrow = "<-" if line.direction == "in" else "->"
        status = str(line.status) if line.status is not None else f"failed: {line.error}"
        parts = [
            datetime.now().strftime("%H:%M:%S.%f")[:-3],
            arrow,
            line.method,
            line.target,
            self._paint(status, self._status_color(line.status)),
            f"{line.duration_ms:.0f}ms",
        ]
        if line.shop_id is not None:
            parts.append(f"shop={self._handle(line.shop_id)}")
        if line.payment_id:
            parts.append(f"payment={line.payment_id}")
        if line.violation:
            parts.append(self._paint(f"VIOLATION {line.violation}", _BOLD + _MAGENTA))
        return " ".join(parts)

    def _handle(self, shop_id: int) -> str:
        handle = self._handles.get(shop_id)
        if handle is None:
            handle = self._shop_handle(shop_id) or str(shop_id)
            self._handles[shop_id] = handle
        return handle

    @staticmethod
    def _status_color(status: int | None) -> str:
        if status is None or status >= 500:
            return _BOLD + _RED
        if status >= 400:
            return _YELLOW
        if status >= 300:
            return _CYAN
        return _GREEN

    def _paint(self, text: str, color: str) -> str:
        return f"{color}{text}{_RESET}" if self.color else text
