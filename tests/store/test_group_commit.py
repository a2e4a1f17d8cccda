"""Group commit (hallserver.service.Batch): several device messages of several halls in one
transaction. All or nothing; a retried id, even inside the same batch, has one effect; a failed
commit answers every message of the batch `unavailable` and forgets what was applied in memory."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import protocols
from hallserver.service import Batch, HallService
from hallserver.settings import load_hall_config
from tests.support.clock import Clock
from tests.support.stores import FailingStore

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def halls(database_url):
    store = FailingStore(database_url)
    store.migrate()
    clock = Clock(datetime(2026, 11, 23, 8, 0, tzinfo=TZ))
    services = {}
    for hall in ("gc-a", "gc-b"):
        svc = HallService(load_hall_config(None, id=hall), store, clock)
        svc.load()
        services[hall] = svc
    yield store, services
    store.close()


def take(msg_id: str) -> dict:
    return protocols.parse_up(protocols.encode(protocols.make_up("ticket.take", msg_id, {"service": "tu-phap"})))


def run_batch(store, items):
    batch = Batch(store)
    batch.prefetch([(svc.config.id, "kiosk-1", m["id"]) for svc, m in items])
    outcomes = [svc.apply("kiosk-1", m, batch) for svc, m in items]
    return batch.commit(), outcomes


def test_one_commit_for_many_messages_of_two_halls(halls):
    store, svc = halls
    ok, outcomes = run_batch(store, [(svc["gc-a"], take("a1")), (svc["gc-b"], take("b1")),
                                     (svc["gc-a"], take("a2")), (svc["gc-a"], take("a1"))])
    assert ok
    numbers = [o.reply["ticket"]["number"] for o in outcomes]
    assert numbers == ["A001", "A001", "A002", "A001"]  # each hall numbers its own day
    assert [o.duplicate for o in outcomes] == [False, False, False, True]
    assert {t.number for t in store.tickets("gc-a", datetime(2026, 11, 23).date())} == {"A001", "A002"}
    assert {t.number for t in store.tickets("gc-b", datetime(2026, 11, 23).date())} == {"A001"}
    # a retry in a later batch is answered from the store, with no second ticket
    ok, again = run_batch(store, [(svc["gc-b"], take("b1"))])
    assert ok and again[0].duplicate and again[0].reply == outcomes[1].reply
    assert len(store.tickets("gc-b", datetime(2026, 11, 23).date())) == 1


def test_failed_commit_answers_unavailable_and_forgets(halls):
    store, svc = halls
    assert run_batch(store, [(svc["gc-a"], take("x1"))])[0]
    store.fail_next = True
    ok, outcomes = run_batch(store, [(svc["gc-a"], take("x2")), (svc["gc-b"], take("y1")),
                                     (svc["gc-a"], take("x2"))])
    assert not ok
    assert [o.reply["error"]["code"] for o in outcomes] == ["unavailable"] * 3
    assert all(not o.events for o in outcomes)
    # the halls were rebuilt from the store: the next number is the one the lost batch had taken
    assert svc["gc-a"].snapshot(lambda h, now: sorted(h.tickets)) == ["A001"]
    assert svc["gc-b"].snapshot(lambda h, now: sorted(h.tickets)) == []
    ok, retried = run_batch(store, [(svc["gc-a"], take("x2")), (svc["gc-b"], take("y1"))])
    assert ok and [o.reply["ticket"]["number"] for o in retried] == ["A002", "A001"]
    assert not any(o.duplicate for o in retried)


def test_locks_are_released_whatever_happens(halls):
    store, svc = halls
    store.fail_next = True
    run_batch(store, [(svc["gc-a"], take("z1"))])
    run_batch(store, [(svc["gc-b"], take("z2"))])
    def try_locks() -> None:  # from another thread: an RLock always lets its own thread in again
        for s in svc.values():
            free.append(s.lock.acquire(blocking=False))
            if free[-1]:
                s.lock.release()

    free: list[bool] = []
    other = threading.Thread(target=try_locks)
    other.start()
    other.join(10)
    assert free == [True, True]
