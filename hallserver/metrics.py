"""Operations: the Prometheus text exposition of the hall server's counters (GET /metrics), a command
latency histogram, and a JSON log formatter (HALL_LOG_FORMAT=json).

No client library: the text format (version 0.0.4) is a few lines of `name{labels} value`.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class HallFigures:
    """One hall's series: HallService.metrics ("malformed.bad_json", "refused.wrong_pin", ...), the
    waiting tickets per service code, and whether its broker connection is up."""

    hall: str
    counters: Mapping[str, int]
    waiting: Mapping[str, int]
    mqtt_connected: bool | None = None


def render(halls: Sequence[HallFigures], server: str, latency: Histogram | None = None,
           inbox: int | None = None, hold_s: float | None = None) -> str:
    """The exposition text of one hall or of a province: per-hall series labelled `hall`, and the
    server's own (the MQTT backlog, the command latency: one worker serves every hall) labelled
    `server` (the province id, or the hall id of a one-hall server)."""
    out: list[str] = []
    srv = f'server="{_label(server)}"'

    def family(name: str, kind: str, text: str, value=None) -> None:
        out.extend((f"# HELP {name} {text}", f"# TYPE {name} {kind}"))
        if value is not None:
            for f in halls:
                out.append(f'{name}{{hall="{_label(f.hall)}"}} {value(f)}')

    family("hall_messages_in_total", "counter", "MQTT up messages received from devices",
           lambda f: f.counters.get("messages_in", 0))
    family("hall_messages_out_total", "counter", "MQTT messages the server published (replies, states, calls, board)",
           lambda f: f.counters.get("messages_out", 0))
    family("hall_commands_total", "counter", "device commands applied and committed (refusals included)",
           lambda f: f.counters.get("commands", 0))
    family("hall_manager_commands_total", "counter", "manager commands from the pages, committed",
           lambda f: f.counters.get("manager_commands", 0))
    family("hall_duplicates_total", "counter", "retries answered from the stored reply, without a second effect",
           lambda f: f.counters.get("duplicates", 0))
    family("hall_store_errors_total", "counter", "store operations that failed (commands meanwhile: `unavailable`)",
           lambda f: f.counters.get("store_errors", 0))
    family("hall_handler_errors_total", "counter", "messages whose handling raised (logged, acknowledged, skipped)",
           lambda f: f.counters.get("handler_errors", 0))
    family("hall_refusals_total", "counter",
           "messages refused, by error code; kind=malformed (not parsed), refused (by the hall) or status")
    for f in halls:
        h = f'hall="{_label(f.hall)}"'
        for key in sorted(f.counters):
            prefix, _, code = key.partition(".")
            kind = {"malformed": "malformed", "refused": "refused", "malformed_status": "status",
                    "status": "status"}.get(prefix)
            if kind and code:
                out.append(f'hall_refusals_total{{{h},kind="{kind}",code="{_label(code)}"}} {f.counters[key]}')
    family("hall_waiting_tickets", "gauge", "tickets waiting now, per service")
    for f in halls:
        for service in sorted(f.waiting):
            out.append(f'hall_waiting_tickets{{hall="{_label(f.hall)}",service="{_label(service)}"}} '
                       f"{f.waiting[service]}")
    if any(f.mqtt_connected is not None for f in halls):
        family("hall_mqtt_connected", "gauge", "1 while the hall's connection to the broker is up")
        for f in halls:
            if f.mqtt_connected is not None:
                out.append(f'hall_mqtt_connected{{hall="{_label(f.hall)}"}} {int(f.mqtt_connected)}')
    if inbox is not None:
        family("hall_mqtt_inbox", "gauge", "MQTT messages received and not yet handled (every hall of the server)")
        out.append(f"hall_mqtt_inbox{{{srv}}} {inbox}")
    if hold_s is not None:
        family("hall_views_hold_seconds", "gauge",
               "how long queue views (board, other terminals, dispensers) may wait now; longer near saturation")
        out.append(f"hall_views_hold_seconds{{{srv}}} {_fmt(hold_s)}")
    if latency is not None:
        family("hall_command_seconds", "histogram", "time from receiving a device message to publishing its reply")
        buckets, count, total = latency.snapshot()
        for bound, n in buckets:
            out.append(f'hall_command_seconds_bucket{{{srv},le="{_fmt(bound)}"}} {n}')
        out.append(f"hall_command_seconds_sum{{{srv}}} {_fmt(total)}")
        out.append(f"hall_command_seconds_count{{{srv}}} {count}")
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
