"""Every board file type-checks with mypy against micropython-esp32-stubs, which replace CPython's
standard library: `time.ticks_ms`, `machine.Pin`, `network.WLAN` and `umqtt.simple` are known,
`time.monotonic` and `dataclasses` are not.

How (mypy-micropython.ini): `--custom-typeshed-dir` points at micropython-stdlib-stubs (its
`stdlib/` is MicroPython's reduced typeshed), `no_site_packages` keeps CPython's packages out, and
MYPYPATH holds the esp32 stubs' .pyi files, copied apart from site-packages (MYPYPATH may not name
site-packages, which also holds CPython modules such as typing_extensions), then firmware/ (for
`mpyrt`), the device folder (its root modules) and the repository root (`protocols`).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mpy_board import DEVICES, FIRMWARE, HERE
from support.require import REPO_ROOT, missing

CONFIG = HERE / "mypy-micropython.ini"


def _dist(name: str) -> importlib.metadata.Distribution:
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        missing(f"Python package {name} not installed: pip install -e '.[dev]'")


@pytest.fixture(scope="module")
def micropython_stubs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(typeshed dir, stubs dir) for mypy."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        missing("mypy not installed in the virtualenv: pip install -e '.[dev]'")
    stdlib = _dist("micropython-stdlib-stubs")
    typeshed = Path(str(stdlib.locate_file("stdlib/VERSIONS"))).parent.parent
    stubs = tmp_path_factory.mktemp("mpstubs")
    for dist in (_dist("micropython-esp32-stubs"), stdlib):
        for f in dist.files or ():
            if f.suffix == ".pyi" and f.parts[0] != "stdlib":
                target = stubs / Path(*f.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(str(dist.locate_file(f)), target)
    assert (stubs / "machine.pyi").is_file() and (stubs / "umqtt" / "simple.pyi").is_file()
    return typeshed, stubs


def run_mypy(stubs: tuple[Path, Path], device_dir: Path, modules: list[str], packages: list[str],
             cache: Path) -> subprocess.CompletedProcess[str]:
    typeshed, stub_dir = stubs
    env = dict(os.environ)
    env["MYPYPATH"] = os.pathsep.join(map(str, (stub_dir, FIRMWARE, device_dir, REPO_ROOT)))
    args = [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), "--custom-typeshed-dir", str(typeshed),
            "--cache-dir", str(cache), "--no-error-summary", "--hide-error-context"]
    for m in modules:
        args += ["-m", m]
    for p in packages:
        args += ["-p", p]
    # run outside the repository, so only MYPYPATH decides what a module name means
    return subprocess.run(args, cwd=cache.parent, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("device", DEVICES)
def test_board_files_type_check(device: str, micropython_stubs: tuple[Path, Path],
                                tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = FIRMWARE / device
    modules = sorted(p.stem for p in folder.glob("*.py"))
    assert {"boot", "main", "config", "board", "settings_example"} <= set(modules)
    cache = tmp_path_factory.mktemp("mypy") / "cache"
    proc = run_mypy(micropython_stubs, folder, modules, ["mpyrt", "protocols"], cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_check_uses_micropython_not_cpython(micropython_stubs: tuple[Path, Path], tmp_path: Path) -> None:
    board = tmp_path / "board"
    board.mkdir()
    (board / "probe.py").write_text(
        "import dataclasses\n"
        "import time\n"
        "from machine import Pin\n"
        "start = time.ticks_ms()\n"
        "elapsed = time.ticks_diff(time.ticks_ms(), start)\n"
        "later = time.monotonic()\n"
        "Pin(2, Pin.OUT).on()\n"
        "Pin(2, Pin.OUT).blink()\n",
        "utf-8",
    )
    proc = run_mypy(micropython_stubs, board, ["probe"], [], tmp_path / "cache")
    errors = proc.stdout
    assert 'probe.py:1: error: Cannot find implementation or library stub for module named "dataclasses"' in errors
    assert 'probe.py:6: error: Module has no attribute "monotonic"' in errors
    assert 'probe.py:8: error: "Pin" has no attribute "blink"' in errors
    assert "probe.py:4" not in errors and "probe.py:5" not in errors and "probe.py:7" not in errors
