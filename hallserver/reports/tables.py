"""The report tables (columns with Vietnamese and English headings) and their exports: CSV (UTF-8
with a byte-order mark, so Excel reads Vietnamese) and XLSX (openpyxl, shares as percentages).

Every table a page shows is built here, so the page and both exports cannot disagree.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from hallserver.domain.config import HallConfig
from hallserver.reports import figures
from hallserver.reports.records import Period


@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    kind: str = "text"  # text | int | num | pct

    def heading(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi


@dataclass
class Table:
    name: str
    vi: str
    en: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)

    def title(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi

    def only(self, keys: list[str]) -> Table:
        """The same rows with fewer columns (the printed monthly report)."""
        cols = [c for c in self.columns if c.key in keys]
        return Table(self.name, self.vi, self.en, sorted(cols, key=lambda c: keys.index(c.key)), self.rows)


def _rating_columns(config: HallConfig, reasons: bool = True) -> list[Column]:
    cols = [Column(f"rating_{lv.key}", lv.label, lv.label_en or lv.key, "int") for lv in config.levels]
    cols += [Column("ratings", "Lượt đánh giá", "Ratings", "int"),
             Column("satisfaction", "Tỷ lệ hài lòng", "Satisfaction", "pct")]
    if reasons:
        cols += [Column(f"reason_{r.key}", f"Lý do: {r.label}", f"Reason: {r.label_en or r.key}", "int")
                 for r in config.reasons]
    return cols


WAIT_COLUMNS = [Column("called", "Số được gọi", "Called", "int"),
                Column("wait_mean_min", "Chờ TB (phút)", "Mean wait (min)", "num"),
                Column("wait_p90_min", "Chờ P90 (phút)", "P90 wait (min)", "num"),
                Column("within_target", "Đúng hạn", "Within target", "pct")]


def officers_table(period: Period, config: HallConfig, only: str | None = None) -> Table:
    cols = [Column("officer", "Mã cán bộ", "Officer id"), Column("name", "Cán bộ", "Officer"),
            Column("served", "Đã phục vụ", "Served", "int"), Column("hours", "Giờ làm việc", "Hours worked", "num"),
            Column("served_per_hour", "Số/giờ", "Served per hour", "num"),
            Column("handle_mean_min", "Xử lý TB (phút)", "Mean handling (min)", "num"),
            Column("handle_median_min", "Xử lý trung vị (phút)", "Median handling (min)", "num"),
            Column("no_shows", "Vắng mặt", "No-shows", "int"), Column("transfers", "Chuyển", "Transfers", "int"),
            *WAIT_COLUMNS, *_rating_columns(config)]
    return Table("officers", "Theo cán bộ", "Per officer", cols, figures.officers(period, config, only))


def services_table(period: Period, config: HallConfig) -> Table:
    cols = [Column("service", "Mã", "Code"), Column("name", "Đơn vị / dịch vụ", "Unit / service"),
            Column("target_min", "Mục tiêu (phút)", "Target (min)", "int"),
            Column("issued", "Số đã cấp", "Issued", "int"), Column("served", "Đã phục vụ", "Served", "int"),
            Column("no_shows", "Vắng mặt", "No-shows", "int"),
            Column("not_served", "Chưa phục vụ", "Not served", "int"), Column("late", "Trễ hạn", "Late", "int"),
            *WAIT_COLUMNS, *_rating_columns(config, reasons=False)]
    return Table("services", "Theo đơn vị (dịch vụ)", "Per unit (service)", cols, figures.services(period, config))


def counters_table(period: Period, config: HallConfig) -> Table:
    cols = [Column("counter", "Quầy số", "Counter", "int"), Column("name", "Quầy", "Name"),
            Column("served", "Đã phục vụ", "Served", "int"), Column("no_shows", "Vắng mặt", "No-shows", "int"),
            Column("hours_open", "Giờ mở", "Hours open", "num"),
            Column("handle_mean_min", "Xử lý TB (phút)", "Mean handling (min)", "num"),
            Column("handle_median_min", "Xử lý trung vị (phút)", "Median handling (min)", "num"),
            *WAIT_COLUMNS, *_rating_columns(config, reasons=False)]
    rows = [r for r in figures.counters(period, config) if r["served"] or r["hours_open"] or r["called"]]
    return Table("counters", "Theo quầy", "Per counter", cols, rows)


def hours_table(period: Period, config: HallConfig, service: str | None = None,
                counter: int | None = None) -> Table:
    cols = [Column("hour", "Giờ", "Hour"), Column("issued", "Số đã cấp", "Issued", "int"), *WAIT_COLUMNS]
    return Table("hours", "Theo giờ trong ngày", "By hour of day", cols,
                 figures.by_hour(period, config, service, counter))


def weekdays_table(period: Period, config: HallConfig, service: str | None = None,
                   counter: int | None = None) -> Table:
    cols = [Column("weekday", "Thứ", "Weekday"), Column("days", "Số ngày", "Days", "int"),
            Column("issued", "Số đã cấp", "Issued", "int"),
            Column("issued_per_day", "Số/ngày", "Issued per day", "num"), *WAIT_COLUMNS]
    return Table("weekdays", "Theo thứ trong tuần", "By weekday", cols,
                 figures.by_weekday(period, config, service, counter))


FILTERED = ("hours", "weekdays")  # the tables that follow the service and counter filter


def build(name: str, period: Period, config: HallConfig, service: str | None = None,
          counter: int | None = None) -> Table:
    """A table by name, with the filter where it applies."""
    if name in FILTERED:
        return TABLES[name](period, config, service, counter)
    return TABLES[name](period, config)


def days_table(period: Period, config: HallConfig) -> Table:
    cols = [Column("day", "Ngày", "Day"), Column("weekday", "Thứ", "Weekday"),
            Column("issued", "Số đã cấp", "Issued", "int"), Column("served", "Đã phục vụ", "Served", "int"),
            *WAIT_COLUMNS, *_rating_columns(config, reasons=False)]
    return Table("days", "Theo ngày", "By day", cols, figures.by_day(period, config))


def late_table(period: Period, config: HallConfig) -> Table:
    cols = [Column("day", "Ngày", "Day"), Column("number", "Số", "Ticket"),
            Column("service_name", "Đơn vị / dịch vụ", "Unit / service"),
            Column("issued_at", "Giờ lấy số", "Issued"), Column("called_at", "Giờ được gọi", "Called"),
            Column("wait_min", "Chờ (phút)", "Wait (min)", "num"),
            Column("target_min", "Mục tiêu (phút)", "Target (min)", "int"),
            Column("over_min", "Trễ (phút)", "Over (min)", "num"), Column("counter", "Quầy", "Counter", "int"),
            Column("officer", "Cán bộ", "Officer")]
    return Table("late", "Số phục vụ trễ hạn", "Tickets served late", cols, figures.late_tickets(period, config))


TABLES = {"officers": officers_table, "services": services_table, "counters": counters_table,
          "hours": hours_table, "weekdays": weekdays_table, "days": days_table, "late": late_table}


def audit_table(rows: list[dict]) -> Table:
    cols = [Column("at", "Thời điểm", "When"), Column("actor", "Người thực hiện", "Who"),
            Column("action", "Thao tác", "Action"), Column("target", "Đối tượng", "Target"),
            Column("refused", "Bị từ chối (mã)", "Refused (code)"),
            Column("before", "Trước", "Before"), Column("after", "Sau", "After")]
    return Table("audit", "Nhật ký thay đổi", "Audit log", cols, rows)


# ---------------------------------------------------------------- exports
def _csv_value(col: Column, value: object) -> object:
    if value is None:
        return ""
    if col.kind == "pct":
        return round(float(value) * 100, 1)
    return value


def to_csv(table: Table, lang: str = "vi") -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([c.heading(lang) + (" (%)" if c.kind == "pct" else "") for c in table.columns])
    for row in table.rows:
        w.writerow([_csv_value(c, row.get(c.key)) for c in table.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(tables: list[Table], lang: str = "vi") -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for table in tables:
        ws = wb.create_sheet(table.title(lang)[:31])
        ws.append([c.heading(lang) for c in table.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            ws.append([row.get(c.key) if not isinstance(row.get(c.key), (dict, list)) else str(row.get(c.key))
                       for c in table.columns])
        for i, col in enumerate(table.columns, start=1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(8, min(40, len(col.heading(lang)) + 2))
            fmt = {"pct": "0.0%", "num": "0.0", "int": "0"}.get(col.kind)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = fmt
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
