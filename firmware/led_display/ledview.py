"""What the LED call display shows, from the retained state, apart from the display hardware.

    view.on_state(state, now)   the retained LED state: {"number", "status", "call_seq", ...}
    view.on_link(ok, now)       the link came up or went down
    view.frame(now) -> (text, mark)   exactly `width` characters, and whether to light the
                                      connection-lost mark

- the current number, right-aligned; longer than the display: it scrolls;
- a new `call_seq` (every call and recall) blinks it for `blink_ms`; not the first state after a
  boot, nor the same state arriving again after a reconnect;
- dashes while the counter is paused or closed; blank when open with nobody called;
- connection lost (or the server offline): the last number stays and the mark lights.
"""

from mpyrt import ticks

VERSION = "1.0.0"


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class LedView:
    def __init__(self, width=4, blink_ms=5000, blink_period_ms=500, blink_on_ms=300, scroll_ms=400):
        self.width = width
        self.blink_ms = blink_ms
        self.blink_period_ms = blink_period_ms
        self.blink_on_ms = blink_on_ms
        self.scroll_ms = scroll_ms
        self.number = None
        self.status = None
        self.seq = None  # call_seq of the last state; None until the first one
        self.blink_from = None
        self.shown_at = 0
        self.link_ok = False
        self.bad_states = 0

    def on_state(self, state, now):
        number = state.get("number")
        status = state.get("status")
        seq = state.get("call_seq")
        if (state.get("kind") != "led" or not isinstance(status, str) or not _is_int(seq)
                or not (number is None or isinstance(number, str))):
            self.bad_states += 1
            return
        if self.seq is not None and seq != self.seq:
            self.blink_from = now
        if number != self.number:
            self.shown_at = now
        self.seq = seq
        self.number = number
        self.status = status

    def on_link(self, ok, now):
        self.link_ok = ok

    def blinking(self, now):
        if self.blink_from is not None and ticks.diff(now, self.blink_from) >= self.blink_ms:
            self.blink_from = None  # over (and forgotten, so a tick wrap days later cannot revive it)
        return self.blink_from is not None

    def text(self):
        """The whole text to show, before fitting it to the display."""
        if self.status in ("paused", "closed"):
            return "-" * self.width
        return self.number or ""

    def frame(self, now):
        text = self.text()
        width = self.width
        if len(text) > width:
            loop = text + "   "
            start = (ticks.diff(now, self.shown_at) // self.scroll_ms) % len(loop)
            text = (loop + loop)[start:start + width]
        else:
            text = " " * (width - len(text)) + text
        if self.blinking(now):
            phase = ticks.diff(now, self.blink_from) % self.blink_period_ms
            if phase >= self.blink_on_ms:
                text = " " * width
        return text, not self.link_ok
