"""Fixtures of the manager tools: a fake clock and a service on a real store (scripted days), a real
hall server with one signed-in HTTP client per role, and headless Debian Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from manager_kit import ROLES, TZ, Clock, Staff, create_users, sign_in

from hallserver.store import Store
from hallserver.store.accounts import Accounts


@pytest.fixture
def store(database_url) -> Iterator[Store]:
    s = Store(database_url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 8, 0, tzinfo=TZ))  # a Monday morning


@pytest.fixture
def http_base(server) -> str:
    port = server.start_http_thread(port=0)
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def staff(server, http_base) -> Iterator[Staff]:
    accounts = Accounts(server.store)
    create_users(accounts, server.service.now())
    clients = {role: sign_in(http_base, role) for role in ROLES}
    anonymous = httpx.Client(base_url=http_base, timeout=15, follow_redirects=False)
    yield Staff(http_base, clients, anonymous, accounts)
    for c in [*clients.values(), anonymous]:
        c.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN", accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(autouse=True)
def credentials_file(tmp_path, monkeypatch):
    """The devices' broker logins (admin page) go to a file of this test, never to var/."""
    path = tmp_path / "credentials.json"
    monkeypatch.setenv("HALL_CREDENTIALS", str(path))
    return path
