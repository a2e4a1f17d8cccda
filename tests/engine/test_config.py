"""parse_config: wrong configurations are refused at start with a message naming the entry."""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path

import pytest

import hallserver
from hallserver.domain.config import ConfigError, parse_config
from hallserver.domain.engine import Hall
from hallserver.domain.pins import hash_pin, verify_pin

DEMO = Path(hallserver.__file__).parent / "demo_hall.toml"


def refused(raw: dict, *fragments: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


# ------------------------------------------------------------------------------ the test hall
def test_the_test_hall_parses(kit):
    cfg = kit.build_config()
    assert cfg.id == "test-hall"
    assert list(cfg.services) == ["tu-phap", "xay-dung", "tra-ket-qua"]
    assert cfg.services["tu-phap"].name == "Sở Tư pháp" and cfg.services["tu-phap"].prefix == "A"
    assert cfg.services["xay-dung"].daily_cap == 3 and cfg.services["tu-phap"].daily_cap is None
    assert cfg.services["tu-phap"].hours["mon"] == ((time(7), time(11, 15)), (time(13, 15), time(16, 30)))
    assert cfg.services["tu-phap"].hours["sat"] == ((time(7), time(11, 15)),)
    assert "sat" not in cfg.services["tra-ket-qua"].hours  # its own hours replace the hall's
    assert cfg.counters[1].services == ("tu-phap", "xay-dung")  # in order of preference
    assert cfg.counters[3].kind == "returning" and cfg.counters[1].kind == "receiving"
    assert set(cfg.officers) == {"o1", "o2", "o3", "o4"}
    assert all(verify_pin(o.pin_hash, "1234") for o in cfg.officers.values())
    assert cfg.devices["kiosk-a"].services == ("tu-phap",) and cfg.devices["kiosk"].services == ()
    assert cfg.priority.mode == "strict" and [c.key for c in cfg.priority.categories] == [
        "nguoi-cao-tuoi", "nguoi-khuyet-tat"]
    assert cfg.public_url == "http://hall.test"  # trailing slash dropped
    assert (cfg.number_width, cfg.recall_limit, cfg.rating_window_s) == (3, 2, 120)


def test_defaults():
    cfg = parse_config({"hall": {"id": "xa-an-binh"}, "services": [{"code": "chung", "prefix": "A"}]})
    assert (cfg.name, cfg.timezone, cfg.number_width, cfg.recall_limit, cfg.policy) == (
        "xa-an-binh", "Asia/Ho_Chi_Minh", 3, 3, "oldest")
    assert (cfg.always_open, cfg.demo, cfg.rating_window_s) == (False, False, 120)
    assert [lv.key for lv in cfg.levels] == ["rat-hai-long", "hai-long", "khong-hai-long"]
    assert [lv.asks_reason for lv in cfg.levels] == [False, False, True]
    assert cfg.level("hai-long").label == "Hài lòng" and cfg.level("tuyet") is None
    assert [r.key for r in cfg.reasons] == ["thai-do", "thoi-gian-cho", "huong-dan", "khac"]
    assert cfg.priority.categories == () and cfg.priority.mode == "strict"
    assert cfg.services["chung"].hours == {}  # no hours: never open unless always_open
    assert cfg.counters == {} and cfg.officers == {} and cfg.devices == {}


def test_names_are_normalised_to_nfc(kit):
    raw = kit.base_raw()
    raw["services"][0]["name"] = "Sở Tư pha\u0301p"  # decomposed á
    assert kit.build_config(raw).services["tu-phap"].name == "Sở Tư pháp"


def test_interleave_every_is_at_least_one(kit):
    raw = kit.base_raw()
    raw["priority"].update(mode="interleave", every=0)
    assert kit.build_config(raw).priority.every == 1


# ------------------------------------------------------------------------------ refusals
@pytest.mark.parametrize("bad", [None, "", "Tu-Phap", "tu phap", "tư-pháp", "-tu", "tu-", "a" * 49, 12])
def test_bad_service_code(kit, bad):
    raw = kit.base_raw()
    raw["services"][1]["code"] = bad
    refused(raw, "services[1]", "code must be a lower-case slug", repr(bad))


@pytest.mark.parametrize("bad", ["Demo", "hall 1", "", None])
def test_bad_hall_id(kit, bad):
    raw = kit.base_raw()
    raw["hall"]["id"] = bad
    refused(raw, "hall.id must be a lower-case slug")


def test_duplicate_service_code(kit):
    raw = kit.base_raw()
    raw["services"][2]["code"] = "tu-phap"
    refused(raw, "services[2]", "duplicate service code 'tu-phap'")


def test_duplicate_prefix(kit):
    raw = kit.base_raw()
    raw["services"][2]["prefix"] = "A"
    refused(raw, "services[2]", "prefix 'A' is used by another service")


@pytest.mark.parametrize("bad", ["", "a", "Á", "A-1", None])
def test_bad_prefix(kit, bad):
    raw = kit.base_raw()
    raw["services"][0]["prefix"] = bad if bad is not None else ""
    refused(raw, "services[0]", "prefix must be upper-case letters or digits")


def test_digit_prefixes_are_allowed(kit):
    raw = kit.base_raw()
    for i, s in enumerate(raw["services"], start=1):
        s["prefix"] = str(i)
    hall = Hall(kit.build_config(raw))
    assert hall.take_ticket(kit.MONDAY, "xay-dung")[0].data["number"] == "2001"


def test_no_services(kit):
    raw = kit.base_raw()
    raw["services"] = []
    refused(raw, "at least one service")


def test_counter_with_unknown_service(kit):
    raw = kit.base_raw()
    raw["counters"][1]["services"] = ["xay-dung", "y-te"]
    refused(raw, "counters[1]", "unknown services ['y-te']")


@pytest.mark.parametrize("bad", [0, 10000, "5", None, 1])  # 1: duplicate of counters[0]
def test_bad_counter_number(kit, bad):
    raw = kit.base_raw()
    raw["counters"][1]["number"] = bad
    refused(raw, "counters[1]", "number must be a unique integer 1..9999")


@pytest.mark.parametrize("kind", ["terminal", "led", "rating"])
def test_device_without_counter(kit, kind):
    raw = kit.base_raw()
    raw["devices"].append({"id": "lonely", "kind": kind})
    message = refused(raw, f"devices[{len(raw['devices']) - 1}]", f"a {kind} needs the number of a configured counter")
    raw["devices"][-1]["counter"] = 99  # not configured
    assert refused(raw) == message


def test_dispenser_with_unknown_service(kit):
    """Its buttons would crash the dispenser's state at run time."""
    raw = kit.base_raw()
    raw["devices"][1]["services"] = ["tu-phap", "y-te"]
    refused(raw, "devices[1]", "unknown services ['y-te']")


@pytest.mark.parametrize("bad", ["3", -1, 2.5, True])
def test_bad_daily_cap(kit, bad):
    raw = kit.base_raw()
    raw["services"][1]["daily_cap"] = bad
    refused(raw, "services[1]", "daily_cap must be a whole number", repr(bad))


@pytest.mark.parametrize("bad", [0, -3, 10, "3"])
def test_bad_number_width(kit, bad):
    raw = kit.base_raw()
    raw["hall"]["number_width"] = bad
    refused(raw, "hall.number_width must be 1..9")


def test_dispensers_and_screens_need_no_counter(kit):
    cfg = kit.build_config()
    assert cfg.devices["kiosk"].counter is None and cfg.devices["screen"].counter is None


def test_bad_device_kind_and_id(kit):
    raw = kit.base_raw()
    raw["devices"].append({"id": "toaster", "kind": "toaster"})
    refused(raw, "devices[6]", "kind must be one of", "'toaster'")
    raw = kit.base_raw()
    raw["devices"].append({"id": "kiosk", "kind": "dispenser"})
    refused(raw, "devices[6]", "id must be a unique lower-case slug")


def test_bad_officer(kit):
    raw = kit.base_raw()
    raw["officers"][1]["id"] = "o1"
    refused(raw, "officers[1]", "unique lower-case slug")
    raw = kit.base_raw()
    raw["officers"][2]["pin_hash"] = "1234"  # a PIN in clear
    refused(raw, "officers[2]", "pin_hash must come from")


@pytest.mark.parametrize(("hours", "fragments"), [
    ({"monday": [["07:00", "11:00"]]}, ("hall.hours", "unknown weekday 'monday'")),
    ({"mon": [["07:00"]]}, ("hall.hours.mon", "spans are")),
    ({"mon": [["7h", "11h"]]}, ("hall.hours.mon", "spans are")),
    ({"mon": ["07:00-11:00"]}, ("hall.hours.mon", "spans are")),
    ({"tue": [["11:00", "07:00"]]}, ("hall.hours.tue", "ends before it starts")),
    ({"wed": [["08:00", "08:00"]]}, ("hall.hours.wed", "ends before it starts")),
])
def test_bad_hall_hours(kit, hours, fragments):
    raw = kit.base_raw()
    raw["hall"]["hours"] = hours
    refused(raw, *fragments)


def test_bad_service_hours_name_the_service(kit):
    raw = kit.base_raw()
    raw["services"][2]["hours"] = {"sun": [["12:00", "09:00"]]}
    refused(raw, "services[2].hours.sun", "ends before it starts")


def test_bad_priority(kit):
    raw = kit.base_raw()
    raw["priority"]["mode"] = "random"
    refused(raw, "priority.mode must be strict or interleave", "'random'")
    raw = kit.base_raw()
    raw["priority"]["categories"].append({"key": "Người già"})
    refused(raw, "priority.categories[2]", "lower-case slug")


def test_bad_rating_levels(kit):
    raw = kit.base_raw()
    raw["ratings"]["levels"] = []
    refused(raw, "ratings.levels: at least one level")
    raw["ratings"]["levels"] = [{"key": "Tot"}]
    refused(raw, "ratings.levels[0]", "lower-case slug")
    raw = kit.base_raw()
    raw["ratings"]["reasons"] = [{"label": "no key"}]
    refused(raw, "ratings.reasons[0]")


def test_config_errors_are_value_errors():
    assert issubclass(ConfigError, ValueError)


# ------------------------------------------------------------------------------ the demo hall
@pytest.fixture(scope="module")
def demo():
    with DEMO.open("rb") as f:
        return parse_config(tomllib.load(f))


def test_demo_hall_parses(demo):
    assert demo.id == "demo" and demo.demo is True
    assert len(demo.services) == 22
    assert len(demo.counters) == 37
    assert len(demo.officers) == 38
    assert sorted(demo.counters) == list(range(1, 38))
    assert len({s.prefix for s in demo.services.values()}) == 22


def test_demo_counters_by_kind(demo):
    kinds = [c.kind for c in demo.counters.values()]
    assert (kinds.count("receiving"), kinds.count("inter_agency"), kinds.count("returning")) == (34, 1, 2)
    served = {s for c in demo.counters.values() for s in c.services}
    assert served == set(demo.services)  # every service has a counter


def test_demo_officers_pin_is_0000(demo):
    hashes = {o.pin_hash for o in demo.officers.values()}
    assert all(verify_pin(h, "0000") for h in hashes)
    assert not any(verify_pin(h, "1234") for h in hashes)


def test_demo_hours_have_saturday_morning(demo):
    tu_phap = demo.services["tu-phap"]
    assert tu_phap.hours["sat"] == ((time(7), time(11, 15)),)
    assert "sun" not in tu_phap.hours


def test_demo_names_are_vietnamese(demo):
    assert demo.name == "Trung tâm Phục vụ hành chính công tỉnh"
    assert demo.services["tu-phap"].name == "Sở Tư pháp"
    assert [c.label for c in demo.priority.categories][0] == "Người cao tuổi"


def test_pins():
    stored = hash_pin("2468")
    assert stored.startswith("pbkdf2_sha256$60000$")
    assert verify_pin(stored, "2468") and not verify_pin(stored, "2469")
    assert hash_pin("2468") != stored  # salted
    assert hash_pin("2468", salt="s", iterations=10) == hash_pin("2468", salt="s", iterations=10)
    assert not verify_pin("garbage", "2468")
    assert not verify_pin("md5$1$s$abc", "2468")
