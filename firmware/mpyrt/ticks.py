"""Millisecond tick arithmetic that survives the wrap of time.ticks_ms() (2**30 ms on ESP32, 12.4 days).

The logic never reads a clock: callers pass `now` in. On MicroPython this is time.ticks_diff and
time.ticks_add; under CPython (host tests) the same modular arithmetic is done here.
"""

import time

PERIOD = 1 << 30
_MASK = PERIOD - 1
_HALF = PERIOD >> 1
_diff = getattr(time, "ticks_diff", None)
_add = getattr(time, "ticks_add", None)


def diff(later, earlier):
    """Signed milliseconds from `earlier` to `later` (negative when `later` is before)."""
    if _diff is not None:
        return _diff(later, earlier)
    return ((later - earlier + _HALF) & _MASK) - _HALF


def add(t, delta):
    """The tick `delta` milliseconds after `t` (delta may be negative)."""
    if _add is not None:
        return _add(t, delta)
    return (t + delta) & _MASK


def due(now, at):
    """Whether the moment `at` has come."""
    return diff(now, at) >= 0
