"""Reading a rendered batch in a real browser: what every report page must satisfy.

Used by the fast browser tests (a batch written from canned results) and the slow one (the
shipped Task 1 samples, graded). Screenshots go to ``$GRADER_SCREENSHOTS`` when it names a
folder, else to the test's tmp_path.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.i18n import catalogue

WIDTHS = {"laptop": 1280, "phone": 400}
PAGE_HEIGHT = 900
MAX_SHOT_HEIGHT = 8000


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GRADER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class Page:
    """A page open in the browser at one width."""

    driver: Any
    width: int

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    @property
    def text(self) -> str:
        return str(self.js("return document.body.innerText"))

    def overflow(self) -> int:
        """How many pixels the page is wider than the window (0: no horizontal scrolling)."""
        return int(self.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth"))

    def broken_images(self) -> list[str]:
        return list(self.js("return Array.from(document.images)"
                            ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || i.src.slice(0, 60))"))

    def box(self, css: str) -> dict[str, float] | None:
        """The first match's box on screen ({left, right, top, width, height}), or None."""
        return self.js("const e = document.querySelector(arguments[0]); if (!e) return null;"
                       "const r = e.getBoundingClientRect();"
                       "return {left: r.left, right: r.right, top: r.top, width: r.width, height: r.height};", css)

    def shot(self, path: Path) -> Path:
        height = int(self.js("return document.documentElement.scrollHeight"))
        self.driver.set_window_size(self.width, min(max(height, PAGE_HEIGHT), MAX_SHOT_HEIGHT))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(self.width, PAGE_HEIGHT)
        return path


def open_page(driver: Any, path: Path, width: int) -> Page:
    driver.set_window_size(width, PAGE_HEIGHT)
    driver.get(path.resolve().as_uri())
    page = Page(driver, width)
    assert int(page.js("return document.documentElement.clientWidth")) == width
    return page


def untranslated(text: str) -> list[str]:
    """Catalogue keys that reached the page instead of their text."""
    return sorted(key for key in catalogue() if re.search(rf"(?<![\w.]){re.escape(key)}(?![\w])", text))


def check_page(page: Page, shots: Path, name: str) -> None:
    """What every page must satisfy at every width."""
    assert page.overflow() <= 0, f"{name}: {page.overflow()} px wider than a {page.width} px window"
    assert page.broken_images() == [], f"{name}: images that do not load"
    assert untranslated(page.text) == [], f"{name}: untranslated catalogue keys"
    page.shot(shots / f"{name}.png")


def visible_across(page: Page, css: str) -> dict[str, float]:
    """The element is on screen horizontally, without scrolling."""
    box = page.box(css)
    assert box is not None, f"{css} is not on the page"
    assert box["width"] > 0 and box["left"] >= 0 and box["right"] <= page.width + 0.5, f"{css} is off-screen: {box}"
    return box
