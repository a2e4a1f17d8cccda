"""What the server publishes after a change (hallserver.outputs), under load: the board and the
queue views of other counters wait (at most `board_every`), a counter's own devices and the
calls never do, and what waited goes out when it is due."""

from __future__ import annotations

from conftest import base_raw

from hallserver.domain import views
from hallserver.outputs import Outputs, touched_by


def leaves(pubs) -> list[str]:
    return [p.topic.split("/", 3)[-1] for p in pubs]


def test_queue_views_and_board_wait_under_load_and_go_out_when_due(make_hall, clock):
    raw = base_raw()
    raw["devices"] += [{"id": "ct-4", "kind": "terminal", "counter": 4}, {"id": "led-4", "kind": "led", "counter": 4}]
    hall = make_hall(raw)
    hall.roll(clock())
    out = Outputs(board_every=0.5)
    out.collect(hall, clock(), mono=0.0)  # start: everything
    hall.login(clock(), 1, "o1", "1234")
    hall.login(clock(), 4, "o4", "1234")
    out.collect(hall, clock(), mono=0.1)

    # after a quiet spell, a ticket taken shows at once: board, the terminals serving it, dispensers
    first = out.collect(hall, clock(), touched=touched_by(hall, hall.take_ticket(clock(), "tu-phap")), mono=10.0)
    assert {"board", "ct-1/state", "ct-4/state", "kiosk/state"} <= set(leaves(first))
    assert out.due_at is None
    # the next ones, 0.1 s later, wait
    taken = hall.take_ticket(clock(), "tu-phap") + hall.take_ticket(clock(), "tu-phap")
    assert out.collect(hall, clock(), touched=touched_by(hall, taken), mono=10.1) == []
    assert out.due_at == 10.5
    # a call at counter 1 is never held back: its LED, its terminal and the call; the rest waits
    called = out.collect(hall, clock(), touched=touched_by(hall, hall.call_next(clock(), 1)), mono=10.2)
    assert sorted(leaves(called)) == ["calls", "ct-1/state", "led-1/state"]
    assert out.due_at == 10.5
    # when due: the board and counter 4's terminal (its queue count), as they are now
    flushed = out.collect(hall, clock(), touched=touched_by(hall, []), mono=10.5)
    assert set(leaves(flushed)) == {"board", "ct-4/state", "kiosk/state", "kiosk-a/state"}
    assert out.due_at is None
    for device in hall.config.devices.values():
        assert out._states[device.id] == views.device_state(hall, device, clock()), device.id
    board = next(p.payload for p in flushed if p.topic.endswith("/board"))
    assert board["counters"][0]["ticket"] == "A001"
    assert next(w for w in board["waiting"] if w["service"] == "tu-phap")["waiting"] == 2
    # nothing held: a later flush publishes nothing
    assert out.collect(hall, clock(), touched=touched_by(hall, []), mono=11.0) == []


def test_without_board_every_nothing_waits(make_hall, clock):
    hall = make_hall()
    hall.roll(clock())
    out = Outputs()
    out.collect(hall, clock())
    for _ in range(3):
        pubs = out.collect(hall, clock(), touched=touched_by(hall, hall.take_ticket(clock(), "tu-phap")))
        assert "board" in leaves(pubs) and out.due_at is None


def test_the_hold_stretches_only_as_the_loop_nears_saturation():
    from hallserver.mqtt import HOLD_S, hold_for

    assert [hold_for(b) for b in (0.0, 0.3, 0.5)] == [HOLD_S[0]] * 3  # time to spare: the shortest hold
    assert hold_for(0.9) == hold_for(1.0) == HOLD_S[1]  # saturated: the longest
    held = [hold_for(b / 100) for b in range(50, 101)]
    assert held == sorted(held) and HOLD_S[0] < hold_for(0.7) < HOLD_S[1]


def test_a_longer_hold_set_on_the_fly_is_what_collect_honours(make_hall, clock):
    """The adapter sets `board_every` from the loop's load every second (mqtt.hold_for)."""
    hall = make_hall()
    hall.roll(clock())
    out = Outputs(board_every=0.5)
    out.collect(hall, clock(), mono=0.0)
    out.collect(hall, clock(), touched=touched_by(hall, hall.take_ticket(clock(), "tu-phap")), mono=10.0)
    out.board_every = 2.0
    assert out.collect(hall, clock(), touched=touched_by(hall, hall.take_ticket(clock(), "tu-phap")), mono=11.0) == []
    assert out.due_at == 12.0
