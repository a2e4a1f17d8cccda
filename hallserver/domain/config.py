"""The hall's configuration: services, counters, officers, devices, ratings and rules.

Parsed from a plain dict (the TOML file's content) and validated here, so a wrong configuration is
refused at start with a message naming the entry, never discovered at the counter.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import time

from protocols.messages import KINDS
from protocols.topics import is_slug

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POLICY_NAMES = ("oldest", "preference", "sla")  # hallserver.domain.policies defines them


class ConfigError(ValueError):
    """A configuration that cannot run a hall."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    prefix: str
    name_en: str = ""
    daily_cap: int | None = None
    # weekday -> ((start, end), ...); a weekday missing here issues no tickets
    hours: dict[str, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    target_wait_min: int = 15
    handle_min: float = 10.0
    enabled: bool = True


@dataclass(frozen=True)
class Counter:
    number: int
    name: str
    services: tuple[str, ...]
    kind: str = "receiving"  # receiving | inter_agency | returning


@dataclass(frozen=True)
class Officer:
    id: str
    name: str
    pin_hash: str
    active: bool = True  # an inactive officer keeps their history and figures, and cannot log in


@dataclass(frozen=True)
class Device:
    id: str
    kind: str  # one of protocols.messages.KINDS
    counter: int | None = None
    services: tuple[str, ...] = ()  # a dispenser's buttons; empty means every service
    counters: tuple[int, ...] = ()  # a `boards` controller's counters: it reads their LED displays' states


@dataclass(frozen=True)
class Level:
    key: str
    label: str
    label_en: str = ""
    asks_reason: bool = False


@dataclass(frozen=True)
class Priority:
    categories: tuple[Level, ...] = ()
    mode: str = "strict"  # strict | interleave
    every: int = 3  # interleave: one priority ticket after this many ordinary ones


@dataclass(frozen=True)
class HallConfig:
    id: str
    name: str
    services: dict[str, Service]
    counters: dict[int, Counter]
    officers: dict[str, Officer]
    devices: dict[str, Device]
    levels: tuple[Level, ...]
    reasons: tuple[Level, ...]
    priority: Priority = Priority()
    name_en: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    number_width: int = 3
    recall_limit: int = 3
    rating_window_s: int = 120
    policy: str = "oldest"  # one of POLICY_NAMES; a manager can switch it for the day (set_policy)
    preference_wait_min: float = 10.0  # `preference`: another service's ticket waiting longer is taken first
    always_open: bool = False  # ignore issuing hours (demo and tests)
    public_url: str = "http://127.0.0.1:8000"
    demo: bool = False
    notice: str = ""  # the scrolling line of the hall screens
    # the hall's issuing hours (weekday -> spans): a service added from the admin page takes them
    hours: dict[str, tuple[tuple[time, time], ...]] = field(default_factory=dict)

    @property
    def preference_wait_s(self) -> float:
        return self.preference_wait_min * 60.0

    def level(self, key: str) -> Level | None:
        return next((lv for lv in self.levels if lv.key == key), None)


def _parse_hours(raw: dict, where: str) -> dict[str, tuple[tuple[time, time], ...]]:
    hours = {}
    for day, spans in raw.items():
        if day not in WEEKDAYS:
            raise ConfigError(f"{where}: unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
        parsed = []
        for span in spans:
            try:
                start, end = (time.fromisoformat(s) for s in span)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{where}.{day}: spans are [\"HH:MM\", \"HH:MM\"]") from exc
            if start >= end:
                raise ConfigError(f"{where}.{day}: {span} ends before it starts")
            parsed.append((start, end))
        hours[day] = tuple(parsed)
    return hours


def _level(raw: dict, where: str) -> Level:
    key = raw.get("key")
    if not is_slug(key):
        raise ConfigError(f"{where}: key must be a lower-case slug, got {key!r}")
    return Level(key, nfc(raw.get("label", key)), raw.get("label_en", ""), bool(raw.get("asks_reason")))


DEFAULT_LEVELS = (
    {"key": "rat-hai-long", "label": "Rất hài lòng", "label_en": "Very satisfied"},
    {"key": "hai-long", "label": "Hài lòng", "label_en": "Satisfied"},
    {"key": "khong-hai-long", "label": "Không hài lòng", "label_en": "Not satisfied", "asks_reason": True},
)
DEFAULT_REASONS = (
    {"key": "thai-do", "label": "Thái độ", "label_en": "Attitude"},
    {"key": "thoi-gian-cho", "label": "Thời gian chờ", "label_en": "Waiting time"},
    {"key": "huong-dan", "label": "Hướng dẫn", "label_en": "Guidance"},
    {"key": "khac", "label": "Khác", "label_en": "Other"},
)


def parse_config(raw: dict) -> HallConfig:
    """Build a HallConfig from the TOML structure documented in hallserver/demo_hall.toml."""
    hall = raw.get("hall", {})
    hall_id = hall.get("id")
    if not is_slug(hall_id):
        raise ConfigError(f"hall.id must be a lower-case slug, got {hall_id!r}")
    default_hours = _parse_hours(hall.get("hours", {}), "hall.hours")

    services: dict[str, Service] = {}
    prefixes: set[str] = set()
    for i, s in enumerate(raw.get("services", [])):
        where = f"services[{i}]"
        code = s.get("code")
        if not is_slug(code):
            raise ConfigError(f"{where}: code must be a lower-case slug, got {code!r}")
        if code in services:
            raise ConfigError(f"{where}: duplicate service code {code!r}")
        prefix = str(s.get("prefix", ""))
        if not prefix or not prefix.isalnum() or not prefix.isascii() or prefix != prefix.upper():
            raise ConfigError(f"{where}: prefix must be upper-case letters or digits, got {prefix!r}")
        if prefix in prefixes:
            raise ConfigError(f"{where}: prefix {prefix!r} is used by another service")
        prefixes.add(prefix)
        cap = s.get("daily_cap")
        if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 0):
            raise ConfigError(f"{where}: daily_cap must be a whole number of tickets, got {cap!r}")
        services[code] = Service(
            code=code, name=nfc(s.get("name", code)), prefix=prefix, name_en=s.get("name_en", ""),
            daily_cap=s.get("daily_cap"),
            hours=_parse_hours(s["hours"], f"{where}.hours") if "hours" in s else default_hours,
            target_wait_min=int(s.get("target_wait_min", 15)), handle_min=float(s.get("handle_min", 10)),
            enabled=bool(s.get("enabled", True)),
        )
    if not services:
        raise ConfigError("a hall needs at least one service")

    counters: dict[int, Counter] = {}
    for i, c in enumerate(raw.get("counters", [])):
        number = c.get("number")
        if not isinstance(number, int) or not 1 <= number <= 9999 or number in counters:
            raise ConfigError(f"counters[{i}]: number must be a unique integer 1..9999, got {number!r}")
        unknown = [code for code in c.get("services", []) if code not in services]
        if unknown:
            raise ConfigError(f"counters[{i}]: unknown services {unknown}")
        counters[number] = Counter(number, nfc(c.get("name", f"Quầy {number}")), tuple(c.get("services", [])),
                                   c.get("kind", "receiving"))

    officers: dict[str, Officer] = {}
    for i, o in enumerate(raw.get("officers", [])):
        oid = o.get("id")
        if not is_slug(oid) or oid in officers:
            raise ConfigError(f"officers[{i}]: id must be a unique lower-case slug, got {oid!r}")
        if not str(o.get("pin_hash", "")).startswith("pbkdf2_sha256$"):
            raise ConfigError(f"officers[{i}]: pin_hash must come from `python -m hallserver hash-pin`")
        officers[oid] = Officer(oid, nfc(o.get("name", oid)), o["pin_hash"])

    devices: dict[str, Device] = {}
    for i, d in enumerate(raw.get("devices", [])):
        did, kind, counter = d.get("id"), d.get("kind"), d.get("counter")
        if not is_slug(did) or did in devices:
            raise ConfigError(f"devices[{i}]: id must be a unique lower-case slug, got {did!r}")
        if kind not in KINDS:
            raise ConfigError(f"devices[{i}]: kind must be one of {sorted(KINDS)}, got {kind!r}")
        if kind in ("terminal", "led", "rating") and counter not in counters:
            raise ConfigError(f"devices[{i}]: a {kind} needs the number of a configured counter")
        unknown = [code for code in d.get("services", []) if code not in services]
        if unknown:
            raise ConfigError(f"devices[{i}]: unknown services {unknown}")
        driven = d.get("counters", [])
        if kind == "boards":
            if counter is not None or not isinstance(driven, list) or not driven \
                    or any(isinstance(n, bool) or not isinstance(n, int) or n not in counters for n in driven) \
                    or len(set(driven)) != len(driven):
                raise ConfigError(f"devices[{i}]: a boards controller needs `counters`, a list of configured "
                                  f"counter numbers (and no `counter`), got {driven!r}")
        elif driven:
            raise ConfigError(f"devices[{i}]: only a boards controller has `counters`")
        devices[did] = Device(did, kind, counter, tuple(d.get("services", [])), tuple(driven))
    for did, dev in devices.items():
        bare = [n for n in dev.counters if not any(d.kind == "led" and d.counter == n for d in devices.values())]
        if bare:
            raise ConfigError(f"devices: {did} drives the boards of counters {bare}, which have no led device")

    ratings = raw.get("ratings", {})
    levels = tuple(_level(lv, f"ratings.levels[{i}]") for i, lv in enumerate(ratings.get("levels", DEFAULT_LEVELS)))
    reasons = tuple(_level(r, f"ratings.reasons[{i}]") for i, r in enumerate(ratings.get("reasons", DEFAULT_REASONS)))
    if not levels:
        raise ConfigError("ratings.levels: at least one level")

    prio = raw.get("priority", {})
    mode = prio.get("mode", "strict")
    if mode not in ("strict", "interleave"):
        raise ConfigError(f"priority.mode must be strict or interleave, got {mode!r}")
    priority = Priority(
        tuple(_level(c, f"priority.categories[{i}]") for i, c in enumerate(prio.get("categories", []))),
        mode, max(1, int(prio.get("every", 3))),
    )
    policy = hall.get("policy", "oldest")
    if policy not in POLICY_NAMES:
        raise ConfigError(f"hall.policy must be one of {', '.join(POLICY_NAMES)}, got {policy!r}")
    pref_wait = hall.get("preference_wait_min", 10)
    if isinstance(pref_wait, bool) or not isinstance(pref_wait, int | float) or pref_wait < 0:
        raise ConfigError(f"hall.preference_wait_min must be a number of minutes >= 0, got {pref_wait!r}")
    width = hall.get("number_width", 3)
    if not isinstance(width, int) or not 1 <= width <= 9:
        raise ConfigError(f"hall.number_width must be 1..9 digits, got {width!r}")
    return HallConfig(
        id=hall_id, name=nfc(hall.get("name", hall_id)), name_en=hall.get("name_en", ""),
        services=services, counters=counters, officers=officers, devices=devices,
        levels=levels, reasons=reasons, priority=priority,
        timezone=hall.get("timezone", "Asia/Ho_Chi_Minh"), number_width=int(hall.get("number_width", 3)),
        recall_limit=int(hall.get("recall_limit", 3)), rating_window_s=int(ratings.get("window_s", 120)),
        policy=policy, preference_wait_min=float(pref_wait), always_open=bool(hall.get("always_open", False)),
        public_url=hall.get("public_url", "http://127.0.0.1:8000").rstrip("/"), demo=bool(hall.get("demo", False)),
        notice=nfc(str(hall.get("notice", ""))), hours=default_hours,
    )
