"""Sign-in against the real server: the first admin comes from a command, cookies are HttpOnly and
SameSite, forms need their CSRF token, guessing is throttled, sessions end, API tokens work and can
be revoked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from manager_kit import PASSWORD, login_form_token, sign_in

from hallserver.store import Store
from hallserver.store.accounts import Accounts

REPO = Path(__file__).resolve().parents[2]
server_tests = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)


def create_admin(db: str, username: str, password: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HALL_DATABASE_URL=db)
    return subprocess.run([sys.executable, "-m", "hallserver", "create-admin", username, "--name", "Chị Quản Trị",
                           "--password-stdin"], input=password + "\n", capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=60)


def test_first_admin_comes_from_the_command(tmp_sqlite_url):
    weak = create_admin(tmp_sqlite_url, "boss", "short")
    assert weak.returncode == 2 and "ít nhất 10 ký tự" in weak.stderr
    done = create_admin(tmp_sqlite_url, "Boss", "a long enough secret")
    assert done.returncode == 0, done.stderr
    again = create_admin(tmp_sqlite_url, "boss", "another long secret")
    assert again.returncode == 1 and "đã có" in again.stderr
    store = Store(tmp_sqlite_url)
    try:
        [user] = Accounts(store).users()
        assert (user.username, user.name, user.role) == ("boss", "Chị Quản Trị", "admin")
        assert user.password_hash.startswith("$argon2id$") and "long enough" not in user.password_hash
    finally:
        store.close()


@server_tests
def test_session_cookie_and_sign_out(staff):
    client = httpx.Client(base_url=staff.base, follow_redirects=False)
    r = client.post("/login", data={"username": "manager", "password": PASSWORD, "csrf": login_form_token(client),
                                    "next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"  # no open redirect
    cookie = r.headers["set-cookie"].lower()
    assert "hall_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain HTTP on the LAN; HALL_COOKIE_SECURE=1 forces it
    assert client.get("/api/me").json()["role"] == "manager"
    stolen = client.cookies.get("hall_session")

    assert client.post("/logout").status_code == 403  # no CSRF token: not even sign-out
    r = client.post("/logout", data={"csrf": client.get("/api/me").json()["csrf"]})
    assert r.status_code == 303
    replay = httpx.Client(base_url=staff.base, cookies={"hall_session": stolen})
    assert replay.get("/api/me").status_code == 401  # the session ended on the server
    forged = httpx.Client(base_url=staff.base, cookies={"hall_session": stolen[:-2] + "xx"})
    assert forged.get("/api/me").status_code == 401


@server_tests
def test_forms_and_scripts_need_the_csrf_token(staff):
    manager = staff.clients["manager"]
    token = staff.csrf("manager")
    path = "/api/manage/counters/7/services"
    assert manager.post(path, json={"services": ["tai-chinh"]}).status_code == 403
    assert manager.post(path, json={"services": ["tai-chinh"]}, headers={"X-CSRF-Token": "x" * 43}).status_code == 403
    r = manager.post(path, json={"services": ["tai-chinh"]},
                     headers={"X-CSRF-Token": token, "Origin": "http://evil.example"})
    assert r.status_code == 403
    assert manager.post(path, json={"services": ["tai-chinh", "y-te"]}, headers={"X-CSRF-Token": token}).status_code \
        == 200
    # the sign-in form itself: a double-submit token
    fresh = httpx.Client(base_url=staff.base)
    r = fresh.post("/login", data={"username": "manager", "password": PASSWORD})
    assert r.status_code == 403 and "hết hạn" in r.text


@server_tests
def test_guessing_is_throttled(staff):
    client = httpx.Client(base_url=staff.base, follow_redirects=False)
    for _ in range(5):
        r = client.post("/login", data={"username": "viewer", "password": "wrong guess!",
                                        "csrf": login_form_token(client)})
        assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in r.text
    r = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf": login_form_token(client)})
    assert r.status_code == 429 and r.headers["retry-after"] == "900"  # even the right password, for now
    assert sign_in(staff.base, "manager").get("/api/me").status_code == 200  # other users are not locked out
    r = client.post("/login", data={"username": "nobody-here", "password": "x", "csrf": login_form_token(client)})
    assert r.status_code == 401  # unknown names fail like wrong passwords


@server_tests
def test_role_change_ends_sessions(staff):
    viewer = staff.clients["viewer"]
    assert viewer.get("/api/dashboard").status_code == 200
    user = staff.accounts.user_by_name("viewer")
    admin = staff.clients["admin"]
    r = admin.post(f"/admin/users/{user.id}", data={"role": "officer", "active": "1", "csrf": staff.csrf("admin")})
    assert r.status_code == 303
    assert viewer.get("/api/dashboard").status_code == 401
    audit = staff.clients["manager"].get("/api/audit").json()
    assert audit[0]["action"] == "user.update" and audit[0]["actor"] == "admin"
    assert '"role": "viewer"' in audit[0]["before"] and '"role": "officer"' in audit[0]["after"]
    # the last admin cannot demote themself
    me = staff.accounts.user_by_name("admin")
    r = admin.post(f"/admin/users/{me.id}", data={"role": "manager", "active": "1", "csrf": staff.csrf("admin")})
    assert r.status_code == 409 and "ít nhất một quản trị viên" in r.text


@server_tests
def test_api_tokens(staff):
    admin = staff.clients["admin"]
    page = admin.post("/admin/tokens", data={"name": "cổng dịch vụ công", "role": "manager",
                                             "csrf": staff.csrf("admin")})
    assert page.status_code == 200
    token = page.text.split("<code>", 1)[1].split("</code>", 1)[0]
    assert token.startswith("hq_") and token not in admin.get("/admin").text  # shown once
    bearer = httpx.Client(base_url=staff.base, headers={"Authorization": f"Bearer {token}"})
    assert bearer.get("/api/reports/summary").status_code == 200
    assert bearer.post("/api/manage/counters/8/close").status_code == 200  # no cookie, no CSRF needed
    assert bearer.get("/admin").status_code == 403
    assert httpx.get(staff.base + "/api/dashboard", headers={"Authorization": "Bearer hq_wrong"}).status_code == 401
    [row] = [t for t in staff.accounts.tokens() if t.name == "cổng dịch vụ công"]
    assert row.last_used_at is not None and row.token_hash != token
    admin.post(f"/admin/tokens/{row.id}/revoke", data={"csrf": staff.csrf("admin")})
    assert bearer.get("/api/reports/summary").status_code == 401


@server_tests
def test_policy_and_notice_are_changed_live_and_audited(staff, server):
    manager, token = staff.clients["manager"], staff.csrf("manager")
    r = manager.post("/api/manage/policy", json={"policy": "sla"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["after"] == {"policy": "sla"}
    assert server.service.hall.policy.name == "sla"
    r = manager.post("/api/manage/policy", json={"policy": "fastest"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 409 and "bad_field" in r.json()["detail"]
    notice = "Hôm nay quầy 5 tạm nghỉ từ 10 giờ."
    r = manager.post("/api/manage/notice", json={"notice": notice}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200
    assert httpx.get(staff.base + "/api/board").json()["notice"] == notice  # what the hall screens show
    audit = [(a.action, a.after) for a in staff.accounts.audit_log(server.config.id)]
    assert ("hall.policy", {"policy": "sla"}) in audit and ("hall.notice", {"notice": notice}) in audit


@server_tests
def test_admin_manages_device_logins(staff, server, credentials_file):
    from broker.passwords import read_password_file, verify_password

    admin, csrf = staff.clients["admin"], staff.csrf("admin")
    page = admin.get("/admin")
    assert page.status_code == 200 and 'data-device="ct-05"' in page.text
    r = admin.post("/admin/devices/ct-05/login", data={"action": "issue", "csrf": csrf})
    assert r.status_code == 200
    hall = server.config.id
    found = re.search(r'id="new-device".*?<b>([^<]+)</b>.*?<code>([^<]+)</code>', r.text, re.S)
    assert found.group(1) == f"{hall}.ct-05"  # the login to enter on the device
    password = found.group(2)
    r = admin.post("/admin/devices/export", data={"csrf": csrf})
    assert r.status_code == 200
    hashes = read_password_file(credentials_file.parent / "mosquitto" / "passwd")
    assert verify_password(password, hashes[f"{hall}.ct-05"])  # what Mosquitto will check
    acl = (credentials_file.parent / "mosquitto" / "acl").read_text()
    assert f"user {hall}.ct-05\ntopic write qms/{hall}/dev/ct-05/up\n" in acl
    r = admin.post("/admin/devices/ct-05/login", data={"action": "issue", "csrf": csrf})
    assert r.status_code == 409 and "replace" in r.text  # a second login is refused: replace it
    r = admin.post("/admin/devices/ct-05/login", data={"action": "revoke", "csrf": csrf})
    assert r.status_code == 200 and re.search(r'data-device="ct-05".*?class="login">revoked<', r.text, re.S)
    audit = [a.action for a in staff.accounts.audit_log(server.config.id)]
    assert "device.issue" in audit and "device.revoke" in audit
