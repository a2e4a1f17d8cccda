"""Tables of the hall store. Events are the record; the other tables are projections kept in the
same transaction, for queries and reports.

Times are stored in UTC; `day` is the hall's local date, the unit of numbering and replay.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class HallRow(Base):
    __tablename__ = "halls"
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class EventRow(Base):
    """Append-only: every transition of every hall, in order."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    hall: Mapped[str] = mapped_column(String(48))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[str | None] = mapped_column(String(12))
    counter: Mapped[int | None] = mapped_column(Integer)
    officer: Mapped[str | None] = mapped_column(String(48))
    data: Mapped[dict] = mapped_column(JSON)
    __table_args__ = (Index("ix_events_hall_day", "hall", "day", "id"),)


class TicketRow(Base):
    __tablename__ = "tickets"
    hall: Mapped[str] = mapped_column(String(48), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    number: Mapped[str] = mapped_column(String(12), primary_key=True)
    service: Mapped[str] = mapped_column(String(48))
    first_service: Mapped[str] = mapped_column(String(48))
    priority: Mapped[str | None] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(12))
    token: Mapped[str] = mapped_column(String(64), index=True)
    device: Mapped[str | None] = mapped_column(String(48))
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    called_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    counter: Mapped[int | None] = mapped_column(Integer)
    officer: Mapped[str | None] = mapped_column(String(48))
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)


class RatingRow(Base):
    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    hall: Mapped[str] = mapped_column(String(48))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime)
    number: Mapped[str] = mapped_column(String(12))
    officer: Mapped[str | None] = mapped_column(String(48))
    counter: Mapped[int] = mapped_column(Integer)
    device: Mapped[str | None] = mapped_column(String(48))
    score: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str | None] = mapped_column(String(48))
    __table_args__ = (Index("ix_ratings_hall_day", "hall", "day"),)


class OfficerSessionRow(Base):
    __tablename__ = "officer_sessions"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    hall: Mapped[str] = mapped_column(String(48))
    officer: Mapped[str] = mapped_column(String(48))
    counter: Mapped[int] = mapped_column(Integer)
    login_at: Mapped[datetime] = mapped_column(DateTime)
    logout_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (Index("ix_sessions_hall_officer", "hall", "officer"),)


class DeviceStatusRow(Base):
    __tablename__ = "device_status"
    hall: Mapped[str] = mapped_column(String(48), primary_key=True)
    device: Mapped[str] = mapped_column(String(48), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ProcessedMessageRow(Base):
    """Every `up` message answered: a retry with the same id gets this reply and no second effect."""

    __tablename__ = "processed_messages"
    hall: Mapped[str] = mapped_column(String(48), primary_key=True)
    device: Mapped[str] = mapped_column(String(48), primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    reply: Mapped[dict] = mapped_column(JSON)
