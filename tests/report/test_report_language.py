"""The report's language decides every word on the page, re-rendering included.

A canned batch graded in Russian (results that keep their catalogue messages) is rendered in
Russian and re-rendered in English, by the library and by ``grader report --lang en``; each page
is scanned for the other language's words and for catalogue keys. Results written before
messages were kept still load and render with their stored text.
"""
from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.i18n import catalogue, joined, msg, said
from grader.integrity import Finding, verdict
from grader.report.batch import render_batch
from grader.report.charts import Chart, ChartSeries, write_chart
from grader.results import BatchResult, CellError, CheckResult, Flag, Review, SubmissionResult, load_batch
from grader.results import write_json_atomic

LANG = "ru"
BWRAP = ("bubblewrap sandbox (no network, read-only system, private /tmp); "
         "limits: cgroup v2 (memory, pids) + rlimits")
PLAIN = "plain process as root (no isolation of files/network): requested explicitly; limits: rlimits only, memory " \
        "limited per process (no cgroup)"
TITLES = {"ru": {"conclusions": "Выводы", "web": "Веб-приложение", "gd": "Шаги спуска"},
          "en": {"conclusions": "Conclusions", "web": "Web app", "gd": "Descent steps"}}
RUBRIC = """\
assignment: t-lang
title: {ru: "Задание 1", en: "Task 1"}
lang: ru
checks:
  - {id: conclusions, title: {ru: "Выводы", en: "Conclusions"}, points: 2, kind: manual}
  - {id: web, title: {ru: "Веб-приложение", en: "Web app"}, points: 3, kind: app.web}
  - {id: gd, title: {ru: "Шаги спуска", en: "Descent steps"}, points: 3, kind: gd.steps}
"""
# what a student or the data put on the page: the same in both languages
STUDENT_DATA = ("Иванов Иван", "Петрова Анна", "ДЗ1.ipynb", "ДЗ 1.ipynb", "черновик.ipynb", "работа.ipynb",
                "grader_inside.probes", "Expecting ','")
# words that are names in both languages (tools, formats, units, Python's own words)
NAMES = {"bubblewrap", "cgroup", "rlimits", "tmp", "markdown", "grader", "NameError", "UTC", "png", "app", "py",
         "predict", "image", "p50", "p95", "ipynb", "JSON", "PNG", "Deflate", "zip", "nbformat", "Jupyter",
         "Colab", "File", "Download", "print", "Traceback", "Cell", "line", "gama", "is", "not", "defined",
         "name", "ctypes", "gc", "Moodle", "GitHub", "Classroom", "Gradescope", "html", "gd", "conclusions",
         "web", "svg", "ms", "Edit", "Clear", "all", "outputs", "Gradio", "API", "GET", "HTTP", "x", "f",
         "data", "image", "base64", "DejaVu", "Sans", "Arial", "sans", "serif",
         "grades", "overrides", "yaml", "report"}  # grades/overrides.yaml, `grader report`


def _check(cid: str, status: str, points: float, max_points: float, message, lang: str = LANG, **kw) -> CheckResult:
    text, kept = said(message, lang)
    return CheckResult(cid, TITLES[lang][cid], status, points, max_points, text, msg=kept, **kw)  # type: ignore[arg-type]


def graded_batch(folder: Path) -> BatchResult:
    """Two students graded in Russian, with every kind of stored message the pipeline writes."""
    pointers = msg("manual.pointers", cells=joined([msg("manual.pointer_cell", cell=3, words=21),
                                                    msg("manual.pointer_cell", cell=7, words=12)]))
    answered = joined([msg("apps.answered", app="app.py", endpoint="/predict", input="image", accuracy=72.5, n=22,
                           start=1.5, first=0.5, p50=12.0, p95=41.0, form="png"),
                       msg("apps.low", min=90), msg("apps.errors", errors=2, detail="HTTP 500")], "")
    withheld, flags = verdict([Finding("names_grader", "grader_inside.probes", 4)], LANG)
    auto = msg("run.not_graded")
    ivan = folder / "ivanov"
    chart = write_chart(ivan, "steps_gd.chart.json", Chart(
        (ChartSeries((0.0, 1.0, 2.0), (4.0, 1.0, 0.25), msg("report.figure_student", number=1), "#d62728", None, "o"),
         ChartSeries((0.0, 1.0, 2.0), (4.0, 1.5, 0.5), "f(x)", "#444")),
        msg("report.figure_check", title="—", number=1)))
    notes = [msg("run.cell_timeout", cell=5, seconds=30), msg("late.late", time="2025-03-11T09:15+03:00",
                                                                      source=msg("late.source.git"), days=2,
                                                                      percent=20, penalty=1.25),
             msg("intake.several_candidates", count=2, names="ДЗ1.ipynb, черновик.ipynb", chosen="ДЗ1.ipynb",
                 reason=msg("intake.reason.draft"))]
    shown = [said(n, LANG) for n in notes]
    ivanov = SubmissionResult(
        "Иванов Иван", "ДЗ1.ipynb", "ab" * 32, "graded", 5.75, 8.0, 12.5, None,
        (_check("conclusions", "pass", 1.5, 2.0, msg("manual.reviewed"),
                review=Review("", "manual", 0.0, *said(pointers, LANG))),
         _check("web", "partial", 1.0, 3.0, answered, metrics={"accuracy": 0.725, "latency_p50_ms": 12.0,
                                                               "accuracy_class_3": 0.5}),
         _check("gd", "manual", 0.0, 3.0, msg("integrity.withheld", what=withheld), figures=(chart,),
                metrics={"max_rel_error": 0.0123456, "x_final": 0.25})),
        sandbox=BWRAP, notes=tuple(t for t, _ in shown), note_msgs=tuple(m for _, m in shown),
        cell_errors=(CellError(4, "NameError", "name 'gama' is not defined", "NameError Traceback\n"),),
        flags=tuple(Flag(f.kind, f.message, "gd", f.msg) for f in flags), lang=LANG, late_days=2, penalty=1.25,
        submitted_at="2025-03-11T09:15:00+03:00")
    error_text, error_msg = said(msg("intake.nb_bad_json", name="ДЗ 1.ipynb", line=37, col=2, detail="Expecting ','"),
                                 LANG)
    petrova = SubmissionResult(
        "Петрова Анна", "ДЗ 1.ipynb", "cd" * 32, "error", 0.0, 8.0, 0.5, error_text,
        tuple(_check(c, "manual" if c == "conclusions" else "error", 0.0, p, msg("run.not_graded") if c != "conclusions"
                     else pointers) for c, p in (("conclusions", 2.0), ("web", 3.0), ("gd", 3.0))),
        sandbox=PLAIN, error_msg=error_msg, lang=LANG)
    assert auto.render("ru") != auto.render("en")
    return BatchResult("t-lang", "2025-03-12T10:00:00+00:00", (ivanov, petrova), sandbox=BWRAP)


def visible_text(page: str) -> str:
    """What a reader sees (and what a screen reader or a tooltip says): text, titles and alt texts."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    attributes = " ".join(m.group(2) for m in re.finditer(r'\b(title|alt|aria-label|data-label)="([^"]*)"', page))
    page = re.sub(r'src="data:[^"]*"', "", page)
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attributes)
    for kept in STUDENT_DATA:
        text = text.replace(kept, " ")
    return text


def english_words(text: str) -> list[str]:
    return sorted({w for w in re.findall(r"[A-Za-z][A-Za-z_]+", text) if w not in NAMES})


def cyrillic_words(text: str) -> list[str]:
    return sorted(set(re.findall(r"[А-Яа-яЁё]+", text)))


def catalogue_keys(text: str) -> list[str]:
    return sorted(key for key in catalogue() if re.search(rf"(?<![\w.]){re.escape(key)}(?![\w])", text))


def pages(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.html"))}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    batch = graded_batch(folder)
    write_json_atomic(folder / "results.json", batch.to_json())
    (folder / ".folders.json").write_text(json.dumps({"Иванов Иван": "ivanov", "Петрова Анна": "petrova"}))
    return folder


def test_a_russian_report_has_no_english_words_and_no_keys(out: Path) -> None:
    render_batch(load_batch(out / "results.json"), out, title="Задание 1", lang="ru", titles=TITLES["ru"])
    for name, page in pages(out).items():
        text = visible_text(page)
        assert english_words(text) == [], name
        assert catalogue_keys(text) == [], name
    assert "markdown-ячейка 3 (21 слово), markdown-ячейка 7 (12 слов)" in visible_text(
        (out / "petrova" / "report.html").read_text(encoding="utf-8"))
    report = visible_text((out / "ivanov" / "report.html").read_text(encoding="utf-8"))
    assert "верно 72,5% из 22 скрытых цифр" in report and "2 запроса завершились ошибкой" in report
    assert "опоздание 2 дня, штраф 20% набранных баллов (−1,25)" in report and "11 марта 2025, 09:15" in report
    assert "наибольшая относительная ошибка" in report and "0,0123" in report and "точность на цифре 3" in report
    assert "5,75 / 8" in report and "Шаги спуска: рисунок 1" in report
    assert "песочница bubblewrap" in report


def test_re_rendered_in_english_there_is_no_russian_left(out: Path) -> None:
    batch = load_batch(out / "results.json")
    render_batch(batch, out, title="Задание 1", lang="ru", titles=TITLES["ru"])
    render_batch(batch, out, title="Task 1", lang="en", titles=TITLES["en"])
    for name, page in pages(out).items():
        text = visible_text(page)
        assert cyrillic_words(text) == [], name
        assert catalogue_keys(text) == [], name
    assert "markdown cell 3 (21 words), markdown cell 7 (12 words)" in visible_text(
        (out / "petrova" / "report.html").read_text(encoding="utf-8"))
    report = visible_text((out / "ivanov" / "report.html").read_text(encoding="utf-8"))
    assert "72.5% of 22 hidden digits right" in report and "2 requests failed" in report
    assert "2 days late, penalty 20% of the points earned (−1.25)" in report and "11 March 2025, 09:15" in report
    assert "largest relative error" in report and "accuracy on digit 3" in report and "5.75 / 8" in report
    assert "Descent steps: figure 1" in report and "a plain process" not in report
    index = visible_text((out / "index.html").read_text(encoding="utf-8"))
    assert "is damaged: it is not valid JSON (line 37, column 2" in index
    petrova = visible_text((out / "petrova" / "report.html").read_text(encoding="utf-8"))
    assert "a plain process without file or network isolation (as the grading run asked)" in petrova


def test_charts_are_drawn_in_the_reports_language(out: Path) -> None:
    import base64

    batch = load_batch(out / "results.json")
    for lang, word in (("ru", "Рисунок 1 из работы"), ("en", "Figure 1 from the submission")):
        render_batch(batch, out, title="T", lang=lang, titles=TITLES[lang])
        page = (out / "ivanov" / "report.html").read_text(encoding="utf-8")
        svgs = [base64.b64decode(m).decode("utf-8") for m in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]
        assert len(svgs) == 1 and word in svgs[0] and "<polyline" in svgs[0]
        ticks = re.findall(r">(−?\d+[.,]\d+)</text>", svgs[0])
        assert ticks and all(("," in t) == (lang == "ru") for t in ticks), ticks  # 0,5 in Russian


def test_grader_report_lang_en_on_a_russian_batch(out: Path, tmp_path: Path) -> None:
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(RUBRIC, encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(out), "-a", str(rubric), "--lang", "en"])
    assert result.exit_code == 0, result.output
    for name, page in pages(out).items():
        assert cyrillic_words(visible_text(page)) == [], name
    assert "Conclusions" in (out / "index.html").read_text(encoding="utf-8")
    assert cyrillic_words(result.output.replace(str(out), "")) == []


OLD_RESULT = {  # results.json as graders before catalogue messages wrote it
    "assignment": "t-lang", "graded_at": "2025-03-12T10:00:00+00:00", "sandbox": BWRAP,
    "students": [{
        "student": "Иванов Иван", "submission": "ДЗ1.ipynb", "sha256": "ab", "status": "graded", "score": 2.5,
        "max_score": 8.0, "duration_s": 3.0, "error": None, "sandbox": BWRAP, "lang": "ru",
        "notes": ["Ячейка 5 выполнялась слишком долго (30 с) и была прервана."],
        "flags": [{"kind": "tampering", "message": "Работа вмешивается", "check": None}],
        "checks": [{"id": "web", "title": "Веб-приложение", "status": "partial", "points": 2.5, "max_points": 3.0,
                    "message": "app.py: верно 72.5% из 22 скрытых цифр", "metrics": {"accuracy": 0.725},
                    "figures": [], "visibility": "visible",
                    "review": {"comment": "", "auto_status": "fail", "auto_points": 0.0, "auto_message": "как было"}}],
    }],
}


def test_old_results_load_and_render_with_their_stored_text(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps(OLD_RESULT, ensure_ascii=False), encoding="utf-8")
    batch = load_batch(tmp_path / "results.json")
    result = batch.students[0]
    assert result.checks[0].msg is None and result.error_msg is None and result.note_msgs == ()
    assert result.checks[0].review is not None and result.checks[0].review.auto_msg is None
    render_batch(batch, tmp_path, title="Task 1", lang="en", titles=TITLES["en"])
    page = (tmp_path / "Иванов Иван" / "report.html").read_text(encoding="utf-8")
    assert "app.py: верно 72.5% из 22 скрытых цифр" in page and "Ячейка 5 выполнялась слишком долго" in page
    assert "Web app" in page and "Check results" in page  # the labels are English all the same
    again = BatchResult.from_json(json.loads(json.dumps(batch.to_json())))
    assert again == batch  # and they keep their shape through a save
