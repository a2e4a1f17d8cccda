"""The driver interface of serial LED boards: show a counter's text at a bus address.

A driver is split in two so the bytes can be checked without hardware: `frame(address, text)` is
pure (the protocol), `show` writes the frame to the port (anything with `write` and `flush`:
a pyserial port, an RS-485 adapter, a pty in tests). Boards speak ASCII, so Vietnamese text is
folded first ("Quầy 5" -> "Quay 5").
"""

from __future__ import annotations

import threading
import unicodedata
from abc import ABC, abstractmethod
from typing import Protocol


class Port(Protocol):
    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...


def ascii_text(text: str) -> str:
    """Drop diacritics and anything a board cannot draw: "Quầy 5" -> "Quay 5", "Đ" -> "D"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded if " " <= c <= "~")


class BoardDriver(ABC):
    """One protocol on one port; several boards (addresses) may share the port (RS-485 bus)."""

    def __init__(self, port: Port):
        self.port = port
        self._lock = threading.Lock()  # one frame at a time on the bus

    @abstractmethod
    def frame(self, address: int, text: str, blink: bool = False) -> bytes:
        """The bytes that make the board at `address` show `text` (flashing, if it can, with `blink`)."""

    def show(self, address: int, text: str, blink: bool = False) -> bytes:
        data = self.frame(address, text, blink)
        with self._lock:
            self.port.write(data)
            self.port.flush()
        return data
