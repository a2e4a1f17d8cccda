"""The figures of a period: per officer, per service (unit), per counter, by hour, weekday and day,
and the tickets served late. Pure functions of a Period and the hall's configuration.

Definitions (also in the README):
- wait: from the ticket's issue to its first call, counted against the target of the service it
  was issued for; tickets never called have no wait.
- within target: wait <= the service's target_wait_min. Shares are over the tickets called.
- handling time: from the last call to done, for tickets done.
- satisfied: a rating at a level that does not ask for a reason (by default "Rất hài lòng" and
  "Hài lòng"); the satisfaction rate is satisfied ratings over all ratings.
- p90: nearest rank (the smallest wait that at least 90% of the waits do not exceed).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from hallserver.domain.config import HallConfig
from hallserver.reports.records import Period, RatingRec, TicketRec

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# ---------------------------------------------------------------- small statistics
def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def _round(x: float | None, digits: int = 1) -> float | None:
    return None if x is None else round(x, digits)


# ---------------------------------------------------------------- shared pieces
def target_s(config: HallConfig, service: str) -> float:
    svc = config.services.get(service)
    return (svc.target_wait_min if svc else 15) * 60


def late(config: HallConfig, t: TicketRec) -> bool:
    return t.wait_s is not None and t.wait_s > target_s(config, t.first_service)


def satisfied_levels(config: HallConfig) -> set[str]:
    return {lv.key for lv in config.levels if not lv.asks_reason}


def wait_figures(config: HallConfig, tickets: Iterable[TicketRec]) -> dict:
    """Mean and p90 wait (minutes) and the share within target of the tickets called."""
    waits, within = [], 0
    for t in tickets:
        if t.wait_s is None:
            continue
        waits.append(t.wait_s)
        within += t.wait_s <= target_s(config, t.first_service)
    return {"called": len(waits), "wait_mean_min": _round(minutes(mean(waits))),
            "wait_p90_min": _round(minutes(p90(waits))), "within_target": _round(share(within, len(waits)), 4)}


def rating_figures(config: HallConfig, ratings: Iterable[RatingRec]) -> dict:
    """Counts per level (keys `rating_<level>`), total, satisfaction rate and reasons (`reason_<key>`)."""
    levels: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for r in ratings:
        levels[r.score] += 1
        if r.reason:
            reasons[r.reason] += 1
    total = sum(levels.values())
    good = sum(n for k, n in levels.items() if k in satisfied_levels(config))
    out = {f"rating_{lv.key}": levels.get(lv.key, 0) for lv in config.levels}
    out["ratings"] = total
    out["satisfaction"] = _round(share(good, total), 4)
    out.update({f"reason_{r.key}": reasons.get(r.key, 0) for r in config.reasons})
    return out


def hours_worked(period: Period, officer: str | None = None, counter: int | None = None) -> float:
    """Logged-in hours within the period (open sessions count until `now`)."""
    lo, hi = period.bounds()
    total = 0.0
    for s in period.sessions:
        if (officer is not None and s.officer != officer) or (counter is not None and s.counter != counter):
            continue
        start, end = max(s.login_at, lo), min(s.logout_at or period.now, hi, period.now)
        if end > start:
            total += (end - start).total_seconds()
    return total / 3600


# ---------------------------------------------------------------- per officer
def officers(period: Period, config: HallConfig, only: str | None = None) -> list[dict]:
    by_officer: dict[str, list[TicketRec]] = defaultdict(list)
    for t in period.tickets:
        if t.officer:
            by_officer[t.officer].append(t)
    transfers = Counter(x.officer for x in period.transfers if x.officer)
    ratings: dict[str, list[RatingRec]] = defaultdict(list)
    for r in period.ratings:
        if r.officer:
            ratings[r.officer].append(r)
    seen = set(by_officer) | set(transfers) | set(ratings) | {s.officer for s in period.sessions}
    ids = [o for o in config.officers if o in seen] + sorted(seen - set(config.officers))
    rows = []
    for oid in ids:
        if only is not None and oid != only:
            continue
        mine = by_officer.get(oid, [])
        served = [t for t in mine if t.status == "done"]
        handle = [t.handle_s for t in served if t.handle_s is not None]
        hours = hours_worked(period, officer=oid)
        officer = config.officers.get(oid)
        row = {"officer": oid, "name": officer.name if officer else oid, "served": len(served),
               "hours": round(hours, 2), "served_per_hour": _round(share(len(served), hours) if hours else None, 2),
               "handle_mean_min": _round(minutes(mean(handle))), "handle_median_min": _round(minutes(median(handle))),
               "no_shows": sum(t.status == "no_show" for t in mine), "transfers": transfers.get(oid, 0)}
        row.update(wait_figures(config, mine))
        row.update(rating_figures(config, ratings.get(oid, [])))
        rows.append(row)
    return rows


# ---------------------------------------------------------------- per service (unit) and counter
def services(period: Period, config: HallConfig) -> list[dict]:
    issued: dict[str, list[TicketRec]] = defaultdict(list)
    ended: dict[str, list[TicketRec]] = defaultdict(list)
    for t in period.tickets:
        issued[t.first_service].append(t)
        ended[t.service].append(t)
    final_service = {(t.day, t.number): t.service for t in period.tickets}
    ratings: dict[str, list[RatingRec]] = defaultdict(list)
    for r in period.ratings:
        ratings[final_service.get((r.day, r.number), "")].append(r)
    rows = []
    for code, svc in config.services.items():
        mine = issued.get(code, [])
        row = {"service": code, "name": svc.name, "target_min": svc.target_wait_min, "issued": len(mine),
               "served": sum(t.status == "done" for t in ended.get(code, [])),
               "no_shows": sum(t.status == "no_show" for t in ended.get(code, [])),
               "not_served": sum(t.status in ("expired", "waiting", "held") for t in ended.get(code, [])),
               "late": sum(late(config, t) for t in mine)}
        row.update(wait_figures(config, mine))
        row.update(rating_figures(config, ratings.get(code, [])))
        rows.append(row)
    return rows


def counters(period: Period, config: HallConfig) -> list[dict]:
    by_counter: dict[int, list[TicketRec]] = defaultdict(list)
    for t in period.tickets:
        if t.counter is not None:
            by_counter[t.counter].append(t)
    ratings: dict[int, list[RatingRec]] = defaultdict(list)
    for r in period.ratings:
        ratings[r.counter].append(r)
    rows = []
    for number, counter in config.counters.items():
        mine = by_counter.get(number, [])
        served = [t for t in mine if t.status == "done"]
        handle = [t.handle_s for t in served if t.handle_s is not None]
        row = {"counter": number, "name": counter.name, "served": len(served),
               "no_shows": sum(t.status == "no_show" for t in mine),
               "hours_open": round(hours_worked(period, counter=number), 2),
               "handle_mean_min": _round(minutes(mean(handle))), "handle_median_min": _round(minutes(median(handle)))}
        row.update(wait_figures(config, mine))
        row.update(rating_figures(config, ratings.get(number, [])))
        rows.append(row)
    return rows


# ---------------------------------------------------------------- over time
def _picked(t: TicketRec, service: str | None, counter: int | None) -> bool:
    """The filter of the hour and weekday tables: the service a ticket was issued for, and the
    counter that had it last (as in the per-counter table; tickets never called have none)."""
    return (service is None or t.first_service == service) and (counter is None or t.counter == counter)


def by_hour(period: Period, config: HallConfig, service: str | None = None, counter: int | None = None) -> list[dict]:
    """Per hour of the day (by issue time): tickets issued and their waits."""
    hours: dict[int, list[TicketRec]] = defaultdict(list)
    for t in period.tickets:
        if _picked(t, service, counter):
            hours[t.issued_at.hour].append(t)
    if not hours:
        return []
    rows = []
    for h in range(min(hours), max(hours) + 1):
        mine = hours.get(h, [])
        row = {"hour": f"{h:02d}:00", "issued": len(mine)}
        row.update(wait_figures(config, mine))
        rows.append(row)
    return rows


def by_weekday(period: Period, config: HallConfig, service: str | None = None,
               counter: int | None = None) -> list[dict]:
    days: dict[int, list[TicketRec]] = defaultdict(list)
    open_days: dict[int, set[date]] = defaultdict(set)
    for t in period.tickets:
        if _picked(t, service, counter):
            days[t.day.weekday()].append(t)
            open_days[t.day.weekday()].add(t.day)
    rows = []
    for wd in sorted(days):
        mine = days[wd]
        row = {"weekday": WEEKDAYS_VI[wd], "weekday_en": WEEKDAYS_EN[wd], "days": len(open_days[wd]),
               "issued": len(mine), "issued_per_day": round(len(mine) / len(open_days[wd]), 1)}
        row.update(wait_figures(config, mine))
        rows.append(row)
    return rows


def by_day(period: Period, config: HallConfig) -> list[dict]:
    tickets: dict[date, list[TicketRec]] = defaultdict(list)
    for t in period.tickets:
        tickets[t.day].append(t)
    ratings: dict[date, list[RatingRec]] = defaultdict(list)
    for r in period.ratings:
        ratings[r.day].append(r)
    rows = []
    day = period.start
    while day <= period.end:
        mine = tickets.get(day, [])
        if mine or ratings.get(day):
            row = {"day": day.isoformat(), "weekday": WEEKDAYS_VI[day.weekday()], "issued": len(mine),
                   "served": sum(t.status == "done" for t in mine)}
            row.update(wait_figures(config, mine))
            row.update(rating_figures(config, ratings.get(day, [])))
            rows.append(row)
        day += timedelta(days=1)
    return rows


def late_tickets(period: Period, config: HallConfig) -> list[dict]:
    """Tickets called after their service's target wait, oldest first."""
    rows = []
    for t in sorted(period.tickets, key=lambda t: (t.issued_at, t.number)):
        if not late(config, t):
            continue
        svc = config.services.get(t.first_service)
        officer = config.officers.get(t.officer) if t.officer else None
        rows.append({"day": t.day.isoformat(), "number": t.number, "service": t.first_service,
                     "service_name": svc.name if svc else t.first_service,
                     "issued_at": t.issued_at.strftime("%H:%M:%S"),
                     "called_at": t.first_called_at.strftime("%H:%M:%S") if t.first_called_at else None,
                     "wait_min": _round(minutes(t.wait_s)), "target_min": svc.target_wait_min if svc else None,
                     "over_min": _round(minutes(t.wait_s - target_s(config, t.first_service))),
                     "counter": t.counter, "officer": officer.name if officer else t.officer, "status": t.status})
    return rows


def summary(period: Period, config: HallConfig) -> dict:
    row = {"issued": len(period.tickets), "served": sum(t.status == "done" for t in period.tickets),
           "no_shows": sum(t.status == "no_show" for t in period.tickets),
           "late": sum(late(config, t) for t in period.tickets),
           "days": len({t.day for t in period.tickets})}
    row.update(wait_figures(config, period.tickets))
    row.update(rating_figures(config, period.ratings))
    return row


# ---------------------------------------------------------------- periods
def period_range(view: str, anchor: date) -> tuple[date, date]:
    """The day, the week (Monday to Sunday) or the month around `anchor`."""
    if view == "day":
        return anchor, anchor
    if view == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return start, start + timedelta(days=6)
    if view == "month":
        start = anchor.replace(day=1)
        nxt = (start + timedelta(days=32)).replace(day=1)
        return start, nxt - timedelta(days=1)
    raise ValueError(f"unknown view {view!r}")
