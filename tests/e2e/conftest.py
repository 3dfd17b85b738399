"""End-to-end: a real server (`bdd serve`: granian by default, embedded scheduler) on a fresh database, driven by
Debian's Chromium through Playwright. Screenshots of every page visited go to
test-artifacts/screenshots/ (see the README). Without Chromium these tests skip and say how to install it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_support import CHROMIUM, FAILURES, LAUNCH_FLAGS, SCREENSHOTS, SERVER_LOG, Album, Person, running_server


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install chromium) "
                    "or point BDD_CHROMIUM at a Chromium binary; .ci/run installs it.")
    return CHROMIUM


@pytest.fixture(scope="session")
def server(tmp_path_factory, chromium_path) -> Iterator[str]:
    """`bdd serve` on a free port with the demo county; yields its base URL."""
    with running_server(tmp_path_factory, "e2e-instance") as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=LAUNCH_FLAGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def album(request, browser) -> Album:
    """One numbered sequence of screenshots per test module, prefixed with the module's name
    (test_proxy_case -> proxy-case-01-..., proxy-case-02-...)."""
    return Album(request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-"))


@pytest.fixture
def person(request, browser, server, album):
    """person(name) -> a Person in a fresh browser context. Everyone in one module numbers their
    screenshots in the module's sequence (see ``album``).
    When the test fails, each person's last page is saved under test-artifacts/e2e-failures/."""
    people: list[Person] = []
    for old in FAILURES.glob(f"{request.node.name}-*.png"):  # from an earlier failed run of this test
        old.unlink(missing_ok=True)

    def make(name: str) -> Person:
        people.append(Person(browser, server, name, album))
        return people[-1]

    yield make
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        FAILURES.mkdir(parents=True, exist_ok=True)
        for index, p in enumerate(people):
            try:
                p.page.screenshot(path=str(FAILURES / f"{request.node.name}-{index}.png"), full_page=True)
            except Exception:  # a crashed page: nothing to show
                pass
        if SERVER_LOG and SERVER_LOG[0].exists():
            print("--- server.log (last 40 lines) ---\n" + "\n".join(SERVER_LOG[0].read_text().splitlines()[-40:]))
    for p in people:
        p.close()
