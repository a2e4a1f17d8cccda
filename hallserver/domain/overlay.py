"""Edits of the hall configuration made from the admin page, kept apart from the TOML file.

The store keeps one overlay per hall, a JSON object of the entries an admin changed:

    {"services": {"<code>": {"name", "name_en", "target_wait_min", "daily_cap", "enabled"}},
     "counters": {"<number>": {"name", "services"}},
     "officers": {"<id>": {"name", "pin_hash", "active"}},   # a new officer carries all three
     "devices": {"<id>": {"kind", "counter", "services"}}}   # added only

An entry for a code the configuration lacks adds it: a new service carries "prefix" (and
"handle_min"; it takes the hall's issuing hours), a new counter "kind", a new device "kind".
Nothing is removed (services are disabled instead). Each entry holds whole field values, so
applying overlays one after the other is the same as applying their merge: the server applies the
stored overlay on the TOML at start (strict=False: an entry that no longer fits the TOML, say a
prefix the file now uses, is skipped and reported), and an edit on the live configuration. Pure
functions: no I/O, no clock; a wrong edit raises OverlayError with a Vietnamese/English message
fit to show, and `live_conflict` says why an edit would break the day in progress.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

from hallserver.domain.config import Counter, Device, HallConfig, Officer, Service, nfc
from protocols.topics import is_slug

SERVICE_FIELDS = ("name", "name_en", "target_wait_min", "daily_cap", "enabled")
SERVICE_NEW = ("prefix", "handle_min")  # given when a service is added, fixed after
COUNTER_FIELDS = ("name", "services")
COUNTER_KINDS = ("receiving", "inter_agency", "returning")  # as in the TOML file
OFFICER_FIELDS = ("name", "pin_hash", "active")
DEVICE_KINDS = ("terminal", "led", "rating", "dispenser", "screen")  # what an installer adds from the page
AT_COUNTER = ("terminal", "led", "rating")
MAX_TARGET_MIN = 480
MAX_NAME = 200
MAX_ID = 48
MAX_COUNTER = 9999


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


def _slug(value: object, what_vi: str, what_en: str, example: str) -> str:
    if not is_slug(value) or len(str(value)) > MAX_ID:
        raise OverlayError(f"{what_vi}: chữ thường không dấu, số và dấu gạch ngang, tối đa {MAX_ID} ký tự "
                           f"(vd. {example}) / {what_en}: a lower-case slug of at most {MAX_ID} characters "
                           f"(e.g. {example})")
    return str(value)


def _codes(value: object, services: dict[str, Service]) -> tuple[str, ...]:
    codes = list(value or [])
    unknown = [c for c in codes if c not in services]
    if unknown:
        raise OverlayError(f"Dịch vụ không tồn tại: {', '.join(map(str, unknown))} / unknown services")
    if len(set(codes)) != len(codes):
        raise OverlayError("Một dịch vụ chỉ ghi một lần / a service is listed once")
    return tuple(codes)


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
        changes["services"] = _codes(entry["services"], services)
    return replace(counter, **changes)


def _new_service(code: str, entry: dict, services: dict[str, Service], hours: dict) -> Service:
    """A service added from the admin page: disabled unless the entry says otherwise, so that no
    ticket is issued before a counter serves it."""
    _slug(code, "Mã dịch vụ", "service code", "ho-tich")
    prefix = str(entry.get("prefix") or "")
    if not (1 <= len(prefix) <= 2 and all("A" <= ch <= "Z" for ch in prefix)):
        raise OverlayError("Tiền tố số thứ tự: 1–2 chữ cái in hoa A–Z / the ticket prefix is 1–2 capital "
                           "letters A–Z")
    used = next((s.code for s in services.values() if s.prefix == prefix), None)
    if used is not None:
        raise OverlayError(f"Tiền tố {prefix} đã dùng cho dịch vụ {used} / prefix {prefix} is used by {used}")
    if "name" not in entry:
        raise OverlayError("Dịch vụ mới cần tên / a new service needs a name")
    handle = _whole(entry.get("handle_min", 10), "Thời gian xử lý", "the handling time", 1, MAX_TARGET_MIN)
    svc = Service(code, "", prefix, hours=dict(hours), handle_min=float(handle), enabled=False)
    return _service(svc, {k: v for k, v in entry.items() if k not in SERVICE_NEW})


def _counter_number(key: object) -> int:
    try:
        number = int(str(key))
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_COUNTER:
        raise OverlayError(f"Số quầy từ 1 đến {MAX_COUNTER} / a counter number is 1..{MAX_COUNTER}")
    return number


def _new_counter(number: int, entry: dict, services: dict[str, Service]) -> Counter:
    if entry.get("kind") not in COUNTER_KINDS:
        raise OverlayError(f"Loại quầy: {', '.join(COUNTER_KINDS)} / a counter's kind is one of "
                           f"{', '.join(COUNTER_KINDS)}")
    counter = Counter(number, f"Quầy {number}", (), entry["kind"])
    return _counter(counter, {k: v for k, v in entry.items() if k != "kind"}, services)


def _new_device(did: str, entry: dict, counters: dict[int, Counter], services: dict[str, Service],
                devices: dict[str, Device]) -> Device:
    _slug(did, "Mã thiết bị", "device id", "ct-38")
    kind = entry.get("kind")
    if kind not in DEVICE_KINDS:
        raise OverlayError(f"Loại thiết bị: {', '.join(DEVICE_KINDS)} / a device's kind is one of "
                           f"{', '.join(DEVICE_KINDS)}")
    counter = None
    if kind in AT_COUNTER:
        counter = entry.get("counter")
        if isinstance(counter, bool) or counter not in counters:
            raise OverlayError(f"Thiết bị {kind} cần số của một quầy đã có / a {kind} needs the number of an "
                               "existing counter")
        other = next((d.id for d in devices.values() if d.kind == "terminal" and d.counter == counter), None)
        if kind == "terminal" and other is not None:
            raise OverlayError(f"Quầy {counter} đã có máy quầy {other} / counter {counter} already has the "
                               f"terminal {other}")
    codes = _codes(entry.get("services"), services) if kind == "dispenser" else ()
    return Device(did, kind, counter, codes)


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
def apply_overlay(config: HallConfig, overlay: dict | None, strict: bool = True,
                  skipped: list[str] | None = None) -> HallConfig:
    """`config` with the overlay's entries applied. `strict` (an edit): a wrong entry raises
    OverlayError, and so does adding what exists. Otherwise (the stored overlay at start) an entry
    that does not fit the configuration (gone from the TOML file, or added there since) is skipped,
    with its reason appended to `skipped`."""
    if not overlay:
        return config

    def each(section: str, one: Callable[[str, dict], None]) -> None:
        for key, entry in (overlay.get(section) or {}).items():
            try:
                one(str(key), entry)
            except OverlayError as exc:
                if strict:
                    raise
                if skipped is not None:
                    skipped.append(f"{section} {key}: {exc}")

    services = dict(config.services)

    def service(code: str, entry: dict) -> None:
        if code in services:
            if strict and "prefix" in entry:
                raise OverlayError(f"Mã dịch vụ {code} đã có / service code {code} is taken")
            services[code] = _service(services[code], {k: v for k, v in entry.items() if k not in SERVICE_NEW})
        elif "prefix" in entry:
            services[code] = _new_service(code, entry, services, config.hours)
        else:
            raise OverlayError(f"Dịch vụ {code} không tồn tại / no service {code}")

    counters = dict(config.counters)

    def counter(key: str, entry: dict) -> None:
        number = _counter_number(key)
        if number in counters:
            if strict and "kind" in entry:
                raise OverlayError(f"Quầy {number} đã có / counter {number} exists")
            counters[number] = _counter(counters[number], {k: v for k, v in entry.items() if k != "kind"},
                                        services)
        elif "kind" in entry:
            counters[number] = _new_counter(number, entry, services)
        else:
            raise OverlayError(f"Quầy {number} không tồn tại / no counter {number}")

    officers = dict(config.officers)

    def officer(oid: str, entry: dict) -> None:
        officers[oid] = _officer(oid, officers.get(oid), entry)

    devices = dict(config.devices)

    def device(did: str, entry: dict) -> None:
        if did in devices:
            raise OverlayError(f"Mã thiết bị {did} đã có / device id {did} is taken")
        devices[did] = _new_device(did, entry, counters, services, devices)

    each("services", service)
    each("counters", counter)
    each("officers", officer)
    each("devices", device)
    return replace(config, services=services, counters=counters, officers=officers, devices=devices)


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
        return None if s is None else {f: getattr(s, f) for f in (*SERVICE_FIELDS, *SERVICE_NEW)}
    if section == "counters":
        c = config.counters.get(int(key))
        return None if c is None else {"name": c.name, "services": list(c.services), "kind": c.kind}
    if section == "devices":
        d = config.devices.get(key)
        return None if d is None else {"kind": d.kind, "counter": d.counter, "services": list(d.services)}
    o = config.officers.get(key)
    return None if o is None else {"name": o.name, "active": o.active}


def live_conflict(config: HallConfig, new: HallConfig, officer_counters: dict[str, int]) -> str | None:
    """Why `new` would break the day in progress, or None. `officer_counters`: who is logged in
    where now. Disabling a service is fine (its waiting tickets are still called); removing one is
    not offered (nor removing a counter or a device); deactivating an officer who is logged in is
    refused."""
    for oid, number in officer_counters.items():
        before, after = config.officers.get(oid), new.officers.get(oid)
        if before is not None and before.active and (after is None or not after.active):
            return (f"Cán bộ {before.name} đang đăng nhập tại quầy {number}: hãy đăng xuất (hoặc chuyển) trước khi "
                    f"ngừng hoạt động / {before.name} is logged in at counter {number}: log them out first")
    missing = [code for code in config.services if code not in new.services]
    if missing:
        return f"Không xoá được dịch vụ {', '.join(missing)} / services cannot be removed; disable them instead"
    if set(config.counters) - set(new.counters) or set(config.devices) - set(new.devices):
        return "Không xoá được quầy hay thiết bị / counters and devices cannot be removed"
    return None
