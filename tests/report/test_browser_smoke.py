"""The shared browser fixture works: a page is loaded, measured and read in real chromium."""
from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def test_browser_reads_and_measures_a_local_page(browser, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><html><body><p id='x'>привет</p>"
                    "<div style='width:3000px'>wide</div></body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    assert browser.find_element("id", "x").text == "привет"
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") > width
