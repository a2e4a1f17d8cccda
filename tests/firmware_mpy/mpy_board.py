"""Where each MicroPython device's files go on the board, for the tests (CPython only).

Board layout (firmware/README.md): the device's own modules at the root (boot.py and main.py stay
source, as MicroPython runs them), the shared runtime and the contract under /lib.
"""

from __future__ import annotations

from pathlib import Path

from support.require import REPO_ROOT

FIRMWARE = REPO_ROOT / "firmware"
RUNTIME = FIRMWARE / "mpyrt"
PROTOCOLS = REPO_ROOT / "protocols"
HERE = Path(__file__).resolve().parent
DEVICES = ("rating_button", "led_display")
SOURCE_ONLY = ("boot.py", "main.py")  # run as source by MicroPython; the rest can ship as .mpy
NOT_DEPLOYED = ("settings_example.py",)  # documentation for the installer's settings.py


def _py(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py"))


def board_files(device: str) -> dict[str, Path]:
    """Board path -> repo file, for everything the device runs."""
    files: dict[str, Path] = {}
    for path in _py(FIRMWARE / device):
        if path.name not in NOT_DEPLOYED:
            files[path.name] = path
    for path in _py(RUNTIME):
        files[f"lib/mpyrt/{path.name}"] = path
    for path in _py(PROTOCOLS):
        files[f"lib/protocols/{path.name}"] = path
    return files


def all_board_sources() -> list[Path]:
    """Every file meant for a board, including the settings examples (they must compile too)."""
    paths = set()
    for device in DEVICES:
        paths.update(board_files(device).values())
        paths.update(_py(FIRMWARE / device))
    return sorted(paths)


def wasm_files(device: str, *test_helpers: str) -> dict[str, str]:
    """Files for run_micropython: the board's modules importable from /app, plus test helpers."""
    files = {}
    for board_path, path in board_files(device).items():
        name = board_path[4:] if board_path.startswith("lib/") else board_path
        files[name] = path.read_text("utf-8")
    for helper in test_helpers:
        files[helper] = (HERE / helper).read_text("utf-8")
    return files
