"""The live state of a hall day: tickets, counters, armed rating buttons, and the events that change them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# ticket statuses
WAITING, CALLED, HELD, DONE, NO_SHOW, EXPIRED = "waiting", "called", "held", "done", "no_show", "expired"
VOIDED = "voided"  # issued for a ticket.take whose reply never reached the dispenser, then voided by it
FINAL = (DONE, NO_SHOW, EXPIRED, VOIDED)


@dataclass(frozen=True, slots=True)
class Event:
    """One transition, stamped with the server's time. Events are the only way state changes."""

    kind: str
    at: datetime
    data: dict


class Refused(Exception):
    """A command the hall refuses: a value for the sender, never a crash.

    `events` are still recorded (a failed login, for instance, is part of the audit trail).
    """

    def __init__(self, code: str, detail: str = "", events: list[Event] | None = None):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.events = events or []


@dataclass(slots=True)
class Ticket:
    """One ticket of the day. Slots, not a __dict__: the engine keeps every open ticket and those
    finished in the last half hour (engine.RETAIN), so its size is paid per citizen in the hall
    (tests/engine/test_memory.py)."""

    number: str
    service: str
    priority: str | None
    order: int  # issue order within the day, the tie-breaker of equal times
    issued_at: datetime
    token: str
    queued_at: datetime  # its place in time; kept across transfers
    status: str = WAITING
    counter: int | None = None  # where it is being served or held
    target_counter: int | None = None  # transferred to one counter
    officer: str | None = None
    called_at: datetime | None = None
    recalls: int = 0
    transfers: int = 0
    first_called_at: datetime | None = None  # its wait ends here, whatever happens after (reports)
    device: str | None = None  # the dispenser that issued it (only it confirms the print)
    offline: bool = False  # issued by a dispenser from its reserved block while the server was unreachable
    take: str | None = None  # the dispenser's ticket.take id it was issued for (its key in Hall.takes)
    kept_from: datetime | None = None  # finished, or voted for since: retired RETAIN after this (engine)

    @property
    def key(self) -> tuple[datetime, int]:
        return (self.queued_at, self.order)


@dataclass
class CounterState:
    number: int
    services: list[str]
    officer: str | None = None
    paused: bool = False
    pause_reason: str | None = None
    current: str | None = None
    held: list[str] = field(default_factory=list)
    ordinary_streak: int = 0  # ordinary calls since the last priority call (interleaving)
    call_seq: int = 0  # changes on every call and recall: LED displays blink on it
    served: int = 0
    closed: bool = False  # closed by a manager: no login, no call; the ticket being served finishes
    idle_since: datetime | None = None  # when it last became free to call (the dashboard's idle alert)

    @property
    def status(self) -> str:
        if self.officer is None or (self.closed and self.current is None):
            return "closed"
        return "paused" if self.paused else "open"


@dataclass(frozen=True, slots=True)
class Retired:
    """A ticket the engine has retired today, as the store has it (for a late vote naming it)."""

    ticket: Ticket
    rated: bool


@dataclass(slots=True)
class Armed:
    """A rating button waiting for the vote on one service."""

    ticket: str
    officer: str | None
    expires_at: datetime


@dataclass(slots=True)
class Call:
    seq: int
    number: str
    counter: int
    service: str
    recall: int
    at: datetime
