"""The hour-of-day and weekday tables filtered per counter (and per service and counter), on the
scripted day of test_figures.py, against values computed by hand; the reports page, its charts and
the CSV/XLSX exports follow the filter.

A ticket belongs to the counter that had it last (as in the per-counter table): counter 1 has
A001 (waited 5 min), A003 (13, no-show) and A004 (20, late); counter 3 has B001 (2) and A002 (14,
called first at counter 1, transferred); B002 was never called and belongs to no counter.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest
from manager_kit import TZ, Clock, create_users, make_service, play_day, sign_in

from hallserver.bootstrap import Runtime
from hallserver.reports import figures, tables
from hallserver.settings import Settings, load_hall_config
from hallserver.store.accounts import Accounts
from hallserver.store.reporting import load_period

DAY = date(2026, 11, 23)
C1_HOUR = {"hour": "08:00", "issued": 3, "called": 3, "wait_mean_min": 12.7, "wait_p90_min": 20.0,
           "within_target": 0.6667}  # waits 5, 13, 20: two of three within 15 minutes
C3_HOUR = {"hour": "08:00", "issued": 2, "called": 2, "wait_mean_min": 8.0, "wait_p90_min": 14.0,
           "within_target": 1.0}  # waits 2 and 14


def test_hours_and_weekdays_per_counter(store, clock):
    svc = make_service(store, clock)
    play_day(svc, clock)
    clock.at("17:00")
    period = load_period(store, svc.config.id, DAY, DAY, svc.tz, clock())
    cfg = svc.config
    assert figures.by_hour(period, cfg, counter=1) == [C1_HOUR]
    assert figures.by_hour(period, cfg, counter=3) == [C3_HOUR]
    assert figures.by_hour(period, cfg, counter=2) == []
    assert figures.by_hour(period, cfg, "tu-phap", 3) == [
        {"hour": "08:00", "issued": 1, "called": 1, "wait_mean_min": 14.0, "wait_p90_min": 14.0, "within_target": 1.0}]
    assert figures.by_hour(period, cfg, "ke-hoach-dau-tu", 1) == []
    [monday] = figures.by_weekday(period, cfg, counter=1)
    assert (monday["weekday"], monday["days"], monday["issued"], monday["issued_per_day"]) == ("Thứ Hai", 1, 3, 3.0)
    assert (monday["wait_mean_min"], monday["within_target"]) == (12.7, 0.6667)
    assert tables.build("hours", period, cfg, None, 3).rows == [C3_HOUR]
    assert tables.build("counters", period, cfg, None, 3).rows == tables.counters_table(period, cfg).rows  # unfiltered


@pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)
def test_reports_page_and_exports_follow_the_counter(mqtt_url, tmp_sqlite_url, hall_id):
    clock = Clock(datetime(2026, 11, 23, 8, 0, tzinfo=TZ))
    settings = Settings(mqtt_url=mqtt_url, database_url=tmp_sqlite_url, config_path=None, http_port=0)
    rt = Runtime(settings, load_hall_config(None, id=hall_id, always_open=True), clock=clock).start()
    try:
        play_day(rt.service, clock)
        clock.at("17:00")
        create_users(Accounts(rt.store), clock())
        manager = sign_in(f"http://127.0.0.1:{rt.start_http_thread(port=0)}", "manager")
        page = manager.get("/reports?view=day&day=2026-11-23&counter=1")
        assert page.status_code == 200
        assert '<option value="1" selected>' in page.text and "Quầy (theo giờ, thứ)" in page.text
        assert "counter=1" in page.text.split('id="export-all"', 1)[0].rsplit("<a ", 1)[1]  # the export link

        raw = manager.get("/reports/export/hours.csv?view=day&day=2026-11-23&counter=1").content.decode("utf-8-sig")
        [row] = list(csv.DictReader(io.StringIO(raw)))
        assert (row["Giờ"], row["Số đã cấp"]) == ("08:00", "3")
        assert "12.7" in row.values() and "66.7" in row.values()
        book = openpyxl.load_workbook(io.BytesIO(manager.get(
            "/reports/export/all.xlsx?view=day&day=2026-11-23&service=tu-phap&counter=3").content))
        hours = list(book["Theo giờ trong ngày"].iter_rows(values_only=True))
        assert hours[1][:3] == ("08:00", 1, 1) and 14.0 in hours[1]
        weekdays = list(book["Theo thứ trong tuần"].iter_rows(values_only=True))
        assert weekdays[1][:3] == ("Thứ Hai", 1, 1)
        officers = list(book["Theo cán bộ"].iter_rows(values_only=True))
        assert len(officers) == 3  # o01 and o03: the other tables are not filtered
        # an unknown counter is no filter at all
        raw = manager.get("/reports/export/hours.csv?view=day&day=2026-11-23&counter=99").content.decode("utf-8-sig")
        assert list(csv.DictReader(io.StringIO(raw)))[0]["Số đã cấp"] == "6"
    finally:
        rt.stop()
