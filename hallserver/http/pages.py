"""Server-rendered pages (Jinja2, autoescaped): the common frame, the language and the menu a role sees."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hallserver.auth import allowed, role_label
from hallserver.http.auth import lang_of, principal

TEMPLATES = Path(__file__).parent.parent / "web" / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)

MENU = (  # (path, permission, Vietnamese, English)
    ("/dashboard", "dashboard", "Bảng điều khiển", "Dashboard"),
    ("/reports", "reports", "Báo cáo", "Reports"),
    ("/reports/monthly", "reports", "Báo cáo tháng", "Monthly report"),
    ("/audit", "reports", "Nhật ký thay đổi", "Audit log"),
    ("/me", "own_figures", "Số liệu của tôi", "My figures"),
    ("/admin", "users", "Quản trị", "Administration"),
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
    lang = lang_of(request)
    who = principal(request)
    rt = request.app.state.rt
    menu = [(path, en if lang == "en" else vi) for path, perm, vi, en in MENU
            if who is not None and allowed(who.role, perm)]
    html = _env.get_template(template).render(
        request=request, lang=lang, t=(lambda vi, en: en if lang == "en" else vi), user=who,
        role_label=lambda r: role_label(r, lang), hall=rt.config, menu=menu, path=request.url.path,
        csrf=who.csrf if who else "", **context)
    return HTMLResponse(html, status, headers={"Cache-Control": "no-store"})
