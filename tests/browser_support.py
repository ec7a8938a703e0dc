"""A real browser for tests: Debian's chromium driven through Debian's chromedriver (Selenium 4).

Nothing is downloaded: the driver and browser paths are given explicitly, so Selenium Manager
never runs. Tests that use `browser` are marked `browser` and skipped where either is missing.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# As root chromium needs --no-sandbox; the network flags stop it calling Google's services,
# which this machine (and CI) cannot reach.
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
)


def browser_missing() -> str | None:
    """Why no browser test can run here, or None."""
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        return "Debian's chromium and chromium-driver are not installed"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (the test extra brings it)"
    return None


def make_driver(width: int = 1280, height: int = 900, lang: str = "en") -> object:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--lang={lang}")
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='grader-chromium-')}")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def browser() -> Iterator[object]:
    """A fresh headless chromium (1280x900); closed after the test."""
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    driver = make_driver()
    try:
        yield driver
    finally:
        driver.quit()
