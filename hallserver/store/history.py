"""Read-only queries of a hall's past tickets, for the staffing estimate (hallserver.staffing).

Kept apart from the store's write path: it only selects columns of `tickets` over a date range.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Engine, select

from hallserver.store.models import TicketRow

if TYPE_CHECKING:
    from hallserver.domain.config import HallConfig
    from hallserver.staffing.demand import Demand


class TicketHistory(NamedTuple):
    day: date  # the hall's local date
    first_service: str  # the service the ticket was taken for (arrivals count here)
    service: str  # the service it ended in (handling times count here)
    status: str
    priority: str | None
    issued_at: datetime  # UTC, naive
    called_at: datetime | None
    finished_at: datetime | None


def ticket_history(engine: Engine, hall: str, since: date, until: date) -> list[TicketHistory]:
    """Tickets of `hall` from day `since` up to and excluding `until`, oldest first."""
    q = (select(TicketRow.day, TicketRow.first_service, TicketRow.service, TicketRow.status, TicketRow.priority,
                TicketRow.issued_at, TicketRow.called_at, TicketRow.finished_at)
         .where(TicketRow.hall == hall, TicketRow.day >= since, TicketRow.day < until,
                TicketRow.status != "voided")  # a phantom nobody held (ticket.void) is no demand
         .order_by(TicketRow.day, TicketRow.issued_at))
    with engine.connect() as conn:
        return [TicketHistory(*row) for row in conn.execute(q)]


def demand_from_store(config: HallConfig, engine: Engine, until: date, weeks: int = 8) -> Demand:
    """The hall's demand over the `weeks` before `until` (hallserver.staffing.estimate)."""
    from hallserver.staffing.estimate import estimate  # the estimate imports TicketHistory from here
    return estimate(config, ticket_history(engine, config.id, until - timedelta(weeks=weeks), until))
