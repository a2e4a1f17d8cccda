"""Fixtures of the Pi agents' tests: mock GPIO pins, a key matrix on them, a pty printer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory
from pi_hardware import KeyMatrix, PtyPrinter


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    """gpiozero's mock pins as the default factory; callbacks run on gpiozero's threads."""
    factory = MockFactory()
    previous, Device.pin_factory = Device.pin_factory, factory
    yield factory
    factory.reset()
    Device.pin_factory = previous


@pytest.fixture
def matrix(pins: MockFactory) -> KeyMatrix:
    return KeyMatrix(pins)


@pytest.fixture
def pty_printer() -> Iterator[PtyPrinter]:
    p = PtyPrinter()
    yield p
    p.close()
