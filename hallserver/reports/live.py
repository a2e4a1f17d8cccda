"""The live dashboard's view of the hall: a pure function of the engine's state, the time and the
devices' last status, read under the service lock (HallService.snapshot).

Alerts: a service whose longest wait passes its target; a counter open and idle for IDLE_ALERT_S
while tickets wait; a device offline; a dispenser whose paper is low or out.
"""

from __future__ import annotations

import math
from datetime import datetime

from hallserver.domain.engine import Hall
from hallserver.domain.views import iso

IDLE_ALERT_S = 120


def _s(since: datetime | None, now: datetime) -> int | None:
    return None if since is None else max(0, int((now - since).total_seconds()))


def dashboard(hall: Hall, now: datetime, statuses: dict[str, dict]) -> dict:
    cfg = hall.config
    alerts: list[dict] = []
    per_service = hall.day_counts()
    services = []
    waiting_total = 0
    for code, svc in cfg.services.items():
        row = per_service[code]
        waiting = hall.waiting(code)
        waiting_total += len(waiting)
        longest = _s(min((t.queued_at for t in waiting), default=None), now) or 0
        servers = hall.serving_counters(code)
        over = longest > svc.target_wait_min * 60
        services.append({
            "service": code, "name": svc.name, "name_en": svc.name_en, "prefix": svc.prefix,
            "target_min": svc.target_wait_min, "waiting": len(waiting), "longest_wait_s": longest,
            "eta_min": math.ceil(len(waiting) * svc.handle_min / max(1, servers)), "counters_open": servers,
            "issued": row["issued"], "called": row["called"], "served": row["served"],
            "within_target": round(row["within"] / row["called"], 4) if row["called"] else None,
            "over_target": over})
        if over:
            alerts.append({"kind": "wait", "level": "warn", "service": code,
                           "vi": f"{svc.name}: chờ lâu nhất {longest // 60} phút, vượt mục tiêu "
                                 f"{svc.target_wait_min} phút",
                           "en": f"{svc.name_en or svc.name}: longest wait {longest // 60} min, over the "
                                 f"{svc.target_wait_min} min target"})

    counters = []
    for c in hall.counters.values():
        officer = cfg.officers.get(c.officer) if c.officer else None
        cur = hall.tickets.get(c.current) if c.current else None
        idle = _s(c.idle_since, now) if c.status == "open" and cur is None else None
        counters.append({
            "number": c.number, "name": cfg.counters[c.number].name, "kind": cfg.counters[c.number].kind,
            "status": c.status, "closed": c.closed, "pause_reason": c.pause_reason,
            "officer": {"id": officer.id, "name": officer.name} if officer else None,
            "services": list(c.services), "ticket": cur.number if cur else None,
            "ticket_service": cur.service if cur else None, "ticket_since": iso(cur.called_at) if cur else None,
            "ticket_s": _s(cur.called_at, now) if cur else None, "served": c.served, "idle_s": idle,
            "held": list(c.held),
            # a manager moved the officer while serving: the counter they go to when this ticket ends
            "moving_to": (hall.pending_moves.get(c.officer) or {}).get("counter") if c.officer else None})
        if idle is not None and idle >= IDLE_ALERT_S and waiting_total:
            name = cfg.counters[c.number].name
            alerts.append({"kind": "counter_idle", "level": "info", "counter": c.number,
                           "vi": f"{name} rảnh {idle // 60} phút trong khi {waiting_total} công dân đang chờ",
                           "en": f"{name} idle for {idle // 60} min while {waiting_total} citizens wait"})

    devices = {"total": len(cfg.devices), "online": 0, "offline": [], "never": [], "paper": []}
    for d in cfg.devices.values():
        st = statuses.get(d.id)
        if st is None:
            devices["never"].append(d.id)
            continue
        if st.get("online"):
            devices["online"] += 1
        else:
            devices["offline"].append(d.id)
            alerts.append({"kind": "device_offline", "level": "warn", "device": d.id,
                           "vi": f"Thiết bị {d.id} mất kết nối", "en": f"Device {d.id} is offline"})
        paper = st.get("paper")
        if paper in ("near_end", "out"):
            devices["paper"].append({"device": d.id, "paper": paper})
            alerts.append({"kind": "paper", "level": "warn" if paper == "out" else "info", "device": d.id,
                           "vi": f"Máy cấp số {d.id}: " + ("hết giấy" if paper == "out" else "sắp hết giấy"),
                           "en": f"Dispenser {d.id}: paper " + ("out" if paper == "out" else "low")})
        printer = st.get("printer")
        if st.get("online") and printer in PRINTER_TROUBLE:
            vi, en = PRINTER_TROUBLE[printer]
            alerts.append({"kind": "printer", "level": "warn", "device": d.id,
                           "vi": f"Máy cấp số {d.id}: {vi}", "en": f"Dispenser {d.id}: {en}"})

    return {
        "v": 1, "hall": cfg.id, "name": cfg.name, "at": iso(now), "services": services, "counters": counters,
        "devices": devices, "alerts": alerts,
        "totals": {"waiting": waiting_total, "issued": sum(s["issued"] for s in services),
                   "served": sum(c["served"] for c in counters),
                   "open": sum(c["status"] == "open" for c in counters),
                   "paused": sum(c["status"] == "paused" for c in counters)},
        "officers": [{"id": o.id, "name": o.name, "counter": (hall.counter_of_officer(o.id) or _NoCounter).number}
                     for o in cfg.officers.values()],
        "all_services": [{"code": code, "name": s.name, "prefix": s.prefix} for code, s in cfg.services.items()],
    }


# what a dispenser's printer reports (firmware/ticket_dispenser/printer.py PrinterStatus) when it cannot print
PRINTER_TROUBLE = {
    "disconnected": ("máy in mất kết nối (kiểm tra cáp)", "printer disconnected (check the cable)"),
    "no_response": ("máy in không trả lời", "printer not answering"),
    "cover_open": ("nắp máy in đang mở", "printer cover open"),
    "offline": ("máy in ngừng hoạt động", "printer offline"),
    "error": ("máy in báo lỗi", "printer error"),
}


class _NoCounter:
    number = None
