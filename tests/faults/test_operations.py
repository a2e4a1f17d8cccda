"""Operations: the Prometheus endpoint and JSON logs (backups: test_backup_restore.py)."""

from __future__ import annotations

import json
import logging
import re
import sys

import httpx
import pytest
from support.server_process import ServerProcess, hall_env
from support.wait import until

import protocols
from firmware.pilink import Refusal
from hallserver.metrics import HallFigures, Histogram, JsonFormatter, render

SAMPLE = re.compile(r'^[a-z_]+(\{([a-z]+="([^"\\]|\\.)*",?)*\})? [-+0-9.eInf]+$')


def parse(text: str) -> dict[str, float]:
    """Each sample of a Prometheus text exposition, checking every line's syntax."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
            continue
        assert SAMPLE.match(line), line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    return samples


def test_metrics_endpoint(server, device, hall_id):
    kiosk, terminal = device("kiosk-1"), device("ct-01")
    kiosk.request("ticket.take", {"service": "tu-phap"})
    kiosk.request("ticket.take", {"service": "tu-phap"})
    with pytest.raises(Refusal):
        terminal.request("call.next")  # not_logged_in
    terminal.client.publish(protocols.topics.up(hall_id, "ct-01"), b"not json", qos=1)
    with pytest.raises(Refusal):
        terminal.request("serve.done")  # handled after the bad one: in order
    port = server.start_http_thread(port=0)
    r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    m = parse(r.text)
    h = f'hall="{hall_id}"'
    assert m[f"hall_messages_in_total{{{h}}}"] >= 5
    assert m[f"hall_messages_out_total{{{h}}}"] >= 4
    assert m[f'hall_refusals_total{{{h},kind="refused",code="not_logged_in"}}'] >= 2
    assert m[f'hall_refusals_total{{{h},kind="malformed",code="bad_json"}}'] >= 1
    assert m[f'hall_waiting_tickets{{{h},service="tu-phap"}}'] == 2
    assert m[f'hall_waiting_tickets{{{h},service="giao-thong"}}'] == 0
    srv = f'server="{hall_id}"'  # a one-hall server is named after its hall
    assert m[f"hall_mqtt_connected{{{h}}}"] == 1 and m[f"hall_mqtt_inbox{{{srv}}}"] >= 0
    assert 0.5 <= m[f"hall_views_hold_seconds{{{srv}}}"] <= 2.0  # longer while the start's republishing keeps it busy
    until(lambda: parse(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)[
        f"hall_views_hold_seconds{{{srv}}}"] == 0.5, what="an idle server's shortest hold")
    buckets = [v for k, v in m.items() if k.startswith("hall_command_seconds_bucket")]
    assert buckets == sorted(buckets) and buckets[-1] == m[f"hall_command_seconds_count{{{srv}}}"] >= 5
    assert 0 < m[f"hall_command_seconds_sum{{{srv}}}"] < 10


def test_histogram_and_label_escaping():
    hist = Histogram((0.01, 0.1))
    for s in (0.005, 0.01, 0.05, 3.0):
        hist.observe(s)
    text = render([HallFigures('h"1\\', {"malformed.bad_json": 2, "refused.x\ny": 1}, {}),
                   HallFigures("xa-b", {"messages_in": 7}, {"tu-phap": 3}, True)], 'p"1', hist)
    m = parse(text)
    assert m['hall_command_seconds_bucket{server="p\\"1",le="0.01"}'] == 2
    assert m['hall_command_seconds_bucket{server="p\\"1",le="+Inf"}'] == 4
    assert 'code="x\\ny"' in text
    assert m['hall_messages_in_total{hall="h\\"1\\\\"}'] == 0 and m['hall_messages_in_total{hall="xa-b"}'] == 7
    assert m['hall_waiting_tickets{hall="xa-b",service="tu-phap"}'] == 3
    assert m['hall_mqtt_connected{hall="xa-b"}'] == 1 and 'hall_mqtt_connected{hall="h' not in text
    assert text.count("# TYPE hall_messages_in_total ") == 1  # one family, a sample per hall


def test_json_log_formatter():
    try:
        raise ValueError("hỏng")
    except ValueError:
        record = logging.LogRecord("hallserver.mqtt", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "ERROR" and entry["logger"] == "hallserver.mqtt" and entry["message"] == "failed x"
    assert "ValueError: hỏng" in entry["exc"] and entry["time"].endswith("+00:00")


@pytest.mark.slow
def test_server_logs_json(tmp_path, mqtt_url, hall_id):
    server = ServerProcess(dict(hall_env(tmp_path, mqtt_url, hall_id), HALL_LOG_FORMAT="json"))
    server.start()
    server.stop()
    logs = [line for line in server.output if line.strip() and " ready: " not in line]
    assert logs, server.output
    entries = [json.loads(line) for line in logs]  # every line the logging module wrote is one JSON object
    assert any(e["logger"] == "hallserver.service" and "replayed" in e["message"] for e in entries)
