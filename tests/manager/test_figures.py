"""Figures on a scripted day, checked against values computed by hand: the real service and store
(SQLite, and PostgreSQL when HALL_TEST_DATABASE_URL is set) under a fake clock, then the reports.

The day (Monday 23 Nov 2026; Tư pháp = A, Kế hoạch và Đầu tư = B, both with a 15-minute target):

    08:00 A001 issued; o01 logs in at counter 1, o03 at counter 3
    08:02 A002   08:04 B001
    08:05 c1 calls A001 (waited 5)          08:06 c3 calls B001 (waited 2)
    08:10 A003
    08:15 c1 done A001 (10 min), rated "rất hài lòng"
    08:16 c1 calls A002 (waited 14)
    08:20 c3 done B001 (14 min), rated "không hài lòng" (waiting time)
    08:21 c1 transfers A002 to Kế hoạch và Đầu tư
    08:22 c3 calls A002                      08:23 c1 calls A003 (waited 13)
    08:24 c1: A003 no-show                   08:25 A004
    08:30 c3 done A002 (8 min), rated "hài lòng"
    08:45 c1 calls A004 (waited 20: late)    08:50 B002 (never called)
    08:57 c1 done A004 (12 min), rated "không hài lòng" (attitude)
    09:00 both officers log out
"""

from __future__ import annotations

from datetime import date

import pytest
from manager_kit import Devices, make_service, play_day

from hallserver.reports import figures, live
from hallserver.store.reporting import load_period

DAY = date(2026, 11, 23)


@pytest.fixture
def day(store, clock):
    svc = make_service(store, clock)
    play_day(svc, clock)
    clock.at("17:00")
    return svc, load_period(store, svc.config.id, DAY, DAY, svc.tz, clock())


def by(rows: list[dict], key: str) -> dict:
    return {r[key]: r for r in rows}


def test_officers(day):
    svc, period = day
    rows = by(figures.officers(period, svc.config), "officer")
    assert set(rows) == {"o01", "o03"}
    o1, o3 = rows["o01"], rows["o03"]
    assert (o1["served"], o1["hours"], o1["served_per_hour"]) == (2, 1.0, 2.0)
    assert (o1["handle_mean_min"], o1["handle_median_min"]) == (11.0, 11.0)  # 10 and 12 minutes
    assert (o1["no_shows"], o1["transfers"]) == (1, 1)
    assert (o1["rating_rat-hai-long"], o1["rating_hai-long"], o1["rating_khong-hai-long"]) == (1, 0, 1)
    assert (o1["ratings"], o1["satisfaction"], o1["reason_thai-do"], o1["reason_thoi-gian-cho"]) == (2, 0.5, 1, 0)
    # the tickets o01 last had: A001 (5), A003 (13), A004 (20)
    assert (o1["called"], o1["wait_mean_min"], o1["wait_p90_min"], o1["within_target"]) == (3, 12.7, 20.0, 0.6667)
    assert (o3["served"], o3["hours"], o3["handle_mean_min"], o3["handle_median_min"]) == (2, 1.0, 11.0, 11.0)
    assert (o3["no_shows"], o3["transfers"], o3["satisfaction"], o3["reason_thoi-gian-cho"]) == (0, 0, 0.5, 1)
    assert (o3["wait_mean_min"], o3["within_target"]) == (8.0, 1.0)  # B001 (2) and A002 (14)
    assert figures.officers(period, svc.config, only="o03") == [o3]


def test_services_and_counters(day):
    svc, period = day
    rows = by(figures.services(period, svc.config), "service")
    a, b = rows["tu-phap"], rows["ke-hoach-dau-tu"]
    assert (a["issued"], a["served"], a["no_shows"], a["not_served"], a["late"]) == (4, 2, 1, 0, 1)
    assert (a["called"], a["wait_mean_min"], a["wait_p90_min"], a["within_target"]) == (4, 13.0, 20.0, 0.75)
    assert (a["ratings"], a["satisfaction"]) == (2, 0.5)  # A001 and A004 ended at Tư pháp
    assert (b["issued"], b["served"], b["not_served"], b["called"], b["wait_mean_min"]) == (2, 2, 1, 1, 2.0)
    assert (b["ratings"], b["satisfaction"]) == (2, 0.5)  # B001 and the transferred A002
    assert rows["y-te"]["issued"] == 0 and rows["y-te"]["wait_mean_min"] is None

    counters = by(figures.counters(period, svc.config), "counter")
    assert (counters[1]["served"], counters[1]["no_shows"], counters[1]["hours_open"]) == (2, 1, 1.0)
    assert (counters[3]["served"], counters[3]["handle_mean_min"], counters[3]["satisfaction"]) == (2, 11.0, 0.5)
    assert counters[2]["served"] == 0 and counters[2]["hours_open"] == 0


def test_over_time_and_late_tickets(day):
    svc, period = day
    [hour] = figures.by_hour(period, svc.config)
    # waits of the five tickets called: 5, 14, 2, 13, 20
    assert hour == {"hour": "08:00", "issued": 6, "called": 5, "wait_mean_min": 10.8, "wait_p90_min": 20.0,
                    "within_target": 0.8}
    [monday] = figures.by_weekday(period, svc.config)
    assert (monday["weekday"], monday["days"], monday["issued"], monday["issued_per_day"]) == ("Thứ Hai", 1, 6, 6.0)
    [today] = figures.by_day(period, svc.config)
    assert (today["day"], today["issued"], today["served"], today["ratings"], today["satisfaction"]) == (
        "2026-11-23", 6, 4, 4, 0.5)
    late = figures.late_tickets(period, svc.config)
    assert late == [{"day": "2026-11-23", "number": "A004", "service": "tu-phap", "service_name": "Sở Tư pháp",
                     "issued_at": "08:25:00", "called_at": "08:45:00", "wait_min": 20.0, "target_min": 15,
                     "over_min": 5.0, "counter": 1, "officer": "Nguyễn Văn An", "status": "done"}]
    total = figures.summary(period, svc.config)
    assert (total["issued"], total["served"], total["no_shows"], total["late"], total["within_target"]) == (
        6, 4, 1, 1, 0.8)
    assert (total["ratings"], total["satisfaction"], total["reason_thai-do"]) == (4, 0.5, 1)


def test_periods():
    assert figures.period_range("day", DAY) == (DAY, DAY)
    assert figures.period_range("week", date(2026, 11, 26)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert figures.period_range("month", date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))


def test_live_dashboard_midday(store, clock):
    svc = make_service(store, clock)
    d = Devices(svc)
    d("kiosk-1", "ticket.take", service="tu-phap")  # A001 at 08:00
    d("ct-01", "officer.login", officer="o01", pin="0000")
    d("ct-02", "officer.login", officer="o02", pin="0000")
    clock.at("08:20")
    d("kiosk-1", "ticket.take", service="tu-phap")  # A002
    d("ct-01", "call.next")  # A001 waited 20 min: late
    clock.at("08:24")
    view = svc.snapshot(lambda h, now: live.dashboard(h, now, {}))
    a = by(view["services"], "service")["tu-phap"]
    assert (a["waiting"], a["longest_wait_s"], a["issued"], a["called"], a["within_target"]) == (1, 240, 2, 1, 0.0)
    c1, c2 = by(view["counters"], "number")[1], by(view["counters"], "number")[2]
    assert (c1["status"], c1["officer"]["name"], c1["ticket"], c1["ticket_s"]) == ("open", "Nguyễn Văn An", "A001", 240)
    assert (c2["status"], c2["ticket"], c2["idle_s"]) == ("open", None, 24 * 60)
    kinds = {(a["kind"], a.get("counter")) for a in view["alerts"]}
    assert ("counter_idle", 2) in kinds  # idle for 24 minutes while A002 waits
    assert ("wait", None) not in kinds  # A002 has waited 4 minutes only
    clock.at("08:40")
    view = svc.snapshot(lambda h, now: live.dashboard(h, now, {}))
    assert any(a["kind"] == "wait" and a["service"] == "tu-phap" for a in view["alerts"])


def test_device_health_alerts(store, clock):
    """Offline devices, paper low or out and a printer that cannot print each raise their alert."""
    svc = make_service(store, clock)
    statuses = {"kiosk-1": {"online": True, "paper": "near_end", "printer": "ok"},
                "kiosk-2": {"online": True, "paper": "ok", "printer": "disconnected"},
                "ct-01": {"online": False}}
    view = svc.snapshot(lambda h, now: live.dashboard(h, now, statuses))
    alerts = {(a["kind"], a.get("device")): a for a in view["alerts"]}
    assert alerts[("paper", "kiosk-1")]["level"] == "info"
    assert alerts[("printer", "kiosk-2")]["vi"] == "Máy cấp số kiosk-2: máy in mất kết nối (kiểm tra cáp)"
    assert ("device_offline", "ct-01") in alerts and ("printer", "kiosk-1") not in alerts
    assert view["devices"]["offline"] == ["ct-01"] and view["devices"]["online"] == 2
