"""The review page in a real browser (Debian's chromium through Selenium): grade a manual item
from the keyboard, save, reload, and find the grade in the overrides file and the re-rendered
report; move between students; hostile student content never runs; no token, no page."""
from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")

from review_support import make_batch, running  # noqa: E402

from grader.results import load_batch  # noqa: E402
from grader.review.server import ReviewSettings, make_app, new_token  # noqa: E402
from grader.review.store import open_review  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """(the server's base URL, the token, the batch folder)."""
    out, rubric = make_batch(tmp_path)
    token = new_token()
    with running(make_app(open_review(out, str(rubric)), ReviewSettings(token, "en"))) as base:
        yield base, token, out


def _wait(browser: Any, condition: Any, timeout: float = 10) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(condition)


def _keys(browser: Any, *modifiers: str, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(browser)
    for modifier in modifiers:
        chain.key_down(modifier)
    chain.send_keys(key)
    for modifier in reversed(modifiers):
        chain.key_up(modifier)
    chain.perform()


def _active_id(browser: Any) -> str:
    return str(browser.execute_script("return document.activeElement.id"))


def test_grade_a_manual_item_from_the_keyboard_save_and_reload(browser: Any, served: tuple[str, str, Path]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, token, out = served
    browser.get(f"{base}/{token}/")
    assert "Left to review in the class: 5" in browser.find_element(By.ID, "left-total").text
    browser.find_element(By.LINK_TEXT, "Alice Smith").click()
    _wait(browser, lambda b: _active_id(b) == "points-accuracy")  # the first item to review has the focus
    assert browser.execute_script("return window.pwned") is None  # the student's script never ran

    _keys(browser, Keys.CONTROL, Keys.SHIFT, key=Keys.ARROW_DOWN)  # next item: the manual "Conclusions"
    assert _active_id(browser) == "points-conclusions"
    assert "pointed" in browser.find_element(By.ID, "md-2").get_attribute("class")  # its cell is marked
    active = browser.switch_to.active_element
    active.send_keys("2,5")
    active.send_keys(Keys.TAB)
    assert _active_id(browser) == "comment-conclusions"
    browser.switch_to.active_element.send_keys("Выводы верные, но без чисел.")
    _keys(browser, Keys.CONTROL, key=Keys.ENTER)  # save
    _wait(browser, lambda b: b.find_elements(By.ID, "saved"))

    browser.refresh()
    assert browser.find_element(By.ID, "points-conclusions").get_attribute("value") == "2.5"
    assert browser.find_element(By.ID, "comment-conclusions").get_attribute("value") == "Выводы верные, но без чисел."
    assert "graded" in browser.find_element(By.ID, "item-conclusions").text
    assert browser.find_element(By.ID, "student-left").text == "left to grade: 1"  # the flagged accuracy remains

    overrides = (out / "grades" / "overrides.yaml").read_text(encoding="utf-8")
    assert "- student: Alice Smith\n  check: conclusions\n  points: 2.5\n  comment: Выводы верные, но без чисел.\n" \
        in overrides
    report = (out / "alice_smith" / "report.html").read_text(encoding="utf-8")
    assert "Выводы верные, но без чисел." in report and "8.5 / 9" in report
    browser.get(f"{base}/{token}/s/alice_smith/report")  # the re-rendered report, as the student will see it
    assert "Выводы верные, но без чисел." in browser.find_element(By.TAG_NAME, "body").text


def test_move_between_students_from_the_keyboard_saving_what_was_typed(browser: Any,
                                                                        served: tuple[str, str, Path]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, token, out = served
    browser.get(f"{base}/{token}/s/alice_smith")
    _wait(browser, lambda b: _active_id(b) == "points-accuracy")
    browser.find_element(By.TAG_NAME, "h1").click()  # out of the text boxes: single keys work
    browser.switch_to.active_element.send_keys("n")  # next student, nothing typed: no save
    _wait(browser, lambda b: b.current_url.endswith("/s/bob_jones"))
    assert "The grader's code was changed in the kernel." in browser.find_element(By.CLASS_NAME, "flags").text
    _wait(browser, lambda b: _active_id(b) == "points-conclusions")
    browser.switch_to.active_element.send_keys("3")
    _keys(browser, Keys.CONTROL, Keys.SHIFT, key=Keys.ARROW_LEFT)  # previous student, saving first
    _wait(browser, lambda b: b.current_url.endswith("/s/alice_smith"))
    bob = next(r for r in load_batch(out / "results.json").students if r.student == "Bob Jones")
    assert next(c for c in bob.checks if c.id == "conclusions").points == 3.0
    assert not (out / "grades" / "overrides.yaml").read_text(encoding="utf-8").count("Alice Smith")

    browser.find_element(By.LINK_TEXT, "RU").click()
    _wait(browser, lambda b: b.find_element(By.ID, "save").text == "Сохранить")
    assert "Баллы (из 3)" in browser.find_element(By.ID, "item-conclusions").text


def test_no_token_no_page(browser: Any, served: tuple[str, str, Path]) -> None:
    from selenium.webdriver.common.by import By

    base, token, _ = served
    for path in ("/", "/s/alice_smith", f"/{new_token()}/", f"/{new_token()}/s/alice_smith"):
        browser.get(base + path)
        body = browser.find_element(By.TAG_NAME, "body").text
        assert body.startswith("403") and "Alice" not in body
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(base + path, timeout=10)  # noqa: S310 (our own server on 127.0.0.1)
        assert info.value.code == 403
    browser.get(f"{base}/{token}/")
    assert "Alice Smith" in browser.find_element(By.TAG_NAME, "body").text
