"""Plain records the figures are computed from, loaded by hallserver/store/reporting.py (or built
by hand in tests). Times are aware datetimes in the hall's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class TicketRec:
    day: date
    number: str
    service: str  # where it ended (after transfers)
    first_service: str  # the queue it waited in: its wait counts against this service's target
    status: str
    issued_at: datetime
    first_called_at: datetime | None = None
    called_at: datetime | None = None  # the last call: handling time runs from here to finished_at
    finished_at: datetime | None = None
    counter: int | None = None  # the counter that served it last
    officer: str | None = None
    transfers: int = 0
    priority: str | None = None

    @property
    def wait_s(self) -> float | None:
        """Issue to first call; None when never called."""
        if self.first_called_at is None:
            return None
        return (self.first_called_at - self.issued_at).total_seconds()

    @property
    def handle_s(self) -> float | None:
        if self.status != "done" or self.called_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.called_at).total_seconds()


@dataclass(frozen=True)
class TransferRec:
    at: datetime
    number: str
    counter: int | None
    officer: str | None


@dataclass(frozen=True)
class RatingRec:
    at: datetime
    day: date
    number: str
    officer: str | None
    counter: int
    score: str
    reason: str | None = None


@dataclass(frozen=True)
class SessionRec:
    officer: str
    counter: int
    login_at: datetime
    logout_at: datetime | None = None  # None: still logged in


@dataclass
class Period:
    """Everything that happened on the days start..end (inclusive), read at `now`."""

    start: date
    end: date
    now: datetime
    tickets: list[TicketRec] = field(default_factory=list)
    transfers: list[TransferRec] = field(default_factory=list)
    ratings: list[RatingRec] = field(default_factory=list)
    sessions: list[SessionRec] = field(default_factory=list)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as local datetimes [first midnight, midnight after the last day)."""
        tz = self.now.tzinfo
        lo = datetime.combine(self.start, datetime.min.time(), tz)
        return lo, datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tz)
