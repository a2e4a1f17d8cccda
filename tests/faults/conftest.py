"""Fault tests run against Mosquitto, the production broker (persistent sessions, ordered delivery)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", params=["mosquitto"])
def broker_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)

