"""Reads a period of a hall out of the store as plain records for hallserver.reports (four queries,
whatever the length of the period)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hallserver.reports.records import Period, RatingRec, SessionRec, TicketRec, TransferRec
from hallserver.store.models import EventRow, OfficerSessionRow, RatingRow, TicketRow
from hallserver.store.store import Store, to_utc


def load_period(store: Store, hall: str, start: date, end: date, tz: ZoneInfo, now: datetime) -> Period:
    def local(at: datetime | None) -> datetime | None:
        return at.replace(tzinfo=UTC).astimezone(tz) if at is not None else None

    period = Period(start, end, now.astimezone(tz))
    lo, hi = period.bounds()
    with store.sessions() as s:
        for r in s.execute(select(TicketRow.day, TicketRow.number, TicketRow.service, TicketRow.first_service,
                                  TicketRow.status, TicketRow.issued_at, TicketRow.first_called_at,
                                  TicketRow.called_at, TicketRow.finished_at, TicketRow.counter, TicketRow.officer,
                                  TicketRow.transfers, TicketRow.priority)
                           .where(TicketRow.hall == hall, TicketRow.day >= start, TicketRow.day <= end,
                                  TicketRow.status != "voided")):  # a phantom nobody held (ticket.void)
            period.tickets.append(TicketRec(r.day, r.number, r.service, r.first_service, r.status,
                                            local(r.issued_at), local(r.first_called_at), local(r.called_at),
                                            local(r.finished_at), r.counter, r.officer, r.transfers, r.priority))
        for r in s.execute(select(EventRow.at, EventRow.number, EventRow.counter, EventRow.officer)
                           .where(EventRow.hall == hall, EventRow.day >= start, EventRow.day <= end,
                                  EventRow.kind == "ticket.transferred")):
            period.transfers.append(TransferRec(local(r.at), r.number, r.counter, r.officer))
        for r in s.execute(select(RatingRow.at, RatingRow.day, RatingRow.number, RatingRow.officer,
                                  RatingRow.counter, RatingRow.score, RatingRow.reason)
                           .where(RatingRow.hall == hall, RatingRow.day >= start, RatingRow.day <= end)):
            period.ratings.append(RatingRec(local(r.at), r.day, r.number, r.officer, r.counter, r.score, r.reason))
        for r in s.execute(select(OfficerSessionRow.officer, OfficerSessionRow.counter, OfficerSessionRow.login_at,
                                  OfficerSessionRow.logout_at)
                           .where(OfficerSessionRow.hall == hall, OfficerSessionRow.login_at < to_utc(hi))
                           .where((OfficerSessionRow.logout_at.is_(None))
                                  | (OfficerSessionRow.logout_at > to_utc(lo)))):
            period.sessions.append(SessionRec(r.officer, r.counter, local(r.login_at), local(r.logout_at)))
    return period


def first_day(store: Store, hall: str) -> date | None:
    """The first day with tickets (the reports' earliest choice)."""
    with store.sessions() as s:
        return s.scalar(select(TicketRow.day).where(TicketRow.hall == hall).order_by(TicketRow.day).limit(1))


__all__ = ["first_day", "load_period"]
