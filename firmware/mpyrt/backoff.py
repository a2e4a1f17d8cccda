"""Delays between reconnection attempts: doubling from first_ms up to max_ms, with jitter."""


class Backoff:
    """`next()` gives the delay before the next attempt; `reset()` after a success.

    `jitter(ms) -> extra ms` spreads devices that lost the broker together (sixty boards behind one
    access point) so they do not all come back in the same second; None for a fixed schedule.
    """

    def __init__(self, first_ms=1000, max_ms=60000, jitter=None):
        self.first_ms = first_ms
        self.max_ms = max_ms
        self.jitter = jitter
        self.failures = 0

    def next(self):
        delay = self.first_ms << min(self.failures, 20)
        if delay > self.max_ms:
            delay = self.max_ms
        self.failures += 1
        if self.jitter is not None:
            delay += self.jitter(delay)
        return delay

    def reset(self):
        self.failures = 0
