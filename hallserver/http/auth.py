"""Sign-in, sessions, API tokens, CSRF and the role checks every protected route declares.

- Browser sessions: a random id in a cookie signed with the server's key (itsdangerous), HttpOnly,
  SameSite=Lax, Secure over HTTPS (HALL_COOKIE_SECURE); the store keeps only the id's hash, so
  signing out or a change of role or password ends the session at once.
- CSRF: every unsafe request made with a session cookie must carry the session's token, in the
  `X-CSRF-Token` header (scripts) or a `csrf` form field (forms); the sign-in form uses a
  double-submit cookie. A cross-site Origin is refused as well.
- Integrations: `Authorization: Bearer <token>`; tokens have their own role, and no cookie, hence
  no CSRF.
- Guessing: 5 failed sign-ins per username or 20 per address within 15 minutes lock further
  attempts for the rest of the window (HTTP 429), whatever the password.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders

from hallserver.auth import allowed, verify_password
from hallserver.auth.passwords import hash_password, needs_rehash
from hallserver.auth.roles import home
from hallserver.settings import Settings
from hallserver.store.accounts import Accounts
from hallserver.store.store import to_utc

SESSION_COOKIE = "hall_session"
LOGIN_CSRF_COOKIE = "hall_login_csrf"
LANG_COOKIE = "hall_lang"
TOKEN_PREFIX = "hq_"
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
BACKGROUND_HEADER = "x-hall-background"  # "1": a page's own refresh, not the person's activity
MAX_FORM = 64 * 1024


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user (via "session") or an integration (via "token")."""

    username: str
    name: str
    role: str
    via: str
    user_id: int | None = None
    officer: str | None = None
    csrf: str | None = None
    session_hash: str | None = None
    hall: str | None = None  # the one hall the account is bound to; None: every hall of the province


class NotSignedIn(Exception):
    pass


OTHER_HALL = ("Tài khoản của bạn thuộc một sảnh khác, không dùng được ở sảnh này / "
              "your account belongs to another hall")


class Forbidden(Exception):
    def __init__(self, message: str = "Bạn không có quyền truy cập trang này / you may not do this"):
        super().__init__(message)
        self.message = message


class Throttled(Exception):
    pass


class WrongCredentials(Exception):
    pass


class Authenticator:
    """Sessions and tokens of one hall (`hall_id`), or of the whole province (`hall_id` None: every
    account is accepted, and the principal says which hall it is bound to). An account bound to
    another hall is nobody here; `request.state.foreign_hall` records it, so the refusal is a 403
    and not a sign-in form that would refuse the same account again."""

    def __init__(self, accounts: Accounts, hall_id: str | None, settings: Settings, now: Callable[[], datetime]):
        self.accounts, self.hall_id, self.settings, self.now = accounts, hall_id, settings, now
        key = settings.secret_key or accounts.secret("session_key")
        self.signer = URLSafeTimedSerializer(key, salt="hall-session")
        self.lifetime = timedelta(hours=settings.session_hours)
        self.idle = timedelta(minutes=settings.session_idle_min) if settings.session_idle_min else None
        # the last request is written at most this often (reads must not all become writes)
        self.touch_every = min(timedelta(minutes=1), self.idle / 10) if self.idle else timedelta(minutes=1)

    def foreign(self, hall: str | None) -> bool:
        return hall is not None and self.hall_id is not None and hall != self.hall_id

    # ------------------------------------------------------------ who is asking
    def principal(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            return self._token(request, header[7:].strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        try:
            session_id = self.signer.loads(cookie, max_age=int(self.lifetime.total_seconds()))
        except BadSignature:
            return None
        found = self.accounts.session(digest(str(session_id)), self.now())
        if found is None:
            return None
        row, user = found
        if self.foreign(user.hall):
            request.state.foreign_hall = user.hall
            return None
        if not self._seen(request, row, user.role):
            return None
        return Principal(user.username, user.name, user.role, "session", user.id, user.officer, row.csrf,
                         row.id_hash, user.hall)

    def _token(self, request: Request, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        row = self.accounts.token(digest(token))
        if row is None:
            return None
        if self.foreign(row.hall):
            request.state.foreign_hall = row.hall
            return None
        self.accounts.touch_token(row.id, self.now())
        return Principal(f"token:{row.name}", row.name, row.role, "token", hall=row.hall)

    # ------------------------------------------------------------ idle sign-out (HALL_SESSION_IDLE_MIN)
    def idle_limited(self, role: str) -> bool:
        return self.idle is not None and role not in self.settings.session_idle_exempt

    def idle_expired(self, row, role: str, now: datetime) -> bool:
        return self.idle_limited(role) and to_utc(now) - (row.last_seen_at or row.created_at) > self.idle

    def _seen(self, request: Request, row, role: str) -> bool:
        """False, and the session ended, after too long without activity; otherwise a request the
        person made slides the idle window (the stored time and the cookie's Max-Age)."""
        now = self.now()
        if self.idle_expired(row, role, now):
            self.accounts.end_session(row.id_hash)
            return False
        if is_activity(request) and to_utc(now) - (row.last_seen_at or row.created_at) >= self.touch_every:
            self.accounts.touch_session(row.id_hash, now)
            request.state.renew_session = self.cookie_header(
                request, request.cookies[SESSION_COOKIE], self.cookie_max_age(role, now, row.expires_at))
        return True

    def still_signed_in(self, who: Principal) -> bool:
        """For long requests (event streams), asked again while they run: the session still exists
        and is not idle too long. The stream itself is not activity."""
        if who.via != "session" or who.session_hash is None:
            return True
        now = self.now()
        found = self.accounts.session(who.session_hash, now)
        if found is None:
            return False
        row, user = found
        if self.idle_expired(row, user.role, now):
            self.accounts.end_session(row.id_hash)
            return False
        return True

    def cookie_max_age(self, role: str, now: datetime, expires_at: datetime | None = None) -> int:
        """The session cookie lives until the absolute end, or the idle limit when sooner."""
        left = (expires_at - to_utc(now)) if expires_at is not None else self.lifetime
        if self.idle_limited(role):
            left = min(left, self.idle)
        return max(0, int(left.total_seconds()))

    def cookie_header(self, request: Request, value: str, max_age: int) -> str:
        r = Response()
        r.set_cookie(SESSION_COOKIE, value, max_age=max_age, httponly=True, samesite="lax",
                     secure=self.secure(request), path="/")
        return r.headers["set-cookie"]

    # ------------------------------------------------------------ signing in and out
    def sign_in(self, username: str, password: str, ip: str) -> tuple[Principal, str]:
        """Check the password under the throttle; returns the principal and the cookie value."""
        now = self.now()
        by_user, by_ip = self.accounts.recent_failures(username, ip, now - THROTTLE_WINDOW)
        if by_user >= MAX_FAILURES_PER_USER or by_ip >= MAX_FAILURES_PER_IP:
            self.accounts.record_attempt(username, ip, False, now)
            raise Throttled
        user = self.accounts.user_by_name(username) if username else None
        ok = verify_password(user.password_hash if user else None, password)
        if not ok or user is None or not user.active or self.foreign(user.hall):
            self.accounts.record_attempt(username, ip, False, now)
            raise WrongCredentials
        self.accounts.record_attempt(username, ip, True, now)
        if needs_rehash(user.password_hash):
            self.accounts.update_user(user.id, password_hash=hash_password(password))
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.accounts.create_session(user.id, digest(session_id), csrf, now, self.lifetime)
        principal = Principal(user.username, user.name, user.role, "session", user.id, user.officer, csrf,
                              digest(session_id), user.hall)
        return principal, self.signer.dumps(session_id)

    def new_token(self) -> tuple[str, str]:
        """A fresh API token and its hash (only the hash is stored; the token is shown once)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return token, digest(token)

    def secure(self, request: Request) -> bool:
        if self.settings.cookie_secure == "auto":
            return request.url.scheme == "https"
        return self.settings.cookie_secure == "1"


# ---------------------------------------------------------------- dependencies
def authenticator(request: Request) -> Authenticator:
    return request.app.state.auth


def principal(request: Request) -> Principal | None:
    if not hasattr(request.state, "principal"):
        request.state.principal = authenticator(request).principal(request)
    return request.state.principal


async def form_fields(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (first value of each); empty for other bodies."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    if len(body) > MAX_FORM:
        raise Forbidden("Biểu mẫu quá lớn / form too large")
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def is_activity(request: Request) -> bool:
    """A request the person made: not an event stream, not a page's background refresh."""
    return ("text/event-stream" not in request.headers.get("accept", "") and not request.url.path.endswith("/stream")
            and request.headers.get(BACKGROUND_HEADER) != "1")


class RenewSession:
    """ASGI middleware: adds the renewed session cookie (set by `Authenticator._seen`) to the
    response, whatever route answered."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_renewed(message) -> None:
            if message["type"] == "http.response.start":
                # taken, not read: a province mounts each hall's app (with this middleware) in its own
                cookie = (scope.get("state") or {}).pop("renew_session", None)
                if cookie:
                    MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_renewed)


def same_origin(request: Request) -> bool:
    """No Origin (old browsers, scripts) or this server's own."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


async def check_csrf(request: Request, expected: str | None) -> None:
    token = request.headers.get("x-csrf-token") or (await form_fields(request)).get("csrf", "")
    if not same_origin(request) or not expected or not secrets.compare_digest(token.encode(), expected.encode()):
        raise Forbidden("Phiên làm việc không hợp lệ, hãy tải lại trang / invalid CSRF token, reload the page")


def require(permission: str | None = None):
    """A dependency: a principal allowed `permission` (None: anyone signed in); on unsafe methods
    with a session cookie, a valid CSRF token too."""

    async def dependency(request: Request) -> Principal:
        who = principal(request)
        if who is None:
            if getattr(request.state, "foreign_hall", None):
                raise Forbidden(OTHER_HALL)
            raise NotSignedIn
        if permission is not None and not allowed(who.role, permission):
            raise Forbidden
        if request.method not in SAFE_METHODS and who.via == "session":
            await check_csrf(request, who.csrf)
        return who

    return dependency


SignedIn = Annotated[Principal, Depends(require())]
Viewer = Annotated[Principal, Depends(require("dashboard"))]
Staffing = Annotated[Principal, Depends(require("staffing"))]
Reports = Annotated[Principal, Depends(require("reports"))]
OwnFigures = Annotated[Principal, Depends(require("own_figures"))]
Admin = Annotated[Principal, Depends(require("users"))]
MaybeUser = Annotated[Principal | None, Depends(principal)]


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "vi"


def local_path(target: str | None, default: str = "/dashboard") -> str:
    """Only a path on this server may be a redirect target (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def base_of(request: Request) -> str:
    """The prefix the app is mounted under: "" at the root (one hall), "/h/{hall}" in a province.
    Every URL a page, script or redirect gives the browser starts with it; `next` targets and
    `request.url.path` already include it."""
    return request.scope.get("root_path", "").rstrip("/")


def route_path(request: Request) -> str:
    """The path inside the app (without the prefix)."""
    path, base = request.url.path, base_of(request)
    return path[len(base):] if base and path.startswith(base + "/") else path


def landing(request: Request, role: str) -> str:
    """Where a role lands after signing in, with the prefix (the province index sets its own)."""
    return base_of(request) + getattr(request.app.state, "landing", home)(role)


def is_api(request: Request) -> bool:
    return route_path(request).startswith("/api/")


# ---------------------------------------------------------------- routes
router = APIRouter(tags=["auth"])


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


@router.get("/login", include_in_schema=False)
def login_page(request: Request, who: MaybeUser, next: str | None = None) -> Response:
    from hallserver.http.pages import render

    if who is not None and who.via == "session":
        return RedirectResponse(local_path(next, landing(request, who.role)), 303)
    return _login_form(request, next, None, 200, render)


def _login_form(request: Request, next: str | None, error: str | None, status: int, render) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", status=status, login_csrf=token, next=local_path(next, ""),
                      error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=authenticator(request).secure(request), path=base_of(request) + "/login")
    return response


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    from hallserver.http.pages import render

    auth = authenticator(request)
    fields = await form_fields(request)
    next_ = fields.get("next") or None
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(fields.get("csrf", "").encode(), cookie.encode()) \
            or not same_origin(request):
        return _login_form(request, next_, "Biểu mẫu đã hết hạn, hãy thử lại / the form expired, try again", 403,
                           render)
    username = fields.get("username", "").strip().lower()[:64]
    try:
        who, value = auth.sign_in(username, fields.get("password", ""), _client_ip(request))
    except Throttled:
        response = _login_form(request, next_, "Đăng nhập sai quá nhiều lần. Hãy thử lại sau 15 phút / too many "
                               "failed attempts, try again in 15 minutes", 429, render)
        response.headers["Retry-After"] = str(int(THROTTLE_WINDOW.total_seconds()))
        return response
    except WrongCredentials:
        return _login_form(request, next_, "Sai tên đăng nhập hoặc mật khẩu / wrong username or password", 401,
                           render)
    response = RedirectResponse(local_path(next_, landing(request, who.role)), 303)
    response.set_cookie(SESSION_COOKIE, value, max_age=auth.cookie_max_age(who.role, auth.now()), httponly=True,
                        samesite="lax", secure=auth.secure(request), path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=base_of(request) + "/login")
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, who: SignedIn) -> Response:
    request.state.renew_session = None  # this response deletes the cookie
    if who.session_hash:
        authenticator(request).accounts.end_session(who.session_hash)
    response = RedirectResponse(base_of(request) + "/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}", include_in_schema=False)
def set_lang(request: Request, code: str, next: str | None = None) -> Response:
    """Vietnamese first; English available (a cookie, for the pages that follow)."""
    response = RedirectResponse(local_path(next, base_of(request) + "/dashboard"), 303)
    response.set_cookie(LANG_COOKIE, "en" if code == "en" else "vi", max_age=365 * 86400, samesite="lax")
    return response


@router.get("/api/me")
def me(who: SignedIn) -> dict:
    """The caller's name, role and (for scripts of a signed-in page) the CSRF token of the session."""
    return {"username": who.username, "name": who.name, "role": who.role, "officer": who.officer, "via": who.via,
            "csrf": who.csrf}


# ---------------------------------------------------------------- wiring
def install(app: FastAPI, accounts: Accounts, hall_id: str | None, settings: Settings,
            now: Callable[[], datetime]) -> None:
    """Attach the authenticator, the refusal handlers and the sign-in routes to the app (`hall_id`
    None: the province's, which accepts every account)."""
    app.state.auth = Authenticator(accounts, hall_id, settings, now)
    app.add_middleware(RenewSession)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if is_api(request):
            return JSONResponse({"detail": "Cần đăng nhập / sign-in required"}, 401,
                                headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{base_of(request)}/login?next={quote(target)}", 303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if is_api(request):
            return JSONResponse({"detail": exc.message}, 403)
        from hallserver.http.pages import render

        return render(request, "forbidden.html", status=403, message=exc.message)

    app.include_router(router)
