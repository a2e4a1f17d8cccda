"""Playing clips one at a time: a hall must never hear two calls spoken over each other.

One worker thread owns the speaker; `submit` only enqueues, so the MQTT thread never waits for
audio. The player is any callable that plays one file and returns when it has finished: `Aplay`
on a Raspberry Pi, a recording fake in tests.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
Player = Callable[[Path], None]


@dataclass(frozen=True)
class Aplay:
    """ALSA's `aplay` (Debian package alsa-utils); `device` e.g. "plughw:1,0" for a USB speaker."""

    device: str | None = None
    binary: str = "aplay"
    timeout_s: float = 120.0

    def __call__(self, clip: Path) -> None:
        exe = shutil.which(self.binary)
        if exe is None:
            raise FileNotFoundError(f"{self.binary} not found: install the Debian package alsa-utils")
        cmd = [exe, "-q"] + (["-D", self.device] if self.device else []) + [str(clip)]
        subprocess.run(cmd, check=True, timeout=self.timeout_s)


class AnnouncementQueue:
    """Plays submitted clips in order, one at a time. Bounded: when full, the oldest waiting clip
    is dropped (and counted), since a call announced minutes late only confuses the hall."""

    def __init__(self, player: Player, maxsize: int = 20):
        self.player = player
        self.maxsize = maxsize
        self.dropped = 0
        self.played = 0
        self._q: queue.Queue[tuple[Path, str] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="announcements", daemon=True)
        self._thread.start()

    def submit(self, clip: Path, label: str = "") -> None:
        with self._lock:
            if self._closed:
                return
            while self._q.qsize() >= self.maxsize:
                try:
                    old = self._q.get_nowait()
                except queue.Empty:
                    break
                assert old is not None  # the sentinel only comes with close()
                self.dropped += 1
                log.warning("announcement queue full: dropped %s", old[1])
            self._q.put((clip, label))

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            clip, label = item
            try:
                self.player(clip)
                self.played += 1
            except Exception:  # a failed playback is logged; the next call is still announced
                log.exception("could not play %s (%s)", clip, label)

    def close(self, timeout: float = 5.0) -> None:
        """Stop after what is queued has played (or after `timeout`)."""
        with self._lock:
            self._closed = True
            self._q.put(None)
        self._thread.join(timeout)
