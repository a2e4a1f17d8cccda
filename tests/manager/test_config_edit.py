"""Editing the hall configuration from the admin page: the overlay (pure), the service swapping its
configuration and replaying the day on a real store, the admin routes on a real server (audit,
refusals that would break the live day, the overlay surviving a restart) and one Chromium run."""

from __future__ import annotations

import re

import httpx
import pytest
from manager_kit import Devices, make_service

from firmware.pilink.link import Refusal
from hallserver.config_edits import ConfigConflict, edit, load_overlay
from hallserver.domain.config import Officer
from hallserver.domain.engine import Hall
from hallserver.domain.model import Refused
from hallserver.domain.overlay import OverlayError, apply_overlay, live_conflict, merge
from hallserver.domain.pins import hash_pin
from hallserver.reports import live
from hallserver.settings import load_hall_config
from hallserver.store.overlays import ConfigOverlays

server_tests = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)


# ---------------------------------------------------------------- the overlay, pure
def test_overlay_applies_validates_and_merges():
    base = load_hall_config(None)
    change = {"services": {"tu-phap": {"name": "Sở Tư pháp (mới)", "target_wait_min": 25, "daily_cap": 80}},
              "counters": {"1": {"name": "Quầy một", "services": ["y-te", "tu-phap"]}},
              "officers": {"o40": {"name": "Lê Thị Mới", "pin_hash": hash_pin("4321")}, "o02": {"active": False}}}
    new = apply_overlay(base, change)
    svc = new.services["tu-phap"]
    assert (svc.name, svc.target_wait_min, svc.daily_cap, svc.prefix) == ("Sở Tư pháp (mới)", 25, 80, "A")
    assert base.services["tu-phap"].target_wait_min == 15  # the base is untouched
    assert (new.counters[1].name, new.counters[1].services) == ("Quầy một", ("y-te", "tu-phap"))
    assert new.officers["o40"].name == "Lê Thị Mới" and new.officers["o40"].active
    assert not new.officers["o02"].active and new.officers["o02"].name == base.officers["o02"].name
    assert apply_overlay(apply_overlay(base, change), {"services": {"tu-phap": {"target_wait_min": 30}}}) == \
        apply_overlay(base, merge(change, {"services": {"tu-phap": {"target_wait_min": 30}}}))
    for wrong, text in [({"services": {"tu-phap": {"target_wait_min": 0}}}, "Thời gian chờ mục tiêu"),
                        ({"services": {"tu-phap": {"name": "  "}}}, "không được để trống"),
                        ({"services": {"khong-co": {"enabled": False}}}, "không tồn tại"),
                        ({"counters": {"1": {"services": ["khong-co"]}}}, "Dịch vụ không tồn tại"),
                        ({"officers": {"O 40": {"name": "X", "pin_hash": hash_pin("1234")}}}, "Mã cán bộ"),
                        ({"officers": {"o41": {"name": "X"}}}, "Cán bộ mới cần"),
                        ({"services": {"tu-phap": {"daily_cap": -1}}}, "Giới hạn số/ngày")]:
        with pytest.raises(OverlayError, match=text):
            apply_overlay(base, wrong)
    # a stored overlay that outlived a TOML entry is skipped at start, not fatal
    assert apply_overlay(base, {"services": {"khong-co": {"enabled": False}}}, strict=False) == base


def test_live_conflicts():
    base = load_hall_config(None)
    off = apply_overlay(base, {"officers": {"o01": {"active": False}}})
    message = live_conflict(base, off, {"o01": 1})
    assert "đang đăng nhập tại quầy 1" in message and "logged in at counter 1" in message
    assert live_conflict(base, off, {"o02": 2}) is None
    assert live_conflict(base, apply_overlay(base, {"services": {"tu-phap": {"enabled": False}}}), {}) is None


def test_engine_refuses_an_inactive_officer(clock):
    cfg = apply_overlay(load_hall_config(None, always_open=True), {"officers": {"o01": {"active": False}}})
    hall = Hall(cfg)
    with pytest.raises(Refused) as refused:
        hall.login(clock(), 1, "o01", "0000")
    assert refused.value.code == "officer_inactive"
    with pytest.raises(Refused, match="officer_inactive"):
        hall.move_officer(clock(), "o01", 1, "manager")
    assert isinstance(cfg.officers["o01"], Officer) and hall.login(clock(), 2, "o02", "0000")


# ---------------------------------------------------------------- the service on a real store
class Parts:
    def __init__(self, svc, store):
        self.service, self.store, self.config = svc, store, svc.config


def test_an_edit_replays_the_day_and_survives_a_restart(store, clock):
    svc = make_service(store, clock)
    d = Devices(svc)
    d("kiosk-1", "ticket.take", service="tu-phap")  # A001 at 08:00
    d("ct-01", "officer.login", officer="o01", pin="0000")
    clock.at("08:20")
    d("ct-01", "call.next")  # A001 waited 20 minutes: late against 15
    d("kiosk-1", "ticket.take", service="tu-phap")  # A002
    row = next(s for s in svc.snapshot(lambda h, now: live.dashboard(h, now, {}))["services"]
               if s["service"] == "tu-phap")
    assert (row["target_min"], row["within_target"]) == (15, 0.0)

    rt = Parts(svc, store)
    changed = edit(rt, "admin", {"services": {"tu-phap": {"target_wait_min": 25}}})
    assert changed == [("service tu-phap", {"name": "Sở Tư pháp", "name_en": "Department of Justice",
                                            "target_wait_min": 15, "daily_cap": None, "enabled": True,
                                            "prefix": "A", "handle_min": 12.0},
                        {"name": "Sở Tư pháp", "name_en": "Department of Justice", "target_wait_min": 25,
                         "daily_cap": None, "enabled": True, "prefix": "A", "handle_min": 12.0})]
    row = next(s for s in svc.snapshot(lambda h, now: live.dashboard(h, now, {}))["services"]
               if s["service"] == "tu-phap")
    assert (row["target_min"], row["within_target"]) == (25, 1.0)  # the day, replayed under the new target
    assert svc.snapshot(lambda h, now: (h.tickets["A002"].status, h.counters[1].officer)) == ("waiting", "o01")
    assert rt.config.services["tu-phap"].target_wait_min == 25

    with pytest.raises(ConfigConflict, match="quầy 1"):
        edit(rt, "admin", {"officers": {"o01": {"active": False}}})
    assert svc.config.officers["o01"].active  # nothing changed
    assert edit(rt, "admin", {"services": {"tu-phap": {"target_wait_min": 25}}}) == []  # no change, no entry

    # a restart: the TOML again, then the stored overlay
    again = make_service(store, clock)
    fresh = Parts(again, store)
    assert fresh.config.services["tu-phap"].target_wait_min == 15
    load_overlay(fresh)
    assert again.config.services["tu-phap"].target_wait_min == 25 and fresh.config is again.config
    assert ConfigOverlays(store).get(svc.config.id) == {"services": {"tu-phap": {"target_wait_min": 25}}}


# ---------------------------------------------------------------- the admin routes on a real server
def error_of(page: str) -> str:
    found = re.search(r'id="config-error">([^<]+)<', page)
    return found.group(1) if found else ""


@server_tests
def test_admin_edits_the_configuration_over_http(staff, server, device):
    admin, csrf = staff.clients["admin"], staff.csrf("admin")
    page = admin.get("/admin/config")
    assert page.status_code == 200 and 'data-service="tu-phap"' in page.text and "Thêm cán bộ" in page.text
    r = admin.post("/admin/config/services/tu-phap", data={
        "name": "Sở Tư pháp tỉnh", "name_en": "Provincial Justice", "target_wait_min": "20", "daily_cap": "",
        "enabled": "1", "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("/admin/config?saved=1")
    hall = httpx.get(staff.base + "/api/hall").json()  # what dispensers and kiosks read
    tu_phap = next(s for s in hall["services"] if s["code"] == "tu-phap")
    assert (tu_phap["name"], tu_phap["name_en"], tu_phap["target_wait_min"]) == ("Sở Tư pháp tỉnh",
                                                                                  "Provincial Justice", 20)
    entry = next(a for a in staff.accounts.audit_log(server.config.id) if a.action == "config.service")
    assert (entry.actor, entry.target, entry.before["target_wait_min"], entry.after["target_wait_min"]) == (
        "admin", "service tu-phap", 15, 20)

    r = admin.post("/admin/config/services/tu-phap", data={"name": "X", "target_wait_min": "mười", "csrf": csrf})
    assert r.status_code == 422 and "cần một số nguyên" in error_of(r.text)
    r = admin.post("/admin/config/counters/2", data={"name": "Quầy 2 (Y tế)", "services": "y-te, tu-phap",
                                                     "csrf": csrf})
    assert r.status_code == 303 and server.service.config.counters[2].services == ("y-te", "tu-phap")

    # a new officer logs in at a terminal with the PIN set here; deactivating them while seated is refused
    r = admin.post("/admin/config/officers", data={"id": "o40", "name": "Lê Thị Mới", "pin": "2468", "csrf": csrf})
    assert r.status_code == 303
    terminal = device("ct-04")
    assert terminal.request("officer.login", {"officer": "o40", "pin": "2468"})["ok"]
    r = admin.post("/admin/config/officers/o40", data={"name": "Lê Thị Mới", "active": "0", "csrf": csrf})
    assert r.status_code == 409
    assert "đang đăng nhập tại quầy 4" in error_of(r.text) and "log them out first" in error_of(r.text)
    assert terminal.request("officer.logout")["ok"]
    r = admin.post("/admin/config/officers/o40", data={"name": "Lê Thị Mới", "active": "0", "csrf": csrf})
    assert r.status_code == 303
    with pytest.raises(Refusal) as refused:
        terminal.request("officer.login", {"officer": "o40", "pin": "2468"})
    assert refused.value.code == "officer_inactive" and refused.value.message == "Cán bộ đã ngừng hoạt động"
    r = admin.post("/admin/config/officers/o01", data={"name": "Nguyễn Văn An", "pin": "12", "csrf": csrf})
    assert r.status_code == 422 and "4–8 chữ số" in error_of(r.text)
    r = admin.post("/admin/config/officers/o01", data={"name": "Nguyễn Văn An", "pin": "97531", "csrf": csrf})
    assert r.status_code == 303
    assert terminal.request("officer.login", {"officer": "o01", "pin": "97531"})["ok"]
    audit = {(a.action, a.target): a for a in staff.accounts.audit_log(server.config.id)}
    assert audit[("config.officer", "officer o01")].after == {"name": "Nguyễn Văn An", "active": True, "pin": "changed"}
    assert "pbkdf2" not in str([(a.before, a.after) for a in audit.values()])  # never a PIN hash

    # other roles may not; a form without its CSRF token is refused
    for role in ("manager", "viewer", "officer"):
        r = staff.clients[role].post("/admin/config/services/tu-phap", data={"name": "X", "target_wait_min": "5",
                                                                             "csrf": staff.csrf(role)})
        assert r.status_code == 403
    assert admin.post("/admin/config/services/tu-phap", data={"name": "X", "target_wait_min": "5"}).status_code == 403
    assert server.service.config.services["tu-phap"].name == "Sở Tư pháp tỉnh"


# ---------------------------------------------------------------- in Chromium, as an admin would
@server_tests
def test_admin_edits_a_target_and_the_dashboard_shows_it(page, server, http_base, device):
    from manager_kit import PASSWORD, create_users
    from playwright.sync_api import expect

    from hallserver.store.accounts import Accounts

    create_users(Accounts(server.store), server.service.now())
    device("kiosk-1").request("ticket.take", {"service": "tu-phap"})  # the dashboard lists services in use
    page.goto(http_base + "/dashboard")
    page.fill('input[name="username"]', "admin")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page).to_have_url(http_base + "/dashboard")
    row = page.locator('#services tr[data-service="tu-phap"]')
    expect(row.locator(".target")).to_contain_text("mục tiêu ≤ 15 phút")

    setup = page.context.new_page()  # the admin edits in a second tab; the dashboard stays open
    setup.goto(http_base + "/admin/config")
    form_row = setup.locator('#config-services tr[data-service="tu-phap"]')
    form_row.locator('input[name="target_wait_min"]').fill("25")
    form_row.locator("button", has_text="Lưu").click()
    expect(setup.locator("#config-saved")).to_contain_text("Đã lưu")
    target = setup.locator('#config-services tr[data-service="tu-phap"] input[name="target_wait_min"]')
    expect(target).to_have_value("25")

    expect(row.locator(".target")).to_contain_text("mục tiêu ≤ 25 phút", timeout=10_000)  # live, no reload
    setup.locator('#config-officers tr[data-officer="o01"] select[name="active"]').select_option("0")
    device("ct-01").request("officer.login", {"officer": "o01", "pin": "0000"})
    setup.locator('#config-officers tr[data-officer="o01"] button', has_text="Lưu").click()
    expect(setup.locator("#config-error")).to_contain_text("đang đăng nhập tại quầy 1")
