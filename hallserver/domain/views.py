"""What each audience sees of the hall: device states, the board, queue figures.

Pure functions of the engine's state, in the shapes of protocols/README.md; the adapters only
encode and publish them.
"""

from __future__ import annotations

import math
from datetime import datetime

from hallserver.domain.config import Device
from hallserver.domain.engine import Hall
from hallserver.domain.model import Call, Ticket


def iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


def call_view(call: Call, hall: Hall) -> dict:
    return {"v": 1, "seq": call.seq, "number": call.number, "counter": call.counter,
            "counter_name": hall.config.counters[call.counter].name, "service": call.service,
            "recall": call.recall, "at": iso(call.at)}


def ticket_reply(t: Ticket, hall: Hall) -> dict:
    """The ticket as a dispenser prints it."""
    return {"number": t.number, "service": t.service, "service_name": hall.config.services[t.service].name,
            "priority": t.priority, "issued_at": iso(t.issued_at), "ahead": hall.ahead_of(t),
            "eta_min": hall.eta_min(t), "track_url": f"{hall.config.public_url}/t/{t.token}"}


def ticket_status(t: Ticket, hall: Hall, now: datetime) -> dict:
    """Where a ticket stands now, for the API and the tracking page (no personal data)."""
    return {"number": t.number, "service": t.service, "service_name": hall.config.services[t.service].name,
            "status": t.status, "priority": t.priority, "issued_at": iso(t.issued_at),
            "ahead": hall.ahead_of(t), "eta_min": hall.eta_min(t) if t.status == "waiting" else 0,
            "counter": t.counter if t.status in ("called", "held") else None,
            "called_at": iso(t.called_at), "recalls": t.recalls,
            "waited_s": int(((t.called_at or now) - t.queued_at).total_seconds())}


def queues(hall: Hall, now: datetime) -> list[dict]:
    """Waiting count, longest wait and the estimated wait of a ticket taken now, per service."""
    rows = []
    for code, svc in hall.config.services.items():
        waiting = hall.waiting(code)
        rows.append({"service": code, "name": svc.name, "prefix": svc.prefix, "waiting": len(waiting),
                     "longest_wait_s": int((now - waiting[0].queued_at).total_seconds()) if waiting else 0,
                     "eta_min": math.ceil(len(waiting) * svc.handle_min / max(1, hall.serving_counters(code))),
                     "issued": hall.issued.get(code, 0), "counters_open": hall.serving_counters(code)})
    return rows


def board(hall: Hall, now: datetime) -> dict:
    cfg = hall.config
    return {
        "v": 1, "hall": cfg.id, "name": cfg.name, "at": iso(now),
        "counters": [{"number": c.number, "name": cfg.counters[c.number].name, "status": c.status,
                      "ticket": c.current, "services": list(c.services)} for c in hall.counters.values()],
        "recent": [call_view(call, hall) for call in hall.recent],
        "waiting": [{k: row[k] for k in ("service", "name", "prefix", "waiting", "longest_wait_s", "eta_min")}
                    for row in queues(hall, now)],
        "notice": hall.notice,
    }


def _levels(levels) -> list[dict]:
    return [{"key": lv.key, "label": lv.label} for lv in levels]


def device_state(hall: Hall, device: Device, now: datetime) -> dict:
    """The retained state a device shows, under protocols.MAX_PAYLOAD for any hall: names and labels
    are configuration, so only what changes is here. `now` is left out, so an unchanged state is
    not republished."""
    cfg = hall.config
    if device.kind == "terminal":
        c = hall.counters[device.counter]
        officer = cfg.officers.get(c.officer) if c.officer else None
        cur = hall.tickets.get(c.current) if c.current else None
        waiting = {}
        for t in hall.eligible(c):
            waiting[t.service] = waiting.get(t.service, 0) + 1
        return {
            "v": 1, "kind": "terminal", "counter": c.number, "counter_name": cfg.counters[c.number].name,
            "status": c.status, "pause_reason": c.pause_reason,
            "officer": {"id": officer.id, "name": officer.name} if officer else None,
            "current": {"number": cur.number, "service": cur.service, "status": cur.status,
                        "called_at": iso(cur.called_at), "recalls": cur.recalls} if cur else None,
            "held": list(c.held),
            # its services in order, then any other service of a ticket transferred to this counter
            "services": [{"code": s, "prefix": cfg.services[s].prefix, "waiting": waiting.get(s, 0)}
                         for s in c.services + sorted(set(waiting) - set(c.services))],
        }
    if device.kind == "led":
        c = hall.counters[device.counter]
        return {"v": 1, "kind": "led", "counter": c.number, "number": c.current, "status": c.status,
                "call_seq": c.call_seq}
    if device.kind == "rating":
        armed = hall.armed.get(device.counter)
        return {"v": 1, "kind": "rating", "counter": device.counter, "armed": armed is not None,
                "ticket": armed.ticket if armed else None, "officer": armed.officer if armed else None,
                "expires_at": iso(armed.expires_at) if armed else None,
                "levels": _levels(cfg.levels), "reasons": _levels(cfg.reasons)}
    if device.kind == "dispenser":
        codes = device.services or tuple(cfg.services)
        # labels are configuration (GET /api/hall), not state: the state stays small for any hall
        return {"v": 1, "kind": "dispenser",
                "services": [{"code": s, "open": cfg.services[s].enabled and hall.is_open_for_tickets(s, now)
                              and hall.cap_left(s) != 0,
                              "waiting": len(hall.waiting(s))} for s in codes]}
    return {"v": 1, "kind": device.kind}
