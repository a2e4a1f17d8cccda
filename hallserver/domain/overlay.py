"""Edits of the hall configuration made from the admin page, kept apart from the TOML file.

The store keeps one overlay per hall, a JSON object of the entries an admin changed:

    {"services": {"<code>": {"name", "name_en", "target_wait_min", "daily_cap", "enabled"}},
     "counters": {"<number>": {"name", "services"}},
     "officers": {"<id>": {"name", "pin_hash", "active"}}}   # a new officer carries all three

Each entry holds whole field values, so applying overlays one after the other is the same as
applying their merge: the server applies the stored overlay on the TOML at start, and an edit on
the live configuration. Pure functions: no I/O, no clock; a wrong edit raises OverlayError with a
Vietnamese/English message fit to show, and `live_conflict` says why an edit would break the day
in progress.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from hallserver.domain.config import Counter, HallConfig, Officer, Service, nfc
from protocols.topics import is_slug

SERVICE_FIELDS = ("name", "name_en", "target_wait_min", "daily_cap", "enabled")
COUNTER_FIELDS = ("name", "services")
OFFICER_FIELDS = ("name", "pin_hash", "active")
MAX_TARGET_MIN = 480
MAX_NAME = 200


class OverlayError(ValueError):
    """An edit that cannot be applied; the message is bilingual (Vietnamese / English)."""


# ---------------------------------------------------------------- checks of single values
def _name(value: object, required: bool = True) -> str:
    text = nfc(str(value if value is not None else "")).strip()
    if required and not text:
        raise OverlayError("Tên không được để trống / the name cannot be empty")
    if len(text) > MAX_NAME:
        raise OverlayError(f"Tên dài tối đa {MAX_NAME} ký tự / a name has at most {MAX_NAME} characters")
    return text


def _whole(value: object, what_vi: str, what_en: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        vi = f"từ {lo} đến {hi}" if hi is not None else f"từ {lo} trở lên"
        en = f"{lo}..{hi}" if hi is not None else f"{lo} or more"
        raise OverlayError(f"{what_vi} phải là số nguyên {vi} / {what_en} must be a whole number {en}")
    return value


# ---------------------------------------------------------------- one entry at a time
def _service(svc: Service, entry: dict) -> Service:
    changes: dict = {}
    if "name" in entry:
        changes["name"] = _name(entry["name"])
    if "name_en" in entry:
        changes["name_en"] = _name(entry["name_en"], required=False)
    if "target_wait_min" in entry:
        changes["target_wait_min"] = _whole(entry["target_wait_min"], "Thời gian chờ mục tiêu", "the target wait",
                                            1, MAX_TARGET_MIN)
    if "daily_cap" in entry:
        cap = entry["daily_cap"]
        changes["daily_cap"] = None if cap is None else _whole(cap, "Giới hạn số/ngày", "the daily cap", 0)
    if "enabled" in entry:
        changes["enabled"] = bool(entry["enabled"])
    return replace(svc, **changes)


def _counter(counter: Counter, entry: dict, services: dict[str, Service]) -> Counter:
    changes: dict = {}
    if "name" in entry:
        changes["name"] = _name(entry["name"])
    if "services" in entry:
        codes = list(entry["services"] or [])
        unknown = [c for c in codes if c not in services]
        if unknown:
            raise OverlayError(f"Dịch vụ không tồn tại: {', '.join(map(str, unknown))} / unknown services")
        if len(set(codes)) != len(codes):
            raise OverlayError("Một dịch vụ chỉ ghi một lần / a service is listed once")
        changes["services"] = tuple(codes)
    return replace(counter, **changes)


def _officer(oid: str, officer: Officer | None, entry: dict) -> Officer:
    if officer is None:  # a new officer
        if not is_slug(oid) or len(oid) > 48:
            raise OverlayError("Mã cán bộ: chữ thường, số và dấu gạch ngang (vd. o40) / officer id: a lower-case "
                               "slug (e.g. o40)")
        missing = [f for f in ("name", "pin_hash") if f not in entry]
        if missing:
            raise OverlayError(f"Cán bộ mới cần họ tên và mã PIN / a new officer needs {' and '.join(missing)}")
        officer = Officer(oid, "", "")
    changes: dict = {}
    if "name" in entry:
        changes["name"] = _name(entry["name"])
    if "pin_hash" in entry:
        if not str(entry["pin_hash"]).startswith("pbkdf2_sha256$"):
            raise OverlayError("PIN phải được băm trước khi lưu / the PIN must be stored hashed")
        changes["pin_hash"] = str(entry["pin_hash"])
    if "active" in entry:
        changes["active"] = bool(entry["active"])
    return replace(officer, **changes)


# ---------------------------------------------------------------- whole overlays
def apply_overlay(config: HallConfig, overlay: dict | None, strict: bool = True) -> HallConfig:
    """`config` with the overlay's entries applied. `strict`: an entry for a service or counter the
    configuration does not have is an error (an edit); otherwise it is skipped (a stored overlay
    that outlived an entry of the TOML file)."""
    if not overlay:
        return config
    services = dict(config.services)
    for code, entry in (overlay.get("services") or {}).items():
        if code not in services:
            if strict:
                raise OverlayError(f"Dịch vụ {code} không tồn tại / no service {code}")
            continue
        services[code] = _service(services[code], entry)
    counters = dict(config.counters)
    for key, entry in (overlay.get("counters") or {}).items():
        number = int(key)
        if number not in counters:
            if strict:
                raise OverlayError(f"Quầy {number} không tồn tại / no counter {number}")
            continue
        counters[number] = _counter(counters[number], entry, services)
    officers = dict(config.officers)
    for oid, entry in (overlay.get("officers") or {}).items():
        officers[oid] = _officer(oid, officers.get(oid), entry)
    return replace(config, services=services, counters=counters, officers=officers)


def merge(overlay: dict | None, change: dict) -> dict:
    """The stored overlay with `change` (same shape) laid over it, field by field."""
    out = copy.deepcopy(overlay or {})
    for section, entries in change.items():
        target = out.setdefault(section, {})
        for key, fields in entries.items():
            target.setdefault(str(key), {}).update(copy.deepcopy(fields))
    return out


# ---------------------------------------------------------------- what an edit changes, for the audit log
def describe(config: HallConfig, section: str, key: str) -> dict | None:
    """The entry as the audit log shows it (never a PIN hash)."""
    if section == "services":
        s = config.services.get(key)
        return None if s is None else {f: getattr(s, f) for f in SERVICE_FIELDS}
    if section == "counters":
        c = config.counters.get(int(key))
        return None if c is None else {"name": c.name, "services": list(c.services)}
    o = config.officers.get(key)
    return None if o is None else {"name": o.name, "active": o.active}


def live_conflict(config: HallConfig, new: HallConfig, officer_counters: dict[str, int]) -> str | None:
    """Why `new` would break the day in progress, or None. `officer_counters`: who is logged in
    where now. Disabling a service is fine (its waiting tickets are still called); removing one is
    not offered; deactivating an officer who is logged in is refused."""
    for oid, number in officer_counters.items():
        before, after = config.officers.get(oid), new.officers.get(oid)
        if before is not None and before.active and (after is None or not after.active):
            return (f"Cán bộ {before.name} đang đăng nhập tại quầy {number}: hãy đăng xuất (hoặc chuyển) trước khi "
                    f"ngừng hoạt động / {before.name} is logged in at counter {number}: log them out first")
    missing = [code for code in config.services if code not in new.services]
    if missing:
        return f"Không xoá được dịch vụ {', '.join(missing)} / services cannot be removed; disable them instead"
    return None
