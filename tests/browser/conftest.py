"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings

from atensi.testing.browser import LAUNCH_ARGS, chromium_path

# Playwright's sync API keeps an event loop running in the test thread; the ORM calls
# the tests make around it are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if not path:
        pytest.fail("Chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.csp_violations = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda msg: (
            page.csp_violations.append(msg.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    yield page
    context.close()


def login(page: Any, username: str, password: str) -> None:
    """Sign in through the login page; where the person needs a second factor, with the code
    of their authenticator (the tests' key, atensi.testing.second_factor) on the next page."""
    from atensi.testing.second_factor import authenticator, code_now, needs_second_factor
    from stakeholders.models import User

    person = User.objects.filter(username=username).first()
    device = authenticator(person) if person is not None and needs_second_factor(person) else None
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    if device is not None:
        page.wait_for_url("**/account/two-factor/verify/**")
        page.fill("input[name=code]", code_now(device))
        page.click("[data-testid=second-factor-form] button[type=submit]")
    page.wait_for_url("**/")


@dataclass
class Devices:
    """One browser context per person, each logged in once; CSP reports from all of them.

    `password`: the accounts' password (the factories' by default, the demo's for demo
    accounts); `language`: a language cookie for every context ("" keeps Indonesian)."""

    browser: Any
    base_url: str
    first: Any
    password: str = ""
    language: str = ""
    pages: dict[str, Any] = field(default_factory=dict)
    csp_violations: list[str] = field(default_factory=list)

    def __call__(self, username: str) -> Any:
        from playwright.sync_api import expect

        from stakeholders.tests.factories import PASSWORD

        if username not in self.pages:
            if not self.pages:
                page = self.first  # the `page` fixture's own context
            else:
                context = self.browser.new_context(base_url=self.base_url, locale="id-ID")
                context.set_default_timeout(15_000)
                page = context.new_page()
            if self.language:
                page.context.add_cookies(
                    [{"name": settings.LANGUAGE_COOKIE_NAME, "value": self.language, "url": self.base_url}]
                )
            page.on("console", self._console)
            login(page, username, self.password or PASSWORD)
            expect(page.get_by_test_id("user-menu")).to_be_visible()  # logged in, not back at the form
            self.pages[username] = page
        return self.pages[username]

    def _console(self, msg: Any) -> None:
        if "Content Security Policy" in msg.text:
            self.csp_violations.append(msg.text)

    def close(self) -> None:
        for page in list(self.pages.values())[1:]:
            page.context.close()


@pytest.fixture
def devices(page: Any, browser: Any, live_server: Any) -> Iterator[Devices]:
    found = Devices(browser=browser, base_url=live_server.url, first=page)
    yield found
    found.close()
