"""Officers' PIN checks (PBKDF2, ~20 ms of CPU each) run in a pool beside the MQTT loop: a login
storm does not hold up other devices' messages, and each device's own messages still apply in
the order it sent them."""

from __future__ import annotations

from support.listener import Listener

import protocols
from hallserver.domain import pins

topics = protocols.topics


def test_a_login_storm_does_not_hold_up_other_messages(server, device, mqtt_url, hall_id):
    downs = Listener(mqtt_url, f"{topics.ROOT}/{hall_id}/dev/+/down")
    terminals = [device(f"ct-{n:02d}") for n in range(1, 31)]
    kiosk = device("kiosk-1")
    logins = [t.send("officer.login", {"officer": f"o{n:02d}", "pin": "0000"}) for n, t in enumerate(terminals, 1)]
    take = kiosk.send("ticket.take", {"service": "tu-phap"})
    assert all(t.wait_reply(m)["ok"] for t, m in zip(terminals, logins, strict=True))
    assert kiosk.wait_reply(take)["ok"]
    wanted = {take, *logins}
    with downs.cond:  # the listener's own connection may still be receiving the last replies
        assert downs.cond.wait_for(lambda: wanted <= {m.get("re") for m in downs.messages}, 10)
        order = [m["re"] for m in downs.messages if m.get("re") in wanted]
    downs.close()
    assert sorted(order) == sorted([take, *logins])  # each answered once
    # checked one after the other in the loop, 30 logins (~0.5 s of CPU) would all be answered first
    assert order.index(take) < len(logins) - 1, order


def test_a_devices_messages_apply_in_order_behind_its_login(server, device):
    kiosk, terminal = device("kiosk-1"), device("ct-01")
    number = kiosk.request("ticket.take", {"service": "tu-phap"})["ticket"]["number"]
    login = terminal.send("officer.login", {"officer": "o01", "pin": "0000"})
    call = terminal.send("call.next")  # sent before the login's PIN is checked: waits behind it
    assert terminal.wait_reply(login)["ok"]
    called = terminal.wait_reply(call)
    assert called["ok"] and called["ticket"]["number"] == number


def test_a_wrong_pin_is_refused_through_the_pool(server, device):
    terminal = device("ct-02")
    wrong = terminal.send("officer.login", {"officer": "o02", "pin": "9999"})
    after = terminal.send("call.next")
    assert terminal.wait_reply(wrong)["error"]["code"] == "wrong_pin"
    assert terminal.wait_reply(after)["error"]["code"] == "not_logged_in"
    assert terminal.request("officer.login", {"officer": "o02", "pin": "0000"})["ok"]


def test_a_proved_verdict_is_used_once():
    stored = pins.hash_pin("1234", iterations=1000)
    assert pins.prove(stored, "1234") and not pins.prove(stored, "4321")
    assert pins.proved(stored, "1234") and pins.proved(stored, "4321")
    assert pins.verify_pin(stored, "1234") and not pins.verify_pin(stored, "4321")
    assert not pins.proved(stored, "1234") and not pins.proved(stored, "4321")
    assert pins.verify_pin(stored, "1234")  # checked again when no verdict waits
