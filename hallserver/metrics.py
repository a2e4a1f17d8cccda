"""Operations: the Prometheus text exposition of the hall server's counters (GET /metrics), a command
latency histogram, and a JSON log formatter (HALL_LOG_FORMAT=json).

No client library: the text format (version 0.0.4) is a few lines of `name{labels} value`.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# seconds; a command is a parse, a lock, an engine step, a commit and a publish
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Histogram:
    """A cumulative histogram of durations in seconds, safe to observe from several threads."""

    def __init__(self, buckets: Iterable[float] = LATENCY_BUCKETS):
        self.buckets = tuple(sorted(buckets))
        self._counts = [0] * (len(self.buckets) + 1)  # the last one is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        with self._lock:
            self._counts[bisect.bisect_left(self.buckets, seconds)] += 1
            self._sum += seconds

    def snapshot(self) -> tuple[list[tuple[float, int]], int, float]:
        """([(upper bound, cumulative count)], count, sum); the last bound is +Inf."""
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, running = [], 0
        for bound, n in zip((*self.buckets, float("inf")), counts, strict=True):
            running += n
            cumulative.append((bound, running))
        return cumulative, running, total


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if isinstance(value, float) else str(value)


def render(hall: str, counters: Mapping[str, int], waiting: Mapping[str, int],
           latency: Histogram | None = None, inbox: int | None = None, mqtt_connected: bool | None = None) -> str:
    """The exposition text. `counters` is HallService.metrics ("malformed.bad_json", "refused.wrong_pin", ...),
    `waiting` the waiting tickets per service code, `inbox` the MQTT adapter's backlog."""
    h = f'hall="{_label(hall)}"'
    out: list[str] = []

    def family(name: str, kind: str, text: str) -> None:
        out.extend((f"# HELP {name} {text}", f"# TYPE {name} {kind}"))

    family("hall_messages_in_total", "counter", "MQTT up messages received from devices")
    out.append(f"hall_messages_in_total{{{h}}} {counters.get('messages_in', 0)}")
    family("hall_messages_out_total", "counter", "MQTT messages the server published (replies, states, calls, board)")
    out.append(f"hall_messages_out_total{{{h}}} {counters.get('messages_out', 0)}")
    family("hall_commands_total", "counter", "device commands applied and committed (refusals included)")
    out.append(f"hall_commands_total{{{h}}} {counters.get('commands', 0)}")
    family("hall_manager_commands_total", "counter", "manager commands from the pages, committed")
    out.append(f"hall_manager_commands_total{{{h}}} {counters.get('manager_commands', 0)}")
    family("hall_duplicates_total", "counter", "retries answered from the stored reply, without a second effect")
    out.append(f"hall_duplicates_total{{{h}}} {counters.get('duplicates', 0)}")
    family("hall_store_errors_total", "counter", "store operations that failed (commands meanwhile: `unavailable`)")
    out.append(f"hall_store_errors_total{{{h}}} {counters.get('store_errors', 0)}")
    family("hall_handler_errors_total", "counter", "messages whose handling raised (logged, acknowledged, skipped)")
    out.append(f"hall_handler_errors_total{{{h}}} {counters.get('handler_errors', 0)}")
    family("hall_refusals_total", "counter",
           "messages refused, by error code; kind=malformed (not parsed), refused (by the hall) or status")
    for key in sorted(counters):
        prefix, _, code = key.partition(".")
        kind = {"malformed": "malformed", "refused": "refused", "malformed_status": "status",
                "status": "status"}.get(prefix)
        if kind and code:
            out.append(f'hall_refusals_total{{{h},kind="{kind}",code="{_label(code)}"}} {counters[key]}')
    family("hall_waiting_tickets", "gauge", "tickets waiting now, per service")
    for service in sorted(waiting):
        out.append(f'hall_waiting_tickets{{{h},service="{_label(service)}"}} {waiting[service]}')
    if inbox is not None:
        family("hall_mqtt_inbox", "gauge", "MQTT messages received and not yet handled")
        out.append(f"hall_mqtt_inbox{{{h}}} {inbox}")
    if mqtt_connected is not None:
        family("hall_mqtt_connected", "gauge", "1 while the server is connected to the broker")
        out.append(f"hall_mqtt_connected{{{h}}} {int(mqtt_connected)}")
    if latency is not None:
        family("hall_command_seconds", "histogram", "time from taking a device message to publishing its reply")
        buckets, count, total = latency.snapshot()
        for bound, n in buckets:
            out.append(f'hall_command_seconds_bucket{{{h},le="{_fmt(bound)}"}} {n}')
        out.append(f"hall_command_seconds_sum{{{h}}} {_fmt(total)}")
        out.append(f"hall_command_seconds_count{{{h}}} {count}")
    return "\n".join(out) + "\n"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                 "thread": record.threadName}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(fmt: str | None, level: int = logging.INFO) -> None:
    """HALL_LOG_FORMAT: "json" for one JSON object per line (journald, Loki), else plain text."""
    handler = logging.StreamHandler()
    if (fmt or "").lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
