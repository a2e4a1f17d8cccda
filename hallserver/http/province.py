"""Many halls behind one HTTP server: each hall's own app (`create_app`) mounted at `/h/{hall}`,
and at `/` the province index of every hall with its live load.

Every page, script and redirect of a hall app starts its URLs with the prefix it is mounted under
(`scope["root_path"]`, see `auth.base_of`), so a hall works the same at `/` (one hall) and at
`/h/{hall}` (here). One sign-in serves the province: the session cookie has path `/` and the
accounts are shared, and each hall's authenticator refuses an account bound to another hall (a
403 page, an HTTP 403 from its API). The index is for province-wide staff (an account bound to no
hall with the dashboard permission); an account bound to one hall is sent to its hall.

Mounted apps' lifespans do not run under Starlette, so this app's lifespan binds every hall's
hub to the server's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from hallserver.auth import allowed
from hallserver.auth.roles import home
from hallserver.domain import views
from hallserver.http import auth
from hallserver.http.app import WEB, create_app, prometheus_text
from hallserver.http.pages import render
from hallserver.province import PREFIX
from hallserver.service import StoreUnavailable
from hallserver.settings import Settings
from hallserver.store.accounts import Accounts

if TYPE_CHECKING:
    from hallserver.bootstrap import Runtime
    from hallserver.store import Store

log = logging.getLogger("hallserver.province")
NOT_PROVINCE = ("Trang này dành cho cán bộ cấp tỉnh / this page is for province-wide staff")


@dataclass(frozen=True)
class Brand:
    """What the manager pages' frame shows in place of a hall (its `hall` variable)."""

    name: str
    name_en: str


def hall_path(hall_id: str) -> str:
    """Where a hall's app is mounted; its public_url must end with it for the tickets' QR links."""
    return f"{PREFIX}/{hall_id}"


def figures(hall, now) -> dict:
    """A hall's load now: waiting tickets, longest wait, open counters, tickets issued today."""
    queues = views.queues(hall, now)
    return {"waiting": sum(q["waiting"] for q in queues),
            "longest_wait_s": max((q["longest_wait_s"] for q in queues), default=0),
            "counters_open": sum(1 for c in hall.counters.values() if c.status == "open"),
            "counters": len(hall.counters), "tickets_today": hall.order}


def hall_load(hall_id: str, rt: Runtime) -> dict:
    row = {"id": hall_id, "name": rt.config.name, "name_en": rt.config.name_en, "url": hall_path(hall_id) + "/",
           "mqtt_connected": rt.mqtt_connected()}
    try:
        return {**row, "available": True, **rt.service.snapshot(figures)}
    except StoreUnavailable:  # one hall's outage must not hide the others
        return {**row, "available": False, "waiting": None, "longest_wait_s": None, "counters_open": None,
                "counters": len(rt.config.counters), "tickets_today": None}


def create_province_app(halls: Mapping[str, Runtime], settings: Settings, accounts_store: Store,
                        name: str = "Các trung tâm phục vụ hành chính công",
                        name_en: str = "Public service halls") -> FastAPI:
    """`halls`: hall id -> a started runtime (service, hub, config, store, settings, adapter, clips,
    mqtt_connected), each sharing `accounts_store`'s database for its accounts."""
    for hall_id, rt in halls.items():
        if hall_id != rt.config.id:
            raise ValueError(f"hall {hall_id!r} is mounted with the configuration of {rt.config.id!r}")
        public = urlsplit(rt.config.public_url).path.rstrip("/")
        if public != hall_path(hall_id):
            log.warning("hall %s: public_url %s does not end with %s; its tickets' QR links will not open "
                        "its tracking page", hall_id, rt.config.public_url, hall_path(hall_id))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        loop = asyncio.get_running_loop()
        for rt in halls.values():
            rt.hub.bind(loop)
        yield

    app = FastAPI(title=f"{name} — province server", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.brand = Brand(name, name_en)
    app.state.menu = (("/", "dashboard", "Các sảnh", "Halls"),)
    app.state.landing = lambda role: "/"  # the index sends an account bound to one hall on to it
    first = next(iter(halls.values()), None)
    auth.install(app, Accounts(accounts_store), None, settings, first.service.now if first else _utc_now)
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    def visitor(request: Request) -> Response | auth.Principal:
        """The province-wide principal, or the answer for anyone else."""
        who = auth.principal(request)
        if who is None:
            raise auth.NotSignedIn
        if who.hall is not None:
            if who.hall in halls and not auth.is_api(request):
                return RedirectResponse(hall_path(who.hall) + home(who.role), 303)
            raise auth.Forbidden(auth.OTHER_HALL if who.hall not in halls else NOT_PROVINCE)
        if not allowed(who.role, "dashboard"):
            raise auth.Forbidden(NOT_PROVINCE)
        return who

    def loads() -> list[dict]:
        return [hall_load(hall_id, rt) for hall_id, rt in halls.items()]

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Response:
        who = visitor(request)
        if isinstance(who, Response):
            return who
        return render(request, "province.html", halls=loads())

    @app.get("/api/halls")
    def api_halls(request: Request) -> list[dict]:
        """Every hall with its load now (province-wide staff)."""
        visitor(request)
        return loads()

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        found = {hall_id: {"mqtt_connected": rt.mqtt_connected()} for hall_id, rt in halls.items()}
        ok = all(h["mqtt_connected"] for h in found.values())
        return JSONResponse({"status": "ok" if ok else "degraded", "halls": found})

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        """Every hall's series in one scrape (public on the LAN like /healthz)."""
        return prometheus_text(list(halls.values()))

    for hall_id, rt in halls.items():
        app.mount(hall_path(hall_id), create_app(rt), name=f"hall-{hall_id}")
    return app


def _utc_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
