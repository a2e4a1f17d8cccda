"""A real hall server (in this process) on the module's real broker, with real devices' links."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from firmware.pilink import DeviceLink
from hallserver.bootstrap import Runtime
from hallserver.settings import Settings, load_hall_config


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
