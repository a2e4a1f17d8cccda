"""Helpers of the manager tests (a module with a unique name: test folders are not packages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

import protocols
from hallserver.auth import hash_password
from hallserver.service import HallService
from hallserver.settings import load_hall_config
from hallserver.store import Store
from hallserver.store.accounts import Accounts

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "correct horse battery"  # every test user's password
ROLES = ("admin", "manager", "officer", "viewer")


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, hhmm: str) -> None:
        """Move to this time of the current day (never backwards)."""
        h, m = (int(x) for x in hhmm.split(":"))
        target = self.now.replace(hour=h, minute=m, second=0, microsecond=0)
        assert target >= self.now, (hhmm, self.now)
        self.now = target

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


def make_service(store: Store, clock: Clock) -> HallService:
    svc = HallService(load_hall_config(None, always_open=True), store, clock)
    svc.load()
    return svc


class Devices:
    """Send device messages straight to a HallService, each with a fresh id; refusals raise."""

    def __init__(self, svc: HallService):
        self.svc, self.n = svc, 0

    def __call__(self, device: str, t: str, **fields) -> dict:
        self.n += 1
        reply = self.svc.handle_up(device, protocols.encode(protocols.make_up(t, f"m{self.n}", fields))).reply
        assert reply["ok"], reply
        return reply


@dataclass
class Staff:
    base: str
    clients: dict[str, httpx.Client]  # role -> a client signed in as that role
    anonymous: httpx.Client
    accounts: Accounts

    def csrf(self, role: str) -> str:
        return self.clients[role].get("/api/me").json()["csrf"]


def create_users(accounts: Accounts, now: datetime) -> None:
    pw = hash_password(PASSWORD)
    for role in ROLES:
        accounts.create_user(role, f"Người dùng {role}", role, pw, now, officer="o01" if role == "officer" else None)


def login_form_token(client: httpx.Client) -> str:
    form = client.get("/login")
    return form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def sign_in(base: str, username: str, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=15, follow_redirects=False)
    r = client.post("/login", data={"username": username, "password": password, "csrf": login_form_token(client)})
    assert r.status_code == 303, r.text
    return client


def play_day(svc: HallService, clock: Clock) -> None:
    """The scripted day of test_figures.py (its docstring has the timeline)."""
    d = Devices(svc)
    d("kiosk-1", "ticket.take", service="tu-phap")  # A001
    d("ct-01", "officer.login", officer="o01", pin="0000")
    d("ct-03", "officer.login", officer="o03", pin="0000")
    clock.at("08:02")
    d("kiosk-1", "ticket.take", service="tu-phap")  # A002
    clock.at("08:04")
    d("kiosk-2", "ticket.take", service="ke-hoach-dau-tu")  # B001
    clock.at("08:05")
    assert d("ct-01", "call.next")["ticket"]["number"] == "A001"
    clock.at("08:06")
    assert d("ct-03", "call.next")["ticket"]["number"] == "B001"
    clock.at("08:10")
    d("kiosk-1", "ticket.take", service="tu-phap")  # A003
    clock.at("08:15")
    d("ct-01", "serve.done")
    d("rb-01", "rating.vote", score="rat-hai-long")
    clock.at("08:16")
    assert d("ct-01", "call.next")["ticket"]["number"] == "A002"
    clock.at("08:20")
    d("ct-03", "serve.done")
    d("rb-03", "rating.vote", score="khong-hai-long", reason="thoi-gian-cho")
    clock.at("08:21")
    d("ct-01", "serve.transfer", service="ke-hoach-dau-tu")
    clock.at("08:22")
    assert d("ct-03", "call.next")["ticket"]["number"] == "A002"
    clock.at("08:23")
    assert d("ct-01", "call.next")["ticket"]["number"] == "A003"
    clock.at("08:24")
    d("ct-01", "call.no_show")
    clock.at("08:25")
    d("kiosk-1", "ticket.take", service="tu-phap")  # A004
    clock.at("08:30")
    d("ct-03", "serve.done")
    d("rb-03", "rating.vote", score="hai-long")
    clock.at("08:45")
    assert d("ct-01", "call.next")["ticket"]["number"] == "A004"
    clock.at("08:50")
    d("kiosk-2", "ticket.take", service="ke-hoach-dau-tu")  # B002
    clock.at("08:57")
    d("ct-01", "serve.done")
    d("rb-01", "rating.vote", score="khong-hai-long", reason="thai-do")
    clock.at("09:00")
    d("ct-01", "officer.logout")
    d("ct-03", "officer.logout")
