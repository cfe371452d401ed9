"""Browser tests: Playwright driving Debian's Chromium against a live server."""

from __future__ import annotations

import os
import re
import shutil

import pytest

CHROMIUM = os.environ.get("ORDERDECK_CHROMIUM", "/usr/bin/chromium")
# Chromium logs every 4xx page load; these are answers the app gives on purpose
# (401 wrong password, 422 form errors), asserted by the tests themselves.
EXPECTED_STATUS = re.compile(r"Failed to load resource: .* status of (401|422)")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


@pytest.hookimpl(tryfirst=True)  # marked before `-m` deselects
def pytest_collection_modifyitems(config, items):
    # Every browser test is slow: `make test-fast` (-m "not slow") leaves them out.
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.slow)
    # Skipping is allowed only where no Chromium is installed, and never in CI.
    if os.path.exists(CHROMIUM) or shutil.which("chromium"):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI must run the browser tests, but {CHROMIUM} is missing")
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}: install Debian's chromium")
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not EXPECTED_STATUS.search(msg.text) else None)
    yield page
    context.close()
    # A CSP violation or a script error is a bug the user would hit.
    assert errors == []


@pytest.fixture
def live_worker(app, sim, tmp_path):
    """A real RQ worker process (python -m jobs.worker) on the test database and Redis."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import TEST_ENCRYPTION_KEY, TEST_SECRET_KEY

    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config["REDIS_URL"], SECRET_KEY=TEST_SECRET_KEY,
               ORDERDECK_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY, ORDERDECK_INSTANCE=str(tmp_path),
               ORDERDECK_SYNC_BACKOFF_BASE="0.2", ORDERDECK_SIMULATOR_URL=sim.url,
               ORDERDECK_RECONCILE_RETRY_SECONDS="0.5")
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=root, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield process
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def sign_in(page, make_user):
    """Sign in through the login page as a new user of `role`; returns the user's e-mail."""
    def go(role: str = "operator") -> str:
        user = make_user(role=role)
        page.goto("/login")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Home").wait_for()
        return user.email
    return go


VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def viewport(request, page):
    """The page at a desktop or a phone's width (parametrize with indirect=True); at the end,
    nothing wider than the screen made the whole page scroll sideways."""
    page.set_viewport_size(VIEWPORTS[request.param])
    yield request.param
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the {request.param} screen"
