"""Wait for a condition that no event announces (a row written by another process or thread)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until(probe: Callable[[], T], timeout: float = 10.0, what: str = "the condition") -> T:
    """Call `probe` until it returns something truthy and return that; fail after `timeout` seconds.
    A condition checked again and again with a deadline, not a sleep standing in for one."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last value {value!r}")
        time.sleep(0.02)
