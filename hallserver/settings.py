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
    # signs session cookies; None: a random key generated at first start and kept in the store
    secret_key: str | None = None
    cookie_secure: str = "auto"  # "auto": Secure when the request came over HTTPS; "1" always; "0" never
    session_hours: float = 12.0  # a working day; then sign in again
    # signed out after this many minutes without a request made by the person (0: never); the live
    # dashboard's stream and background refreshes are not activity
    session_idle_min: float = 30.0
    # roles without the idle limit: a viewer account is what a wall screen's dashboard signs in with
    session_idle_exempt: tuple[str, ...] = ("viewer",)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            mqtt_url=env.get("HALL_MQTT_URL") or None,
            database_url=env.get("HALL_DATABASE_URL") or f"sqlite:///{Path('var') / 'hall.db'}",
            config_path=Path(env["HALL_CONFIG"]) if env.get("HALL_CONFIG") else None,
            http_host=env.get("HALL_HTTP_HOST", "127.0.0.1"),
            http_port=int(env.get("HALL_HTTP_PORT", "8000")),
            secret_key=_secret_key(env.get("HALL_SECRET_KEY")),
            cookie_secure=_choice("HALL_COOKIE_SECURE", env.get("HALL_COOKIE_SECURE", "auto"), ("auto", "1", "0")),
            session_hours=float(env.get("HALL_SESSION_HOURS", "12")),
            session_idle_min=_non_negative("HALL_SESSION_IDLE_MIN", env.get("HALL_SESSION_IDLE_MIN", "30")),
            session_idle_exempt=tuple(r.strip() for r in env.get("HALL_SESSION_IDLE_EXEMPT", "viewer").split(",")
                                      if r.strip()),
        )


def _secret_key(value: str | None) -> str | None:
    if value and len(value) < 32:  # a short key can be guessed offline from one signed cookie
        raise ValueError("HALL_SECRET_KEY must be at least 32 characters (or unset: a random key is generated)")
    return value or None


def _non_negative(name: str, value: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError(f"{name} must be 0 (off) or a number of minutes, got {value!r}")
    return number


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def load_hall_config(path: Path | None = None, **overrides: object) -> HallConfig:
    """Read a hall configuration (TOML); `overrides` replace keys of its [hall] table."""
    with open(path or DEMO_CONFIG, "rb") as f:
        raw = tomllib.load(f)
    if overrides:
        raw.setdefault("hall", {}).update(overrides)
    return parse_config(raw)
