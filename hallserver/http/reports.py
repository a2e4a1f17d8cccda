"""Figures and reports: the reports page (any date range; day, week and month views), exports of
every table as CSV and XLSX, the monthly report per hall, an officer's own figures, the audit log."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from hallserver.http.auth import OwnFigures, Reports, lang_of
from hallserver.http.pages import render
from hallserver.reports import charts, figures, tables
from hallserver.reports.records import Period
from hallserver.store.accounts import Accounts
from hallserver.store.reporting import load_period

if TYPE_CHECKING:
    from hallserver.bootstrap import Runtime

router = APIRouter(tags=["reports"])
MAX_DAYS = 400
VIEWS = ("day", "week", "month", "custom")


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"Ngày không hợp lệ: {name}={value!r} (YYYY-MM-DD) / invalid date") from None


def resolve(today: date, view: str, day: str | None, start: str | None, end: str | None) -> tuple[str, date, date]:
    """(view, first day, last day) from the query: a day, week or month around `day`, or start..end."""
    if view not in VIEWS:
        raise HTTPException(422, f"view must be one of {', '.join(VIEWS)}")
    if view == "custom":
        lo, hi = _date(start, "start") or today, _date(end, "end") or today
    else:
        lo, hi = figures.period_range(view, _date(day, "day") or today)
    if hi < lo or (hi - lo).days > MAX_DAYS:
        raise HTTPException(422, f"Khoảng ngày không hợp lệ (tối đa {MAX_DAYS} ngày) / bad date range")
    return view, lo, hi


def period_of(rt: Runtime, lo: date, hi: date) -> Period:
    return load_period(rt.store, rt.config.id, lo, hi, rt.service.tz, rt.service.now())


def _counter_filter(rt: Runtime, counter: str | None) -> int | None:
    """The counter of the hour and weekday tables' filter (unknown or empty: every counter)."""
    try:
        number = int(counter) if counter else None
    except ValueError:
        return None
    return number if number in rt.config.counters else None


def _charts(period: Period, rt: Runtime, lang: str, service: str | None = None,
            counter: int | None = None) -> dict[str, str]:
    def t(vi: str, en: str) -> str:
        return en if lang == "en" else vi

    cfg = rt.config
    hours = figures.by_hour(period, cfg, service, counter)
    days = figures.by_day(period, cfg)
    targets = [s.target_wait_min for s in cfg.services.values()]
    target = cfg.services[service].target_wait_min if service in cfg.services else max(set(targets), key=targets.count)
    out = {
        "load": charts.bars(t("Số lấy theo giờ", "Tickets issued by hour"), [h["hour"][:2] + "h" for h in hours],
                            [(t("Số đã cấp", "Issued"), [h["issued"] for h in hours])], t("số", "tickets")),
        "wait": charts.line(t("Thời gian chờ trung bình theo giờ lấy số", "Mean wait by hour of issue"),
                            [h["hour"][:2] + "h" for h in hours], [h["wait_mean_min"] for h in hours],
                            t("phút", "min"), target, t("Chờ TB", "Mean wait"), t(f"mục tiêu {target} phút",
                                                                                  f"target {target} min")),
        "ratings": charts.bars(t("Đánh giá theo ngày", "Ratings over time"), [d["day"][5:] for d in days],
                               [(lv.label if lang == "vi" else lv.label_en or lv.label,
                                 [d[f"rating_{lv.key}"] for d in days]) for lv in cfg.levels],
                               t("lượt", "votes"), stacked=True),
    }
    if len(days) > 1:
        out["days"] = charts.bars(t("Số lấy và đã phục vụ theo ngày", "Issued and served per day"),
                                  [d["day"][5:] for d in days],
                                  [(t("Đã cấp", "Issued"), [d["issued"] for d in days]),
                                   (t("Đã phục vụ", "Served"), [d["served"] for d in days])], t("số", "tickets"))
    return out


@router.get("/reports", response_class=HTMLResponse, include_in_schema=False)
def reports_page(request: Request, who: Reports, view: str = "day", day: str | None = None,
                 start: str | None = None, end: str | None = None, service: str | None = None,
                 counter: str | None = None) -> HTMLResponse:
    rt = _rt(request)
    today = rt.service.now().date()
    view, lo, hi = resolve(today, view, day, start, end)
    period = period_of(rt, lo, hi)
    service = service if service in rt.config.services else None
    number = _counter_filter(rt, counter)
    shown = [tables.build(name, period, rt.config, service, number) for name in tables.TABLES]
    step = {"day": 1, "week": 7}.get(view)
    prev_day = lo - timedelta(days=step) if step else (lo - timedelta(days=1)).replace(day=1)
    next_day = hi + timedelta(days=1)
    query = f"view={view}&day={lo.isoformat()}" if view != "custom" else f"view=custom&start={lo}&end={hi}"
    return render(request, "reports.html", view=view, start=lo, end=hi, tables=shown,
                  summary=figures.summary(period, rt.config),
                  charts=_charts(period, rt, lang_of(request), service, number),
                  query=query + (f"&service={service}" if service else "") + (f"&counter={number}" if number else ""),
                  service=service, counter=number,
                  prev_day=prev_day, next_day=next_day, today=today)


def _export(name: str, fmt: str, table_list: list[tables.Table], lang: str, stem: str) -> Response:
    if fmt == "csv":
        if len(table_list) != 1:
            raise HTTPException(422, "CSV: một bảng mỗi lần / one table per CSV file")
        return Response(tables.to_csv(table_list[0], lang), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
    if fmt == "xlsx":
        return Response(tables.to_xlsx(table_list, lang),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'})
    raise HTTPException(404, "Định dạng: csv hoặc xlsx / format: csv or xlsx")


@router.get("/reports/export/{name}.{fmt}", tags=["reports"])
def export(request: Request, who: Reports, name: str, fmt: str, view: str = "day", day: str | None = None,
           start: str | None = None, end: str | None = None, service: str | None = None,
           counter: str | None = None) -> Response:
    """A report table (officers, services, counters, hours, weekdays, days, late; `all` in XLSX) as
    CSV or XLSX, for the same period choices as the reports page; the hour and weekday tables
    follow the `service` and `counter` filter."""
    rt = _rt(request)
    view, lo, hi = resolve(rt.service.now().date(), view, day, start, end)
    if name != "all" and name not in tables.TABLES:
        raise HTTPException(404, f"Không có bảng {name!r} / no such table; choose from {', '.join(tables.TABLES)}")
    period = period_of(rt, lo, hi)
    service = service if service in rt.config.services else None
    names = list(tables.TABLES) if name == "all" else [name]
    number = _counter_filter(rt, counter)
    built = [tables.build(n, period, rt.config, service, number) for n in names]
    return _export(name, fmt, built, lang_of(request), f"{rt.config.id}-{name}-{lo}-{hi}")


@router.get("/api/reports/{name}", tags=["reports"])
def report_json(request: Request, who: Reports, name: str, view: str = "day", day: str | None = None,
                start: str | None = None, end: str | None = None) -> dict:
    """A report table as JSON (integrations: `Authorization: Bearer <token>`)."""
    rt = _rt(request)
    view, lo, hi = resolve(rt.service.now().date(), view, day, start, end)
    if name == "summary":
        return {"start": lo.isoformat(), "end": hi.isoformat(), "summary": figures.summary(period_of(rt, lo, hi),
                                                                                            rt.config)}
    if name not in tables.TABLES:
        raise HTTPException(404, f"no such table; choose from summary, {', '.join(tables.TABLES)}")
    table = tables.TABLES[name](period_of(rt, lo, hi), rt.config)
    return {"start": lo.isoformat(), "end": hi.isoformat(), "columns": [c.key for c in table.columns],
            "rows": table.rows}


@router.get("/reports/monthly", response_class=HTMLResponse, include_in_schema=False)
def monthly(request: Request, who: Reports, month: str | None = None) -> HTMLResponse:
    """The month's report in Vietnamese, printable (to PDF from the browser)."""
    rt = _rt(request)
    now = rt.service.now()
    try:
        anchor = date.fromisoformat(f"{month}-01") if month else now.date().replace(day=1)
    except ValueError:
        raise HTTPException(422, "Tháng không hợp lệ (YYYY-MM) / invalid month") from None
    lo, hi = figures.period_range("month", anchor)
    period = period_of(rt, lo, hi)
    cfg = rt.config
    units = tables.services_table(period, cfg).only(
        ["name", "issued", "served", "no_shows", "wait_mean_min", "wait_p90_min", "within_target", "late", "ratings",
         "satisfaction"])
    units.rows = [r for r in units.rows if r["issued"] or r["ratings"]]
    officers = tables.officers_table(period, cfg).only(
        ["name", "served", "hours", "served_per_hour", "handle_mean_min", "no_shows", "transfers", "wait_mean_min",
         "within_target", "ratings", "satisfaction"])
    reasons = [(r.label, sum(x.reason == r.key for x in period.ratings)) for r in cfg.reasons]
    prev_month = (lo - timedelta(days=1)).strftime("%Y-%m")
    next_month = (hi + timedelta(days=1)).strftime("%Y-%m")
    return render(request, "monthly.html", start=lo, end=hi, month=lo.strftime("%m/%Y"), now=now,
                  summary=figures.summary(period, cfg), units=units, officers=officers,
                  late=tables.late_table(period, cfg), reasons=reasons, charts=_charts(period, rt, "vi"),
                  prev_month=prev_month, next_month=next_month, month_value=lo.strftime("%Y-%m"))


# ---------------------------------------------------------------- an officer's own figures
@router.get("/me", response_class=HTMLResponse, include_in_schema=False)
def my_figures(request: Request, who: OwnFigures, view: str = "month", day: str | None = None,
               start: str | None = None, end: str | None = None) -> HTMLResponse:
    rt = _rt(request)
    view, lo, hi = resolve(rt.service.now().date(), view, day, start, end)
    rows = figures.officers(period_of(rt, lo, hi), rt.config, only=who.officer or "") if who.officer else []
    table = tables.officers_table(Period(lo, hi, rt.service.now()), rt.config)
    table.rows = rows
    return render(request, "me.html", view=view, start=lo, end=hi, table=table, officer=who.officer,
                  officer_name=rt.config.officers[who.officer].name if who.officer in rt.config.officers else None)


@router.get("/api/me/figures", tags=["reports"])
def my_figures_json(request: Request, who: OwnFigures, view: str = "month", day: str | None = None,
                    start: str | None = None, end: str | None = None) -> dict:
    rt = _rt(request)
    view, lo, hi = resolve(rt.service.now().date(), view, day, start, end)
    rows = figures.officers(period_of(rt, lo, hi), rt.config, only=who.officer) if who.officer else []
    return {"officer": who.officer, "start": lo.isoformat(), "end": hi.isoformat(),
            "figures": rows[0] if rows else None}


# ---------------------------------------------------------------- the audit log
def _refusal(row) -> str:
    """The refusal code of a refused attempt (action `….refused`), else empty."""
    if not row.action.endswith(".refused") or not isinstance(row.after, dict):
        return ""
    return str(row.after.get("refused", ""))


def _audit_rows(rt: Runtime, lo: date | None, hi: date | None, limit: int | None,
                refused: bool = False) -> list[dict]:
    tz = rt.service.tz
    start = datetime.combine(lo, time(), tz) if lo else None
    end = datetime.combine(hi + timedelta(days=1), time(), tz) if hi else None
    rows = Accounts(rt.store).audit_log(rt.config.id, start, end, limit, refused_only=refused)
    return [{"at": r.at.replace(tzinfo=UTC).astimezone(tz).isoformat(timespec="seconds"), "actor": r.actor,
             "action": r.action, "target": r.target, "refused": _refusal(r),
             "before": json.dumps(r.before, ensure_ascii=False) if r.before is not None else "",
             "after": json.dumps(r.after, ensure_ascii=False) if r.after is not None else ""} for r in rows]


@router.get("/api/audit", tags=["reports"])
def audit_json(request: Request, who: Reports, start: str | None = None, end: str | None = None,
               limit: int = 200, refused: bool = False) -> list[dict]:
    """Who changed what and when, with the state before and after; newest first. Refused attempts
    are there too (action `….refused`, `refused` = the refusal code); refused=true: only those."""
    return _audit_rows(_rt(request), _date(start, "start"), _date(end, "end"), max(1, min(limit, 10000)), refused)


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(request: Request, who: Reports, start: str | None = None, end: str | None = None,
               refused: bool = False) -> HTMLResponse:
    rt = _rt(request)
    rows = _audit_rows(rt, _date(start, "start"), _date(end, "end"), 500, refused)
    return render(request, "audit.html", table=tables.audit_table(rows), start=start or "", end=end or "",
                  refused=refused)


@router.get("/audit/export.{fmt}", tags=["reports"])
def audit_export(request: Request, who: Reports, fmt: str, start: str | None = None,
                 end: str | None = None, refused: bool = False) -> Response:
    rt = _rt(request)
    rows = _audit_rows(rt, _date(start, "start"), _date(end, "end"), None, refused)
    return _export("audit", fmt, [tables.audit_table(rows)], lang_of(request), f"{rt.config.id}-audit")
