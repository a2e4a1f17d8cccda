"""A vote survives a power cut: one MicroPython interpreter presses and thanks while offline, a
second one starts on the flash files the first left behind (as a rebooted board does)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mpy_board import wasm_files
from support.micropython import run_micropython

HELPERS = ("mpy_fakes.py", "mpy_rating_scenarios.py")


def boot(function: str, files: dict[str, str]) -> dict[str, Any]:
    script = (
        "import json, os\nimport mpy_rating_scenarios as s\n"
        "try:\n    os.mkdir('/app/flash')\nexcept OSError:\n    pass\n"
        f"print(json.dumps(s.{function}('/app/flash')))\n"
    )
    return json.loads(run_micropython(script, files).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def first() -> dict[str, Any]:
    return boot("first_boot", wasm_files("rating_button", *HELPERS))


@pytest.mark.parametrize("torn", [False, True], ids=["clean", "torn-tmp-write"])
def test_vote_confirmed_before_the_power_cut_is_delivered_after_it(first: dict[str, Any], torn: bool) -> None:
    assert first["mode"] == "thanks" and first["leds"] in ("001/0100", "000/0000")
    files = wasm_files("rating_button", *HELPERS)
    for name, text in first["files"].items():
        files[f"flash/{name}"] = text
    if torn:  # the cut came in the middle of writing the next version of the queue
        files["flash/votes.json.tmp"] = first["files"]["votes.json"][:17]
    second = boot("second_boot", files)
    assert second["restored"] == [first["id"]]
    assert second["boot"] == 2 and second["next_id"].startswith("2.s-")
    assert second["mode"] == "idle"  # the retained state still says armed: this ticket has its vote
    assert second["votes"] == [{"v": 1, "id": first["id"], "t": "rating.vote", "score": "khong-hai-long",
                                "reason": "thoi-gian-cho", "ticket": "A001"}]
    assert second["after_reply"] == 0
