"""FastAPI application: health, hall description, queues, tickets, the live overview.

Routes only translate HTTP to the service layer and back; business rules live in the engine.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

import protocols
from displays.screen import ASSETS as SCREEN_ASSETS
from hallserver.domain import views
from hallserver.http import admin, auth, config_admin, dashboard, kiosk, reports, schemas, staffing, tracking
from hallserver.http.hub import sse
from hallserver.http.pages import plain_page
from hallserver.service import StoreUnavailable
from hallserver.store.accounts import Accounts

if TYPE_CHECKING:
    from hallserver.bootstrap import Runtime

WEB = Path(__file__).parent.parent / "web"
KEEPALIVE_S = 15


def _levels(levels) -> list[schemas.LevelOut]:
    return [schemas.LevelOut(key=lv.key, label=lv.label, label_en=lv.label_en) for lv in levels]


def prometheus_text(halls: list) -> PlainTextResponse:
    """GET /metrics of one hall or of a province (hallserver/metrics.py)."""
    from hallserver import metrics

    figures = []
    for rt in halls:
        service = rt.service
        waiting = service.snapshot(lambda h, now, s=service: {code: len(h.waiting(code)) for code in s.config.services})
        figures.append(metrics.HallFigures(service.config.id, dict(service.metrics), waiting, rt.mqtt_connected()))
    adapter = halls[0].adapter
    text = metrics.render(figures, halls[0].province.id, adapter.latency if adapter is not None else None,
                          adapter.inbox.qsize() if adapter is not None else None,
                          adapter.hold_s if adapter is not None else None)
    return PlainTextResponse(text, media_type=metrics.CONTENT_TYPE)


def create_app(rt: Runtime) -> FastAPI:
    service, hub = rt.service, rt.hub
    cfg = service.config

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        hub.bind(asyncio.get_running_loop())
        yield

    # interactive docs at /docs with Swagger UI served by this server: the hall LAN has no internet
    app = FastAPIOffline(title=f"{cfg.name} — hall server", version="0.1.0", lifespan=lifespan, redoc_url=None,
                         description="Hall queue system: live queues, tickets and the hall overview.")
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
        return JSONResponse({"detail": "Hệ thống tạm thời không phục vụ được / the database is unreachable"},
                            status_code=503)
    # sign-in and roles (issue 6). Public on the hall LAN by decision: /, /screen, /api/stream,
    # /api/board, /api/queues (what the hall screen shows), /api/hall (configuration the dispensers
    # read; no PINs), /t/{token} and /api/track/{token} (one ticket, by its unguessable token),
    # /healthz, /metrics, /docs (describes the API; every data route checks its role). Everything else needs
    # a role: see hallserver/auth/roles.py.
    app.state.rt = rt
    auth.install(app, Accounts(rt.store), cfg.id, rt.settings, service.now)
    for router in (dashboard.router, reports.router, admin.router, config_admin.router, tracking.router):
        app.include_router(router)
    app.include_router(staffing.router(rt), dependencies=[Depends(auth.require("staffing"))])
    app.include_router(kiosk.router(rt))  # public: the touch kiosks of the hall
    app.mount("/screen/static", StaticFiles(directory=SCREEN_ASSETS), name="screen")

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict:
        return {"status": "ok", "hall": cfg.id, "mqtt_connected": rt.mqtt_connected(),
                "metrics": dict(service.metrics)}

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def prometheus() -> PlainTextResponse:
        """Prometheus text format: messages in and out, refusals by code, waiting per service, latency."""
        return prometheus_text([rt])

    @app.get("/api/hall", response_model=schemas.HallOut, tags=["hall"])
    def hall() -> schemas.HallOut:
        cfg = service.config  # the live one: an admin may have edited it (hallserver/config_edits.py)
        return schemas.HallOut(
            id=cfg.id, name=cfg.name, name_en=cfg.name_en,
            services=[schemas.ServiceOut(code=s.code, name=s.name, name_en=s.name_en, prefix=s.prefix,
                                         daily_cap=s.daily_cap, target_wait_min=s.target_wait_min,
                                         enabled=s.enabled) for s in cfg.services.values()],
            counters=service.snapshot(lambda h, now: [
                schemas.CounterOut(number=c.number, name=c.name, kind=c.kind,
                                   services=list(h.counters[c.number].services)) for c in cfg.counters.values()]),
            devices=[schemas.DeviceOut(id=d.id, kind=d.kind, counter=d.counter) for d in cfg.devices.values()],
            officers=[schemas.OfficerOut(id=o.id, name=o.name) for o in cfg.officers.values()],
            rating_levels=_levels(cfg.levels), rating_reasons=_levels(cfg.reasons),
            priority_categories=_levels(cfg.priority.categories),
        )

    @app.get("/api/queues", response_model=list[schemas.QueueOut], tags=["hall"])
    def queues() -> list[dict]:
        return service.snapshot(views.queues)

    @app.get("/api/board", tags=["hall"])
    def board() -> dict:
        return service.snapshot(views.board)

    @app.get("/api/tickets/{number}", response_model=schemas.TicketOut, tags=["tickets"],
             responses={404: {"model": schemas.ErrorOut}, 422: {"model": schemas.ErrorOut}})
    def ticket(number: str, who: auth.Viewer) -> dict:
        """A ticket by its number (staff: numbers are easy to guess, citizens use their token)."""
        number = number.upper()
        if not protocols.is_ticket_number(number):
            raise HTTPException(422, "Số thứ tự không hợp lệ (ví dụ: A001) / invalid ticket number")

        found = service.ticket(views.ticket_status, number=number)
        if found is None:
            raise HTTPException(404, f"Không có số {number} hôm nay / no ticket {number} today")
        return found

    @app.get("/api/stream", tags=["hall"])
    async def stream(request: Request) -> StreamingResponse:
        """Server-sent events: `board` snapshots and each `call`, the first board at once."""
        q = hub.subscribe()

        async def events():
            try:
                yield sse("board", service.snapshot(views.board))
                while not await request.is_disconnected():
                    try:
                        kind, payload = await asyncio.wait_for(q.get(), KEEPALIVE_S)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if kind == "close":
                        return
                    yield sse(kind, payload)
            finally:
                hub.unsubscribe(q)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/api/voice/call.wav", tags=["hall"], response_class=FileResponse,
             responses={422: {"model": schemas.ErrorOut}, 503: {"model": schemas.ErrorOut}})
    def voice_clip(number: str, counter: int) -> FileResponse:
        """The spoken announcement of a call (chime, Vietnamese, repeated), made once and cached."""
        from displays.voice.synth import SynthesisError

        number = number.upper()
        if not protocols.is_ticket_number(number) or counter not in cfg.counters:
            raise HTTPException(422, "Số thứ tự hoặc quầy không hợp lệ / invalid ticket or counter")
        try:
            path = rt.clips.build(number, counter)
        except SynthesisError as exc:
            raise HTTPException(503, f"Không tạo được âm thanh / no voice: {exc}") from exc
        return FileResponse(path, media_type="audio/wav")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request) -> HTMLResponse:
        return plain_page(request, "overview.html")

    @app.get("/screen", response_class=HTMLResponse, include_in_schema=False)
    def screen(request: Request) -> HTMLResponse:
        """The hall screen for the TVs: ?services=a,b or ?counters=1-10 for a subset."""
        return plain_page(request, "index.html")

    @app.get("/t/{token}", response_class=HTMLResponse, include_in_schema=False)
    def track_page(request: Request, token: str) -> HTMLResponse:
        return plain_page(request, "track.html")

    return app
