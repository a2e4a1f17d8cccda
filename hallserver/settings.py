"""Settings, read from the environment once, each with a working default (DESIGN.md)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hallserver.domain.config import HallConfig, parse_config

DEMO_CONFIG = Path(__file__).parent / "demo_hall.toml"


@dataclass(frozen=True)
class MqttUrl:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> MqttUrl:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp"):
            raise ValueError(f"HALL_MQTT_URL must start with mqtt:// or mqtts://, got {url!r}")
        tls = parts.scheme == "mqtts"
        return cls(parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883),
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, tls)

    def __str__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


@dataclass(frozen=True)
class Settings:
    mqtt_url: str | None  # None: start the embedded broker
    database_url: str
    config_path: Path | None  # None: the built-in demo hall
    http_host: str = "127.0.0.1"
    http_port: int = 8000

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            mqtt_url=env.get("HALL_MQTT_URL") or None,
            database_url=env.get("HALL_DATABASE_URL") or f"sqlite:///{Path('var') / 'hall.db'}",
            config_path=Path(env["HALL_CONFIG"]) if env.get("HALL_CONFIG") else None,
            http_host=env.get("HALL_HTTP_HOST", "127.0.0.1"),
            http_port=int(env.get("HALL_HTTP_PORT", "8000")),
        )


def load_hall_config(path: Path | None = None, **overrides: object) -> HallConfig:
    """Read a hall configuration (TOML); `overrides` replace keys of its [hall] table."""
    with open(path or DEMO_CONFIG, "rb") as f:
        raw = tomllib.load(f)
    if overrides:
        raw.setdefault("hall", {}).update(overrides)
    return parse_config(raw)
