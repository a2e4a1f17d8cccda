"""Tables of the hall store. Events are the record; the other tables are projections kept in the
same transaction, for queries and reports.

Times are stored in UTC; `day` is the hall's local date, the unit of numbering and replay.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, false
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
    first_called_at: Mapped[datetime | None] = mapped_column(DateTime)  # the end of its wait (reports)
    printed_at: Mapped[datetime | None] = mapped_column(DateTime)  # confirmed by its dispenser (ticket.printed)
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # from a reserved block


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


# ---------------------------------------------------------------- people who sign in (issue 6)
class UserRow(Base):
    """A person who signs in to the pages: admin, manager, officer or viewer."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    hall: Mapped[str | None] = mapped_column(String(48))  # None: every hall of this server
    officer: Mapped[str | None] = mapped_column(String(48))  # an officer user's id in the hall config
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AuthSessionRow(Base):
    """A signed-in browser; the cookie holds the signed session id, the table only its hash."""

    __tablename__ = "auth_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)  # the person's last request (idle limit)


class ApiTokenRow(Base):
    """A Bearer token for an integration, with its own role; only its hash is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    hall: Mapped[str | None] = mapped_column(String(48))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginAttemptRow(Base):
    """Every sign-in attempt: the throttle counts recent failures per username and per address."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (Index("ix_login_attempts_username", "username", "at"),
                      Index("ix_login_attempts_ip", "ip", "at"))


class AuditRow(Base):
    """Who changed what, when, with the state before and after (append-only)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    hall: Mapped[str | None] = mapped_column(String(48))
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    __table_args__ = (Index("ix_audit_hall_at", "hall", "at"),)


class SecretRow(Base):
    """Server secrets generated at first start (the cookie signing key), never a default."""

    __tablename__ = "server_secrets"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ConfigOverlayRow(Base):
    """An admin's edits of a hall's configuration, laid over its TOML file at load
    (hallserver/domain/overlay.py describes `data`)."""

    __tablename__ = "config_overlays"
    hall: Mapped[str] = mapped_column(String(48), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
