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

    def collect(self, hall: Hall, now: datetime, resend: tuple[str, ...] = ()) -> list[Publication]:
        cfg = hall.config
        out: list[Publication] = []
        if self._call_seq is None or self._call_seq > hall.call_seq:  # start, or a new day
            self._call_seq = hall.call_seq  # calls made before a restart are not announced again
        for call in reversed(hall.recent):
            if call.seq > self._call_seq:
                out.append(Publication(topics.calls(cfg.id), views.call_view(call, hall), False))
        self._call_seq = hall.call_seq
        for device in cfg.devices.values():
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
