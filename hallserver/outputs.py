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
        # the board (every counter, every queue: the largest message) at most this often after device
        # messages; a change held back meanwhile is `board_due`, for the caller to publish later
        self.board_every = board_every
        self.board_due = False
        self._board_at = float("-inf")
        self.reset()
        self._call_seq: int | None = None

    def reset(self) -> None:
        """Forget what was sent: the next collect republishes every retained message."""
        self._states: dict[str, dict] = {}
        self._board: dict | None = None

    def collect(self, hall: Hall, now: datetime, resend: tuple[str, ...] = (),
                touched: Touched | None = None, mono: float = 0.0) -> list[Publication]:
        """What to publish. With `touched` (from the events since the last collect, see `touched_by`)
        only the devices those events can change are looked at, and the board waits if it was
        published less than `board_every` seconds ago (`mono`: a monotonic clock); without it,
        everything."""
        cfg = hall.config
        out: list[Publication] = []
        if self._call_seq is None or self._call_seq > hall.call_seq:  # start, or a new day
            self._call_seq = hall.call_seq  # calls made before a restart are not announced again
        for call in reversed(hall.recent):
            if call.seq > self._call_seq:
                out.append(Publication(topics.calls(cfg.id), views.call_view(call, hall), False))
        self._call_seq = hall.call_seq
        for device in cfg.devices.values():
            if touched is not None and device.id not in resend and not touched.concerns(hall, device):
                continue
            state = views.device_state(hall, device, now)
            if self._states.get(device.id) != state or device.id in resend:
                self._states[device.id] = state
                out.append(Publication(topics.state(cfg.id, device.id), state, True))
        if touched is not None and not touched.urgent and mono - self._board_at < self.board_every:
            self.board_due = True
            return out
        self.board_due = False
        board = views.board(hall, now)
        comparable = {k: v for k, v in board.items() if k != "at"}
        if comparable != self._board:
            self._board, self._board_at = comparable, mono
            out.append(Publication(topics.board(cfg.id), board, True))
        return out


@dataclass(frozen=True)
class Touched:
    """The counters and services some events changed: a device's state can change only if it is
    at one of those counters, or shows one of those services' queues (terminals), or shows the
    whole hall (dispensers and the rest)."""

    counters: frozenset[int]
    services: frozenset[str]
    urgent: bool = False  # a call or a counter's change: the screens show it at once, never held back

    def concerns(self, hall: Hall, device) -> bool:
        if device.kind in ("led", "rating"):
            return device.counter in self.counters
        if device.kind == "terminal":
            if device.counter in self.counters:
                return True
            c = hall.counters.get(device.counter)
            return c is not None and not self.services.isdisjoint(c.services)
        return True


def touched_by(hall: Hall, events: list) -> Touched:
    """What `events` (applied to `hall`) changed, for `Outputs.collect`."""
    counters: set[int] = set()
    services: set[str] = set()
    urgent = False
    for e in events:
        d = e.data
        urgent = urgent or e.kind not in QUEUE_ONLY
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
    return Touched(frozenset(counters), frozenset(services), urgent)


# events that change only the queues' counts on the board (the busiest: every ticket taken)
QUEUE_ONLY = frozenset({"ticket.issued", "ticket.offline_issued", "ticket.printed", "dispenser.block_reserved",
                        "rating.recorded", "rating.expired"})
