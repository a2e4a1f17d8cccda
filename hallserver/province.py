"""A province: the halls one server carries (one large centre and about a hundred commune centres).

HALL_CONFIG names either one hall's TOML file or a province file:

    [province]
    id = "tinh-demo"
    name = "Tỉnh Demo"
    [[halls]]
    config = "halls/tinh.toml"          # a hall file, relative to this one
    [[halls]]
    config = "halls/xa-template.toml"   # the same file may serve several commune centres:
    id = "xa-an-khanh"                  # keys given here replace those of its [hall] table
    name = "Trung tâm Phục vụ hành chính công xã An Khánh"

Each hall's pages are served under /h/{hall} (hallserver/http/province.py), so the tracking link in
its tickets' QR codes is `{public_url}/h/{hall}/t/{token}`: `[province] public_url` (else the hall
file's own `public_url`) is the server's address, and `/h/{hall}` is added to it unless the entry
sets the hall's `public_url` itself.

Every hall keeps its own id in every topic and table, so halls stay isolated however many share
the server, the broker and the database.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from hallserver.domain.config import ConfigError, HallConfig
from hallserver.settings import DEMO_CONFIG, load_hall_config

PREFIX = "/h"  # a province's hall is served under /h/{hall}


def hall_public_url(server_url: str, hall_id: str) -> str:
    """The public address of a hall of a province: the server's, with the hall's prefix."""
    path = f"{PREFIX}/{hall_id}"
    url = server_url.rstrip("/")
    return url if url.endswith(path) else url + path


@dataclass(frozen=True)
class HallSource:
    config: HallConfig
    path: Path  # the hall's TOML file (its [voice] table too)


@dataclass(frozen=True)
class Province:
    id: str
    name: str
    halls: tuple[HallSource, ...]

    @property
    def single(self) -> bool:
        return len(self.halls) == 1


def load_province(path: Path | None, config: HallConfig | None = None) -> Province:
    """The halls named by a province file, or a province of the one hall of a hall file (`config`
    given: that hall, already loaded)."""
    if config is not None:
        return Province(config.id, config.name, (HallSource(config, path or DEMO_CONFIG),))
    path = path or DEMO_CONFIG
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    if "province" not in raw:
        hall = load_hall_config(path)
        return Province(hall.id, hall.name, (HallSource(hall, path),))
    head = raw["province"]
    entries = raw.get("halls") or []
    if not isinstance(head, dict) or not head.get("id") or not entries:
        raise ConfigError(f"{path}: a province file needs [province] id and at least one [[halls]] entry")
    halls: list[HallSource] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or "config" not in entry:
            raise ConfigError(f"{path}: [[halls]] entry {i} has no `config` file")
        hall_path = (path.parent / entry["config"]).resolve()
        overrides = {k: v for k, v in entry.items() if k != "config"}
        try:
            hall = load_hall_config(hall_path, **overrides)
        except FileNotFoundError:
            raise ConfigError(f"{path}: [[halls]] entry {i}: no file {hall_path}") from None
        if hall.id in seen:
            raise ConfigError(f"{path}: hall id {hall.id!r} appears twice")
        if "public_url" not in overrides:
            hall = replace(hall, public_url=hall_public_url(str(head.get("public_url") or hall.public_url), hall.id))
        seen.add(hall.id)
        halls.append(HallSource(hall, hall_path))
    return Province(str(head["id"]), str(head.get("name", head["id"])), tuple(halls))
