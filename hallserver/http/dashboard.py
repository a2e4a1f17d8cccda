"""The live dashboard (page, JSON, server-sent events) and the manager's live staffing changes.

A staffing change is an engine command (set_services, open_counter, close_counter, move_officer):
recorded with its audit entry in one transaction, then the MQTT adapter republishes the device
states at once, so the counter terminal shows it before its next call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

import protocols
from hallserver.domain.engine import Hall
from hallserver.domain.model import Refused
from hallserver.domain.policies import POLICIES
from hallserver.http.auth import Staffing, Viewer, authenticator, lang_of
from hallserver.http.hub import sse
from hallserver.http.pages import render
from hallserver.reports import live
from hallserver.store.accounts import Accounts

if TYPE_CHECKING:
    from hallserver.bootstrap import Runtime

log = logging.getLogger(__name__)
REFRESH_S = 5.0  # device health and the clocks of the counters move without a board change
router = APIRouter(tags=["dashboard"])


class ServicesIn(BaseModel):
    services: list[str] = Field(max_length=50, description="service codes, in the order the counter serves them")


class MoveIn(BaseModel):
    counter: int


class PolicyIn(BaseModel):
    policy: str = Field(description="oldest, preference or sla")


class NoticeIn(BaseModel):
    notice: str = Field(max_length=500, description="the hall screens' scrolling line; empty for none")


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


def statuses(rt: Runtime) -> dict[str, dict]:
    return {d: {**(row.data or {}), "online": row.online} for d, row in rt.store.device_statuses(rt.config.id).items()}


def view(rt: Runtime) -> dict:
    found = statuses(rt)
    return rt.service.snapshot(lambda hall, now: live.dashboard(hall, now, found))


def staffing_advice_url(request: Request) -> str | None:
    """The staffing advice of the Balancing work, when its router is installed (a GET under
    /api/staffing without parameters); the dashboard shows it, and works without it."""
    for route in request.app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/api/staffing") and "{" not in path and "GET" in (getattr(route, "methods", None) or ()):
            return path
    return None


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, who: Viewer) -> HTMLResponse:
    from hallserver.auth import allowed

    policy, notice = _rt(request).service.snapshot(lambda hall, now: (hall.policy.name, hall.notice))
    return render(request, "dashboard.html", can_staff=allowed(who.role, "staffing"),
                  can_audit=allowed(who.role, "reports"), staffing_url=staffing_advice_url(request),
                  policy=policy, policies=sorted(POLICIES), notice=notice)


@router.get("/api/dashboard")
def dashboard_now(request: Request, who: Viewer) -> dict:
    """Everything the dashboard shows, now."""
    return view(_rt(request))


@router.get("/api/dashboard/stream")
async def dashboard_stream(request: Request, who: Viewer) -> StreamingResponse:
    """Server-sent events: `dashboard` on every change of the board (and every few seconds), `call`
    on each call; `signed_out`, and the end of the stream, when the session ends (signed out
    elsewhere, or idle: the stream itself is not activity)."""
    rt = _rt(request)
    auth = authenticator(request)
    q = rt.hub.subscribe()

    async def events():
        try:
            yield sse("dashboard", await asyncio.to_thread(view, rt))
            while not await request.is_disconnected():
                try:
                    kind, payload = await asyncio.wait_for(q.get(), REFRESH_S)
                except TimeoutError:
                    if not await asyncio.to_thread(auth.still_signed_in, who):
                        yield sse("signed_out", {})
                        return
                    yield sse("dashboard", await asyncio.to_thread(view, rt))
                    continue
                batch = [(kind, payload)]
                while not q.empty():  # a burst of changes makes one dashboard
                    batch.append(q.get_nowait())
                for k, p in batch:
                    if k == "close":
                        return
                    if k == "call":
                        yield sse("call", p)
                yield sse("dashboard", await asyncio.to_thread(view, rt))
        finally:
            rt.hub.unsubscribe(q)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# ---------------------------------------------------------------- staffing changes
def _counter(hall: Hall, number: int) -> dict | None:
    c = hall.counters.get(number)
    if c is None:
        return None
    return {"services": list(c.services), "status": c.status, "closed": c.closed, "officer": c.officer}


def _apply(request: Request, who, action: str, target: str, command, snap, attempt: dict | None = None) -> dict:
    """Run `command(hall, now)` with `snap(hall)` taken before and after, audited in the same
    transaction; then republish the device states. A refusal by the engine is audited too
    (action `<action>.refused`: the state before, and after it what was attempted and the code)."""
    rt = _rt(request)

    def run(hall: Hall, now):
        before = snap(hall)
        events = command(hall, now)
        extra = [Accounts.audit_row(rt.config.id, who.username, action, target, before, snap(hall), now)] if events \
            else []
        return events, extra

    try:
        events = rt.service.command(run)
    except Refused as r:
        lang = lang_of(request)
        message = protocols.message(r.code, lang)
        if r.code != "unavailable":  # with the store gone there is nowhere to write it
            _audit_refusal(rt, who, action, target, snap, attempt, r)
        raise HTTPException(503 if r.code == "unavailable" else 409, f"{message} ({r.code})") from None
    if events and rt.adapter is not None:
        rt.adapter.refresh(rt.config.id)
    return {"ok": True, "changed": bool(events), "events": [e.kind for e in events],
            "after": rt.service.snapshot(lambda hall, now: snap(hall))}


def _audit_refusal(rt: Runtime, who, action: str, target: str, snap, attempt: dict | None, r: Refused) -> None:
    """Who tried what, when, and why the engine said no (best effort: a refusal stays a refusal)."""
    try:
        before = rt.service.snapshot(lambda hall, now: snap(hall))
    except Exception:  # noqa: BLE001 - the snapshot itself may be what fails (an unknown counter)
        before = None
    after = {"attempt": attempt or {}, "refused": r.code}
    if r.detail:
        after["detail"] = str(r.detail)[:200]
    try:
        Accounts(rt.store).audit(rt.config.id, who.username, f"{action}.refused", target, before, after,
                                 rt.service.now())
    except Exception as exc:  # noqa: BLE001 - the answer to the manager must not become a 500
        log.error("refused %s by %s not audited: %s", action, who.username, exc)


@router.post("/api/manage/counters/{number}/services")
def set_services(request: Request, who: Staffing, number: int, body: ServicesIn) -> dict:
    """Which services a counter serves, in order; effective at its next call."""
    return _apply(request, who, "counter.services", f"counter {number}",
                  lambda hall, now: hall.set_services(now, number, body.services),
                  lambda hall: _counter(hall, number), {"services": body.services})


@router.post("/api/manage/counters/{number}/close")
def close_counter(request: Request, who: Staffing, number: int) -> dict:
    return _apply(request, who, "counter.close", f"counter {number}",
                  lambda hall, now: hall.close_counter(now, number, who.username),
                  lambda hall: _counter(hall, number), {"close": number})


@router.post("/api/manage/counters/{number}/open")
def open_counter(request: Request, who: Staffing, number: int) -> dict:
    return _apply(request, who, "counter.open", f"counter {number}",
                  lambda hall, now: hall.open_counter(now, number, who.username),
                  lambda hall: _counter(hall, number), {"open": number})


@router.post("/api/manage/officers/{officer}/move")
def move_officer(request: Request, who: Staffing, officer: str, body: MoveIn) -> dict:
    """Seat an officer at a counter (from another counter, or not logged in yet)."""

    def snap(hall: Hall) -> dict:
        at = hall.counter_of_officer(officer)
        target = hall.counters.get(body.counter)
        return {"counter": at.number if at else None,
                "target_officer": target.officer if target else None,
                "pending": (hall.pending_moves.get(officer) or {}).get("counter")}  # deferred while serving

    return _apply(request, who, "officer.move", f"officer {officer} → counter {body.counter}",
                  lambda hall, now: hall.move_officer(now, officer, body.counter, who.username), snap,
                  {"officer": officer, "counter": body.counter})


@router.post("/api/manage/policy")
def set_policy(request: Request, who: Staffing, body: PolicyIn) -> dict:
    """Switch the hall's routing policy now, for the rest of the day (the configured one returns
    the next day)."""
    return _apply(request, who, "hall.policy", "policy",
                  lambda hall, now: hall.set_policy(now, body.policy, who.username),
                  lambda hall: {"policy": hall.policy.name}, {"policy": body.policy})


@router.post("/api/manage/notice")
def set_notice(request: Request, who: Staffing, body: NoticeIn) -> dict:
    """The scrolling notice of the hall screens, for the rest of the day."""
    return _apply(request, who, "hall.notice", "notice",
                  lambda hall, now: hall.set_notice(now, body.notice, who.username),
                  lambda hall: {"notice": hall.notice}, {"notice": body.notice})
