"""Two halls in one server, as a province runs them: two runtimes with their own hall ids sharing one
database and one broker, each hall's app mounted at /h/{hall} by `create_province_app`, served by
uvicorn on a free port. Accounts: a province-wide manager, a manager bound to hall A, a
province-wide officer."""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from firmware.pilink import DeviceLink
from hallserver.auth import hash_password
from hallserver.bootstrap import Runtime
from hallserver.http.province import create_province_app
from hallserver.settings import Settings, load_hall_config
from hallserver.store.accounts import Accounts

PASSWORD = "correct horse battery"


@dataclass
class Province:
    base: str  # http://127.0.0.1:PORT
    a: str  # hall ids
    b: str
    halls: dict[str, Runtime]
    mqtt_url: str

    def url(self, hall: str, path: str = "/") -> str:
        return f"{self.base}/h/{hall}{path}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=15, follow_redirects=False)

    def sign_in(self, username: str, login_path: str = "/login") -> httpx.Client:
        """A client signed in through the sign-in form at `login_path` (the province's or a hall's)."""
        c = self.client()
        form = c.get(login_path)
        token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = c.post(login_path, data={"username": username, "password": PASSWORD, "csrf": token})
        assert r.status_code == 303, r.text
        return c


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # bound now: requests made before uvicorn accepts wait in the backlog
    return sock


@pytest.fixture
def province(mqtt_url: str, tmp_path) -> Iterator[Province]:
    sock = _free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(mqtt_url=mqtt_url, database_url=f"sqlite:///{tmp_path / 'province.db'}", config_path=None,
                        http_port=0)
    suffix = uuid.uuid4().hex[:8]
    ids = {"a": f"pa{suffix}", "b": f"pb{suffix}"}
    halls: dict[str, Runtime] = {}
    try:
        for letter, hall_id in ids.items():
            config = load_hall_config(None, id=hall_id, always_open=True, name=f"Sảnh {letter.upper()}",
                                      name_en=f"Hall {letter.upper()}", public_url=f"{base}/h/{hall_id}")
            rt = halls[hall_id] = Runtime(settings, config).start()
            assert rt.adapter is not None and rt.adapter.connected.wait(10)
        store = halls[ids["a"]].store
        accounts, now, pw = Accounts(store), halls[ids["a"]].service.now(), hash_password(PASSWORD)
        accounts.create_user("province", "Quản lý tỉnh", "manager", pw, now)
        accounts.create_user("manager-a", "Quản lý sảnh A", "manager", pw, now, hall=ids["a"])
        accounts.create_user("officer-p", "Cán bộ tỉnh", "officer", pw, now, officer="o01")

        app = create_province_app(halls, settings, store)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))
        thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), name="province-http",
                                  daemon=True)
        thread.start()
        try:
            yield Province(base, ids["a"], ids["b"], halls, mqtt_url)
        finally:
            for rt in halls.values():
                rt.hub.close()  # end the browsers' streams, so the server stops at once
            server.should_exit = True
            thread.join(timeout=10)
    finally:
        for rt in halls.values():
            rt.stop()
        sock.close()


@pytest.fixture
def device(province: Province) -> Iterator[Callable[[str, str], DeviceLink]]:
    """device(hall_id, "ct-01") -> a started DeviceLink of that hall's device; closed after the test."""
    links: list[DeviceLink] = []

    def make(hall_id: str, device_id: str) -> DeviceLink:
        link = DeviceLink(province.mqtt_url, hall_id, device_id).start()
        links.append(link)
        return link

    yield make
    for link in links:
        link.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN")
    pg = context.new_page()
    yield pg
    context.close()
