"""Every file meant for a board compiles with mpy-cross; what each device runs, compiled, stays
small; each device's configuration merges its defaults with the board's settings.py (MicroPython)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mpy_board import DEVICES, REPO_ROOT, SOURCE_ONLY, all_board_sources, board_files, wasm_files
from support.micropython import mpy_cross_compile, run_micropython

# ESP32 with MicroPython 1.2x: about 110 KiB of heap once Wi-Fi is up; the program's bytecode
# must leave most of it to buffers and the JSON of the messages
BUDGET = 48 * 1024


@pytest.mark.parametrize("path", all_board_sources(), ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_compiles_with_mpy_cross(path: Path, tmp_path: Path) -> None:
    assert mpy_cross_compile(path, tmp_path, "-march=xtensawin").stat().st_size > 0


@pytest.mark.parametrize("device", DEVICES)
def test_compiled_program_size(device: str, tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    total = 0
    for board_path, path in board_files(device).items():
        out = mpy_cross_compile(path, tmp_path / Path(board_path).parent, "-march=xtensawin")
        total += out.stat().st_size
    record_property("mpy_bytes", total)
    assert 0 < total < BUDGET, f"{device}: {total} bytes of .mpy"


def test_boot_and_main_stay_source() -> None:
    for device in DEVICES:
        assert set(SOURCE_ONLY) <= set(board_files(device))


CONFIG_SCRIPT = """\
import json
import config
from mpyrt import conf
cfg = config.load()
out = {"device": cfg["device"], "mqtt_host": cfg["mqtt_host"], "keys": sorted(cfg), "defaults": len(config.DEFAULTS)}
out["absent"] = conf.merge(config.DEFAULTS, "no_such_settings") == config.DEFAULTS
try:
    conf.merge(config.DEFAULTS, "settings_typo")
    out["typo"] = None
except ValueError as exc:
    out["typo"] = str(exc)
try:
    conf.require(conf.merge(config.DEFAULTS, "no_such_settings"), config.REQUIRED)
    out["unprovisioned"] = None
except ValueError as exc:
    out["unprovisioned"] = str(exc)
out["provisioned"] = conf.require(cfg, ("device", "mqtt_host"))["device"]
print(json.dumps(out))
"""


@pytest.mark.parametrize("device,ident", [("rating_button", "rb-05"), ("led_display", "led-05")])
def test_settings_override_defaults_on_micropython(device: str, ident: str) -> None:
    files = wasm_files(device)
    files["settings.py"] = f'SETTINGS = {{"device": "{ident}", "mqtt_host": "10.0.0.2"}}\n'
    files["settings_typo.py"] = 'SETTINGS = {"mqtt_hots": "10.0.0.2"}\n'
    out = json.loads(run_micropython(CONFIG_SCRIPT, files).strip().splitlines()[-1])
    assert out["device"] == ident and out["mqtt_host"] == "10.0.0.2"
    assert len(out["keys"]) == out["defaults"] and out["absent"] is True
    assert out["typo"] == "settings_typo: unknown keys mqtt_hots"
    # a spare board without settings.py does not start as some other device
    assert out["unprovisioned"] == "settings.py must set device, wifi_ssid, mqtt_host"
    assert out["provisioned"] == ident


@pytest.mark.parametrize("device", DEVICES)
def test_settings_example_uses_known_keys(device: str) -> None:
    files = wasm_files(device)
    files["settings.py"] = files.pop("settings_example.py", None) or (
        REPO_ROOT / "firmware" / device / "settings_example.py").read_text("utf-8")
    script = "import config\nfrom mpyrt import conf\nprint(conf.require(config.load(), config.REQUIRED)['device'])"
    out = run_micropython(script, files)
    assert out.strip().startswith("rb-" if device == "rating_button" else "led-")
