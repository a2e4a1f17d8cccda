"""Shared fixtures: real brokers on free ports, database URLs, unique MQTT topics.

MQTT fixtures are module-scoped (starting a broker per test is wasteful), so tests must
isolate themselves by topic: use the `topic_prefix` fixture, which is unique per test.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# `pytest` (unlike `python -m pytest`) does not put the repo root on sys.path; the project's
# packages (broker, protocols, hallserver, ...) live there and need not be pip-installed.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from support.require import require_binary  # noqa: E402

from broker import EmbeddedBroker  # noqa: E402
from broker.mosquitto import MosquittoProcess  # noqa: E402
from firmware.pilink import DeviceLink  # noqa: E402
from hallserver.bootstrap import Runtime  # noqa: E402
from hallserver.settings import Settings, load_hall_config  # noqa: E402

BROKER_KINDS = ["amqtt", "mosquitto"]


# -- MQTT -------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=BROKER_KINDS)
def broker_kind(request: pytest.FixtureRequest) -> str:
    """Which broker the module's MQTT tests run against: the embedded amqtt, then Mosquitto."""
    return str(request.param)


@pytest.fixture(scope="module")
def mqtt_broker(broker_kind: str) -> Iterator[EmbeddedBroker | MosquittoProcess]:
    """A running broker of `broker_kind` on a free 127.0.0.1 port, shared by the module."""
    broker: EmbeddedBroker | MosquittoProcess
    if broker_kind == "amqtt":
        broker = EmbeddedBroker()
    else:
        broker = MosquittoProcess(require_binary("mosquitto", "mosquitto"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def mqtt_url(mqtt_broker: EmbeddedBroker | MosquittoProcess) -> str:
    """mqtt://127.0.0.1:PORT of the module's broker (no credentials: anonymous access)."""
    return mqtt_broker.url


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoProcess]:
    """A private Mosquitto for this test, with persistence in tmp_path (for restart tests)."""
    proc = MosquittoProcess(require_binary("mosquitto", "mosquitto"), persistence_dir=tmp_path / "mosquitto")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """A topic root unique to this test (name + random suffix), e.g. "test/test_x-amqtt-1a2b3c4d"."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")
    return f"test/{name}-{uuid.uuid4().hex[:8]}"


# -- Databases --------------------------------------------------------------------------------
@pytest.fixture
def tmp_sqlite_url(tmp_path: Path) -> str:
    """SQLAlchemy URL of a fresh SQLite file (absolute path, hence four slashes)."""
    return f"sqlite:///{tmp_path / 'hall.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Store tests run on SQLite always and on PostgreSQL when HALL_TEST_DATABASE_URL is set.

    Each PostgreSQL test gets its own empty schema, first on the search_path (set through
    libpq `options` in the URL), dropped afterwards. Unlike dropping every table, this keeps
    concurrent test runs on the same database apart; code must therefore not hard-code the
    `public` schema.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hall.db'}"
        return
    base = os.environ.get("HALL_TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL store tests need HALL_TEST_DATABASE_URL (e.g. postgresql+psycopg://...)")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:16]}"
    url = sa.make_url(base)
    options = " ".join(filter(None, [url.query.get("options"), f"-csearch_path={schema}"]))
    admin = sa.create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        yield url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


# -- A hall server and its devices -----------------------------------------------------------
@pytest.fixture
def hall_id() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def server(mqtt_url: str, tmp_sqlite_url: str, hall_id: str) -> Iterator[Runtime]:
    """The demo hall under a unique id (so tests on one broker never hear each other)."""
    settings = Settings(mqtt_url=mqtt_url, database_url=tmp_sqlite_url, config_path=None, http_port=0)
    rt = Runtime(settings, load_hall_config(None, id=hall_id, always_open=True)).start()
    assert rt.adapter is not None and rt.adapter.connected.wait(10)
    yield rt
    rt.stop()


@pytest.fixture
def device(mqtt_url: str, hall_id: str) -> Iterator[Callable[[str], DeviceLink]]:
    """device("ct-01") -> a started DeviceLink of that device; closed after the test."""
    links: list[DeviceLink] = []

    def make(device_id: str, **kw) -> DeviceLink:
        link = DeviceLink(mqtt_url, hall_id, device_id, **kw).start()
        links.append(link)
        return link

    yield make
    for link in links:
        link.close()


# -- A real browser -------------------------------------------------------------------------------
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's /usr/bin/chromium, headless, driven by Playwright; never a downloaded browser.
    One per test session: the sync Playwright API allows one running instance per thread."""
    path = require_binary("chromium", "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
