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
    def __init__(self) -> None:
        self.reset()
        self._call_seq: int | None = None

    def reset(self) -> None:
        """Forget what was sent: the next collect republishes every retained message."""
        self._states: dict[str, dict] = {}
        self._board: dict | None = None

    def collect(self, hall: Hall, now: datetime, resend: tuple[str, ...] = (),
                touched: Touched | None = None) -> list[Publication]:
        """What to publish. With `touched` (from the events since the last collect, see `touched_by`)
        only the devices those events can change are looked at; without it, every device."""
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
        board = views.board(hall, now)
        comparable = {k: v for k, v in board.items() if k != "at"}
        if comparable != self._board:
            self._board = comparable
            out.append(Publication(topics.board(cfg.id), board, True))
        return out


@dataclass(frozen=True)
class Touched:
    """The counters and services some events changed: a device's state can change only if it is
    at one of those counters, or shows one of those services' queues (terminals), or shows the
    whole hall (dispensers and the rest)."""

    counters: frozenset[int]
    services: frozenset[str]

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
