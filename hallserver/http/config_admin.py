"""The hall configuration edited from the admin page (role admin): services (add; names, target
wait, daily cap, enabled), counters (add; name, default services), officers (add, rename, reset
PIN, deactivate) and devices (add; the admin page's device logins then issue their broker login).
Nothing is removed here: a service is disabled instead. Plain forms with the CSRF field; each
change is audited with before/after; a wrong value is refused (422), a taken code, number or id
and a change that would break the live day too (409), each with a Vietnamese/English message.
hallserver/config_edits.py does the work; this module only reads forms and answers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hallserver import provisioning
from hallserver.config_edits import ConfigConflict, OverlayError, edit
from hallserver.domain.overlay import COUNTER_KINDS, DEVICE_KINDS
from hallserver.domain.pins import hash_pin
from hallserver.http.auth import Admin, form_fields
from hallserver.http.pages import render
from protocols import topics

router = APIRouter(include_in_schema=False)
PIN_DIGITS = (4, 8)


def _rt(request: Request):
    return request.app.state.rt


def _logins(request: Request, cfg) -> dict[str, str]:
    """Each device's broker login as the admin page's device section shows it: none, active, revoked."""
    creds = provisioning.Credentials(provisioning.credentials_path(_rt(request).settings.config_path))
    out = {}
    for did in cfg.devices:
        login = creds.find(topics.username(cfg.id, did))
        out[did] = "none" if login is None else ("active" if login.active else "revoked")
    return out


def _page(request: Request, status: int = 200, error: str | None = None, saved: bool = False,
          added: str = "") -> HTMLResponse:
    rt = _rt(request)
    cfg = rt.service.config
    seated = rt.service.snapshot(lambda hall, now: {c.officer: c.number for c in hall.counters.values()
                                                    if c.officer})
    return render(request, "admin_config.html", status=status, error=error, saved=saved, cfg=cfg, seated=seated,
                  logins=_logins(request, cfg), added=added if added in cfg.devices else "",
                  counter_kinds=COUNTER_KINDS, device_kinds=DEVICE_KINDS)


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


def _list(text: str) -> list[str]:
    return [c.strip() for c in text.replace(";", ",").split(",") if c.strip()]


def _save(request: Request, who, change: dict, then: str = "") -> Response:
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
    return RedirectResponse(request.scope.get("root_path", "").rstrip("/") + "/admin/config?saved=1" + then, 303)


@router.get("/admin/config", response_class=HTMLResponse)
def config_page(request: Request, who: Admin, saved: int = 0, added: str = "") -> HTMLResponse:
    return _page(request, saved=bool(saved), added=added)


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
    return _save(request, who, {"counters": {str(number): {"name": f.get("name", ""),
                                                           "services": _list(f.get("services", ""))}}})


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


@router.post("/admin/config/services")
async def add_service(request: Request, who: Admin) -> Response:
    """A new service, disabled unless the form says otherwise (no ticket before a counter serves it)."""
    f = await form_fields(request)
    code = f.get("code", "").strip().lower()
    if code in _rt(request).service.config.services:
        return _page(request, 409, f"Mã dịch vụ {code} đã có / service code {code} is taken")
    try:
        entry: dict = {"prefix": f.get("prefix", "").strip().upper(), "name": f.get("name", ""),
                       "name_en": f.get("name_en", ""),
                       "handle_min": _number(f.get("handle_min", "10"), "Thời gian xử lý", "handling time"),
                       "target_wait_min": _number(f.get("target_wait_min", "15"), "Thời gian chờ mục tiêu",
                                                  "target wait"),
                       "daily_cap": _number(f.get("daily_cap", ""), "Giới hạn số/ngày", "daily cap", blank_none=True),
                       "enabled": f.get("enabled", "0") == "1"}
    except OverlayError as exc:
        return _page(request, 422, str(exc))
    return _save(request, who, {"services": {code: entry}})


@router.post("/admin/config/counters")
async def add_counter(request: Request, who: Admin) -> Response:
    f = await form_fields(request)
    try:
        number = _number(f.get("number", ""), "Số quầy", "counter number")
    except OverlayError as exc:
        return _page(request, 422, str(exc))
    if number in _rt(request).service.config.counters:
        return _page(request, 409, f"Quầy {number} đã có / counter {number} exists")
    entry = {"name": f.get("name", "").strip() or f"Quầy {number}", "kind": f.get("kind", ""),
             "services": _list(f.get("services", ""))}
    return _save(request, who, {"counters": {str(number): entry}})


@router.post("/admin/config/devices")
async def add_device(request: Request, who: Admin) -> Response:
    """A device the installer mounts; the page then offers to issue its broker login."""
    f = await form_fields(request)
    did, kind = f.get("id", "").strip().lower(), f.get("kind", "")
    if did in _rt(request).service.config.devices:
        return _page(request, 409, f"Mã thiết bị {did} đã có / device id {did} is taken")
    entry: dict = {"kind": kind}
    try:
        if kind in ("terminal", "led", "rating"):
            entry["counter"] = _number(f.get("counter", ""), "Số quầy", "counter number")
        if kind == "dispenser":
            entry["services"] = _list(f.get("services", ""))
    except OverlayError as exc:
        return _page(request, 422, str(exc))
    return _save(request, who, {"devices": {did: entry}}, then=f"&added={did}#devices")
