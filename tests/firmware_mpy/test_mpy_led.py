"""The LED call display's scripted scenarios (mpy_led_scenarios.py), under the MicroPython
WebAssembly port and CPython, and the MAX7219 bytes its drivers put on the SPI bus."""

from __future__ import annotations

import json
from typing import Any

import mpy_led_scenarios as scenarios
import pytest
from mpy_board import wasm_files
from support.micropython import run_micropython

HELPERS = ("mpy_fakes.py", "mpy_led_scenarios.py")
SCRIPT = "import json\nimport mpy_led_scenarios as s\nprint(json.dumps(s.run_all(True)))\n"
BLINK = "###.." * 10  # 300 ms on, 200 ms off, for 5 s


@pytest.fixture(scope="module")
def micropython_results() -> dict[str, Any]:
    out = run_micropython(SCRIPT, wasm_files("led_display", *HELPERS))
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cpython_results() -> dict[str, Any]:
    return json.loads(json.dumps(scenarios.run_all(False)))


@pytest.fixture(params=["micropython", "cpython"])
def results(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.getfixturevalue(f"{request.param}_results")


def test_same_outcomes_in_both_runtimes(micropython_results: dict, cpython_results: dict) -> None:
    without_framebuf = {k: v for k, v in micropython_results.items() if k not in scenarios.MICROPYTHON_ONLY}
    assert without_framebuf == cpython_results


def test_first_state_after_boot_shows_without_blinking(results: dict) -> None:
    r = results["first_state_no_blink"]
    assert r["boot"] == "    *"  # nothing yet, and the connection-lost mark until connected
    assert r["shown"] == "A001" and r["film"] == "#" * 20


def test_each_call_blinks_for_five_seconds(results: dict) -> None:
    r = results["call_blinks"]
    assert r["shown"] == "A002" and r["film"] == BLINK + "#" * 10 and r["after"] == "A002"


def test_a_recall_blinks_too(results: dict) -> None:
    assert results["recall_blinks"]["film"] == BLINK[:10]


def test_connection_lost_keeps_the_number_with_a_mark(results: dict) -> None:
    r = results["outage"]
    assert r["lost"] == "A002*" and r["back"] == "A002"
    assert r["film_back"] == "#" * 10  # the retained state again after reconnecting: no blink
    assert r["missed_call"] == "A003" and r["film_missed"] == BLINK[:10]  # a call made meanwhile


def test_dashes_when_paused_or_closed(results: dict) -> None:
    assert results["paused_closed"]["frames"] == ["----", "----", "    ", " B12"]


def test_server_offline_shows_the_mark(results: dict) -> None:
    assert results["server_offline"] == {"online": "A001", "server_offline": "A001*", "back": "A001"}


def test_long_numbers_scroll(results: dict) -> None:
    assert results["scroll"]["frames"] == ["A102", "1023", "023 ", "23  ", "3   ", "   A", "  A1", " A10", "A102"]


def test_malformed_states_change_nothing(results: dict) -> None:
    assert results["bad_states"] == {"bad": 4, "shown": "A001"}


def test_wifi_join_before_mqtt(results: dict) -> None:
    assert results["wifi_join"] == {"joins_in_25s": 2, "mqtt_before_join": 0, "shown": "A001"}


def test_seven_segment_bytes(results: dict) -> None:
    r = results["seven_segment_bytes"]
    # test off, shutdown, no decode, scan 4 digits, brightness 8, on, then every digit blank
    assert r["init"] == ["0f00", "0c00", "0900", "0b03", "0a08", "0c01"] + [f"0{d}00" for d in range(1, 9)]
    assert r["A001"] == ["0477", "037e", "027e", "0130"]  # DIG0 is the rightmost digit
    assert r["dashes_marked"] == ["0401", "0301", "0201", "0181"]  # the mark: the last decimal point
    assert r["cs"] == 1 and r["font"] == "1f7001ed"


def test_dot_matrix_bytes(micropython_results: dict) -> None:
    r = micropython_results["matrix_bytes"]
    plain, marked = (bytes.fromhex(f) for f in r["plain"]), (bytes.fromhex(f) for f in r["marked"])
    plain_rows, marked_rows = list(plain), list(marked)
    assert len(plain_rows) == 8 and all(len(f) == 8 for f in plain_rows)
    for row, frame in enumerate(plain_rows, start=1):
        assert frame[0::2] == bytes([row] * 4)  # one register (row) per chip per frame
    assert any(frame[1::2] != b"\0\0\0\0" for frame in plain_rows)  # something is lit
    assert plain_rows[7][1::2] == b"\0\0\0\0"  # the font leaves the bottom row empty
    assert marked_rows[:7] == plain_rows[:7]
    # the mark: under the last character (rightmost module = chip 0 = the last pair sent)
    assert marked_rows[7][1::2] == b"\0\0\0\x3f"
