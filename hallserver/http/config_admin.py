"""The hall configuration edited from the admin page (role admin): services (names, target wait,
daily cap, enabled), counters (name, default services) and officers (add, rename, reset PIN,
deactivate). Plain forms with the CSRF field; each change is audited with before/after, and a
change that would break the live day is refused with a Vietnamese/English message (409).
hallserver/config_edits.py does the work; this module only reads forms and answers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hallserver.config_edits import ConfigConflict, OverlayError, edit
from hallserver.domain.pins import hash_pin
from hallserver.http.auth import Admin, form_fields
from hallserver.http.pages import render

router = APIRouter(include_in_schema=False)
PIN_DIGITS = (4, 8)


def _rt(request: Request):
    return request.app.state.rt


def _page(request: Request, status: int = 200, error: str | None = None, saved: bool = False) -> HTMLResponse:
    rt = _rt(request)
    cfg = rt.service.config
    seated = rt.service.snapshot(lambda hall, now: {c.officer: c.number for c in hall.counters.values()
                                                    if c.officer})
    return render(request, "admin_config.html", status=status, error=error, saved=saved, cfg=cfg, seated=seated)


def _number(text: str, what_vi: str, what_en: str, blank_none: bool = False) -> int | None:
    text = text.strip()
    if blank_none and text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise OverlayError(f"{what_vi}: cần một số nguyên / {what_en}: a whole number") from None


def _pin(text: str) -> str:
    lo, hi = PIN_DIGITS
    if not (text.isascii() and text.isdigit() and lo <= len(text) <= hi):
        raise OverlayError(f"Mã PIN gồm {lo}–{hi} chữ số / a PIN has {lo} to {hi} digits")
    return hash_pin(text)


def _save(request: Request, who, change: dict) -> Response:
    try:
        edit(_rt(request), who.username, change)
    except OverlayError as exc:
        return _page(request, 422, str(exc))
    except ConfigConflict as exc:
        return _page(request, 409, str(exc))
    rt = _rt(request)
    adapter = rt.adapter
    if adapter is not None:  # the devices' states carry counter services: republish them now
        refresh = getattr(adapter, "refresh", None)
        refresh(rt.service.config.id) if refresh is not None else adapter.inbox.put("outputs")
    return RedirectResponse(request.scope.get("root_path", "").rstrip("/") + "/admin/config?saved=1", 303)


@router.get("/admin/config", response_class=HTMLResponse)
def config_page(request: Request, who: Admin, saved: int = 0) -> HTMLResponse:
    return _page(request, saved=bool(saved))


@router.post("/admin/config/services/{code}")
async def edit_service(request: Request, who: Admin, code: str) -> Response:
    f = await form_fields(request)
    try:
        entry: dict = {"name": f.get("name", ""), "name_en": f.get("name_en", ""),
                       "target_wait_min": _number(f.get("target_wait_min", ""), "Thời gian chờ mục tiêu",
                                                  "target wait"),
                       "daily_cap": _number(f.get("daily_cap", ""), "Giới hạn số/ngày", "daily cap", blank_none=True),
                       "enabled": f.get("enabled", "1") == "1"}
    except OverlayError as exc:
        return _page(request, 422, str(exc))
    return _save(request, who, {"services": {code: entry}})


@router.post("/admin/config/counters/{number}")
async def edit_counter(request: Request, who: Admin, number: int) -> Response:
    f = await form_fields(request)
    codes = [c.strip() for c in f.get("services", "").replace(";", ",").split(",") if c.strip()]
    return _save(request, who, {"counters": {str(number): {"name": f.get("name", ""), "services": codes}}})


@router.post("/admin/config/officers/{officer}")
async def edit_officer(request: Request, who: Admin, officer: str) -> Response:
    f = await form_fields(request)
    if officer not in _rt(request).service.config.officers:
        return _page(request, 404, "Không có cán bộ này / no such officer")
    entry: dict = {"name": f.get("name", ""), "active": f.get("active", "1") == "1"}
    try:
        if f.get("pin"):
            entry["pin_hash"] = _pin(f["pin"])
    except OverlayError as exc:
        return _page(request, 422, str(exc))
    return _save(request, who, {"officers": {officer: entry}})


@router.post("/admin/config/officers")
async def add_officer(request: Request, who: Admin) -> Response:
    f = await form_fields(request)
    oid = f.get("id", "").strip().lower()
    if oid in _rt(request).service.config.officers:
        return _page(request, 409, f"Mã cán bộ {oid} đã có / officer id {oid} is taken")
    try:
        entry = {"name": f.get("name", ""), "pin_hash": _pin(f.get("pin", "")), "active": True}
    except OverlayError as exc:
        return _page(request, 422, str(exc))
    return _save(request, who, {"officers": {oid: entry}})
