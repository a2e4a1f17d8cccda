"""The touch kiosk: a page served by the hall server for a dispenser's screen, and the HTTP calls it
makes (no MQTT in the browser). A ticket taken here goes through the same service layer as MQTT
`ticket.take` from that dispenser — same rules, same idempotency by the id the page makes — and is
then pushed to the dispenser (`ticket.print` on its `down` topic), which prints and confirms it.

Include with `app.include_router(kiosk.router(rt))`.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

import protocols
from hallserver.domain import views
from hallserver.http.pages import plain_page

if TYPE_CHECKING:
    from hallserver.bootstrap import Runtime

HTTP_STATUS = {"unavailable": 503, "bad_field": 422, "bad_id": 422, "unknown_service": 422, "unknown_priority": 422}


class KioskTicketIn(BaseModel):
    id: str = Field(description="made by the page for each touch, the same on every retry of that touch")
    service: str
    priority: str | None = None


def _refusal(code: str, detail: str = "") -> JSONResponse:
    return JSONResponse({"code": code, "message": protocols.message(code), "detail": detail},
                        status_code=HTTP_STATUS.get(code, 409))


def router(rt: Runtime) -> APIRouter:
    service = rt.service
    cfg = service.config
    r = APIRouter(tags=["kiosk"])

    def dispenser(device: str):
        d = cfg.devices.get(device)
        if d is None or d.kind != "dispenser":
            raise HTTPException(404, f"Không có máy lấy số {device} / no dispenser {device}")
        return d

    def printer(device: str) -> dict:
        """The dispenser agent's last status: is it there to print, and has it paper?"""
        row = rt.store.device_statuses(cfg.id).get(device)
        if row is None or not row.online:
            return {"online": False, "paper": None, "printer": None}
        return {"online": True, "paper": row.data.get("paper"), "printer": row.data.get("printer")}

    @r.get("/kiosk/{device}", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request, device: str) -> HTMLResponse:
        dispenser(device)
        return plain_page(request, "kiosk.html")

    @r.get("/api/kiosk/{device}")
    def kiosk(device: str) -> dict:
        """What the kiosk page shows: the dispenser's services, open or not, and its printer."""
        d = dispenser(device)

        def read(hall, now):
            state = views.device_state(hall, d, now)
            queues = {q["service"]: q for q in views.queues(hall, now)}
            live = hall.config.services  # names as the admin last edited them
            return [{"code": s["code"], "name": live[s["code"]].name, "prefix": live[s["code"]].prefix,
                     "open": s["open"], "waiting": s["waiting"], "eta_min": queues[s["code"]]["eta_min"]}
                    for s in state["services"]]

        return {"hall": cfg.name, "device": device, "services": service.snapshot(read),
                "priority_categories": [{"key": c.key, "label": c.label} for c in cfg.priority.categories],
                "printer": printer(device)}

    @r.post("/api/kiosk/{device}/tickets", responses={409: {}, 422: {}, 503: {}})
    def take(device: str, body: KioskTicketIn):
        """Take a ticket for the dispenser `device`; a retry with the same id returns the same ticket."""
        dispenser(device)
        status = printer(device)
        if status["paper"] == "out":
            return _refusal("paper_out")
        fields = {"service": body.service}
        if body.priority:
            fields["priority"] = body.priority
        try:
            payload = protocols.encode(protocols.make_up("ticket.take", body.id, fields))
        except protocols.ProtocolError as exc:
            return _refusal(exc.code, exc.detail)
        outcome = service.handle_up(device, payload)
        reply = outcome.reply or {}
        if not reply.get("ok"):
            err = reply.get("error", {})
            return _refusal(err.get("code", "server_error"), err.get("detail", ""))
        adapter = rt.adapter
        if outcome.events and adapter is not None:
            adapter.refresh(cfg.id)  # states and board, published by the MQTT worker as usual
            push = {"v": 1, "t": "ticket.print", "ticket": reply["ticket"]}
            adapter.publish(cfg.id, protocols.topics.down(cfg.id, device), push)
        return {"ticket": reply["ticket"], "printing": status["online"], "duplicate": outcome.duplicate}

    @r.get("/api/kiosk/{device}/tickets/{number}/qr.svg", response_class=Response,
           responses={200: {"content": {"image/svg+xml": {}}}, 404: {}})
    def qr(device: str, number: str) -> Response:
        """The QR code of a ticket's tracking link, shown on the kiosk's screen after a take (the
        printed ticket has the printer's own). Only tickets of today issued by this dispenser."""
        dispenser(device)

        def find(hall, now):
            t = hall.tickets.get(number)
            return views.ticket_reply(t, hall)["track_url"] if t is not None and t.device == device else None

        url = service.snapshot(find)
        if url is None:
            raise HTTPException(404, f"Không có số {number} hôm nay / no ticket {number} today")
        return Response(qr_svg(url), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})

    return r


def qr_svg(text: str) -> bytes:
    """A QR code as a small SVG (one path), drawn by the browser at any size."""
    import qrcode
    import qrcode.image.svg

    out = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2).save(out)
    return out.getvalue()
