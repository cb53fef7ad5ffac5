"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser) against
the app served by pytest-django's live server on PostgreSQL. A failing test leaves a
screenshot in test-artifacts/."""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed (scripts/test installs it).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


# Issue 16: every page the walk visits runs under the app's enforced Content-Security-
# Policy; a violation (an inline script, handler or style the policy blocks) is reported
# to the test from the page, registered before any of the page's own scripts run.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__reportCspViolation({
    page: location.pathname, directive: e.violatedDirective, blocked: e.blockedURI,
    source: e.sourceFile, line: e.lineNumber, sample: e.sample
  });
});
"""


@pytest.fixture
def page(browser, request, live_server):
    context = browser.new_context(viewport={"width": 1180, "height": 860}, locale="en-GB")
    context.set_default_timeout(10_000)
    violations = []
    context.expose_function("__reportCspViolation", lambda found: violations.append(found))
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.base = live_server.url
    page.csp_violations = violations
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    if failed is not None and failed.passed:
        assert violations == [], f"Content-Security-Policy violations: {violations}"


def sign_in(page, username, password="Correct-horse-42"):
    page.goto(page.base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def sign_out(page):
    page.click("text=Log out")
