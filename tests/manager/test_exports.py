"""Exports of the scripted day's tables: CSV (UTF-8 with BOM, Vietnamese headings, shares in %) and
XLSX (one sheet per table, shares as percentages), read back."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
from manager_kit import make_service, play_day

from hallserver.reports import tables
from hallserver.store.reporting import load_period

DAY = date(2026, 11, 23)


def test_csv_and_xlsx_of_the_scripted_day(store, clock):
    svc = make_service(store, clock)
    play_day(svc, clock)
    period = load_period(store, svc.config.id, DAY, DAY, svc.tz, clock())
    officers = tables.officers_table(period, svc.config)

    raw = tables.to_csv(officers)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    o1 = next(r for r in rows if r["Mã cán bộ"] == "o01")
    assert (o1["Cán bộ"], o1["Đã phục vụ"], o1["Số/giờ"], o1["Tỷ lệ hài lòng (%)"]) == ("Nguyễn Văn An", "2", "2.0",
                                                                                       "50.0")
    assert o1["Lý do: Thái độ"] == "1" and o1["Vắng mặt"] == "1"
    english = list(csv.reader(io.StringIO(tables.to_csv(officers, "en").decode("utf-8-sig"))))[0]
    assert english[:3] == ["Officer id", "Officer", "Served"]

    built = [tables.TABLES[name](period, svc.config) for name in tables.TABLES]
    book = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx(built)))
    assert book.sheetnames == ["Theo cán bộ", "Theo đơn vị (dịch vụ)", "Theo quầy", "Theo giờ trong ngày",
                               "Theo thứ trong tuần", "Theo ngày", "Số phục vụ trễ hạn"]
    late = list(book["Số phục vụ trễ hạn"].iter_rows(values_only=True))
    assert late[1][:3] == ("2026-11-23", "A004", "Sở Tư pháp") and late[1][5] == 20.0
    units = book["Theo đơn vị (dịch vụ)"]
    heads = [c.value for c in units[1]]
    col = heads.index("Đúng hạn") + 1
    tu_phap = next(r for r in units.iter_rows(min_row=2) if r[0].value == "tu-phap")
    assert tu_phap[col - 1].value == 0.75 and tu_phap[col - 1].number_format == "0.0%"
