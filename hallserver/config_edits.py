"""Editing the hall configuration from the admin page, with the engine kept pure.

The TOML file stays the base; the admin's edits are an overlay in the store (see
hallserver/domain/overlay.py), applied on the TOML at start and on the live configuration at each
edit. An edit, under the hall's lock: apply it to a copy of the configuration (a wrong value is an
OverlayError), ask the live day whether it can take it (ConfigConflict otherwise), swap the
service's configuration and replay today's events under it, then record the overlay and the audit
entries (before/after) in one transaction. Nothing changes when any step fails.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

import protocols
from hallserver.domain import views
from hallserver.domain.config import HallConfig
from hallserver.domain.engine import Hall
from hallserver.domain.overlay import OverlayError, apply_overlay, describe, live_conflict, merge
from hallserver.service import HallService
from hallserver.store import Store
from hallserver.store.accounts import Accounts
from hallserver.store.overlays import ConfigOverlays

__all__ = ["ConfigConflict", "OverlayError", "edit", "load_overlay"]
log = logging.getLogger(__name__)
ACTIONS = {"services": ("config.service", "service"), "counters": ("config.counter", "counter"),
           "officers": ("config.officer", "officer"), "devices": ("config.device", "device")}


class HallParts(Protocol):
    """What an edit needs of the runtime (bootstrap.Runtime, or one hall of a province)."""

    config: HallConfig
    service: HallService
    store: Store


class ConfigConflict(Exception):
    """The edit would break the day in progress; the message is bilingual, fit to show."""


def _oversized(config: HallConfig, now: datetime) -> list[str]:
    """Devices whose retained state would not fit one message under `config` (a dispenser that
    shows every service grows with each service added), allowing 5 digits per waiting count."""
    hall = Hall(config)
    too_big = []
    for device in config.devices.values():
        state = views.device_state(hall, device, now)
        try:
            size = len(protocols.encode(state, 1 << 20)) + 5 * len(state.get("services", ()))
        except protocols.ProtocolError:
            size = 1 << 20
        if size > protocols.MAX_PAYLOAD:
            too_big.append(device.id)
    return too_big


def load_overlay(rt: HallParts) -> None:
    """At start, before the day is first replayed (today's events may name a counter, service or
    device the overlay added): lay the stored overlay over the TOML configuration (entries the TOML
    no longer has, or no longer fit, are skipped and logged), then replay the day under the result."""
    overlay = ConfigOverlays(rt.store).get(rt.config.id)
    if not overlay:
        rt.service.load()
        return
    skipped: list[str] = []
    config = apply_overlay(rt.config, overlay, strict=False, skipped=skipped)
    for reason in skipped:
        log.warning("hall %s: configuration overlay entry skipped: %s", config.id, reason)
    with rt.service.exclusive():
        rt.service.config = config
        rt.service.load()
    rt.config = config
    log.info("hall %s: configuration overlay applied (%s)", config.id,
             ", ".join(f"{len(v)} {k}" for k, v in overlay.items()))


def edit(rt: HallParts, actor: str, change: dict) -> list[tuple[str, dict | None, dict | None]]:
    """Apply an edit (overlay-shaped) to the live hall; returns (target, before, after) per entry."""
    service = rt.service
    repo = ConfigOverlays(rt.store)
    with service.exclusive():
        current = service.config
        new = apply_overlay(current, change)
        now = service.now()
        too_big = _oversized(new, now) if {"services", "counters", "devices"} & set(change) else []
        if too_big:
            raise OverlayError(f"Trạng thái của thiết bị {', '.join(too_big)} sẽ vượt quá một tin nhắn MQTT "
                               f"({protocols.MAX_PAYLOAD} byte): hãy giới hạn dịch vụ của máy lấy số / the state of "
                               f"{', '.join(too_big)} would not fit one message: give the dispenser fewer services")
        changed, audit = [], []
        for section, entries in change.items():
            action, noun = ACTIONS[section]
            for key, fields in entries.items():
                before, after = describe(current, section, str(key)), describe(new, section, str(key))
                if after is not None and "pin_hash" in fields:
                    after = {**after, "pin": "changed"}
                if before == after:
                    continue
                changed.append((f"{noun} {key}", before, after))
                audit.append(Accounts.audit_row(current.id, actor, action, f"{noun} {key}", before, after, now))
        if not changed:
            return []

        def check(hall: Hall) -> None:
            seated = {c.officer: c.number for c in hall.counters.values() if c.officer}
            problem = live_conflict(current, new, seated)
            if problem:
                raise ConfigConflict(problem)

        overlay = merge(repo.get(current.id), change)
        service.reconfigure(new, check, lambda: repo.put(current.id, overlay, actor, now, audit))
        rt.config = new
    return changed
