"""The rating button's logic, apart from the pins: debounce, what the LEDs show, the vote.

Driven by the main loop with the time passed in (ticks in ms) and by the link's callbacks:

    app.sample(pressed, now, edges)   raw button levels: level buttons first, then reason buttons
    app.on_state(state, now)          the retained rating state (armed or not, levels, reasons)
    app.on_reply(msg, reply, now)     the server's reply to a queued vote
    app.on_link(ok, now)              the link came up or went down
    app.tick(now)                     windows closing
    app.leds(now) -> (levels, reasons)  one bool per LED;  app.status_led(now) -> bool

Modes: IDLE (nothing to rate, or this ticket is already rated: LEDs off), ARMED (level LEDs on),
REASON (after the reason level, "khong-hai-long": its LED on and the reason LEDs on for a short
window; a reason press or the end of the window sends the vote) and THANKS (the chosen LEDs blink).
The vote goes to the flash outbox before THANKS begins: once the LEDs say thanks, a power cut loses
nothing. One vote per ticket: the armed ticket voted for is saved with the queue.
"""

from mpyrt import ticks

import protocols

VERSION = "1.0.0"
REASON_LEVEL = "khong-hai-long"
IDLE = "idle"
ARMED = "armed"
REASON = "reason"
THANKS = "thanks"


class Debouncer:
    """Buttons sampled every few ms: a press counts once its level has held for `stable_ms`.

    `edges` (bit i: button i saw a falling edge, latched by a pin interrupt) recovers a press that
    came and went while the loop was blocked (a connection attempt) for longer than `gap_ms`.
    """

    def __init__(self, count, stable_ms=30, gap_ms=200):
        self.count = count
        self.stable_ms = stable_ms
        self.gap_ms = gap_ms
        self.raw = [False] * count
        self.since = [0] * count
        self.down = [False] * count
        self.last = None

    def sample(self, pressed, now, edges=0):
        """Indexes of the buttons newly pressed."""
        gap = 0 if self.last is None else ticks.diff(now, self.last)
        self.last = now
        presses = []
        for i in range(self.count):
            level = bool(pressed[i])
            if level != self.raw[i]:
                self.raw[i] = level
                self.since[i] = now
            if level != self.down[i]:
                if ticks.diff(now, self.since[i]) >= self.stable_ms:
                    self.down[i] = level
                    if level:
                        presses.append(i)
            elif not level and gap >= self.gap_ms and edges & (1 << i):
                presses.append(i)  # pressed and released while we were not looking
        return presses


def _arm_key(state):
    # ticket numbers restart every day: the expiry tells today's A001 from yesterday's
    return "%s|%s" % (state.get("ticket"), state.get("expires_at"))


def _keys(items):
    # "levels"/"reasons" of the state: [{"key": ..., "label": ...}, ...] -> keys, or None if malformed
    if not isinstance(items, list):
        return None
    keys = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            return None
        keys.append(item["key"])
    return keys


class RatingButton:
    def __init__(self, outbox, ids, levels=3, reasons=4, reason_level=REASON_LEVEL, reason_ms=10000,
                 thanks_ms=3000, stable_ms=30, blink_ms=250):
        self.outbox = outbox
        self.ids = ids
        self.n_levels = levels
        self.n_reasons = reasons
        self.reason_level = reason_level
        self.reason_ms = reason_ms
        self.thanks_ms = thanks_ms
        self.blink_ms = blink_ms
        self.buttons = Debouncer(levels + reasons, stable_ms)
        self.armed = False
        self.ticket = None
        self.arm_key = None
        self.levels = []  # level keys, best first, as the state lists them
        self.reasons = []
        self.mode = IDLE
        self.pending = None  # level index waiting for a reason
        self.chosen = None  # (level index, reason index or None) while thanking
        self.until = 0  # end of the reason window or of the thanks
        self.link_ok = False
        self.counts = {"votes": 0, "accepted": 0, "refused": 0, "ignored": 0, "bad_states": 0}
        self.last_error = None

    # ------------------------------------------------------------------ inputs
    def on_state(self, state, now):
        levels = _keys(state.get("levels"))
        reasons = _keys(state.get("reasons"))
        armed = state.get("armed")
        if state.get("kind") != "rating" or not isinstance(armed, bool) or levels is None or reasons is None:
            self.counts["bad_states"] += 1
            return
        key = _arm_key(state)
        if self.mode == REASON and (not armed or key != self.arm_key):
            # the window closed under the citizen's finger: the vote is for the ticket they saw
            self._commit(self.pending, None, now)
        self.armed = armed
        self.ticket = state.get("ticket") if armed else None
        self.arm_key = key if armed else None
        self.levels = levels
        self.reasons = reasons
        if self.mode in (IDLE, ARMED):
            self.mode = self._rest()

    def on_reply(self, msg, reply, now):
        if reply["ok"]:
            self.counts["accepted"] += 1
        else:
            self.counts["refused"] += 1  # not_armed (too late), already_rated, ...: nothing to redo
            self.last_error = reply["error"]["code"]

    def on_link(self, ok, now):
        self.link_ok = ok

    def sample(self, pressed, now, edges=0):
        for i in self.buttons.sample(pressed, now, edges):
            if i < self.n_levels:
                self.press_level(i, now)
            else:
                self.press_reason(i - self.n_levels, now)

    def press_level(self, i, now):
        if self.mode == ARMED and i < len(self.levels):
            if self.levels[i] == self.reason_level and self.reasons and self.n_reasons:
                self.mode = REASON
                self.pending = i
                self.until = ticks.add(now, self.reason_ms)
            else:
                self._commit(i, None, now)
        elif self.mode == REASON and i < len(self.levels) and i != self.pending:
            self._commit(i, None, now)  # changed their mind: that level, no reason
        else:
            self.counts["ignored"] += 1

    def press_reason(self, j, now):
        if self.mode == REASON and j < len(self.reasons):
            self._commit(self.pending, j, now)
        else:
            self.counts["ignored"] += 1

    def tick(self, now):
        if self.mode == REASON and ticks.due(now, self.until):
            self._commit(self.pending, None, now)
        elif self.mode == THANKS and ticks.due(now, self.until):
            self.mode = self._rest()
            self.chosen = None

    # ------------------------------------------------------------------ the vote
    def _rest(self):
        if self.armed and self.arm_key != self.outbox.meta.get("voted"):
            return ARMED
        return IDLE

    def _commit(self, i, j, now):
        fields = {"score": self.levels[i], "ticket": self.ticket}
        if j is not None:
            fields["reason"] = self.reasons[j]
        try:
            msg = protocols.make_up("rating.vote", self.ids.next(), fields)
        except protocols.ProtocolError as exc:
            self.counts["bad_states"] += 1  # a key or ticket the contract refuses: nothing to send
            self.last_error = exc.code
            self.mode = IDLE
            return
        self.outbox.add(msg, {"voted": self.arm_key})  # on flash before the LEDs say thanks
        self.counts["votes"] += 1
        self.mode = THANKS
        self.chosen = (i, j)
        self.pending = None
        self.until = ticks.add(now, self.thanks_ms)

    # ------------------------------------------------------------------ outputs
    def leds(self, now):
        levels = [False] * self.n_levels
        reasons = [False] * self.n_reasons
        if self.mode == ARMED:
            for i in range(min(self.n_levels, len(self.levels))):
                levels[i] = True
        elif self.mode == REASON and self.pending is not None:
            levels[self.pending] = True
            for j in range(min(self.n_reasons, len(self.reasons))):
                reasons[j] = True
        elif self.mode == THANKS and self.chosen is not None:
            elapsed = self.thanks_ms - ticks.diff(self.until, now)
            on = (elapsed // self.blink_ms) % 2 == 0
            i, j = self.chosen
            levels[i] = on
            if j is not None and j < self.n_reasons:
                reasons[j] = on
        return levels, reasons

    def status_led(self, now):
        """Steady while the hall is reachable; a slow blink while offline (votes are still kept)."""
        if self.link_ok:
            return True
        return (now // 500) % 2 == 0
