"""Student report and class index rendered from canned results (no kernel)."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from grader.report.html import render_index, render_student_report
from grader.report.html import format_number, score_histogram, strip_ansi, summarise_checks
from grader.results import BatchResult, CellError, CheckResult, SubmissionResult

# The smallest valid PNG (1x1, transparent).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
EVIL = "<script>alert('x')</script>"


def check(cid: str, status: str, points: float, max_points: float = 2.0, **kw: object) -> CheckResult:
    return CheckResult(
        id=cid, title=kw.pop("title", cid.upper()), status=status, points=points,  # type: ignore[arg-type]
        max_points=max_points, message=kw.pop("message", f"msg {cid}"), **kw,  # type: ignore[arg-type]
    )


def submission(student: str, checks: tuple[CheckResult, ...], **kw: object) -> SubmissionResult:
    defaults: dict[str, object] = dict(
        submission=f"{student}.ipynb", sha256="ab" * 32, status="graded",
        score=sum(c.points for c in checks), max_score=sum(c.max_points for c in checks),
        duration_s=12.345, error=None, checks=checks,
        sandbox="bubblewrap sandbox (no network, 4 GiB memory)",
    )
    defaults.update(kw)
    return SubmissionResult(student=student, **defaults)  # type: ignore[arg-type]


@pytest.fixture
def rich_result() -> SubmissionResult:
    return submission(
        "Иванов Иван",
        (
            check("gd", "pass", 2.0, message="Градиентный спуск сходится", metrics={"loss": 0.0123456, "steps": 100.0},
                  figures=("loss.png",)),
            check("lr", "partial", 1.5, message=f"student said {EVIL}", figures=("missing.png",)),
            check("secret", "fail", 0.0, visibility="hidden", message="hidden inputs differ"),
            check("essay", "manual", 0.0, max_points=3.0, message=""),
        ),
        cell_errors=(
            CellError(4, "NameError", "name 'x' is not defined",
                      "\x1b[0;31mNameError\x1b[0m Traceback\n----> 1 \x1b[38;5;28mprint\x1b[39m(x)\n"),
        ),
        notes=("Colab: drive.mount() заменён заглушкой", f"note {EVIL}"),
        figures=("own_plot.png",),
    )


def test_student_report_content(tmp_path: Path, rich_result: SubmissionResult) -> None:
    (tmp_path / "loss.png").write_bytes(PNG)
    (tmp_path / "own_plot.png").write_bytes(PNG)
    path = render_student_report(rich_result, tmp_path, title="ДЗ 1: градиентный спуск", lang="ru")
    assert path == tmp_path / "report.html" and path.is_file()
    html = path.read_text(encoding="utf-8")
    assert "Иванов Иван" in html and "ДЗ 1: градиентный спуск" in html
    assert "3,5 / 9" in html  # score X / Y, with a decimal comma in Russian
    assert "проверено" in html  # submission status
    assert "песочница bubblewrap: без сети" in html and 'class="sandbox warning"' not in html
    assert "bubblewrap sandbox" not in html  # the sandbox's own English words stay in results.json
    assert html.index("песочница bubblewrap") < html.index("<h1>")  # sandbox line at the very top
    assert "Градиентный спуск сходится" in html
    assert "зачтено" in html and "частично" in html and "не зачтено" in html
    assert "ждёт проверки преподавателем" in html and "— / 3" in html
    assert "скрытая" in html and "hidden inputs differ" in html  # hidden checks shown, marked
    assert "Colab: drive.mount() заменён заглушкой" in html
    assert "0,0123" in html and "0,0123456" not in html and ">100<" in html  # metrics formatted
    assert ">шагов<" in html and ">steps<" not in html  # metrics by their catalogue labels
    assert "12,3 с" in html


def test_figures_embedded_and_missing_skipped(tmp_path: Path, rich_result: SubmissionResult) -> None:
    (tmp_path / "loss.png").write_bytes(PNG)  # own_plot.png and missing.png do not exist
    html = render_student_report(rich_result, tmp_path, title="T", lang="en").read_text(encoding="utf-8")
    data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert html.count(data_uri) == 1
    assert 'src="loss.png"' not in html  # nothing refers to a file next to the page
    assert "missing.png" not in html and "own_plot.png" not in html  # captions, not file names
    assert "LR: figure 1" in html and "Figure 1 from the submission" in html and "not found" in html


def test_figure_outside_student_dir_is_not_read(tmp_path: Path) -> None:
    student_dir = tmp_path / "s"
    student_dir.mkdir()
    (tmp_path / "secret.png").write_bytes(PNG)
    result = submission("s", (check("a", "pass", 1.0, figures=("../secret.png",)),))
    html = render_student_report(result, student_dir, title="T", lang="en").read_text(encoding="utf-8")
    assert "base64," not in html and "not found" in html


def test_student_strings_are_escaped(tmp_path: Path, rich_result: SubmissionResult) -> None:
    evil = submission(EVIL, rich_result.checks, error=f"crash {EVIL}", notes=(EVIL,),
                      cell_errors=(CellError(1, "ValueError", EVIL, EVIL),))
    html = render_student_report(evil, tmp_path, title=EVIL, lang="en").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_cell_errors_and_error_box(tmp_path: Path, rich_result: SubmissionResult) -> None:
    crashed = submission("p", rich_result.checks, status="error", error="Kernel died\nexit 137",
                         cell_errors=rich_result.cell_errors)
    html = render_student_report(crashed, tmp_path, title="T", lang="ru").read_text(encoding="utf-8")
    assert "Ячейка 4: NameError: name &#39;x&#39; is not defined" in html
    assert "\x1b" not in html and "[0;31m" not in html
    assert re.search(r"<pre>NameError Traceback\n----&gt; 1 print\(x\)", html)
    assert 'class="errorbox"' in html and "Kernel died" in html
    assert "ошибка" in html


def test_plain_sandbox_is_a_warning(tmp_path: Path) -> None:
    result = submission("s", (check("a", "pass", 1.0),), sandbox="plain process (NO isolation): bwrap not found")
    html = render_student_report(result, tmp_path, title="T", lang="en").read_text(encoding="utf-8")
    assert 'class="sandbox warning"' in html
    assert "a plain process without file or network isolation (bubblewrap is not available here)" in html


def test_ru_and_en_labels_differ(tmp_path: Path, rich_result: SubmissionResult) -> None:
    ru = render_student_report(rich_result, tmp_path / "ru", title="T", lang="ru").read_text(encoding="utf-8")
    en = render_student_report(rich_result, tmp_path / "en", title="T", lang="en").read_text(encoding="utf-8")
    assert ru != en
    assert "Результаты проверок" in ru and "Check results" not in ru
    assert "Check results" in en and "Результаты проверок" not in en
    assert "awaiting review" in en and 'lang="en"' in en and 'lang="ru"' in ru


def test_unknown_language_is_refused(tmp_path: Path, rich_result: SubmissionResult) -> None:
    with pytest.raises(ValueError, match="ru, en"):
        render_student_report(rich_result, tmp_path, title="T", lang="de")


def test_error_submission_without_checks(tmp_path: Path) -> None:
    result = submission("t", (), status="timeout", score=0.0, max_score=10.0, error="timed out after 600 s",
                        sandbox="")
    html = render_student_report(result, tmp_path, title="T", lang="en").read_text(encoding="utf-8")
    assert "timed out" in html and "No checks were run." in html and "0 / 10" in html
    assert 'class="sandbox unknown"' in html


# ---------------------------------------------------------------------------------------------
# Index


@pytest.fixture
def batch() -> BatchResult:
    return BatchResult(
        assignment="hw1",
        graded_at="2024-10-01T12:00:00+03:00",
        sandbox="plain process (NO isolation): bwrap not found",
        students=(
            submission("Сидоров", (check("gd", "fail", 0.0), check("lr", "pass", 2.0))),
            submission("Алексеев", (check("gd", "pass", 2.0), check("lr", "pass", 2.0))),
            submission("Борисов", (check("gd", "pass", 2.0), check("lr", "partial", 1.0))),
            submission("Гришин", (check("gd", "error", 0.0),), status="error", error=f"boom {EVIL}\nmore"),
        ),
    )


def test_pass_rates_and_means(batch: BatchResult) -> None:
    summary = {s.id: s for s in summarise_checks(batch.students)}
    # the errored submission is not among the graded ones
    assert (summary["gd"].passed, summary["gd"].graded) == (2, 3)
    assert summary["gd"].pass_rate == pytest.approx(2 / 3)
    assert summary["gd"].mean_points == pytest.approx(4 / 3)
    assert (summary["lr"].passed, summary["lr"].graded) == (2, 3)
    assert summary["lr"].mean_points == pytest.approx(5 / 3)
    assert [s.id for s in summarise_checks(batch.students)] == ["gd", "lr"]


def test_index_page(tmp_path: Path, batch: BatchResult) -> None:
    path = render_index(batch, tmp_path, title="ДЗ 1", lang="ru")
    assert path == tmp_path / "index.html"
    html = path.read_text(encoding="utf-8")
    gd_row = re.search(r'<tr class="card" data-check="gd">(.*?)</tr>', html, re.S)
    assert gd_row and "67\xa0% (2 / 3)" in gd_row.group(1) and "1,33 / 2" in gd_row.group(1)
    assert "Проверено: 3, ошибок: 1, превышено время: 0, всего: 4" in html
    assert 'class="sandbox warning"' in html and "bubblewrap здесь недоступен" in html
    assert "<svg" in html and "<rect" in html
    assert "<script>" not in html and "boom &lt;script&gt;" in html
    # links use the folder name, URL-encoded; rows sorted by student
    assert 'href="%D0%90%D0%BB%D0%B5%D0%BA%D1%81%D0%B5%D0%B5%D0%B2/report.html"' in html
    names = re.findall(r'<a href="[^"]*">([^<]*)</a>', html)
    assert names == ["Алексеев", "Борисов", "Гришин", "Сидоров"]


def test_index_folder_of_is_a_parameter(tmp_path: Path, batch: BatchResult) -> None:
    html = render_index(batch, tmp_path, title="T", lang="en",
                        folder_of=lambda r: f"s-{len(r.student)}").read_text(encoding="utf-8")
    assert 'href="s-8/report.html"' in html
    assert "Pass rate" in html and "Доля" not in html


def test_index_empty_batch(tmp_path: Path) -> None:
    html = render_index(BatchResult("hw", "", ()), tmp_path, title="T", lang="en").read_text(encoding="utf-8")
    assert "No submissions." in html and "<svg" not in html


def test_histogram_bins() -> None:
    results = [submission(f"s{i}", (), score=s, max_score=10.0) for i, s in enumerate([0, 4.5, 10, 10, 9.99])]
    bars = score_histogram(results)
    assert len(bars) == 10 and sum(b.count for b in bars) == 5
    assert bars[0].count == 1 and bars[4].count == 1 and bars[9].count == 3


def test_helpers() -> None:
    assert format_number(3.0) == "3"
    assert format_number(2.5) == "2.5"
    assert format_number(0.987654) == "0.9877"
    assert format_number(1.5e-7) == "1.500e-07"
    assert format_number(float("nan")) == "NaN"
    assert strip_ansi("\x1b[1;31mError\x1b[0m") == "Error"
