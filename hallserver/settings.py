"""Settings, read from the environment once, each with a working default (DESIGN.md)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from broker.client import MqttUrl
from hallserver.domain.config import HallConfig, parse_config

__all__ = ["DEMO_CONFIG", "MqttUrl", "Settings", "load_hall_config"]

DEMO_CONFIG = Path(__file__).parent / "demo_hall.toml"


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
