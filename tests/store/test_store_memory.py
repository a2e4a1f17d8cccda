"""Memory the hall server keeps per citizen (issue #7, flat memory over a province day), through the
service layer and its store as device messages reach them: HallService.handle_up (parse, engine,
commit on a SQLite file), the outputs collected after each message as the MQTT adapter does, the day
replayed from the store, the day rolling at midnight. Measured with tracemalloc (the interpreter's
allocations, not RSS: the same on every run of the same code). SQLite only: the figures were
measured there (PostgreSQL's driver keeps its own caches).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import protocols
from hallserver.domain.engine import RETAIN
from hallserver.outputs import Outputs, touched_by
from hallserver.service import HallService
from hallserver.settings import load_hall_config
from hallserver.store import Store
from hallserver.store.models import TicketRow
from hallserver.store.store import _by_key_statement, rows_by_key
from tests.support.clock import Clock
from tests.support.memory import traced, traced_now

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WARMUP = 300  # citizens served before the measure (40 min, past RETAIN: the first ones retire); the
# store's statements compiled, the tables grown
CYCLES = 500  # citizens served while measured (traced, the service layer runs ~4 times slower)


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'hall.db'}")
    s.migrate()
    yield s
    s.close()


class Hall:
    """The demo hall's counter 1 serving citizens one after another over its devices' messages:
    ticket.take at kiosk-1, call.next and serve.done at ct-01, rating.vote at rb-01 4 times in 5."""

    def __init__(self, store: Store):
        self.clock = Clock(datetime(2026, 11, 23, 8, 0, tzinfo=TZ))  # a Monday morning
        self.service = HallService(load_hall_config(None, always_open=True, number_width=4), store, self.clock)
        self.service.load()
        self.outputs = Outputs(board_every=0.5)
        self.i = 0
        self.mono = 0.0
        self.send("ct-01", "officer.login", "login-1", officer="o01", pin="0000")

    def send(self, device: str, t: str, msg_id: str, **fields) -> None:
        outcome = self.service.handle_up(device, protocols.encode(protocols.make_up(t, msg_id, fields)))
        assert outcome.reply["ok"], outcome.reply
        self.mono += 0.3

        def collect(hall, now):
            return self.outputs.collect(hall, now, (), touched_by(hall, outcome.events), self.mono)

        self.service.snapshot(collect)

    def serve(self, n: int) -> None:
        for _ in range(n):
            self.i += 1
            self.clock.advance(seconds=3)
            self.send("kiosk-1", "ticket.take", f"take-{self.i:08d}", service="tu-phap")
            self.clock.advance(seconds=1)
            self.send("ct-01", "call.next", f"call-{self.i:08d}")
            self.clock.advance(seconds=3)
            self.send("ct-01", "serve.done", f"done-{self.i:08d}")
            if self.i % 5:
                self.clock.advance(seconds=1)
                self.send("rb-01", "rating.vote", f"vote-{self.i:08d}", score="hai-long")


def test_memory_is_flat_live_replayed_and_after_midnight(store):
    """Per citizen served, the server keeps nothing once the citizen's ticket is retired (engine.RETAIN;
    tests/engine/test_memory.py), and the service layer adds nothing per citizen: 500 more citizens
    move the memory by 15-30 KB (the dicts of the half hour in memory resizing, the same after 500
    or 2,500), where before retirement each kept 602 bytes (300 KB), and before slots and shared
    names 706. The day replayed from the store (an admin's edit, a restart, a store
    failure) holds about what the live one held; when the day rolls at midnight the rest goes."""
    with traced():  # from the start: what the warm-up built and later replaced is counted too
        hall = Hall(store)
        hall.serve(WARMUP)
        service = hall.service
        start = traced_now()
        hall.serve(CYCLES)
        live = traced_now() - start
        in_memory = sorted(service.hall.tickets)
        assert len(in_memory) <= RETAIN.total_seconds() / 7 + 1  # a citizen every 7.8 s

        held = traced_now()
        service.reconfigure(service.config)  # today's events replayed from the store into a new Hall
        assert sorted(service.hall.tickets) == in_memory
        assert service.hall.day_counts()["tu-phap"]["served"] == WARMUP + CYCLES
        replayed = traced_now() - held

        hall.clock.advance(days=1)
        rolled, _ = service.tick()
        assert rolled and service.hall.tickets == {}
        left = traced_now() - start
    # in the whole suite other tests' leftovers added up to 50 KB here (log records of dispenser
    # threads that outlived their tests, since stopped; warmed caches): the bound is a third of what
    # retirement saved (300 KB)
    assert live < 100 * 1024, f"{live} bytes more after {CYCLES} citizens (602 each before retirement)"
    # measured: 33 KB more, about 140 bytes for each ticket in memory (what is read back from the
    # store is less shared than what the live messages built); a day's 800 citizens would be 500 KB
    assert abs(replayed) < 64 * 1024, f"the replayed day holds {replayed} bytes more than the live one"
    assert left < 16 * 1024, f"{left} bytes left after midnight"


def test_lookups_of_every_batch_size_keep_a_few_statements(store):
    """A batch looks up its answered ids and its tickets by primary key; on SQLite one statement per
    number of keys, which SQLAlchemy compiles and keeps (~4 KB per key). Padded to a power of two
    (the last key again), batches of every size from 1 to 256 keep 9 statements per table, ~4.8 MB
    measured for both tables; one statement per size kept ~90 MB per table."""
    store.processed_replies([("h", "d", "m")])  # the store's first statements, compiled
    built = _by_key_statement.cache_info().currsize
    day = datetime(2026, 11, 23).date()
    with traced(), store.sessions() as s:
        start = traced_now()
        for n in range(1, 257):
            assert store.processed_replies([("h", "d", f"m{i}") for i in range(n)]) == {}
            assert rows_by_key(s, TicketRow, [("h", day, f"A{i:03d}") for i in range(n)]) == []
        kept = traced_now() - start
    assert _by_key_statement.cache_info().currsize - built <= 2 * 9
    assert kept < 6 * 1024 * 1024, f"{kept / 1e6:.1f} MB kept by the statements of 256 batch sizes (measured: 4.8)"
