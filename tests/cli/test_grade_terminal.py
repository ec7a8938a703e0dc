"""What `grader grade` and `grader report` print: in the chosen language, naming who was not
graded; and --help texts that are complete and say FOLDER or FILE alike everywhere. Grading is
canned (grader.grading.grade_batch replaced): the terminal is the point here."""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from grader import grading
from grader.cli import main
from grader.i18n import catalogue
from grader.results import BatchResult, CheckResult, SubmissionResult, write_json_atomic

RUBRIC = """\
assignment: t1
title: {ru: "Задание", en: "Task"}
lang: en
checks:
  - {id: main, title: {ru: "Основное", en: "Main"}, points: 8, kind: gd.function}
  - {id: extra, title: {ru: "Бонус", en: "Extra"}, points: 2, kind: gd.momentum, bonus: true}
"""


def canned(root: Path, rubric: object, options: grading.GradeOptions, **_kw: object) -> BatchResult:
    """grade_batch's stand-in: a fixed batch, saved where grade_batch saves it."""
    def one(name: str, status: str, score: float, error: str | None = None) -> SubmissionResult:
        checks = (CheckResult("main", "Main", "pass", min(score, 8.0), 8.0, "ok"),
                  CheckResult("extra", "Extra", "pass", max(score - 8.0, 0.0), 2.0, "ok"))
        return SubmissionResult(name, "hw.ipynb", "", status, score, 8.0, 1.0, error, checks,  # type: ignore[arg-type]
                                moodle_id="10234" if name == "Петров Пётр" else None)

    batch = BatchResult("t1", "2025-03-10T12:00:00+00:00", (
        one("Петров Пётр", "graded", 10.0), one("Орлова Екатерина", "error", 0.0,
                                               "Файл ДЗ1.ipynb повреждён: это некорректный JSON\n(строка 37)"),
        one("Зайцев Олег", "timeout", 0.0, "Работа выполнялась дольше 120 с и была остановлена."),
        one("Волкова Анна", "graded", 7.0)), sandbox="bubblewrap sandbox")
    write_json_atomic(options.out_dir / "results.json", batch.to_json())
    return batch


@pytest.fixture
def graded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, Path]:
    monkeypatch.setattr(grading, "grade_batch", canned)
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(RUBRIC, encoding="utf-8")
    (tmp_path / "class").mkdir()
    return rubric, tmp_path


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_summary_is_in_the_chosen_language_and_names_who_failed(graded: tuple[Path, Path], lang: str) -> None:
    rubric, tmp = graded
    out = CliRunner().invoke(main, ["grade", str(tmp / "class"), "-a", str(rubric), "-o", str(tmp / "out"),
                                    "--lang", lang])
    assert out.exit_code == 0, out.output
    if lang == "ru":
        assert "Работ: 4. Проверено: 2, с ошибкой: 1, превышено время: 1." in out.output
        assert "не проверено — Орлова Екатерина (ошибка): Файл ДЗ1.ipynb повреждён" in out.output
        assert "не проверено — Зайцев Олег (превышено время)" in out.output
        assert "Изоляция: песочница bubblewrap" in out.output and "Отчёт:" in out.output
        assert "submissions" not in out.output and "Sandbox:" not in out.output  # no English line
    else:
        assert "Submissions: 4. Graded: 2, with an error: 1, timed out: 1." in out.output
        # results without catalogue messages (as older graders wrote them) keep the text they were graded with
        assert "not graded — Орлова Екатерина (error): Файл ДЗ1.ipynb повреждён: это некорректный JSON" in out.output
    assert "(строка 37)" not in out.output  # the first line of the reason only
    assert "Петров Пётр" in out.output and "moodle.bonus: cap" in out.output  # the Moodle bonus choice, stated
    listed = [line for line in out.output.splitlines() if line.startswith("  ")]
    assert len(listed) == 2 and not any("Волкова" in line for line in listed)  # graded students are not listed


def test_report_speaks_the_language_asked_for(graded: tuple[Path, Path]) -> None:
    rubric, tmp = graded
    assert CliRunner().invoke(main, ["grade", str(tmp / "class"), "-a", str(rubric), "-o", str(tmp / "out")]).exit_code == 0
    out = CliRunner().invoke(main, ["report", str(tmp / "out"), "-a", str(rubric), "--lang", "ru"])
    assert out.exit_code == 0 and out.output.startswith("Отчёт: "), out.output
    assert "Сводка по группе" in (tmp / "out" / "index.html").read_text(encoding="utf-8")
    assert "10 / 8" in (tmp / "out" / "index.html").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, click.Command]]:
    return sorted(main.commands.items())  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "command"), _commands())
def test_every_option_has_help_and_paths_say_folder_or_file(name: str, command: click.Command) -> None:
    ctx = click.Context(command, info_name=name)
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden and param.name != "help":
            assert param.help, f"grader {name} {param.opts[0]} has no help"
        record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
        if record is not None and isinstance(param.type, click.Path):
            metavar = record[0].split()[-1]
            assert metavar in ("FOLDER", "FILE"), f"grader {name} {param.opts[0]} shows {metavar}"
    assert command.help, f"grader {name} has no help"


def test_no_message_key_is_used_without_its_text() -> None:
    """Every key the CLI's new lines use is in the catalogue, in both languages."""
    source = Path(main.callback.__code__.co_filename).read_text(encoding="utf-8")  # type: ignore[union-attr]
    for key in set(re.findall(r'"((?:cli|gradescope|ci)\.[a-z_]+)"', source)):
        assert set(catalogue()[key]) == {"ru", "en"}, key
