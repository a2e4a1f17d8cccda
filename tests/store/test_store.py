"""The store on a real database (SQLite file; PostgreSQL when HALL_TEST_DATABASE_URL is set): the
schema comes from the migrations, the day is rebuilt exactly, a retry is answered from the store."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import OperationalError

import protocols
from hallserver.domain import views
from hallserver.service import HallService
from hallserver.settings import load_hall_config
from hallserver.store import Store
from hallserver.store.models import Base, OfficerSessionRow, ProcessedMessageRow, RatingRow, TicketRow
from hallserver.store.store import rows_by_key
from tests.support.clock import Clock
from tests.support.stores import FailingStore

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def store(database_url):
    s = Store(database_url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 23, 8, 0, tzinfo=TZ))  # a Monday morning


def make_service(store, clock) -> HallService:
    svc = HallService(load_hall_config(), store, clock)
    svc.load()
    return svc


def send(svc: HallService, device: str, t: str, msg_id: str, **fields) -> dict:
    return svc.handle_up(device, protocols.encode(protocols.make_up(t, msg_id, fields))).reply


def test_migrations_match_models(store):
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []


def test_a_day_is_rebuilt_exactly(store, clock):
    svc = make_service(store, clock)
    for i, service in enumerate(["tu-phap", "tu-phap", "giao-thong", "tu-phap", "lao-dong"]):
        assert send(svc, "kiosk-1", "ticket.take", f"k{i}", service=service)["ok"]
        clock.advance(minutes=1)
    assert send(svc, "ct-01", "officer.login", "l1", officer="o01", pin="0000")["ok"]
    assert send(svc, "ct-02", "officer.login", "l2", officer="o02", pin="0000")["ok"]
    assert send(svc, "ct-01", "call.next", "c1")["ticket"]["number"] == "A001"
    assert send(svc, "ct-02", "call.next", "c2")["ticket"]["number"] == "A002"
    send(svc, "ct-02", "serve.hold", "h2")
    send(svc, "ct-02", "call.next", "c3")
    send(svc, "ct-02", "serve.transfer", "t2", service="lao-dong")
    send(svc, "ct-01", "call.recall", "r1")
    clock.advance(minutes=5)
    send(svc, "ct-01", "serve.done", "d1")
    assert send(svc, "rb-01", "rating.vote", "v1", score="khong-hai-long", reason="thoi-gian-cho")["ok"]
    send(svc, "ct-02", "counter.pause", "p2", reason="Họp giao ban")

    again = make_service(store, clock)
    now = clock()
    assert again.snapshot(views.board) == svc.snapshot(views.board)
    for device in svc.config.devices.values():
        assert views.device_state(again.hall, device, now) == views.device_state(svc.hall, device, now)
    assert [t.number for t in again.hall.waiting()] == [t.number for t in svc.hall.waiting()]
    assert again.hall.counters[2].held == ["A002"]

    with store.sessions() as s:
        transferred = s.get(TicketRow, ("demo", now.date(), "A003"))
        assert (transferred.service, transferred.first_service, transferred.status) == ("lao-dong", "tu-phap",
                                                                                        "waiting")
        rating = s.query(RatingRow).one()
        assert (rating.number, rating.officer, rating.reason) == ("A001", "o01", "thoi-gian-cho")
        assert s.query(OfficerSessionRow).filter(OfficerSessionRow.logout_at.is_(None)).count() == 2


def test_retry_is_answered_from_the_store_after_restart(store, clock):
    svc = make_service(store, clock)
    first = send(svc, "kiosk-1", "ticket.take", "boot1-1", service="tu-phap")
    again = make_service(store, clock)  # a restarted server
    outcome = again.handle_up("kiosk-1", protocols.encode(protocols.make_up("ticket.take", "boot1-1",
                                                                            {"service": "tu-phap"})))
    assert outcome.duplicate and outcome.reply == first and outcome.events == []
    assert len(again.hall.tickets) == 1


def test_new_day_restarts_numbers_and_expires_yesterday(store, clock):
    svc = make_service(store, clock)
    send(svc, "kiosk-1", "ticket.take", "a", service="tu-phap")
    clock.advance(days=1)
    svc = make_service(store, clock)
    assert send(svc, "kiosk-1", "ticket.take", "b", service="tu-phap")["ticket"]["number"] == "A001"
    with store.sessions() as s:
        statuses = sorted((t.day.isoformat(), t.status) for t in s.query(TicketRow))
    assert statuses == [("2026-11-23", "expired"), ("2026-11-24", "waiting")]


def test_old_message_ids_are_pruned(store, clock):
    svc = make_service(store, clock)
    send(svc, "kiosk-1", "ticket.take", "old-1", service="tu-phap")
    clock.advance(days=3)
    make_service(store, clock)
    assert store.processed_reply("demo", "kiosk-1", "old-1") is None


def test_store_failure_is_refused_and_loses_nothing(database_url, clock):
    store = FailingStore(database_url)
    store.migrate()
    svc = make_service(store, clock)
    send(svc, "kiosk-1", "ticket.take", "a", service="tu-phap")
    store.fail_next = True
    reply = send(svc, "kiosk-1", "ticket.take", "b", service="tu-phap")
    assert reply["ok"] is False and reply["error"]["code"] == "unavailable"
    assert list(svc.hall.tickets) == ["A001"]  # the unrecorded ticket is not in memory either
    # the device retries with the same id and now gets its ticket: A002, not A003
    assert send(svc, "kiosk-1", "ticket.take", "b", service="tu-phap")["ticket"]["number"] == "A002"
    store.close()


def test_a_clock_stepped_back_does_not_reopen_yesterday(store, clock):
    def make_service(store, clock) -> HallService:  # a hall open at night
        svc = HallService(load_hall_config(None, always_open=True), store, clock)
        svc.load()
        return svc

    svc = make_service(store, clock)
    clock.advance(hours=16, minutes=30)  # 00:30 on the next day
    assert send(svc, "kiosk-1", "ticket.take", "a", service="tu-phap")["ticket"]["number"] == "A001"
    clock.advance(hours=-1)  # stepped back across midnight
    assert send(svc, "kiosk-1", "ticket.take", "b", service="tu-phap")["ticket"]["number"] == "A002"
    again = make_service(store, clock)  # a restart while the clock is still behind
    assert [t.number for t in again.hall.waiting()] == ["A001", "A002"]


def test_nobody_reads_an_unrecorded_change_while_the_store_is_gone(database_url, clock):
    from hallserver.service import StoreUnavailable

    store = FailingStore(database_url)
    store.migrate()
    svc = make_service(store, clock)
    send(svc, "kiosk-1", "ticket.take", "a", service="tu-phap")
    store.fail_next = True
    real_load = store.load_day
    store.load_day = lambda *a, **kw: (_ for _ in ()).throw(OperationalError("SELECT", {}, Exception("gone")))
    assert send(svc, "kiosk-1", "ticket.take", "b", service="tu-phap")["error"]["code"] == "unavailable"
    with pytest.raises(StoreUnavailable):
        svc.snapshot(views.board)  # A002 was never recorded: not shown
    store.load_day = real_load  # the database is back
    assert [w["waiting"] for w in svc.snapshot(views.board)["waiting"] if w["service"] == "tu-phap"] == [1]
    store.close()


def test_rows_are_found_by_primary_key_across_halls_and_days(store):
    """The one-statement lookup a batch makes (answered ids, ticket rows): any mix of halls and
    days, more keys than one statement holds, and keys that match nothing."""
    day = date(2026, 11, 23)
    with store.sessions.begin() as s:
        for n in range(260):
            hall, d = f"pk-{n % 3}", day + timedelta(days=n % 2)
            s.add(TicketRow(hall=hall, day=d, number=f"A{n:03d}", service="tu-phap", first_service="tu-phap",
                            status="waiting", token=f"t{n}", issued_at=datetime(2026, 11, 23, 1), recalls=0,
                            transfers=0, offline=False))
            s.add(ProcessedMessageRow(hall=hall, device="kiosk-1", msg_id=f"m-{n}", at=datetime(2026, 11, 23, 1),
                                      reply={"v": 1, "re": f"m-{n}", "ok": True, "n": n}))
    wanted = [(f"pk-{n % 3}", day + timedelta(days=n % 2), f"A{n:03d}") for n in range(260)]
    misses = [("pk-0", day, "A001"), ("pk-9", day, "A000"), ("pk-1", day + timedelta(days=5), "A001")]
    with store.sessions() as s:
        rows = rows_by_key(s, TicketRow, wanted + misses)
    assert sorted((r.hall, r.day, r.number) for r in rows) == sorted(wanted)
    keys = [(f"pk-{n % 3}", "kiosk-1", f"m-{n}") for n in range(0, 260, 7)] + [("pk-0", "kiosk-1", "m-1")]
    found = store.processed_replies(keys)
    assert {k: v["n"] for k, v in found.items()} == {(f"pk-{n % 3}", "kiosk-1", f"m-{n}"): n for n in range(0, 260, 7)}
