"""Citizen ticket tracking behind the QR code: one ticket by its unguessable token, live by
server-sent events; a wrong or old token gets a clear message. Public on the hall LAN."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from hallserver.domain import views
from hallserver.http import schemas
from hallserver.http.hub import sse

if TYPE_CHECKING:
    from hallserver.bootstrap import Runtime

router = APIRouter(tags=["tickets"])
KEEPALIVE_S = 15
RESEND_S = 60  # the estimated wait moves with time even when nothing is called


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


def well_formed(token: str) -> bool:
    return 8 <= len(token) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)


def lookup(rt: Runtime, token: str) -> tuple[dict | None, dict | None]:
    """(the ticket's view, None) or (None, the error: code and bilingual text)."""
    if not well_formed(token):
        return None, {"code": "invalid", "detail": "Mã theo dõi không hợp lệ — hãy quét lại mã QR trên phiếu / "
                                                   "invalid tracking link: scan the ticket's QR code again"}

    def show(t, h, now):
        view = views.ticket_status(t, h, now)
        view.pop("priority", None)  # a category of the person: not for a link that may be shared
        view["counter_name"] = h.config.counters[view["counter"]].name if view["counter"] else None
        return view

    found = rt.service.ticket(show, token=token)
    if found is not None:
        return found, None
    old = rt.store.ticket_by_token(rt.config.id, token)
    if old is not None:
        day = old.day.strftime("%d/%m/%Y")
        return None, {"code": "expired", "detail": f"Số {old.number} của ngày {day} đã hết hiệu lực: số thứ tự chỉ "
                                                   f"dùng trong ngày / ticket {old.number} of {day} has expired"}
    return None, {"code": "unknown", "detail": "Không tìm thấy số thứ tự của mã này / no ticket has this link"}


@router.get("/api/track/{token}", response_model=schemas.TrackOut,
            responses={404: {"model": schemas.TrackErrorOut}})
def track(request: Request, token: str):
    found, error = lookup(_rt(request), token)
    return found if found is not None else JSONResponse(error, 404)


@router.get("/api/track/{token}/stream")
async def track_stream(request: Request, token: str) -> StreamingResponse:
    """Server-sent events: `ticket` whenever the ticket's status, position or counter changes;
    `gone` (and the end of the stream) when the link is wrong or expired."""
    rt = _rt(request)
    q = rt.hub.subscribe()

    async def events():
        last = None
        waited = 0.0
        try:
            while True:
                found, error = await asyncio.to_thread(lookup, rt, token)
                if error is not None:
                    yield sse("gone", error)
                    return
                key = {k: v for k, v in found.items() if k != "waited_s"}
                if key != last or waited >= RESEND_S:
                    last, waited = key, 0.0
                    yield sse("ticket", found)
                while True:
                    if await request.is_disconnected():
                        return
                    try:
                        kind, _ = await asyncio.wait_for(q.get(), KEEPALIVE_S)
                    except TimeoutError:
                        waited += KEEPALIVE_S
                        yield ": keep-alive\n\n"
                        if waited >= RESEND_S:
                            break
                        continue
                    if kind == "close":
                        return
                    while not q.empty():
                        if q.get_nowait()[0] == "close":
                            return
                    break
        finally:
            rt.hub.unsubscribe(q)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
