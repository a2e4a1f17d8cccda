"""The database goes away for a while and comes back (PostgreSQL behind a TCP proxy that the test
cuts and restores; the machine's shared PostgreSQL keeps running): commands get a clear
`unavailable` during the outage, nothing acknowledged is lost, and the server recovers by itself."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from firmware.pilink import DeviceLink, Refusal
from hallserver.bootstrap import Runtime
from hallserver.settings import Settings, load_hall_config
from hallserver.store.models import EventRow

from .invariants import check_hall
from .tcpproxy import TcpProxy


@pytest.fixture
def pg_behind_proxy():
    """(URL through the proxy, the proxy): a fresh schema on HALL_TEST_DATABASE_URL's database."""
    base = os.environ.get("HALL_TEST_DATABASE_URL")
    if not base:
        pytest.skip("the database outage test needs PostgreSQL: set HALL_TEST_DATABASE_URL")
    url = sa.make_url(base)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    options = " ".join(filter(None, [url.query.get("options"), f"-csearch_path={schema}"]))
    proxied = url.set(host="127.0.0.1", port=proxy.port).update_query_dict({"options": options})
    try:
        yield proxied.render_as_string(hide_password=False), proxy
    finally:
        proxy.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_database_outage_and_recovery(pg_behind_proxy, mqtt_url, hall_id):
    db_url, proxy = pg_behind_proxy
    rt = Runtime(Settings(mqtt_url=mqtt_url, database_url=db_url, config_path=None, http_port=0),
                 load_hall_config(None, id=hall_id, always_open=True)).start()
    links = [DeviceLink(mqtt_url, hall_id, d).start() for d in ("kiosk-1", "ct-01")]
    kiosk, terminal = links
    try:
        acked = [kiosk.request("ticket.take", {"service": "tu-phap"})["ticket"]["number"] for _ in range(2)]
        terminal.request("officer.login", {"officer": "o01", "pin": "0000"})
        assert terminal.request("call.next")["ticket"]["number"] == "A001"

        proxy.cut()
        for t, fields, msg_id in (("ticket.take", {"service": "tu-phap"}, "during-1"), ("serve.done", None, "done-1"),
                                  ("ticket.take", {"service": "tu-phap"}, "during-2")):
            dev = kiosk if t == "ticket.take" else terminal
            with pytest.raises(Refusal) as exc:
                dev.request(t, fields, msg_id=msg_id)
            assert exc.value.code == "unavailable" and exc.value.message  # Vietnamese text to show
        assert rt.service.metrics["store_errors"] >= 1 and rt.service.metrics["refused.unavailable"] >= 3
        assert proxy.refused >= 1  # the server did try to reconnect
        assert rt.adapter is not None and rt.adapter.connected.is_set()  # MQTT stays up meanwhile

        proxy.restore()  # nothing is done to the server: the next command finds the database again
        # the retries of what was refused now act, once; the numbers follow the acknowledged ones
        assert kiosk.request("ticket.take", {"service": "tu-phap"}, msg_id="during-1")["ticket"]["number"] == "A003"
        terminal.request("serve.done", msg_id="done-1")
        assert kiosk.request("ticket.take", {"service": "tu-phap"}, msg_id="during-2")["ticket"]["number"] == "A004"
        assert kiosk.request("ticket.take", {"service": "tu-phap"}, msg_id="during-1")["ticket"]["number"] == "A003"
        with rt.store.sessions() as s:
            events = [(e.kind, e.number) for e in s.query(EventRow).filter_by(hall=hall_id).order_by(EventRow.id)]
        issued = [n for k, n in events if k == "ticket.issued"]
        assert issued == [*acked, "A003", "A004"]
        assert events.count(("ticket.called", "A001")) == 1 and events.count(("ticket.done", "A001")) == 1
        check_hall(rt.service)
    finally:
        for link in links:
            link.close()
        rt.stop()
