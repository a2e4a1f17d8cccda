"""The MicroPython harness itself: files importable, failures loud, mpy-cross wired up."""

from __future__ import annotations

from pathlib import Path

import pytest

from .micropython import mpy_cross_compile, repo_files, run_micropython

ANNOTATED = """\
def greet(name: str, times: int = 1) -> str:
    return " ".join(["xin chao " + name] * times)

LIMIT: int = 2048
"""


def test_script_imports_files_passed_in() -> None:
    files = {"pkg/__init__.py": "", "pkg/hello.py": ANNOTATED}
    out = run_micropython(
        "import sys\nfrom pkg.hello import greet, LIMIT\nprint(greet('A', 2), LIMIT)\nprint(sys.implementation.name)",
        files,
    )
    assert out.splitlines() == ["xin chao A xin chao A 2048", "micropython"]


def test_exception_fails_with_traceback() -> None:
    files = {"boom.py": "def explode():\n    raise ValueError('no paper')\n"}
    with pytest.raises(AssertionError) as info:
        run_micropython("import boom\nprint('before')\nboom.explode()", files)
    text = str(info.value)
    assert "Traceback" in text and "ValueError: no paper" in text and 'File "/app/boom.py"' in text
    assert "before" in text  # stdout is reported too


def test_sys_exit_codes() -> None:
    assert run_micropython("import sys\nprint('ok')\nsys.exit(0)") == "ok\n"
    with pytest.raises(AssertionError, match="exited with 3"):
        run_micropython("import sys\nsys.exit(3)")


def test_top_level_await() -> None:
    script = "import asyncio\nasync def f():\n    await asyncio.sleep(0)\n    return 7\nprint(await f())"
    assert run_micropython(script) == "7\n"


def test_repo_files_collects_python_sources() -> None:
    files = repo_files("tests/support")
    assert "tests/support/micropython.py" in files
    assert all(name.endswith(".py") and "__pycache__" not in name for name in files)


def test_mpy_cross_compiles_annotated_module(tmp_path: Path) -> None:
    src = tmp_path / "hello.py"
    src.write_text(ANNOTATED)
    out = mpy_cross_compile(src, tmp_path / "build")
    assert out == tmp_path / "build" / "hello.mpy"
    assert out.read_bytes()[:1] == b"M"  # .mpy magic


def test_mpy_cross_rejects_syntax_error(tmp_path: Path) -> None:
    src = tmp_path / "broken.py"
    src.write_text("def f(:\n    pass\n")
    with pytest.raises(AssertionError, match="SyntaxError"):
        mpy_cross_compile(src, tmp_path / "build")
