"""Staffing advice over HTTP, for the manager dashboard.

    GET /api/staffing?day=YYYY-MM-DD        the advice for that day's weekday (JSON)
    GET /api/staffing/report?day=...        the same as the Vietnamese text report
    GET /api/staffing/erlang?rate=&aht=&target_time=&counters=   Erlang C figures

Demand comes from the hall's stored history (the `weeks` before `day`); a weekday without history
falls back to the seed workload when it fits the hall (the demo hall). Answers are kept for the
hour. Managers only: include with
`app.include_router(staffing.router(rt), dependencies=[Depends(auth.require("staffing"))])`.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import PlainTextResponse

from hallserver.domain.config import WEEKDAYS
from hallserver.staffing.advise import Target
from hallserver.staffing.check import advise, pick_demand
from hallserver.staffing.erlang import counters_needed, figures
from hallserver.staffing.report import render
from hallserver.store.history import demand_from_store
from simulators.hallsim.workload import WorkloadError

if TYPE_CHECKING:
    from hallserver.bootstrap import Runtime


Day = Annotated[date | None, Query(description="the day to staff (default: today)")]
Weeks = Annotated[int, Query(ge=1, le=52, description="weeks of history to estimate from")]
Sl = Annotated[float, Query(gt=0, lt=1, description="share called within the service's target wait")]
# below a tenth, the counters needed (load / occupancy) are absurd and, near 0, beyond any count
Occ = Annotated[float, Query(ge=0.1, le=1, description="largest share of time a counter is busy")]
MAX_ERLANGS = 1000.0  # the Erlang calculator's largest load: far above a hall, and bounded work


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def router(rt: Runtime) -> APIRouter:
    api = APIRouter(prefix="/api/staffing", tags=["staffing"])
    cache: dict[tuple, dict] = {}  # the history moves slowly: one computation per hour and question

    def compute(day: date | None, weeks: int, target_sl: float, max_occupancy: float, check: bool) -> tuple[date, dict]:
        now = rt.service.now()
        day = day or now.date()
        key = (day, weeks, target_sl, max_occupancy, check, now.date(), now.hour)
        if key not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[key] = _compute(day, weeks, target_sl, max_occupancy, check)
        return day, cache[key]

    def _compute(day: date, weeks: int, target_sl: float, max_occupancy: float, check: bool) -> dict:
        weekday = WEEKDAYS[day.weekday()]
        config = rt.service.config  # the live one: an admin may have edited the targets
        try:
            target = Target(target_sl, max_occupancy, 0.0)
            history = demand_from_store(config, rt.store.engine, day, weeks)
            demand, workload = pick_demand(config, history, weekday)
        except WorkloadError:
            raise HTTPException(404, f"Chưa có dữ liệu lịch sử cho {weekday} / no history for this weekday") from None
        return advise(config, demand, weekday, target, workload, check=check)

    @api.get("")
    def staffing(day: Day = None, weeks: Weeks = 8, target_sl: Sl = 0.8, max_occupancy: Occ = 0.85,
                 check: bool = True) -> dict:
        """Counters needed per service and hour, the chain of cross-trained counters, officer-hours,
        and (check=true) what the whole-day simulator measures for both."""
        return compute(day, weeks, target_sl, max_occupancy, check)[1]

    @api.get("/report", response_class=PlainTextResponse)
    def report(day: Day = None, weeks: Weeks = 8, target_sl: Sl = 0.8, max_occupancy: Occ = 0.85,
               check: bool = True) -> str:
        """The advice as the Vietnamese report."""
        day, advice = compute(day, weeks, target_sl, max_occupancy, check)
        return render(rt.service.config, advice, day)

    @api.get("/erlang")
    def erlang(rate: Annotated[float, Query(ge=0, le=100_000, description="arrivals per hour")],
               aht: Annotated[float, Query(gt=0, le=1440, description="handling time, minutes")],
               target_time: Annotated[float, Query(ge=0, le=1440, description="target wait, minutes")],
               counters: Annotated[int | None, Query(ge=0, le=5000)] = None,
               target_sl: Annotated[float | None, Query(ge=0, lt=1)] = None,
               max_occupancy: Occ = 1.0) -> dict:
        """Erlang C: the figures of `counters`, or the counters that `target_sl` needs (loads up to
        1000 Erlangs: the work grows with the counters)."""
        if (counters is None) == (target_sl is None):
            raise HTTPException(422, "counters hoặc target_sl (một trong hai) / give counters or target_sl")
        if rate * aht / 60.0 > MAX_ERLANGS:
            raise HTTPException(422, f"Tải quá lớn (trên {MAX_ERLANGS:.0f} Erlang) / "
                                     f"load above {MAX_ERLANGS:.0f} Erlangs")
        if counters is not None:
            f = figures(rate, aht, counters, target_time)
            return {"p_wait": f.p_wait, "wq_min": _finite(f.wq_min), "sl": f.sl, "occupancy": _finite(f.occupancy)}
        n, f = counters_needed(rate, aht, target_time, target_sl, max_occupancy)
        return {"counters": n, "p_wait": f.p_wait, "wq_min": f.wq_min, "sl": f.sl, "occupancy": f.occupancy}

    return api
