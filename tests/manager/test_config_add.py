"""Adding to the hall configuration from the admin page: a service, a counter, a device. The
overlay (pure), the additions replayed and surviving a restart on a real store, and on a real
server: the admin routes with their refusals, the "issue login" step, and a new counter's terminal
and a new service's dispenser working over the real broker."""

from __future__ import annotations

import re

import pytest
from manager_kit import Devices, make_service

from firmware.pilink.link import Refusal
from hallserver.config_edits import edit, load_overlay
from hallserver.domain.overlay import OverlayError, apply_overlay, merge
from hallserver.provisioning import Credentials
from hallserver.service import HallService
from hallserver.settings import load_hall_config
from hallserver.store.overlays import ConfigOverlays
from protocols import topics

server_tests = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)

NEW_SERVICE = {"prefix": "W", "name": "Hộ tịch (mới)", "name_en": "Civil status", "handle_min": 8,
               "target_wait_min": 20, "daily_cap": None}
ADDITIONS = {"services": {"ho-tich": {**NEW_SERVICE, "enabled": True}},
             "counters": {"38": {"name": "Quầy 38", "kind": "receiving", "services": ["ho-tich"]}},
             "devices": {"ct-38": {"kind": "terminal", "counter": 38},
                         "kiosk-w": {"kind": "dispenser", "services": ["ho-tich"]},
                         "screen-2": {"kind": "screen"}}}


# ---------------------------------------------------------------- the overlay, pure
def test_overlay_adds_a_service_a_counter_and_devices():
    base = load_hall_config(None)
    new = apply_overlay(base, ADDITIONS)
    svc = new.services["ho-tich"]
    assert (svc.prefix, svc.name, svc.name_en, svc.handle_min, svc.target_wait_min, svc.enabled) == (
        "W", "Hộ tịch (mới)", "Civil status", 8.0, 20, True)
    assert svc.hours == base.hours == base.services["tu-phap"].hours  # the hall's issuing hours
    c = new.counters[38]
    assert (c.name, c.kind, c.services) == ("Quầy 38", "receiving", ("ho-tich",))
    assert (new.devices["ct-38"].kind, new.devices["ct-38"].counter) == ("terminal", 38)
    assert new.devices["kiosk-w"].services == ("ho-tich",) and new.devices["screen-2"].counter is None
    assert "ho-tich" not in base.services and 38 not in base.counters  # the base is untouched
    # a service added without `enabled` is off: no ticket before a counter serves it
    assert not apply_overlay(base, {"services": {"ho-tich": NEW_SERVICE}}).services["ho-tich"].enabled
    # adding then editing is the same as applying their merge (what a restart does)
    later = {"services": {"ho-tich": {"name": "Hộ tịch", "enabled": False}}, "counters": {"38": {"services": []}}}
    assert apply_overlay(apply_overlay(base, ADDITIONS), later) == apply_overlay(base, merge(ADDITIONS, later))

    for wrong, text in [
        ({"services": {"tu-phap": {**NEW_SERVICE, "prefix": "W"}}}, "Mã dịch vụ tu-phap đã có"),
        ({"services": {"Hộ Tịch": NEW_SERVICE}}, "Mã dịch vụ: chữ thường"),
        ({"services": {"ho-tich": {**NEW_SERVICE, "prefix": "A"}}}, "Tiền tố A đã dùng cho dịch vụ tu-phap"),
        ({"services": {"ho-tich": {**NEW_SERVICE, "prefix": "W1"}}}, "1–2 chữ cái"),
        ({"services": {"ho-tich": {"prefix": "W"}}}, "Dịch vụ mới cần tên"),
        ({"services": {"ho-tich": {**NEW_SERVICE, "handle_min": 0}}}, "Thời gian xử lý"),
        ({"services": {"a": NEW_SERVICE, "b": NEW_SERVICE}}, "Tiền tố W đã dùng cho dịch vụ a"),
        ({"counters": {"1": {"kind": "receiving", "services": []}}}, "Quầy 1 đã có"),
        ({"counters": {"38": {"kind": "quay", "services": []}}}, "Loại quầy"),
        ({"counters": {"38": {"kind": "returning", "services": ["khong-co"]}}}, "Dịch vụ không tồn tại: khong-co"),
        ({"counters": {"0": {"kind": "returning"}}}, "Số quầy từ 1 đến 9999"),
        ({"devices": {"ct-01": {"kind": "terminal", "counter": 1}}}, "Mã thiết bị ct-01 đã có"),
        ({"devices": {"CT 38": {"kind": "terminal", "counter": 1}}}, "Mã thiết bị: chữ thường"),
        ({"devices": {"ct-38": {"kind": "terminal", "counter": 38}}}, "cần số của một quầy đã có"),
        ({"devices": {"ct-1b": {"kind": "terminal", "counter": 1}}}, "Quầy 1 đã có máy quầy ct-01"),
        ({"devices": {"x-1": {"kind": "boards"}}}, "Loại thiết bị"),
        ({"devices": {"kiosk-w": {"kind": "dispenser", "services": ["khong-co"]}}}, "Dịch vụ không tồn tại"),
    ]:
        with pytest.raises(OverlayError, match=text):
            apply_overlay(base, wrong)
    # at start, an addition that no longer fits the TOML (its prefix taken there since) is skipped,
    # and so is what depends on it; the rest applies
    skipped: list[str] = []
    clash = merge(ADDITIONS, {"services": {"ho-tich": {"prefix": "A"}}})
    after = apply_overlay(base, clash, strict=False, skipped=skipped)
    assert "ho-tich" not in after.services and 38 not in after.counters and "kiosk-w" not in after.devices
    assert "screen-2" in after.devices
    assert [s.split(":")[0] for s in skipped] == ["services ho-tich", "counters 38", "devices ct-38",
                                                  "devices kiosk-w"]


# ---------------------------------------------------------------- on a real store
class Parts:
    def __init__(self, svc, store):
        self.service, self.store, self.config = svc, store, svc.config


def test_additions_work_at_once_and_survive_a_restart(store, clock):
    svc = make_service(store, clock)
    d = Devices(svc)
    d("kiosk-1", "ticket.take", service="tu-phap")  # A001, before the change
    rt = Parts(svc, store)
    changed = edit(rt, "admin", ADDITIONS)
    assert [(target, before) for target, before, _ in changed] == [
        ("service ho-tich", None), ("counter 38", None), ("device ct-38", None), ("device kiosk-w", None),
        ("device screen-2", None)]
    assert changed[2][2] == {"kind": "terminal", "counter": 38, "services": []}

    assert d("kiosk-w", "ticket.take", service="ho-tich")["ticket"]["number"] == "W001"
    assert d("kiosk-1", "ticket.take", service="ho-tich")["ticket"]["number"] == "W002"  # every service
    d("ct-38", "officer.login", officer="o20", pin="0000")
    assert d("ct-38", "call.next")["ticket"]["number"] == "W001"

    # a restart, as bootstrap does it: the TOML, then the stored overlay, then the day (which names
    # the new counter: replayed under the TOML alone, it could not be)
    again = HallService(load_hall_config(None, always_open=True), store, clock)
    fresh = Parts(again, store)
    assert 38 not in again.config.counters
    load_overlay(fresh)
    assert again.config.services["ho-tich"].prefix == "W" and "ct-38" in again.config.devices
    assert again.snapshot(lambda h, now: (h.counters[38].officer, h.counters[38].current,
                                          h.tickets["W002"].status)) == ("o20", "W001", "waiting")
    d = Devices(again)
    d.n = 100  # message ids not used before the restart
    d("ct-38", "serve.done")
    assert d("ct-38", "call.next")["ticket"]["number"] == "W002"
    assert ConfigOverlays(store).get(svc.config.id)["devices"]["ct-38"] == {"kind": "terminal", "counter": 38}


# ---------------------------------------------------------------- the admin routes and the broker
def error_of(page: str) -> str:
    found = re.search(r'id="config-error">([^<]+)<', page)
    return found.group(1) if found else ""


@server_tests
def test_admin_adds_a_counter_with_its_devices_and_they_work_over_mqtt(staff, server, device,
                                                                       credentials_file):
    admin, csrf = staff.clients["admin"], staff.csrf("admin")
    hall = server.config.id
    kiosk = device("kiosk-1")  # shows every service: it learns of the new one through its state
    kiosk.wait_state(lambda s: s["kind"] == "dispenser")

    form = {"code": "ho-tich", "prefix": "w", "name": "Hộ tịch", "name_en": "Civil status",
            "handle_min": "8", "target_wait_min": "20", "daily_cap": "", "csrf": csrf}
    r = admin.post("/admin/config/services", data=form)
    assert r.status_code == 303 and r.headers["location"].endswith("/admin/config?saved=1")
    assert server.service.config.services["ho-tich"].prefix == "W"
    state = kiosk.wait_state(lambda s: any(x["code"] == "ho-tich" for x in s["services"]))
    assert next(x for x in state["services"] if x["code"] == "ho-tich")["open"] is False  # off until enabled
    with pytest.raises(Refusal) as refused:
        kiosk.request("ticket.take", {"service": "ho-tich"})
    assert refused.value.code == "service_closed"

    for data, status, text in [
        ({**form, "prefix": "X"}, 409, "Mã dịch vụ ho-tich đã có / service code ho-tich is taken"),
        ({**form, "code": "hộ tịch"}, 422, "Mã dịch vụ: chữ thường không dấu"),
        ({**form, "code": "ho-tich-2", "prefix": "A"}, 422, "Tiền tố A đã dùng cho dịch vụ tu-phap / prefix A"),
        ({"number": "38", "kind": "receiving", "services": "ho-tich, khong-co", "csrf": csrf}, 422,
         "Dịch vụ không tồn tại: khong-co / unknown services"),
        ({"number": "5", "kind": "receiving", "services": "", "csrf": csrf}, 409, "Quầy 5 đã có / counter 5 exists"),
    ]:
        path = "/admin/config/services" if "code" in data else "/admin/config/counters"
        r = admin.post(path, data=data)
        assert (r.status_code, text in error_of(r.text)) == (status, True), (data, error_of(r.text))

    r = admin.post("/admin/config/counters", data={"number": "38", "name": "", "kind": "inter_agency",
                                                   "services": "ho-tich", "csrf": csrf})
    assert r.status_code == 303
    assert server.service.config.counters[38].name == "Quầy 38"
    for data, status, text in [
        ({"id": "ct-01", "kind": "terminal", "counter": "1"}, 409, "Mã thiết bị ct-01 đã có"),
        ({"id": "ct 38", "kind": "terminal", "counter": "38"}, 422, "Mã thiết bị: chữ thường"),
        ({"id": "ct-39", "kind": "terminal", "counter": "39"}, 422, "cần số của một quầy đã có"),
        ({"id": "ct-39", "kind": "terminal", "counter": ""}, 422, "Số quầy: cần một số nguyên"),
    ]:
        r = admin.post("/admin/config/devices", data={**data, "csrf": csrf})
        assert (r.status_code, text in error_of(r.text)) == (status, True), (data, error_of(r.text))

    r = admin.post("/admin/config/devices", data={"id": "ct-38", "kind": "terminal", "counter": "38", "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("/admin/config?saved=1&added=ct-38#devices")
    page = admin.get(r.headers["location"]).text
    offer = re.search(r'id="device-added">(.*?)</div>', page, re.S).group(1)
    assert "ct-38" in offer and 'action="/admin/devices/ct-38/login"' in offer and 'value="issue"' in offer
    assert admin.post("/admin/config/devices", data={"id": "kiosk-w", "kind": "dispenser", "services": "ho-tich",
                                                     "csrf": csrf}).status_code == 303

    # the offered step: the admin page issues the new device's broker login (password shown once)
    r = admin.post("/admin/devices/ct-38/login", data={"action": "issue", "csrf": csrf})
    assert r.status_code == 200 and f"{hall}.ct-38" in r.text and 'id="new-device"' in r.text
    assert Credentials(credentials_file).find(topics.username(hall, "ct-38")).active

    # enabled: the kiosk's state opens the service; the new counter's terminal logs in and calls
    r = admin.post("/admin/config/services/ho-tich", data={"name": "Hộ tịch", "name_en": "Civil status",
                                                           "target_wait_min": "20", "daily_cap": "", "enabled": "1",
                                                           "csrf": csrf})
    assert r.status_code == 303
    kiosk.wait_state(lambda s: next(x for x in s["services"] if x["code"] == "ho-tich")["open"])
    assert device("kiosk-w").request("ticket.take", {"service": "ho-tich"})["ticket"]["number"] == "W001"
    assert kiosk.request("ticket.take", {"service": "ho-tich"})["ticket"]["number"] == "W002"
    terminal = device("ct-38")
    assert terminal.request("officer.login", {"officer": "o20", "pin": "0000"})["ok"]
    assert terminal.request("call.next")["ticket"] == {"number": "W001", "service": "ho-tich"}
    state = terminal.wait_state(lambda s: (s.get("current") or {}).get("number") == "W001")
    assert (state["counter"], state["counter_name"]) == (38, "Quầy 38")

    audit = {(a.action, a.target): a for a in staff.accounts.audit_log(hall)}
    assert audit[("config.service", "service ho-tich")].before is None
    assert audit[("config.counter", "counter 38")].after == {"name": "Quầy 38", "services": ["ho-tich"],
                                                             "kind": "inter_agency"}
    assert audit[("config.device", "device kiosk-w")].after == {"kind": "dispenser", "counter": None,
                                                                "services": ["ho-tich"]}
    assert ("device.issue", "device ct-38") in audit
    page = admin.get("/admin/config").text
    assert 'data-device="ct-38"' in page and "Không xoá được dịch vụ (cũng như quầy, thiết bị)" in page


# ---------------------------------------------------------------- in Chromium, as an installer would
@server_tests
def test_installer_adds_a_counter_and_its_terminal_then_issues_its_login(page, server, http_base):
    from manager_kit import PASSWORD, create_users
    from playwright.sync_api import expect

    from hallserver.store.accounts import Accounts

    create_users(Accounts(server.store), server.service.now())
    page.goto(http_base + "/admin/config")
    page.fill('input[name="username"]', "admin")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page).to_have_url(http_base + "/admin/config")

    counter = page.locator("#new-counter")
    counter.locator('input[name="number"]').fill("38")
    counter.locator('select[name="kind"]').select_option("returning")
    counter.locator('input[name="services"]').fill("tra-ket-qua")
    counter.locator("button", has_text="Thêm").click()
    expect(page.locator("#config-saved")).to_contain_text("Đã lưu")
    expect(page.locator('#config-counters tr[data-counter="38"]')).to_contain_text("trả kết quả")

    dev = page.locator("#new-device-form")
    dev.locator('input[name="id"]').fill("ct-38")
    dev.locator('select[name="kind"]').select_option("terminal")
    dev.locator('input[name="counter"]').fill("38")
    dev.locator("button", has_text="Thêm").click()
    expect(page.locator("#device-added")).to_contain_text("ct-38")
    page.locator("#device-added button", has_text="Cấp tài khoản MQTT").click()
    expect(page).to_have_url(http_base + "/admin/devices/ct-38/login")
    expect(page.locator("#new-device")).to_contain_text(f"{server.config.id}.ct-38")
    expect(page.locator('#devices tr[data-device="ct-38"] .login')).to_have_text("active")


def test_an_addition_that_would_not_fit_a_dispenser_state_is_refused(store, clock):
    """kiosk-1 shows every service: its retained state grows with each one, up to one message."""
    svc = make_service(store, clock)
    rt = Parts(svc, store)
    letters = [a + b for a in "IJOW" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    many = {f"dich-vu-moi-co-ma-rat-dai-{i:02d}": {**NEW_SERVICE, "prefix": p} for i, p in enumerate(letters[:30])}
    with pytest.raises(OverlayError, match="kiosk-1, kiosk-2 sẽ vượt quá một tin nhắn MQTT"):
        edit(rt, "admin", {"services": many})
    assert len(svc.config.services) == 22 and ConfigOverlays(store).get(svc.config.id) == {}
    # a few more services fit
    assert edit(rt, "admin", {"services": dict(list(many.items())[:3])})
