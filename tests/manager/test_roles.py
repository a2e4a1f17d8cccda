"""Every page and endpoint against every role (and nobody): each role is refused what it may not do,
allowed what it may, and the public LAN routes stay public. The expected table is written out here,
apart from hallserver/auth/roles.py, so a change of the rules must change both."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)

EVERYONE = {"admin", "manager", "officer", "viewer"}
DASHBOARD = {"admin", "manager", "viewer"}
STAFFING = REPORTS = {"admin", "manager"}
OWN = {"officer"}
ADMIN = {"admin"}
PUBLIC = None  # anyone, signed in or not

# (method, path, json or form body, who may)
MATRIX = [
    ("GET", "/", None, PUBLIC),
    ("GET", "/screen", None, PUBLIC),
    ("GET", "/healthz", None, PUBLIC),
    ("GET", "/docs", None, PUBLIC),
    ("GET", "/openapi.json", None, PUBLIC),
    ("GET", "/api/board", None, PUBLIC),
    ("GET", "/api/queues", None, PUBLIC),
    ("GET", "/api/hall", None, PUBLIC),
    ("STREAM", "/api/stream", None, PUBLIC),
    ("GET", "/t/abcdefgh12", None, PUBLIC),
    ("GET", "/api/track/abcdefgh12", None, PUBLIC),
    ("STREAM", "/api/track/abcdefgh12/stream", None, PUBLIC),
    ("GET", "/login", None, PUBLIC),
    ("GET", "/api/me", None, EVERYONE),
    ("GET", "/dashboard", None, DASHBOARD),
    ("GET", "/api/dashboard", None, DASHBOARD),
    ("STREAM", "/api/dashboard/stream", None, DASHBOARD),
    ("GET", "/api/tickets/A001", None, DASHBOARD),
    ("POST", "/api/manage/counters/5/services", {"json": {"services": ["ke-hoach-dau-tu"]}}, STAFFING),
    ("POST", "/api/manage/counters/30/close", {"json": {}}, STAFFING),
    ("POST", "/api/manage/counters/30/open", {"json": {}}, STAFFING),
    ("POST", "/api/manage/officers/o30/move", {"json": {"counter": 31}}, STAFFING),
    ("POST", "/api/manage/policy", {"json": {"policy": "sla"}}, STAFFING),
    ("POST", "/api/manage/notice", {"json": {"notice": "Hôm nay quầy 5 nghỉ."}}, STAFFING),
    ("GET", "/reports", None, REPORTS),
    ("GET", "/reports?view=month", None, REPORTS),
    ("GET", "/reports/monthly", None, REPORTS),
    ("GET", "/reports/export/officers.csv", None, REPORTS),
    ("GET", "/reports/export/all.xlsx", None, REPORTS),
    ("GET", "/api/reports/summary", None, REPORTS),
    ("GET", "/api/reports/late", None, REPORTS),
    ("GET", "/audit", None, REPORTS),
    ("GET", "/api/audit", None, REPORTS),
    ("GET", "/audit/export.csv", None, REPORTS),
    ("GET", "/me", None, OWN),
    ("GET", "/api/me/figures", None, OWN),
    ("GET", "/admin", None, ADMIN),
    ("POST", "/admin/users", {"data": {"username": "new-{role}", "name": "X", "role": "viewer",
                                       "password": "a long enough secret"}}, ADMIN),
    ("POST", "/admin/tokens", {"data": {"name": "portal-{role}", "role": "viewer"}}, ADMIN),
    ("POST", "/admin/devices/ct-09/login", {"data": {"action": "issue"}}, ADMIN),
    ("POST", "/admin/devices/export", {"data": {}}, ADMIN),
    ("GET", "/admin/config", None, ADMIN),
    ("POST", "/admin/config/services/y-te", {"data": {"name": "Sở Y tế", "target_wait_min": "20"}}, ADMIN),
    ("POST", "/admin/config/counters/30", {"data": {"name": "Quầy 30", "services": "y-te"}}, ADMIN),
    ("POST", "/admin/config/officers/o30", {"data": {"name": "Cán bộ {role}", "pin": "13579"}}, ADMIN),
    ("POST", "/admin/config/officers", {"data": {"id": "o-{role}", "name": "Mới", "pin": "2468"}}, ADMIN),
    ("POST", "/admin/config/services", {"data": {"code": "dv-{role}", "prefix": "J", "name": "Mới",
                                                 "handle_min": "10", "target_wait_min": "15"}}, ADMIN),
    ("POST", "/admin/config/counters", {"data": {"number": "90", "kind": "receiving", "services": "y-te"}}, ADMIN),
    ("POST", "/admin/config/devices", {"data": {"id": "ct-90-{role}", "kind": "terminal", "counter": "90"}}, ADMIN),
]


def call(client, method: str, path: str, body: dict | None, role: str, csrf: str) -> int:
    if method == "STREAM":
        with client.stream("GET", path) as r:
            return r.status_code
    kw = {}
    if body:
        kw = {k: ({f: (v.format(role=role) if isinstance(v, str) else v) for f, v in b.items()})
              for k, b in body.items()}
        if "data" in kw:
            kw["data"]["csrf"] = csrf
    return client.request(method, path, headers={"X-CSRF-Token": csrf} if method == "POST" else {}, **kw).status_code


def test_refusal_matrix(staff):
    wrong = []
    csrf = {role: staff.csrf(role) for role in staff.clients}
    for method, path, body, who in MATRIX:
        for role, client in [*staff.clients.items(), ("nobody", staff.anonymous)]:
            status = call(client, method, path, body, role, csrf.get(role, ""))
            allowed = who is PUBLIC or role in who
            if allowed:
                ok = status not in (401, 403) and not (status == 303 and method == "GET" and path != "/login")
            elif role == "nobody":
                ok = status == 401 if path.startswith("/api/") else status == 303
            else:
                ok = status == 403
            if not ok:
                wrong.append(f"{method} {path} as {role}: {status} (allowed={allowed})")
    assert wrong == []


def test_refusals_say_why(staff):
    r = staff.anonymous.get("/api/dashboard")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "đăng nhập" in r.json()["detail"]
    r = staff.anonymous.get("/reports?view=week")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/reports%3Fview%3Dweek"
    r = staff.clients["viewer"].get("/reports")
    assert r.status_code == 403 and "không có quyền" in r.text
    r = staff.clients["officer"].post("/api/manage/counters/1/close", headers={"X-CSRF-Token": staff.csrf("officer")})
    assert r.status_code == 403 and "không có quyền" in r.json()["detail"]


def test_officer_sees_only_own_figures(staff):
    me = staff.clients["officer"].get("/api/me/figures").json()
    assert me["officer"] == "o01"
    page = staff.clients["officer"].get("/me")
    assert page.status_code == 200 and "Nguyễn Văn An" in page.text
    assert "Trần Thu Bình" not in page.text  # o02


def test_vietnamese_first_english_available(staff):
    manager = staff.clients["manager"]
    assert "Theo dịch vụ" in manager.get("/dashboard").text
    r = manager.get("/lang/en?next=/reports%3Fview%3Dweek")
    assert r.status_code == 303 and r.headers["location"] == "/reports?view=week"
    assert manager.get("/lang/en?next=https://evil.example/").headers["location"] == "/dashboard"
    page = manager.get("/dashboard").text
    assert 'lang="en"' in page and "Per service" in page and "Theo dịch vụ" not in page
    assert "Per officer" in manager.get("/reports").text
    assert "officer id" in manager.get("/reports/export/officers.csv?lang=en").content.decode("utf-8-sig").lower()
