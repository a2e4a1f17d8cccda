"""Roles and what each may do, in one table, so every route and the refusal tests read the same rules.

admin: users, API tokens, and everything a manager does. manager: staffing changes, reports, the
audit log. officer: their own figures only. viewer: the live dashboard only.
"""

from __future__ import annotations

ADMIN, MANAGER, OFFICER, VIEWER = "admin", "manager", "officer", "viewer"
ROLES = (ADMIN, MANAGER, OFFICER, VIEWER)

PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard": frozenset({ADMIN, MANAGER, VIEWER}),  # live dashboard, ticket look-up by number
    "staffing": frozenset({ADMIN, MANAGER}),  # counter services, open/close, move officers
    "reports": frozenset({ADMIN, MANAGER}),  # figures of everyone, exports, monthly report, audit log
    "own_figures": frozenset({OFFICER}),  # an officer's own figures
    "users": frozenset({ADMIN}),  # users and API tokens
}

LABELS = {ADMIN: ("Quản trị", "Administrator"), MANAGER: ("Quản lý", "Manager"),
          OFFICER: ("Cán bộ", "Officer"), VIEWER: ("Người xem", "Viewer")}


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def role_label(role: str, lang: str = "vi") -> str:
    vi, en = LABELS.get(role, (role, role))
    return en if lang == "en" else vi


def home(role: str) -> str:
    """Where a role lands after signing in."""
    return "/me" if role == OFFICER else "/dashboard"
