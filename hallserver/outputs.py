"""What the server publishes after a change: device states, calls, the board.

Derived from the engine's state (never from the events), and diffed against what was last sent, so
each device's retained state is republished only when what it shows changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import protocols
from hallserver.domain import views
from hallserver.domain.engine import Hall

topics = protocols.topics


@dataclass(frozen=True)
class Publication:
    topic: str
    payload: dict
    retain: bool

    def encode(self) -> bytes:
        board = self.topic.endswith("/board")  # only the screens' snapshot may exceed a device message
        return protocols.encode(self.payload, protocols.MAX_BOARD if board else protocols.MAX_PAYLOAD)


class Outputs:
    def __init__(self, board_every: float = 0.0) -> None:
        # Under load, what shows the whole hall (the board: every counter and queue, the largest
        # message) and queue lengths (the other counters' terminals, the dispensers) is refreshed at
        # most every `board_every` seconds: one ticket taken changes the queue count on every
        # terminal serving its service. The first change after a quiet spell goes out at once, so a
        # hall at its real pace never waits; what a counter's own devices show (LED, terminal,
        # rating button) and the calls are never held back. `due_at` says when what was held back
        # may go (a monotonic time), for the caller to collect then.
        self.board_every = board_every
        self.due_at: float | None = None
        self._board_at = self._views_at = float("-inf")
        self._held: set[str] = set()  # devices whose queue view is held back
        self._board_held = False
        self._indexed: tuple[object, tuple[dict[int, list], list]] | None = None
        self.reset()
        self._call_seq: int | None = None

    def _index(self, cfg) -> tuple[dict[int, list], list]:
        """The configuration's devices by counter (LED, terminal, rating) and its queue views
        (terminals, dispensers; the other kinds' state is constant), kept until the config changes."""
        if self._indexed is None or self._indexed[0] is not cfg:
            by_counter: dict[int, list] = {}
            for d in cfg.devices.values():
                if d.kind in COUNTER_KINDS:
                    by_counter.setdefault(d.counter, []).append(d)
            queue_views = [d for d in cfg.devices.values() if d.kind in ("terminal", "dispenser")]
            self._indexed = (cfg, (by_counter, queue_views))
        return self._indexed[1]

    def reset(self) -> None:
        """Forget what was sent: the next collect republishes every retained message."""
        self._states: dict[str, dict] = {}
        self._board: dict | None = None

    def collect(self, hall: Hall, now: datetime, resend: tuple[str, ...] = (),
                touched: Touched | None = None, mono: float = 0.0) -> list[Publication]:
        """What to publish. With `touched` (from the events since the last collect, see `touched_by`;
        `touched_by(hall, [])` when `due_at` has come) only the devices those events can change are
        looked at, and queue views wait as said above (`mono`: a monotonic clock); without it,
        everything."""
        cfg = hall.config
        out: list[Publication] = []
        if self._call_seq is None or self._call_seq > hall.call_seq:  # start, or a new day
            self._call_seq = hall.call_seq  # calls made before a restart are not announced again
        for call in reversed(hall.recent):
            if call.seq > self._call_seq:
                out.append(Publication(topics.calls(cfg.id), views.call_view(call, hall), False))
        self._call_seq = hall.call_seq
        views_wait = touched is not None and mono < self._views_at + self.board_every
        views_sent = touched is None
        if touched is None:
            devices = list(cfg.devices.values())
        else:  # the touched counters' devices, what asked again, and the queue views that may have changed
            by_counter, queue_views = self._index(cfg)
            chosen = {d.id: d for c in touched.counters for d in by_counter.get(c, ())}
            chosen.update((r, cfg.devices[r]) for r in resend if r in cfg.devices)
            for d in queue_views:
                if d.id not in chosen and (d.id in self._held or touched.concerns(hall, d)):
                    if views_wait:
                        self._held.add(d.id)
                    else:
                        chosen[d.id] = d
                        views_sent = True
            devices = list(chosen.values())
        for device in devices:
            state = views.device_state(hall, device, now)
            if self._states.get(device.id) != state or device.id in resend:
                self._states[device.id] = state
                out.append(Publication(topics.state(cfg.id, device.id), state, True))
        if not views_wait:
            self._held.clear()
        if views_sent:
            self._views_at = mono
        board_stale = touched is None or self._board_held or bool(touched.counters or touched.services)
        self._board_held = board_stale and touched is not None and mono < self._board_at + self.board_every
        if board_stale and not self._board_held:
            board = views.board(hall, now)
            comparable = {k: v for k, v in board.items() if k != "at"}
            self._board_at = mono
            if comparable != self._board:
                self._board = comparable
                out.append(Publication(topics.board(cfg.id), board, True))
        due = [t + self.board_every for t, held in ((self._views_at, self._held), (self._board_at, self._board_held))
               if held]
        self.due_at = min(due) if due else None
        return out


@dataclass(frozen=True)
class Touched:
    """The counters and services some events changed: a device's state can change only if it is
    at one of those counters, or shows one of those services' queues (terminals), or shows the
    whole hall (dispensers and the rest)."""

    counters: frozenset[int]
    services: frozenset[str]

    def at_counter(self, device) -> bool:
        """A device of a counter the events changed (what it shows changes now, never held back)."""
        return device.kind in COUNTER_KINDS and device.counter in self.counters

    def concerns(self, hall: Hall, device) -> bool:
        """Whether a queue view (terminal, dispenser) not `at_counter` may show something new."""
        if device.kind == "terminal":
            c = hall.counters.get(device.counter)
            return c is not None and not self.services.isdisjoint(c.services)
        return True


def touched_by(hall: Hall, events: list) -> Touched:
    """What `events` (applied to `hall`) changed, for `Outputs.collect`."""
    counters: set[int] = set()
    services: set[str] = set()
    for e in events:
        d = e.data
        for key in ("counter", "to_counter"):
            if isinstance(d.get(key), int):
                counters.add(d[key])
        if isinstance(d.get("service"), str):
            services.add(d["service"])
        number = d.get("number") or d.get("ticket")
        ticket = hall.tickets.get(number) if isinstance(number, str) else None
        if ticket is not None:
            services.add(ticket.service)
            if ticket.counter is not None:
                counters.add(ticket.counter)
            if ticket.target_counter is not None:
                counters.add(ticket.target_counter)
    return Touched(frozenset(counters), frozenset(services))


COUNTER_KINDS = frozenset({"led", "rating", "terminal"})
