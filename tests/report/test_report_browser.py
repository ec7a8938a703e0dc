"""The class index and the students' reports in real chromium, on a laptop (1280 px) and a phone
(400 px), in both languages: nothing wider than the window, every image loads, no catalogue key
left untranslated, the columns that matter on screen. Screenshots go to the test output
($GRADER_SCREENSHOTS or tmp_path).

The fast tests render a batch written from canned results (no kernel); the slow one grades the
shipped Task 1 samples first.
"""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from grader.cli import main
from grader.report.batch import FOLDERS_FILE, render_batch
from grader.results import BatchResult, CellError, CheckResult, Flag, SubmissionResult, write_json_atomic
from grader.rubric import load_rubric
from grader.rubric.schema import text
from report_pages import WIDTHS, check_page, open_page, screenshot_dir, visible_across

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300"><rect width="600" height="300" fill="#4a7fc1"/></svg>'
LONG_ERROR = ("The notebook ДЗ1.ipynb is damaged: it is not valid JSON (line 37, column 4: Unterminated string "
              "starting at). It was probably cut short or edited by hand. Open it in Jupyter, save it again and "
              "hand it in once more.")
TRACEBACK = ("---------------------------------------------------------------------------\n"
             "NameError                                 Traceback (most recent call last)\n"
             "Cell 4, line 5\n      4 for i in range(1000):\n----> 5     v = gama*v + 0.05*dL(xs_m[-1])\n\n"
             "NameError: name 'gama' is not defined")
SHARES = [  # (student, shares of the seven Task 1 checks, extras)
    ("Иванов Иван", [1, 1, 1, 1, 1, 1, 1], {}),
    ("Kozlov Nikita", [1, 1, 1, 1, 1, 0, 0], {"cell_errors": (CellError(4, "NameError", "name 'gama' is not defined",
                                                                          TRACEBACK),)}),
    ("Орлова Екатерина Александровна", [0] * 7, {"status": "error", "error": LONG_ERROR}),
    ("Sokolov Pavel", [0.5, 1, 1, 1, 1, 1, 1], {"flags": (Flag("implausible", "Accuracy 100% on hidden data.",
                                                                 "steps"),)}),
    ("Popov Dmitry", [1, 0, 0.5, 1, 0.5, 0, 0], {"submitted_at": "2025-03-04T10:00:00+03:00", "late_days": 1,
                                                 "penalty": 0.5}),
]


def canned_batch(out: Path, lang: str) -> Path:
    """A graded batch as `grader grade` leaves it: results.json, the folders map, each student's
    figures, then every page rendered by the report's own writer."""
    rubric = load_rubric("task1")
    folders, students = {}, []
    for number, (name, shares, fields) in enumerate(SHARES):
        extra = dict(fields)
        folder = f"student_{number}"
        folders[name] = folder
        (out / folder / "run").mkdir(parents=True)
        (out / folder / "run" / "fig1.png").write_bytes(PNG)
        (out / folder / "steps_gd.svg").write_bytes(SVG)
        checks = tuple(CheckResult(spec.id, text(spec.title, lang),
                                   "pass" if share == 1 else ("fail" if share == 0 else "partial"),  # type: ignore[arg-type]
                                   spec.points * share, spec.points, f"Сообщение проверки {spec.id}",
                                   metrics={"x_final": 0.3195} if spec.id == "stop_rule" else {},
                                   figures=("steps_gd.svg",) if spec.id == "steps" else ())
                       for spec, share in zip(rubric.checks, shares))
        score = sum(c.points for c in checks) - extra.get("penalty", 0.0)
        students.append(SubmissionResult(
            name, "ДЗ1_градиентный_спуск.ipynb", "ab" * 32, extra.pop("status", "graded"), score, rubric.max_score,
            3.4, extra.pop("error", None), checks, sandbox="bubblewrap sandbox (no network, read-only system)",
            figures=("run/fig1.png",), lang=lang, **extra))
    batch = BatchResult("task1", "2025-03-10T09:05:43+00:00", tuple(students), sandbox=students[0].sandbox)
    write_json_atomic(out / "results.json", batch.to_json())
    (out / FOLDERS_FILE).write_text(json.dumps(folders, ensure_ascii=False), encoding="utf-8")
    return render_batch(batch, out, title=text(rubric.title, lang), lang=lang,
                        check_ids=[c.id for c in rubric.checks], bonus_ids=[c.id for c in rubric.checks if c.bonus])


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_index_fits_a_laptop_and_a_phone(browser, tmp_path: Path, lang: str) -> None:  # type: ignore[no-untyped-def]
    index = canned_batch(tmp_path / "out", lang)
    shots = screenshot_dir(tmp_path)
    laptop = open_page(browser, index, WIDTHS["laptop"])
    check_page(laptop, shots, f"index-{lang}-laptop")
    for check in ("stop_rule", "momentum", "nesterov"):  # the right-most columns, on screen
        visible_across(laptop, f'th[data-check="{check}"]')
    error = visible_across(laptop, "tr.error-row td")
    table = laptop.box("table.students")
    assert table is not None and error["width"] > 0.8 * table["width"] and error["height"] < 80  # not a thin strip
    assert ("+2" in laptop.text) and ("бонус" if lang == "ru" else "bonus") in laptop.text  # 10 / 8 explained
    date = laptop.box("b.graded-at")
    assert date is not None
    shown = browser.find_element("css selector", "b.graded-at").text
    assert shown == ("10 марта 2025, 09:05 UTC" if lang == "ru" else "10 March 2025, 09:05 UTC"), shown
    phone = open_page(browser, index, WIDTHS["phone"])
    check_page(phone, shots, f"index-{lang}-phone")
    visible_across(phone, "tr.error-row td")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_student_reports_fit_and_say_what_the_student_needs(browser, tmp_path: Path, lang: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    canned_batch(out, lang)
    shots = screenshot_dir(tmp_path)
    for folder in sorted(p.parent for p in out.glob("*/report.html")):
        for device, width in WIDTHS.items():
            page = open_page(browser, folder / "report.html", width)
            check_page(page, shots, f"{folder.name}-{lang}-{device}")
    ivanov = open_page(browser, out / "student_0" / "report.html", WIDTHS["laptop"])
    assert "10 / 8" in ivanov.text
    assert ("бонус: 2" if lang == "ru" else "Bonus points included: 2") in ivanov.text  # the bonus explained
    kozlov = open_page(browser, out / "student_1" / "report.html", WIDTHS["laptop"])
    assert ("Ячейка 4: NameError" if lang == "ru" else "Cell 4: NameError") in kozlov.text
    assert "Cell 4, line 5" in kozlov.text and "In[" not in kozlov.text  # one cell number throughout


@pytest.mark.slow
@pytest.mark.kernel
def test_the_shipped_task1_samples_read_well(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Graded for real: a kernel per notebook, then every page at both widths, in both languages."""
    out = tmp_path / "task1"
    graded = CliRunner().invoke(main, ["grade", str(REPO / "submissions" / "task1"), "-a", "task1", "-o", str(out)])
    assert graded.exit_code == 0, graded.output
    shots = screenshot_dir(tmp_path)
    expected = yaml.safe_load((REPO / "submissions" / "task1" / "EXPECTED.yaml").read_text(encoding="utf-8"))
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert len(results["students"]) == len(expected)
    for lang in ("ru", "en"):
        rendered = CliRunner().invoke(main, ["report", str(out), "--lang", lang])
        assert rendered.exit_code == 0, rendered.output
        for page_path in [out / "index.html", *sorted(out.glob("*/report.html"))]:
            for device, width in WIDTHS.items():
                page = open_page(browser, page_path, width)
                check_page(page, shots, f"{page_path.parent.name}-{lang}-{device}")
                assert str(REPO) not in page.text and "submissions/task1" not in page.text  # never our paths
                if page_path.name == "report.html":
                    numbers = set(re.findall(r"In\[(\d+)\]", page.text))
                    assert not numbers, f"{page_path}: IPython's cell numbers {numbers} next to the student's"
