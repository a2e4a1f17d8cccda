"""The accounts repository: users, browser sessions, API tokens, sign-in attempts, the audit log and
the server's generated secrets. Only hashes of session ids and tokens are stored, so a copy of the
database signs nobody in.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from hallserver.store.models import (
    ApiTokenRow,
    AuditRow,
    AuthSessionRow,
    LoginAttemptRow,
    SecretRow,
    UserRow,
)
from hallserver.store.store import Store, to_utc


class DuplicateUser(ValueError):
    """The username is taken."""


class Accounts:
    def __init__(self, store: Store):
        self.sessions = store.sessions

    # ------------------------------------------------------------ users
    def create_user(self, username: str, name: str, role: str, password_hash: str, now: datetime,
                    hall: str | None = None, officer: str | None = None) -> UserRow:
        row = UserRow(username=username.lower(), name=name, role=role, password_hash=password_hash, hall=hall,
                      officer=officer, active=True, created_at=to_utc(now))
        try:
            with self.sessions.begin() as s:
                s.add(row)
        except IntegrityError:
            raise DuplicateUser(username) from None
        return row

    def user(self, user_id: int) -> UserRow | None:
        with self.sessions() as s:
            return s.get(UserRow, user_id)

    def user_by_name(self, username: str) -> UserRow | None:
        with self.sessions() as s:
            return s.scalars(select(UserRow).where(UserRow.username == username.lower())).first()

    def users(self) -> list[UserRow]:
        with self.sessions() as s:
            return list(s.scalars(select(UserRow).order_by(UserRow.username)))

    def count_admins(self) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(UserRow)
                            .where(UserRow.role == "admin", UserRow.active.is_(True))) or 0

    def update_user(self, user_id: int, **values: object) -> UserRow | None:
        """Change a user; any change of role, password or activity ends the user's sessions."""
        with self.sessions.begin() as s:
            row = s.get(UserRow, user_id)
            if row is None:
                return None
            for k, v in values.items():
                setattr(row, k, v)
            s.execute(delete(AuthSessionRow).where(AuthSessionRow.user_id == user_id))
            return row

    # ------------------------------------------------------------ browser sessions
    def create_session(self, user_id: int, id_hash: str, csrf: str, now: datetime, lifetime: timedelta) -> None:
        with self.sessions.begin() as s:
            s.execute(delete(AuthSessionRow).where(AuthSessionRow.expires_at < to_utc(now)))
            s.add(AuthSessionRow(id_hash=id_hash, user_id=user_id, csrf=csrf, created_at=to_utc(now),
                                 expires_at=to_utc(now + lifetime), last_seen_at=to_utc(now)))

    def touch_session(self, id_hash: str, now: datetime) -> None:
        """The person made a request now (the idle limit counts from here)."""
        with self.sessions.begin() as s:
            s.execute(update(AuthSessionRow).where(AuthSessionRow.id_hash == id_hash)
                      .values(last_seen_at=to_utc(now)))

    def session(self, id_hash: str, now: datetime) -> tuple[AuthSessionRow, UserRow] | None:
        with self.sessions() as s:
            row = s.get(AuthSessionRow, id_hash)
            if row is None or row.expires_at < to_utc(now):
                return None
            user = s.get(UserRow, row.user_id)
            return (row, user) if user is not None and user.active else None

    def end_session(self, id_hash: str) -> None:
        with self.sessions.begin() as s:
            s.execute(delete(AuthSessionRow).where(AuthSessionRow.id_hash == id_hash))

    # ------------------------------------------------------------ sign-in attempts
    def record_attempt(self, username: str, ip: str, ok: bool, now: datetime) -> None:
        with self.sessions.begin() as s:
            s.add(LoginAttemptRow(username=username.lower()[:64], ip=ip[:64], at=to_utc(now), ok=ok))
            # a week of attempts is plenty for the throttle and for an investigation
            s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at < to_utc(now - timedelta(days=7))))

    def recent_failures(self, username: str, ip: str, since: datetime) -> tuple[int, int]:
        """Failed attempts since `since`: (for this username, from this address)."""
        at = to_utc(since)
        with self.sessions() as s:
            by_user = s.scalar(select(func.count()).select_from(LoginAttemptRow).where(
                LoginAttemptRow.username == username.lower()[:64], LoginAttemptRow.at >= at,
                LoginAttemptRow.ok.is_(False))) or 0
            by_ip = s.scalar(select(func.count()).select_from(LoginAttemptRow).where(
                LoginAttemptRow.ip == ip[:64], LoginAttemptRow.at >= at, LoginAttemptRow.ok.is_(False))) or 0
            return by_user, by_ip

    # ------------------------------------------------------------ API tokens
    def create_token(self, name: str, token_hash: str, role: str, created_by: str, now: datetime,
                     hall: str | None = None) -> ApiTokenRow:
        row = ApiTokenRow(name=name, token_hash=token_hash, role=role, hall=hall, created_by=created_by,
                          created_at=to_utc(now))
        with self.sessions.begin() as s:
            s.add(row)
        return row

    def token(self, token_hash: str) -> ApiTokenRow | None:
        with self.sessions() as s:
            row = s.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash)).first()
            return row if row is not None and row.revoked_at is None else None

    def touch_token(self, token_id: int, now: datetime) -> None:
        """Note the last use, at most once a minute (reads must not all become writes)."""
        at = to_utc(now)
        with self.sessions.begin() as s:
            s.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).where(
                (ApiTokenRow.last_used_at.is_(None)) | (ApiTokenRow.last_used_at < at - timedelta(minutes=1)))
                .values(last_used_at=at))

    def tokens(self) -> list[ApiTokenRow]:
        with self.sessions() as s:
            return list(s.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)))

    def revoke_token(self, token_id: int, now: datetime) -> ApiTokenRow | None:
        with self.sessions.begin() as s:
            row = s.get(ApiTokenRow, token_id)
            if row is not None and row.revoked_at is None:
                row.revoked_at = to_utc(now)
            return row

    # ------------------------------------------------------------ audit log
    @staticmethod
    def audit_row(hall: str | None, actor: str, action: str, target: str, before: dict | None,
                  after: dict | None, now: datetime) -> AuditRow:
        return AuditRow(hall=hall, at=to_utc(now), actor=actor, action=action, target=target, before=before,
                        after=after)

    def audit(self, hall: str | None, actor: str, action: str, target: str, before: dict | None,
              after: dict | None, now: datetime) -> None:
        with self.sessions.begin() as s:
            s.add(self.audit_row(hall, actor, action, target, before, after, now))

    def audit_log(self, hall: str, start: datetime | None = None, end: datetime | None = None,
                  limit: int | None = None, refused_only: bool = False) -> list[AuditRow]:
        """Entries of this hall and of the server (users, tokens), newest first; `refused_only`:
        only the refused attempts (action `….refused`)."""
        with self.sessions() as s:
            q = select(AuditRow).where((AuditRow.hall == hall) | AuditRow.hall.is_(None))
            if refused_only:
                q = q.where(AuditRow.action.like("%.refused"))
            if start is not None:
                q = q.where(AuditRow.at >= to_utc(start))
            if end is not None:
                q = q.where(AuditRow.at < to_utc(end))
            q = q.order_by(AuditRow.id.desc())
            if limit is not None:
                q = q.limit(limit)
            return list(s.scalars(q))

    # ------------------------------------------------------------ secrets
    def secret(self, name: str) -> str:
        """A random secret made at first use and kept in the store (survives restarts)."""
        with self.sessions() as s:
            row = s.get(SecretRow, name)
            if row is not None:
                return row.value
        try:
            with self.sessions.begin() as s:
                s.add(SecretRow(name=name, value=secrets.token_urlsafe(48)))
        except IntegrityError:  # another process made it first
            pass
        with self.sessions() as s:
            return s.get(SecretRow, name).value
