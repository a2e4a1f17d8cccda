"""The pipelined group commit (hallserver/mqtt.py): the loop applies the next batch while the one
before commits, and nothing of it goes out (replies, acknowledgements) before its own commit; a
failed commit takes the batch applied on top of it down with it; a thread waiting for a busy
hall's lock gets in between two batches. Each batch's write waits at a gate the test opens, so
every step is seen in order, with no timing. On Mosquitto: amqtt stops delivering to a client
whose acknowledgement is late (its PUBACK timeout), and here every acknowledgement waits at the gate."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import OperationalError
from support.wait import until

from firmware.pilink import DeviceLink
from hallserver.mqtt import MqttAdapter
from hallserver.service import HallService
from hallserver.settings import load_hall_config
from hallserver.store import Store

SERVICE = "tu-phap"
pytestmark = pytest.mark.parametrize("broker_kind", ["mosquitto"], indirect=True)


class GatedStore(Store):
    """Each write from the committer thread waits at the gate: `entered` says one has arrived,
    and the test lets it through (True) or makes it fail as a lost database would (False)."""

    def __init__(self, url: str):
        super().__init__(url)
        self.gated = True
        self.entered = threading.Semaphore(0)
        self.passes: queue.Queue[bool] = queue.Queue()

    def record_many(self, units):
        if self.gated and threading.current_thread().name.startswith("commit"):
            self.entered.release()
            if not self.passes.get(timeout=30):
                raise OperationalError("INSERT", {}, Exception("database is gone"))
        return super().record_many(units)

    def arrived(self) -> bool:
        return self.entered.acquire(timeout=10)


@pytest.fixture
def hall(mqtt_url: str, tmp_sqlite_url: str, hall_id: str) -> Iterator[tuple[GatedStore, HallService, DeviceLink]]:
    store = GatedStore(tmp_sqlite_url)
    store.migrate()
    service = HallService(load_hall_config(None, id=hall_id, always_open=True), store)
    service.load()
    adapter = MqttAdapter(service, mqtt_url)
    adapter.start()
    assert adapter.connected.wait(10)
    kiosk = DeviceLink(mqtt_url, hall_id, "kiosk-1").start()
    yield store, service, kiosk
    store.gated = False
    for _ in range(4):
        store.passes.put(True)
    kiosk.close()
    adapter.stop()
    store.close()


def stored_numbers(store: Store, service: HallService) -> list[str]:
    return sorted(t.number for t in store.tickets(service.config.id, service.now().date()))


def applied(service: HallService, n: int) -> None:
    """Wait until the loop has applied `n` commands (it counts each as it applies it)."""
    until(lambda: service.metrics["commands"] >= n, what=f"{n} commands applied")


def test_the_next_batch_is_applied_while_one_commits_and_answered_only_after_its_own_commit(hall):
    store, service, kiosk = hall
    first = kiosk.send("ticket.take", {"service": SERVICE})
    assert store.arrived()  # the first batch is committing
    second = kiosk.send("ticket.take", {"service": SERVICE})
    applied(service, 2)  # the second was applied meanwhile
    assert stored_numbers(store, service) == []

    store.passes.put(True)
    assert kiosk.wait_reply(first)["ticket"]["number"] == "A001"
    assert store.arrived()  # the second commits only after the first has
    assert stored_numbers(store, service) == ["A001"]
    store.passes.put(True)
    assert kiosk.wait_reply(second)["ticket"]["number"] == "A002"
    assert stored_numbers(store, service) == ["A001", "A002"]
    # a retry of an id of a batch that was still committing is a duplicate, not a new ticket
    store.gated = False
    assert kiosk.request("ticket.take", {"service": SERVICE}, msg_id=second)["ticket"]["number"] == "A002"
    assert service.metrics["duplicates"] == 1


def test_a_failed_commit_takes_the_batch_applied_on_top_of_it_down_with_it(hall):
    store, service, kiosk = hall
    first = kiosk.send("ticket.take", {"service": SERVICE})
    assert store.arrived()
    second = kiosk.send("ticket.take", {"service": SERVICE})
    applied(service, 2)
    store.passes.put(False)  # the database goes away during the first commit
    assert kiosk.wait_reply(first)["error"]["code"] == "unavailable"
    assert kiosk.wait_reply(second)["error"]["code"] == "unavailable"
    assert not store.entered.acquire(timeout=0)  # the second was never written: it was built on the first
    assert stored_numbers(store, service) == []
    assert service.snapshot(lambda h, now: sorted(h.tickets)) == []  # rebuilt from the store
    store.gated = False
    # the devices retry with the same ids: numbered afresh, nothing skipped
    assert kiosk.request("ticket.take", {"service": SERVICE}, msg_id=first)["ticket"]["number"] == "A001"
    assert kiosk.request("ticket.take", {"service": SERVICE}, msg_id=second)["ticket"]["number"] == "A002"
    assert stored_numbers(store, service) == ["A001", "A002"]


def test_a_thread_waiting_for_a_busy_hall_gets_in_between_two_batches(hall):
    """Under continuous load the loop holds a busy hall's lock from one batch to the next; an HTTP
    request (here: a snapshot) waiting for it is let in before the loop applies another batch."""
    store, service, kiosk = hall
    kiosk.send("ticket.take", {"service": SERVICE})
    assert store.arrived()
    kiosk.send("ticket.take", {"service": SERVICE})
    applied(service, 2)  # the loop holds the hall for both batches now

    seen: list[list[str]] = []
    reader = threading.Thread(target=lambda: seen.append(service.snapshot(lambda h, now: sorted(h.tickets))))
    reader.start()
    until(lambda: service.wanted, what="the reader waiting for the hall")
    store.passes.put(True)  # the first commits; the second starts committing, still holding the hall
    assert store.arrived()
    kiosk.send("ticket.take", {"service": SERVICE})  # a third arrives while the reader waits
    store.passes.put(True)
    reader.join(10)
    assert seen == [["A001", "A002"]]  # in before the third batch was applied
    assert store.arrived()
    store.passes.put(True)
    applied(service, 3)
    assert until(lambda: stored_numbers(store, service) == ["A001", "A002", "A003"], what="the third stored")


def test_a_reading_thread_never_sees_a_batch_that_is_still_committing(hall):
    store, service, kiosk = hall
    kiosk.send("ticket.take", {"service": SERVICE})
    assert store.arrived()
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.append(service.snapshot(lambda h, now: len(h.tickets))))
    reader.start()
    until(lambda: service.wanted, what="the reader waiting for the hall")
    assert seen == []
    store.passes.put(True)
    reader.join(10)
    assert seen == [1] and stored_numbers(store, service) == ["A001"]
