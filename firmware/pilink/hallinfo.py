"""The hall's configuration as a Pi agent needs it (names, prefixes, officers): GET /api/hall,
kept in a local file so an agent that boots while the server is down still has its labels."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)


def save_json(path: Path, data: object) -> None:
    """Write a file whole or not at all (write, fsync, rename): a power cut leaves the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:  # the rename itself must reach the disk too
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def load_hall(server_url: str | None, cache: Path | None, timeout: float = 3.0) -> dict | None:
    """The hall description from the server, else from the cache, else None."""
    if server_url:
        try:
            with urllib.request.urlopen(server_url.rstrip("/") + "/api/hall", timeout=timeout) as resp:
                hall = json.load(resp)
            if cache is not None:
                save_json(cache, hall)
            return hall
        except (OSError, ValueError) as exc:
            log.warning("hall description not fetched from %s: %s", server_url, exc)
    if cache is not None and cache.exists():
        try:
            return json.loads(cache.read_text("utf-8"))
        except ValueError:
            log.warning("hall cache %s is unreadable", cache)
    return None
