"""Administration: users (role, officer link, password, active) and API tokens, by plain forms
(CSRF field), each change in the audit log. The last active admin cannot be removed or demoted."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hallserver import provisioning
from hallserver.auth import ROLES, check_password_rules, hash_password
from hallserver.http.auth import Admin, authenticator, base_of, form_fields
from hallserver.http.pages import render
from hallserver.store.accounts import Accounts, DuplicateUser
from protocols import topics

router = APIRouter(include_in_schema=False)


def _accounts(request: Request) -> Accounts:
    return authenticator(request).accounts


def _credentials(request: Request) -> provisioning.Credentials:
    return provisioning.Credentials(provisioning.credentials_path(request.app.state.rt.settings.config_path))


def _devices(request: Request) -> list[dict]:
    """Every device of the hall configuration with its health and its broker login."""
    rt = request.app.state.rt
    health = rt.store.device_statuses(rt.config.id)
    creds = _credentials(request)
    rows = []
    for d in rt.config.devices.values():
        st, login = health.get(d.id), creds.find(topics.username(rt.config.id, d.id))
        rows.append({"id": d.id, "kind": d.kind, "counter": d.counter,
                     "online": st.online if st else None, "seen": st.updated_at if st else None,
                     "paper": (st.data or {}).get("paper") if st else None,
                     "login": "none" if login is None else ("active" if login.active else "revoked")})
    return rows


def _page(request: Request, status: int = 200, error: str | None = None, new_token: str | None = None,
          new_device: tuple[str, str] | None = None, exported: str | None = None) -> HTMLResponse:
    accounts = _accounts(request)
    mine = _hall_of_admin(request)
    users = [u for u in accounts.users() if mine is None or u.hall == mine]
    return render(request, "admin.html", status=status, users=users, tokens=accounts.tokens(), admin_hall=mine,
                  roles=ROLES, officers=list(request.app.state.rt.config.officers.values()), error=error,
                  new_token=new_token, devices=_devices(request), new_device=new_device, exported=exported)


def _user_view(row) -> dict:
    return {"username": row.username, "name": row.name, "role": row.role, "officer": row.officer,
            "active": row.active, "hall": row.hall}


ONLY_OWN_HALL = ("Quản trị viên của một sảnh chỉ quản lý người dùng của sảnh mình / "
                 "a hall's admin manages only that hall's users")


def _hall_of_admin(request: Request) -> str | None:
    """The hall the signed-in admin's account is bound to (None: every hall of the server)."""
    who = getattr(request.state, "principal", None)  # set by the Admin dependency
    row = _accounts(request).user(who.user_id) if who is not None and who.user_id is not None else None
    return row.hall if row is not None else None


def _hall_choice(request: Request, choice: str, current: str | None) -> tuple[str | None, str | None]:
    """(hall, error) from the form: "this" hall, "all" halls, or "keep" the current binding. An
    admin bound to one hall can bind users to that hall only."""
    if choice == "keep":
        return current, None
    if choice not in ("this", "all"):
        return None, "Sảnh không hợp lệ / unknown hall choice"
    hall = request.app.state.rt.config.id if choice == "this" else None
    mine = _hall_of_admin(request)
    if mine is not None and hall != mine:
        return None, ONLY_OWN_HALL
    return hall, None


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, who: Admin) -> HTMLResponse:
    return _page(request)


@router.post("/admin/users")
async def create_user(request: Request, who: Admin) -> Response:
    f = await form_fields(request)
    username, role = f.get("username", "").strip().lower(), f.get("role", "")
    officer = f.get("officer") or None
    hall, error = _hall_choice(request, f.get("hall", "this"), None)
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum() or len(username) > 64:
        error = "Tên đăng nhập: chữ, số, . - _ / username: letters, digits, . - _"
    elif error:
        pass
    elif role not in ROLES:
        error = "Vai trò không hợp lệ / unknown role"
    elif officer and officer not in request.app.state.rt.config.officers:
        error = "Cán bộ không tồn tại / unknown officer"
    else:
        error = check_password_rules(f.get("password", ""), username)
    if error:
        return _page(request, 403 if error == ONLY_OWN_HALL else 422, error)
    accounts = _accounts(request)
    now = authenticator(request).now()
    try:
        row = accounts.create_user(username, f.get("name", "").strip() or username, role,
                                   hash_password(f["password"]), now, hall=hall, officer=officer)
    except DuplicateUser:
        return _page(request, 409, "Tên đăng nhập đã có / username taken")
    accounts.audit(None, who.username, "user.create", f"user {username}", None, _user_view(row), now)
    return RedirectResponse(base_of(request) + "/admin", 303)


def _is_last_admin(accounts: Accounts, row, role: str, active: bool) -> bool:
    return row.role == "admin" and row.active and (role != "admin" or not active) and accounts.count_admins() <= 1


@router.post("/admin/users/{user_id}")
async def update_user(request: Request, who: Admin, user_id: int) -> Response:
    f = await form_fields(request)
    accounts = _accounts(request)
    row = accounts.user(user_id)
    if row is None:
        return _page(request, 404, "Không có người dùng này / no such user")
    mine = _hall_of_admin(request)
    if mine is not None and row.hall != mine:
        return _page(request, 403, ONLY_OWN_HALL)
    hall, error = _hall_choice(request, f.get("hall", "keep"), row.hall)
    if error:
        return _page(request, 422 if error != ONLY_OWN_HALL else 403, error)
    role = f.get("role", row.role)
    active = f.get("active", "1" if row.active else "0") == "1"
    officer = f.get("officer", row.officer or "") or None
    if role not in ROLES:
        return _page(request, 422, "Vai trò không hợp lệ / unknown role")
    if _is_last_admin(accounts, row, role, active):
        return _page(request, 409, "Phải còn ít nhất một quản trị viên / at least one admin must remain")
    values: dict = {"role": role, "active": active, "officer": officer, "hall": hall}
    if f.get("password"):
        error = check_password_rules(f["password"], row.username)
        if error:
            return _page(request, 422, error)
        values["password_hash"] = hash_password(f["password"])
    before = _user_view(row)
    after = accounts.update_user(user_id, **values)
    view = _user_view(after)
    if "password_hash" in values:
        view["password"] = "changed"
    accounts.audit(None, who.username, "user.update", f"user {row.username}", before, view,
                   authenticator(request).now())
    return RedirectResponse(base_of(request) + "/admin", 303)


@router.post("/admin/tokens", response_class=HTMLResponse)
async def create_token(request: Request, who: Admin) -> Response:
    f = await form_fields(request)
    name, role = f.get("name", "").strip()[:100], f.get("role", "")
    if not name or role not in ROLES or role == "admin":
        return _page(request, 422, "Tên và vai trò (không phải quản trị) / a name and a non-admin role")
    auth = authenticator(request)
    token, token_hash = auth.new_token()
    now = auth.now()
    auth.accounts.create_token(name, token_hash, role, who.username, now)
    auth.accounts.audit(None, who.username, "token.create", f"token {name}", None, {"role": role}, now)
    return _page(request, 200, new_token=token)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(request: Request, who: Admin, token_id: int) -> Response:
    auth = authenticator(request)
    row = auth.accounts.revoke_token(token_id, auth.now())
    if row is not None:
        auth.accounts.audit(None, who.username, "token.revoke", f"token {row.name}", {"role": row.role}, None,
                            auth.now())
    return RedirectResponse(base_of(request) + "/admin", 303)





@router.post("/admin/devices/{device}/login", response_class=HTMLResponse)
async def device_login(request: Request, who: Admin, device: str) -> Response:
    """Issue, replace or revoke a device's broker login `{hall}.{device}` (the password is shown once)."""
    action = (await form_fields(request)).get("action", "")
    rt, creds = request.app.state.rt, _credentials(request)
    if device not in rt.config.devices:
        return _page(request, 404, "Không có thiết bị này / no such device")
    login = topics.username(rt.config.id, device)
    try:
        if action == "issue":
            password = creds.add(rt.config, device, hall=rt.config.id)
        elif action == "replace":
            password = creds.replace(login)
        elif action == "revoke":
            creds.revoke(login)
            password = None
        else:
            return _page(request, 422, "Thao tác không hợp lệ / unknown action")
    except provisioning.ProvisionError as exc:
        return _page(request, 409, str(exc))
    creds.save()
    auth = authenticator(request)
    auth.accounts.audit(rt.config.id, who.username, f"device.{action}", f"device {device}", None,
                        {"login": action, "username": login}, auth.now())
    return _page(request, 200, new_device=(login, password) if password else None)


@router.post("/admin/devices/export", response_class=HTMLResponse)
def export_devices(request: Request, who: Admin) -> Response:
    """Write Mosquitto's password and ACL files beside the credentials; reload the broker after."""
    creds, rt = _credentials(request), request.app.state.rt
    # the server login serves every hall of the configuration (a province file: all of its halls)
    path = rt.settings.config_path
    configs = provisioning.load_configs([path]) if path is not None else [rt.config]
    try:
        if creds.follow(configs):  # a boards controller reads the LED displays its counters have now
            creds.save()
        passwd, acl = creds.export(creds.path.parent / "mosquitto", halls=[c.id for c in configs])
    except provisioning.ProvisionError as exc:  # a file from before hall-qualified logins
        return _page(request, 409, str(exc))
    return _page(request, 200, exported=f"{passwd} · {acl}")
