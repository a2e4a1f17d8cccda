"""Skip a test whose system part is missing, naming the package; fail instead in CI.

DESIGN.md: a missing system part is a skip that says which package to install, and under
HALL_REQUIRE_ALL=1 (set by .ci/run) the same situation is a failure, so CI runs everything.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"


def require_all() -> bool:
    """True when every optional part must be present (CI)."""
    return os.environ.get("HALL_REQUIRE_ALL", "") not in ("", "0")


def missing(message: str) -> NoReturn:
    """Skip with `message`, or fail with it under HALL_REQUIRE_ALL=1."""
    if require_all():
        pytest.fail(f"{message} (HALL_REQUIRE_ALL=1 makes this a failure)", pytrace=False)
    pytest.skip(message)


def require_binary(name: str, package: str) -> str:
    """Path of executable `name` (PATH, then /usr/sbin and /sbin, where Debian puts daemons)."""
    path = shutil.which(name) or shutil.which(name, path=os.pathsep.join(("/usr/sbin", "/sbin")))
    if path is None:
        missing(f"`{name}` not found: install Debian package {package} (apt-get install {package})")
    return path


def require_node_package(name: str, node: str = "node") -> Path:
    """Directory of npm package `name` under the project's node_modules; needs Node too."""
    require_binary(node, "nodejs")
    path = NODE_MODULES / name
    if not (path / "package.json").is_file():
        missing(f"npm package {name} not found in {NODE_MODULES}: run `npm install` (or `make setup`)")
    return path
