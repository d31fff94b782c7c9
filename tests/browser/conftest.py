"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright with its executable path:
no browser is downloaded). In CI (CI=true) a missing chromium fails the tests instead of skipping them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import database_url  # noqa: F401  (the fixture: each backend in turn)
from tests.support.dashboard import CHROMIUM, write_generated_pact
from tests.support.mock_process import RunningMock, start_mock, stop_mock

ROOT = Path(__file__).resolve().parents[2]


def _chromium_or_skip() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} is missing: `apt-get install chromium` (make test and .ci/run install it)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; in CI the browser tests must run")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    """Playwright, driving Debian's chromium (launch it with executable_path=CHROMIUM)."""
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(driver: Any) -> Iterator[Any]:
    """One headless Chromium for the session."""
    launched = driver.chromium.launch(executable_path=CHROMIUM)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page (its own context: no cookies or cache shared between tests)."""
    from playwright.sync_api import expect

    # A loaded CI machine answers slowly: a page's assertions wait up to 15 s (5 s by default) before failing.
    expect.set_options(timeout=15_000)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def dashboard_pacts(folder: Path) -> Path:
    """The Epistemix pacts, the Flow example (scenarios and fixtures) and a generated collection of 1,000,000."""
    pacts = folder / "pacts"
    shutil.copytree(ROOT / "pacts", pacts)
    for name in ("FlowUI-Flow.json", "FlowUI-Flow.model.yaml"):
        shutil.copy(ROOT / "examples" / "flow" / name, pacts / name)
    write_generated_pact(pacts)
    return pacts


@pytest.fixture
def serve_dashboard(tmp_path: Path) -> Iterator[Any]:
    """Start `pactmock serve` on a free port over the dashboard's pacts; stopped after the test."""
    started: list[RunningMock] = []

    def serve(files: dict[str, str] | None = None, **env: str) -> RunningMock:
        pacts = dashboard_pacts(tmp_path)
        for name, text in (files or {}).items():
            (pacts / name).write_text(text)
        mock = start_mock(pacts, tmp_path, **env)
        started.append(mock)
        return mock

    yield serve
    for mock in started:
        stop_mock(mock)
        assert "Traceback" not in mock.log(), mock.log()
