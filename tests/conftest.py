"""Fixtures of the cross-app tests: a Chromium page on the live server, and the personas there."""

from __future__ import annotations

import pytest
from django.db import connections
from playwright.sync_api import sync_playwright

from tests.browser import CHROMIUM_ARGS, chromium_path


@pytest.fixture
def page(live_server):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        yield page
        context.close()
        browser.close()
        # Playwright's sync API runs the test inside its own event-loop context, and Django keeps
        # connections per context: close the ones the test body opened, or the test database
        # cannot be dropped at the end of the run.
        connections.close_all()


@pytest.fixture
def live_world(transactional_db, live_server, world):
    """The session's world, committed, so the live server's threads see it (flushed after the test)."""
    return world
