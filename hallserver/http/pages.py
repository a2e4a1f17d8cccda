"""Server-rendered pages (Jinja2, autoescaped): the common frame, the language and the menu a role sees."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from displays.screen import ASSETS as SCREEN_ASSETS
from hallserver.auth import allowed, role_label
from hallserver.http.auth import base_of, lang_of, principal

WEB = Path(__file__).parent.parent / "web"
TEMPLATES = WEB / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
# the plain pages (overview, tracking, kiosk, hall screen): static HTML but for `{{ base }}`
_plain = Environment(loader=FileSystemLoader([WEB, SCREEN_ASSETS]), autoescape=True)

MENU = (  # (path, permission, Vietnamese, English)
    ("/dashboard", "dashboard", "Bảng điều khiển", "Dashboard"),
    ("/reports", "reports", "Báo cáo", "Reports"),
    ("/reports/monthly", "reports", "Báo cáo tháng", "Monthly report"),
    ("/audit", "reports", "Nhật ký thay đổi", "Audit log"),
    ("/me", "own_figures", "Số liệu của tôi", "My figures"),
    ("/admin", "users", "Quản trị", "Administration"),
    ("/admin/config", "users", "Cấu hình sảnh", "Hall setup"),
)


def number(value: float | int | None, digits: int = 1) -> str:
    """Vietnamese number format: comma for decimals, dot for thousands; — for nothing."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    text = f"{value:,.{digits}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def percent(value: float | None) -> str:
    return "—" if value is None else number(value * 100, 1) + " %"


def vn_date(value: date | datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


_env.filters.update(number=number, percent=percent, vn_date=vn_date)


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    """A manager page. `base` is the prefix the app is mounted under ("" at the root, "/h/{hall}" in
    a province): every link, form and script URL of the templates starts with it. An app without a
    hall (the province index) sets `state.brand` (name, name_en) and `state.menu` instead."""
    lang = lang_of(request)
    who = principal(request)
    state = request.app.state
    rt = getattr(state, "rt", None)
    base = base_of(request)
    menu = [(base + path, en if lang == "en" else vi) for path, perm, vi, en in getattr(state, "menu", MENU)
            if who is not None and allowed(who.role, perm)]
    html = _env.get_template(template).render(
        request=request, lang=lang, t=(lambda vi, en: en if lang == "en" else vi), user=who,
        role_label=lambda r: role_label(r, lang), hall=rt.config if rt is not None else state.brand, menu=menu,
        path=request.url.path, base=base, csrf=who.csrf if who else "", **context)
    return HTMLResponse(html, status, headers={"Cache-Control": "no-store"})


def plain_page(request: Request, name: str) -> HTMLResponse:
    """One of the plain pages (overview.html, track.html, kiosk.html, the screen's index.html) with
    the app's prefix filled in: its links use it, its script reads it from `<html data-base>`."""
    html = _plain.get_template(name).render(base=base_of(request))
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
