"""A real Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium, for the
console's end-to-end tests.

The receiver under test runs in the test's own event loop, so every (blocking) WebDriver call
goes through a thread (`asyncio.to_thread`): the loop keeps serving the browser's requests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1360,1000")


def browser_available() -> bool:
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


def require_browser() -> None:
    """Skip only on a machine without Chromium, and never in CI (there it must run)."""
    if not browser_available():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {CHROMIUM} / {CHROMEDRIVER} are missing (make chromium installs them)")
        pytest.skip("Chromium is not installed here (make chromium installs it)")


class Browser:
    """The few WebDriver calls the tests use, each run off the event loop."""

    def __init__(self, driver: Any, shots: Path) -> None:
        self.driver = driver
        self.shots = shots
        shots.mkdir(parents=True, exist_ok=True)

    async def _(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def get(self, url: str) -> None:
        await self._(self.driver.get, url)

    async def url(self) -> str:
        return await self._(lambda: self.driver.current_url)

    async def title(self) -> str:
        return await self._(lambda: self.driver.title)

    async def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By  # noqa: PLC0415

        return await self._(self.driver.find_element, By.CSS_SELECTOR, css)

    async def find_all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By  # noqa: PLC0415

        return await self._(self.driver.find_elements, By.CSS_SELECTOR, css)

    async def text(self, css: str) -> str:
        element = await self.find(css)
        return await self._(lambda: element.text)

    async def type(self, css: str, value: str) -> None:
        element = await self.find(css)
        await self._(element.clear)
        await self._(element.send_keys, value)

    async def click(self, css: str, *, timeout: float = 15.0) -> None:
        """Click a link or a form's button and wait until its navigation replaced the page (every
        click in these tests navigates): reading right after the click could find the old page's
        element and see it go stale mid-read on a loaded machine."""
        from selenium.common.exceptions import WebDriverException  # noqa: PLC0415
        from selenium.webdriver.support.wait import WebDriverWait  # noqa: PLC0415

        page = await self.find("html")
        element = await self.find(css)
        await self._(element.click)

        def replaced(_driver: Any) -> bool:
            try:
                page.is_enabled()
            except WebDriverException:  # stale, or Chrome's "node does not belong to the document"
                return True
            return False

        await self._(WebDriverWait(self.driver, timeout).until, replaced)

    async def script(self, source: str, *args: Any) -> Any:
        return await self._(self.driver.execute_script, source, *args)

    async def page_source(self) -> str:
        return await self._(lambda: self.driver.page_source)

    async def delete_cookies(self) -> None:
        await self._(self.driver.delete_all_cookies)

    async def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        await self._(self.driver.save_screenshot, str(path))
        return path


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module (a fresh profile), closed at the end."""
    require_browser()
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    profile = tempfile.mkdtemp(prefix="socialsync-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chromium: Any, tmp_path: Path) -> Browser:
    chromium.delete_all_cookies()
    return Browser(chromium, tmp_path / "screenshots")
