"""Pages in the session's real headless Chromium (the `browser` fixture of tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN")
    pg = context.new_page()
    yield pg
    context.close()
