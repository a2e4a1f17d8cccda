"""Users bound to a hall (a province runs many halls on one server; `users.hall` None = every
hall): the admin page creates and edits users with "this hall" or "every hall", shows it, audits
it; an admin bound to one hall manages only that hall's users and cannot grant every hall."""

from __future__ import annotations

import httpx
import pytest
from manager_kit import PASSWORD, login_form_token, sign_in

from hallserver.auth import hash_password

pytestmark = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)


def hall_cell(page: str, username: str) -> str:
    row = page.split(f'data-user="{username}"', 1)[1].split("</tr>", 1)[0]
    return row.split('data-hall="', 1)[1].split('"', 1)[0]


def test_admin_binds_users_to_this_hall_or_every_hall(staff, server):
    admin, csrf, here = staff.clients["admin"], staff.csrf("admin"), server.config.id
    new = {"name": "Chị Lan", "role": "manager", "password": "a long enough secret", "csrf": csrf}
    assert admin.post("/admin/users", data={**new, "username": "lan", "hall": "this"}).status_code == 303
    assert admin.post("/admin/users", data={**new, "username": "tinh", "hall": "all"}).status_code == 303
    assert staff.accounts.user_by_name("lan").hall == here and staff.accounts.user_by_name("tinh").hall is None
    page = admin.get("/admin").text
    assert hall_cell(page, "lan") == here and hall_cell(page, "tinh") == "*"
    assert "sảnh này" in page and "mọi sảnh" in page
    assert sign_in(staff.base, "lan", "a long enough secret").get("/api/me").json()["role"] == "manager"  # bound here

    lan = staff.accounts.user_by_name("lan")
    r = admin.post(f"/admin/users/{lan.id}", data={"role": "manager", "active": "1", "hall": "all", "csrf": csrf})
    assert r.status_code == 303 and staff.accounts.user_by_name("lan").hall is None
    [entry] = [a for a in staff.accounts.audit_log(here) if a.action == "user.update" and a.target == "user lan"]
    assert (entry.actor, entry.before["hall"], entry.after["hall"]) == ("admin", here, None)
    [created] = [a for a in staff.accounts.audit_log(here) if a.action == "user.create" and a.target == "user lan"]
    assert created.after["hall"] == here
    r = admin.post("/admin/users", data={**new, "username": "x", "hall": "elsewhere"})
    assert r.status_code == 422 and "Sảnh không hợp lệ" in r.text

    # a user of another hall is nobody here; an edit without a hall choice keeps the binding
    other = staff.accounts.create_user("dao", "Anh Đào", "viewer", hash_password(PASSWORD), server.service.now(),
                                       hall="hall-khac")
    client = httpx.Client(base_url=staff.base, follow_redirects=False)
    r = client.post("/login", data={"username": "dao", "password": PASSWORD, "csrf": login_form_token(client)})
    assert r.status_code == 401
    page = admin.get("/admin").text
    assert hall_cell(page, "dao") == "hall-khac" and 'value="keep" selected' in page
    r = admin.post(f"/admin/users/{other.id}", data={"role": "viewer", "active": "1", "hall": "keep", "csrf": csrf})
    assert r.status_code == 303 and staff.accounts.user_by_name("dao").hall == "hall-khac"


def test_an_admin_of_one_hall_manages_only_that_hall(staff, server):
    here = server.config.id
    staff.accounts.create_user("qt-sanh", "Quản trị sảnh", "admin", hash_password(PASSWORD), server.service.now(),
                               hall=here)
    local = sign_in(staff.base, "qt-sanh")
    csrf = local.get("/api/me").json()["csrf"]
    page = local.get("/admin").text
    assert 'data-user="qt-sanh"' in page and 'data-user="manager"' not in page  # every-hall users are not theirs
    assert 'value="all"' not in page
    new = {"name": "Anh Minh", "role": "viewer", "password": "a long enough secret", "csrf": csrf}
    r = local.post("/admin/users", data={**new, "username": "minh", "hall": "all"})
    assert r.status_code == 403 and "chỉ quản lý người dùng của sảnh mình" in r.text
    assert staff.accounts.user_by_name("minh") is None
    assert local.post("/admin/users", data={**new, "username": "minh", "hall": "this"}).status_code == 303
    assert staff.accounts.user_by_name("minh").hall == here
    manager = staff.accounts.user_by_name("manager")  # every hall: the province's, not this admin's
    r = local.post(f"/admin/users/{manager.id}", data={"role": "viewer", "active": "1", "csrf": csrf})
    assert r.status_code == 403 and staff.accounts.user_by_name("manager").role == "manager"
    minh = staff.accounts.user_by_name("minh")
    r = local.post(f"/admin/users/{minh.id}", data={"role": "viewer", "active": "1", "hall": "all", "csrf": csrf})
    assert r.status_code == 403 and staff.accounts.user_by_name("minh").hall == here
