"""Fuzz tests run against Mosquitto, the production broker (it keeps one publisher's messages in order,
which the batches' barrier relies on)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", params=["mosquitto"])
def broker_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)
