"""The status page opened in a real headless browser: Debian's chromium driven by Playwright (launched with
its executable_path; Playwright's own browser downloads are never used). Without chromium or Playwright
the tests fail saying how to install them; they are never skipped."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from _watch_world import HOSTILE, World

#: Where the browser is looked for: $LINK_OPS_CHROMIUM, else `chromium` on PATH (Debian's package).
CHROMIUM_ENV = "LINK_OPS_CHROMIUM"


def chromium_path() -> str:
    path = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "no chromium on PATH: the status page test needs Debian's chromium package. Install it with "
            "`apt-get install -y chromium` (.ci/run does it when it is missing), or point "
            f"${CHROMIUM_ENV} at a Chromium binary",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright for Python is not installed: `make setup` installs it (requirements.lock), or "
            "`pip install playwright` into the venv (never `playwright install`: the test uses Debian's "
            "chromium)",
            pytrace=False,
        )
    executable = chromium_path()
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield opened
    finally:
        context.close()
    assert errors == [], f"the page raised script errors: {errors}"


def test_status_page__in_chromium__shows_figures_upstreams_standings_and_open_incidents(
    world: World, page: Any
) -> None:
    answer = page.goto(world.url + "/", wait_until="load")

    assert answer is not None and answer.status == 200
    assert page.title() == "L.I.N.K watchtower"
    figures = page.inner_text("#figures")
    assert "1,234" in figures and "5,678" in figures  # holders, cubes held
    assert "12,345.0000" in figures and "12,000.0000" in figures  # LBC minted, claimed on 2026-11-01
    assert "Bridge messages in flight" in figures
    upstreams = page.locator("#upstreams tbody tr")
    assert upstreams.count() == 3
    assert "lagging" in upstreams.nth(1).inner_text()
    standings = page.locator("#partners tbody tr")
    assert standings.count() == 2 and "breach" in standings.nth(1).inner_text()
    rows = page.locator("#incidents tbody tr")
    assert rows.count() == 3
    first = rows.nth(0)
    assert first.get_attribute("class") == "sev-critical"
    assert "critical" in first.inner_text() and "open" in first.inner_text()
    assert "3 incidents open, worst critical" in page.inner_text("#summary")


def test_status_page__in_chromium__hostile_strings_are_text_not_markup(world: World, page: Any) -> None:
    page.goto(world.url + "/", wait_until="load")

    # The sentence shows as the characters it is, and none of its markup became elements or ran.
    assert HOSTILE in page.locator("#incidents tbody tr").nth(0).inner_text()
    assert "<b>evil</b> partner" in page.inner_text("#partners")
    assert page.locator("#incidents img, #incidents script, #partners b").count() == 0
    assert page.title() == "L.I.N.K watchtower"  # not 'pwned'
    assert page.evaluate("document.querySelectorAll('script').length") == 0


def test_status_page__in_chromium__an_acknowledged_incident_shows_as_such_after_reload(
    world: World, page: Any
) -> None:
    incident = world.store.watch.incidents()[0]
    world.store.watch.acknowledge(incident.id, "alice")

    page.goto(world.url + "/", wait_until="load")

    row = page.locator(f'#incidents tr[data-incident="{incident.id}"]')
    assert "acknowledged" in row.inner_text()


def test_chromium_path__no_chromium__fails_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y chromium.*\.ci/run"):
        chromium_path()
