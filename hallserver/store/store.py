"""The store adapter: events in, projections kept, the day read back for replay.

One transaction per command: its events, the projections they change and the reply to the device
message are committed together, so an acknowledged command is never half-recorded.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Engine,
    Row,
    Table,
    TextClause,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from hallserver.domain.model import Event, Retired, Ticket
from hallserver.store.models import (
    DeviceStatusRow,
    EventRow,
    HallRow,
    OfficerSessionRow,
    ProcessedMessageRow,
    RatingRow,
    TicketRow,
)

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
# one command's rows: (hall, events, (device, msg_id, reply, at) or None, extra rows such as an audit entry)
Unit = tuple[str, list[Event], tuple[str, str, dict, datetime] | None, list[object]]


@functools.lru_cache(maxsize=512)
def _by_key_statement(table: Table, dialect: str, n: int) -> TextClause:
    """SELECT the rows of `table` with any of n primary keys, written for each database's planner:
    PostgreSQL joins the keys given as arrays (one statement for any n, planned in microseconds);
    SQLite gets an OR of primary keys (a row-value IN scans the whole table). Text, built once per
    size: compiling a fresh expression of hundreds of terms for every batch cost more than the query."""
    cols = list(table.primary_key.columns)
    names = [c.name for c in cols]
    if dialect == "postgresql":
        on = " AND ".join(f"p.{c} = k.{c}" for c in names)
        sql = (f"SELECT p.* FROM {table.name} p JOIN unnest({', '.join(f':k{j}' for j in range(len(cols)))})"
               f" AS k({', '.join(names)}) ON {on}")
        params = [bindparam(f"k{j}", type_=ARRAY(c.type)) for j, c in enumerate(cols)]
    else:
        sql = f"SELECT * FROM {table.name} WHERE " + " OR ".join(
            "(" + " AND ".join(f"{c} = :k{j}_{i}" for j, c in enumerate(names)) + ")" for i in range(n))
        params = [bindparam(f"k{j}_{i}", type_=c.type) for i in range(n) for j, c in enumerate(cols)]
    return text(sql).bindparams(*params).columns(*table.columns)


def rows_by_key(s: Session, model: type, keys: list[tuple]) -> list[Row]:
    """The rows (plain, typed) of `model` whose primary keys are among `keys` (in primary-key order)."""
    dialect = s.get_bind().dialect.name
    rows: list[Row] = []
    step = 1000 if dialect == "postgresql" else 256  # bounded statement size
    for i in range(0, len(keys), step):
        chunk = keys[i:i + step]
        if dialect == "postgresql":
            stmt = _by_key_statement(model.__table__, dialect, 0)
            params = {f"k{j}": list(col) for j, col in enumerate(zip(*chunk, strict=True))}
        else:  # padded to a power of two (the last key again): a few statements, each compiled once
            chunk = chunk + chunk[-1:] * ((1 << (len(chunk) - 1).bit_length()) - len(chunk))
            stmt = _by_key_statement(model.__table__, dialect, len(chunk))
            params = {f"k{j}_{n}": v for n, key in enumerate(chunk) for j, v in enumerate(key)}
        rows += s.execute(stmt, params)
    return rows


class _Tickets:
    """The ticket rows a batch changes, as plain attributes, written back with one executemany for the
    new ones and one for the changed ones (the ORM's per-object bookkeeping cost more than the
    database itself, bench/province/profile.md)."""

    DEFAULTS = {"priority": None, "device": None, "called_at": None, "finished_at": None, "counter": None,
                "officer": None, "recalls": 0, "transfers": 0, "first_called_at": None, "printed_at": None,
                "offline": False}

    def __init__(self, rows: list[Row]):
        self.loaded = {(r.hall, r.day, r.number): dict(r._mapping) for r in rows}
        self.rows = {key: SimpleNamespace(**cols) for key, cols in self.loaded.items()}

    def get(self, key: tuple[str, date, str]) -> SimpleNamespace | None:
        return self.rows.get(key)

    def new(self, **cols: object) -> None:
        self.rows[(cols["hall"], cols["day"], cols["number"])] = SimpleNamespace(**{**self.DEFAULTS, **cols})

    def write(self, s: Session) -> None:
        created = [vars(t) for key, t in self.rows.items() if key not in self.loaded]
        changed = [vars(t) for key, t in self.rows.items() if key in self.loaded and vars(t) != self.loaded[key]]
        if created:
            s.execute(insert(TicketRow.__table__), created)  # Core: no ORM bulk layer
        if changed:
            s.execute(update(TicketRow), changed)  # by primary key, executemany


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # WAL: readers never block the writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (run at every start)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def to_utc(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def stored_ticket(row: TicketRow, tz: ZoneInfo) -> Ticket:
    """A ticket as the store has it, in the engine's terms (one the engine has retired)."""
    def local(at: datetime | None) -> datetime | None:
        return None if at is None else at.replace(tzinfo=UTC).astimezone(tz)

    issued = local(row.issued_at)
    assert issued is not None
    return Ticket(row.number, row.service, row.priority, 0, issued, row.token, issued, status=row.status,
                  counter=row.counter, officer=row.officer, called_at=local(row.called_at), recalls=row.recalls,
                  transfers=row.transfers, first_called_at=local(row.first_called_at), device=row.device,
                  offline=row.offline)


class Store:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------- reading back
    def load_day(self, hall: str, day: date, tz: ZoneInfo) -> list[Event]:
        with self.sessions() as s:
            rows = s.scalars(select(EventRow).where(EventRow.hall == hall, EventRow.day == day)
                             .order_by(EventRow.id)).all()
            return [Event(r.kind, r.at.replace(tzinfo=UTC).astimezone(tz), r.data) for r in rows]

    def last_event_at(self, hall: str, tz: ZoneInfo) -> datetime | None:
        with self.sessions() as s:
            at = s.scalar(select(EventRow.at).where(EventRow.hall == hall).order_by(EventRow.id.desc()).limit(1))
            return at.replace(tzinfo=UTC).astimezone(tz) if at is not None else None

    def processed_reply(self, hall: str, device: str, msg_id: str) -> dict | None:
        with self.sessions() as s:
            row = s.get(ProcessedMessageRow, (hall, device, msg_id))
            return row.reply if row else None

    def processed_replies(self, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], dict]:
        """The stored replies of those (hall, device, msg_id) that were already answered, in one query
        (every batch of device messages asks: a retry after a restart is answered from here)."""
        with self.sessions() as s:
            return {(r.hall, r.device, r.msg_id): r.reply
                    for r in rows_by_key(s, ProcessedMessageRow, list(set(keys)))}

    def ticket_by_token(self, hall: str, token: str) -> TicketRow | None:
        with self.sessions() as s:
            return s.scalars(select(TicketRow).where(TicketRow.hall == hall, TicketRow.token == token)).first()

    def ticket(self, hall: str, day: date, number: str) -> TicketRow | None:
        with self.sessions() as s:
            return s.get(TicketRow, (hall, day, number))

    def retired(self, hall: str, day: date, number: str, tz: ZoneInfo) -> Retired | None:
        """A ticket of `day` as the engine needs it once it has forgotten it (a late vote naming it)."""
        row = self.ticket(hall, day, number)
        if row is None:
            return None
        with self.sessions() as s:
            rated = s.scalars(select(RatingRow.id).where(
                RatingRow.hall == hall, RatingRow.day == day, RatingRow.number == number).limit(1)).first()
        return Retired(stored_ticket(row, tz), rated is not None)

    def ratings(self, hall: str, day: date | None = None) -> list[RatingRow]:
        with self.sessions() as s:
            q = select(RatingRow).where(RatingRow.hall == hall)
            if day is not None:
                q = q.where(RatingRow.day == day)
            return list(s.scalars(q.order_by(RatingRow.id)))

    def tickets(self, hall: str, day: date) -> list[TicketRow]:
        with self.sessions() as s:
            return list(s.scalars(select(TicketRow).where(TicketRow.hall == hall, TicketRow.day == day)))

    def device_statuses(self, hall: str) -> dict[str, DeviceStatusRow]:
        with self.sessions() as s:
            return {r.device: r for r in s.scalars(select(DeviceStatusRow).where(DeviceStatusRow.hall == hall))}

    # ------------------------------------------------------------- writing
    def ensure_hall(self, hall: str, name: str) -> None:
        with self.sessions.begin() as s:
            row = s.get(HallRow, hall)
            if row is None:
                s.add(HallRow(id=hall, name=name))
            elif row.name != name:
                row.name = name

    def record(self, hall: str, events: Iterable[Event],
               message: tuple[str, str, dict, datetime] | None = None, extra: Iterable[object] = ()) -> None:
        """Commit events, their projections and the reply to (device, msg_id, reply, at) in one
        transaction; `extra` rows (a manager's audit entry) go in the same transaction."""
        self.record_many([(hall, list(events), message, list(extra))])

    def record_many(self, units: Iterable[Unit]) -> None:
        """Group commit: several commands, of one or more halls, in one transaction, in order.
        Either all of them are recorded or none (the caller then answers `unavailable`)."""
        units = list(units)
        events_in: list[dict] = []  # the event log and the answered ids: plain rows, one Core executemany each
        answered: list[dict] = []  # (the ORM's unit of work, and its bulk layer, cost more than the database)
        with self.sessions.begin() as s:
            tickets = self._tickets_of(s, units)
            for hall, events, message, extra in units:
                for e in events:
                    self._append(s, hall, e, tickets, events_in)
                s.add_all(list(extra))
                if message is not None:
                    device, msg_id, reply, at = message
                    answered.append({"hall": hall, "device": device, "msg_id": msg_id, "at": to_utc(at),
                                     "reply": reply})
            tickets.write(s)
            if events_in:  # in order: the day is replayed by event id
                s.execute(insert(EventRow.__table__), events_in)
            if answered:
                s.execute(insert(ProcessedMessageRow.__table__), answered)

    def set_device_status(self, hall: str, device: str, online: bool, data: dict, at: datetime) -> None:
        with self.sessions.begin() as s:
            row = s.get(DeviceStatusRow, (hall, device))
            if row is None:
                s.add(DeviceStatusRow(hall=hall, device=device, online=online, data=data, updated_at=to_utc(at)))
            else:
                row.online, row.data, row.updated_at = online, data, to_utc(at)

    def expire_before(self, hall: str, day: date, at: datetime) -> int:
        """Close what days before `day` left open: their waiting or held tickets expire, their
        officer sessions end at `at` (the start of `day`)."""
        with self.sessions.begin() as s:
            n = s.execute(update(TicketRow).where(TicketRow.hall == hall, TicketRow.day < day,
                                                  TicketRow.status.in_(("waiting", "called", "held")))
                          .values(status="expired")).rowcount
            s.execute(update(OfficerSessionRow).where(OfficerSessionRow.hall == hall,
                                                      OfficerSessionRow.logout_at.is_(None),
                                                      OfficerSessionRow.login_at < to_utc(at))
                      .values(logout_at=to_utc(at)))
            # devices retry for minutes, not days: answered ids older than a day can go
            s.execute(delete(ProcessedMessageRow).where(ProcessedMessageRow.hall == hall,
                                                        ProcessedMessageRow.at < to_utc(at - timedelta(days=1))))
            return n

    @staticmethod
    def _tickets_of(s: Session, units: list[Unit]) -> _Tickets:
        """The ticket rows the units' events change, loaded in one query for every hall of the batch
        (not one per event, nor per hall): with group commit this is most of what a batch reads."""
        issued: set[tuple[str, date, str]] = set()
        wanted: set[tuple[str, date, str]] = set()
        for hall, events, _message, _extra in units:
            for e in events:
                if not e.kind.startswith("ticket."):
                    continue
                key = (hall, e.at.date(), e.data["number"])
                if e.kind in ("ticket.issued", "ticket.offline_issued"):
                    issued.add(key)
                elif key not in issued:
                    wanted.add(key)
        return _Tickets(rows_by_key(s, TicketRow, sorted(wanted)))

    def _append(self, s: Session, hall: str, e: Event, tickets: _Tickets, events_in: list[dict]) -> None:
        d, at, day = e.data, to_utc(e.at), e.at.date()
        events_in.append({"hall": hall, "day": day, "at": at, "kind": e.kind,
                          "number": d.get("number") or d.get("ticket"), "counter": d.get("counter"),
                          "officer": d.get("officer"), "data": d})
        if e.kind == "ticket.offline_issued":  # issued from a dispenser's block; printed before it was reported
            issued = to_utc(datetime.fromisoformat(d["issued_at"]))
            tickets.new(hall=hall, day=day, number=d["number"], service=d["service"], first_service=d["service"],
                        priority=d.get("priority"), status="waiting", token=d.get("token", ""),
                        device=d.get("device"), issued_at=issued, printed_at=issued, offline=True)
            return
        if e.kind == "ticket.issued":
            tickets.new(hall=hall, day=day, number=d["number"], service=d["service"], first_service=d["service"],
                        priority=d.get("priority"), status="waiting", token=d.get("token", ""),
                        device=d.get("device"), issued_at=at)
            return
        if e.kind.startswith("ticket."):
            t = tickets.get((hall, day, d["number"]))
            if t is None:
                log.error("event %s for unknown ticket %s", e.kind, d["number"])
                return
            if e.kind == "ticket.called":
                t.status, t.counter, t.officer, t.called_at = "called", d["counter"], d.get("officer"), at
                t.first_called_at = t.first_called_at or at
            elif e.kind == "ticket.recalled":
                t.recalls += 1
            elif e.kind in ("ticket.done", "ticket.no_show", "ticket.expired", "ticket.voided"):
                t.status, t.finished_at = e.kind.split(".")[1], at
            elif e.kind == "ticket.held":
                t.status = "held"
            elif e.kind == "ticket.transferred":
                t.status, t.service, t.transfers, t.recalls = "waiting", d["service"], t.transfers + 1, 0
            elif e.kind == "ticket.printed":
                t.printed_at = t.printed_at or at
        elif e.kind == "rating.recorded":
            s.add(RatingRow(hall=hall, day=day, at=at, number=d["ticket"], officer=d.get("officer"),
                            counter=d["counter"], device=d.get("device"), score=d["score"], reason=d.get("reason")))
        elif e.kind == "officer.logged_in":
            s.add(OfficerSessionRow(hall=hall, officer=d["officer"], counter=d["counter"], login_at=at))
        elif e.kind == "officer.logged_out":
            s.flush()
            s.execute(update(OfficerSessionRow).where(
                OfficerSessionRow.hall == hall, OfficerSessionRow.officer == d["officer"],
                OfficerSessionRow.counter == d["counter"], OfficerSessionRow.logout_at.is_(None),
            ).values(logout_at=at))
