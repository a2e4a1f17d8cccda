"""Checks that a live hall is not corrupt: what the engine's property tests assert, on a running server."""

from __future__ import annotations

import collections

from hallserver.domain import views
from hallserver.domain.model import CALLED, HELD, WAITING
from hallserver.service import HallService
from hallserver.store.models import EventRow


def observable(service: HallService) -> dict:
    """Every view of the hall: board, queues, each device's state, each ticket's status."""
    def read(hall, now):
        return {"board": {k: v for k, v in views.board(hall, now).items() if k != "at"},
                "queues": views.queues(hall, now),
                "devices": {d.id: views.device_state(hall, d, now) for d in hall.config.devices.values()},
                "tickets": {n: views.ticket_status(t, hall, now) for n, t in hall.tickets.items()}}
    return service.snapshot(read)


def check_hall(service: HallService) -> None:
    """A ticket is at one counter at most and its status agrees; numbers are issued once; an officer
    is at one counter; and replaying the stored events into a fresh service gives the same hall."""
    hall = service.hall
    with service.lock:
        places = collections.defaultdict(list)
        for c in hall.counters.values():
            if c.current is not None:
                places[c.current].append(("current", c.number))
            places.update({n: places[n] + [("held", c.number)] for n in c.held})
        for number, t in hall.tickets.items():
            where = places.get(number, [])
            if t.status == CALLED:
                assert where == [("current", t.counter)], (number, where)
            elif t.status == HELD:
                assert where == [("held", t.counter)], (number, where)
            else:
                assert where == [], (number, t.status, where)
                if t.status == WAITING:
                    assert t.counter is None
        officers = [c.officer for c in hall.counters.values() if c.officer is not None]
        assert len(officers) == len(set(officers))
    with service.store.sessions() as s:
        issued = collections.Counter(e.number for e in s.query(EventRow).filter_by(hall=service.config.id,
                                                                                   kind="ticket.issued"))
    assert all(n == 1 for n in issued.values()), issued
    replay = HallService(service.config, service.store, clock=service.now)
    replay.load()
    assert observable(replay) == observable(service)
