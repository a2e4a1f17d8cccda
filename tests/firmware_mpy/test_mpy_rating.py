"""The rating button's scripted scenarios (mpy_rating_scenarios.py), run once under the MicroPython
WebAssembly port and once under CPython: each test asserts one named scenario in both runtimes."""

from __future__ import annotations

import json
from typing import Any

import mpy_rating_scenarios as scenarios
import pytest
from mpy_board import wasm_files
from support.micropython import run_micropython

HELPERS = ("mpy_fakes.py", "mpy_rating_scenarios.py")
SCRIPT = """\
import json, os
import mpy_rating_scenarios as s
os.mkdir("/app/flash")
print(json.dumps(s.run_all("/app/flash")))
"""
GOOD_VOTE = {"v": 1, "t": "rating.vote", "score": "rat-hai-long", "ticket": "A001"}


@pytest.fixture(scope="module")
def micropython_results() -> dict[str, Any]:
    out = run_micropython(SCRIPT, wasm_files("rating_button", *HELPERS))
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cpython_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # through JSON, as the MicroPython results come: tuples become lists
    return json.loads(json.dumps(scenarios.run_all(str(tmp_path_factory.mktemp("flash")))))


@pytest.fixture(params=["micropython", "cpython"])
def results(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.getfixturevalue(f"{request.param}_results")


def test_same_outcomes_in_both_runtimes(micropython_results: dict, cpython_results: dict) -> None:
    assert micropython_results == cpython_results


def test_armed_vote_confirmed_sent_and_settled(results: dict) -> None:
    r = results["armed_vote"]
    assert (r["idle"], r["armed"]) == ("000/0000", "111/0000")
    assert r["vote"] == GOOD_VOTE and r["id"] == "1.s-1" and r["published"] == 1
    assert r["queued"] == 1 and r["on_flash"] == ["1.s-1"]  # on flash while the LEDs thank
    assert r["thanks"] == ["100/0000", "000/0000"] * 3  # the chosen LED blinks
    assert (r["after_reply"], r["flash_after_reply"], r["accepted"]) == (0, 0, 1)
    assert (r["final_mode"], r["final"]) == ("idle", "000/0000")


def test_bouncing_contact_is_one_press_and_a_glitch_none(results: dict) -> None:
    assert results["bounce"] == {"after_glitch": 0, "after_bounce": 1, "score": "hai-long"}


def test_presses_while_not_armed_do_nothing(results: dict) -> None:
    assert results["not_armed"] == {"votes": 0, "leds": "000/0000", "mode": "idle", "ignored": 4, "queued": 0}


def test_one_vote_per_ticket(results: dict) -> None:
    r = results["one_vote_per_ticket"]
    assert r["mode_same_ticket"] == "idle" and r["distinct_after_repress"] == 1
    assert r["mode_next"] == "armed"
    assert r["second"] == {"v": 1, "t": "rating.vote", "score": "hai-long", "ticket": "A002"}
    assert r["next_day_mode"] == "armed" and r["votes"] == 2  # tomorrow's A001 is someone else


def test_reason_keys_light_after_not_satisfied(results: dict) -> None:
    r = results["reason_chosen"]
    assert (r["mode"], r["leds"], r["queued_before_reason"]) == ("reason", "001/1111", 0)
    assert r["vote"] == {"v": 1, "t": "rating.vote", "score": "khong-hai-long", "ticket": "A001",
                         "reason": "thoi-gian-cho"}
    assert r["thanks"] == "001/0100"


def test_reason_window_closes_with_a_vote_without_reason(results: dict) -> None:
    r = results["reason_window_expires"]
    assert (r["votes_at_9s"], r["leds_at_9s"]) == (0, "001/1111")
    assert r["vote"] == {"v": 1, "t": "rating.vote", "score": "khong-hai-long", "ticket": "A001"}
    assert 10_080 <= r["sent_at"] <= 10_100  # counted at 80 ms, plus the 10 s window
    assert r["reason_leds_after"] == "0000"


def test_another_level_during_the_reason_window_replaces_it(results: dict) -> None:
    assert results["reason_changed_mind"]["votes"] == [GOOD_VOTE]


def test_window_closed_by_the_server_still_sends_what_was_pressed(results: dict) -> None:
    r = results["reason_disarmed"]
    assert r["votes"] == [{"v": 1, "t": "rating.vote", "score": "khong-hai-long", "ticket": "A001"}]


def test_offline_vote_kept_and_sent_on_reconnection(results: dict) -> None:
    r = results["offline_vote"]
    assert r["online_status"] == {"v": 1, "online": True, "fw": "1.0.0"}
    assert r["will"] == {"v": 1, "online": False}
    assert r["status_led_offline"] == [True, False, True, False]  # slow blink while offline
    assert (r["queued_offline"], r["sent_offline"], r["thanks"]) == (1, 0, "100/0000")
    assert r["vote"] == GOOD_VOTE and r["sent"] == 1 and r["after_reply"] == 0
    assert r["status_after"]["online"] is True and r["status_led_online"] is True


def test_power_cut_after_thanks_loses_nothing(results: dict) -> None:
    r = results["power_cut_in_run"]
    assert r["restored"] == [r["voted_id"]] and r["sent"] == [r["voted_id"]]
    assert r["boot"] == 2 and r["mode_after_boot"] == "idle"  # still one vote for this ticket
    assert r["after_reply"] == 0


def test_resend_schedule_same_id(results: dict) -> None:
    r = results["resend_schedule"]
    wanted = [0, 3000, 9000, 21000, 45000]  # 3 s, then doubling up to 30 s
    assert len(r["times"]) == len(wanted)
    assert all(w <= t <= w + 50 for t, w in zip(r["times"], wanted, strict=True))
    assert len(r["after_reconnect"]) == 1 and r["after_reconnect"][0] <= 1000  # resent on reconnect
    assert r["ids"] == 1


def test_reconnection_backoff_schedule(results: dict) -> None:
    r = results["backoff_schedule"]
    assert r["attempts"] == [0, 1000, 3000, 7000, 15000, 31000, 63000, 123000]  # capped at 60 s
    assert r["connected"] and r["connected_at"] == 183000
    assert r["retry_after_drop"] == 1000 and r["connects"] == 2  # a success resets the back-off


def test_session_last_will_status_and_subscriptions(results: dict) -> None:
    r = results["link_session"]
    assert r["clean_session"] is False
    assert r["will"] == ["qms/demo/dev/rb-05/status", {"v": 1, "online": False}, True, 1]
    assert r["first_publish"] == ["qms/demo/dev/rb-05/status", {"v": 1, "online": True, "fw": "1.0.0"}, True, 1]
    assert r["subs"] == [["qms/demo/dev/rb-05/down", 1], ["qms/demo/dev/rb-05/state", 1],
                         ["qms/demo/server/status", 1]]
    assert r["ok"] and r["server_down"] == [False, False] and r["server_back"] == [True, True]


def test_stray_and_malformed_messages_are_ignored(results: dict) -> None:
    r = results["stray_and_bad"]
    assert r["mode_after_junk"] == "idle" and r["mode_after_good"] == "armed" and r["up"]
    assert (r["stray"], r["bad"], r["bad_states"], r["late"]) == (2, 2, 2, 1)


def test_refusals_settle_server_errors_retry(results: dict) -> None:
    assert results["refused_vote"] == {"kept_after_server_error": 1, "resent": 2, "after_refusal": 0,
                                       "refused": 1, "last_error": "already_rated"}


def test_flash_queue_file(results: dict) -> None:
    r = results["outbox_file"]
    assert r["ids"] == r["reloaded"] == ["1-3", "1-4", "1-5"]  # bounded: the oldest dropped, counted
    assert r["dropped"] == r["reloaded_dropped"] == 2 and r["meta"] == {"voted": "x4"}
    assert r["corrupt"] is True and r["corrupt_items"] == 0
    assert r["tmp_only"] == ["7-1"]


def test_windows_survive_the_ticks_wrap(results: dict) -> None:
    r = results["ticks_wrap"]
    assert (r["votes_before_window_end"], r["votes_after"], r["t_wrapped"]) == (0, 1, True)
    assert 10_080 <= r["sent_at"] <= 10_100


def test_press_latched_while_the_loop_was_blocked(results: dict) -> None:
    assert results["latched_edge"]["presses"] == [[], [0], [], [], [0]]


def test_wifi_join_before_mqtt(results: dict) -> None:
    assert results["wifi_join"] == {"joins_in_25s": 2, "mqtt_attempts_before": 0, "up": True}


def test_reply_before_the_puback_settles_the_vote(results: dict) -> None:
    assert results["instant_reply"] == {"sent": 1, "queued": 0, "timers": 0, "accepted": 1, "late": 0}
