"""Fixtures of the display tests: a pty standing in for a serial LED bus, and an isolated voice cache."""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


class PtyBus:
    """The master side of a pty: what a board wired to `path` would receive, collected on a thread."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()  # the slave fd stays open: reads never hit EIO
        self.path = os.ttyname(self._slave)
        self.data = bytearray()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                chunk = os.read(self.master, 4096)
                with self._cond:
                    self.data += chunk
                    self._cond.notify_all()

    def wait_for(self, expected: bytes, timeout: float = 10.0, start: int = 0) -> int:
        """Block until `expected` arrives (at or after offset `start`); returns the offset after it."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self.data.find(expected, start) >= 0, timeout)
            assert ok, f"{expected!r} never arrived; got {bytes(self.data)!r}"
            return self.data.find(expected, start) + len(expected)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def pty_bus() -> Iterator[PtyBus]:
    bus = PtyBus()
    yield bus
    bus.close()


@pytest.fixture
def voice_cache(tmp_path: Path) -> Path:
    return tmp_path / "voice-cache"
