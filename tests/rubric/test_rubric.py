"""Rubric schema and loader: valid files load; every problem names file, key and line."""
from __future__ import annotations

import hashlib
import re
import textwrap
from pathlib import Path

import pytest

from grader.errors import RubricError
from grader.rubric import (
    CheckSpec,
    LimitsSpec,
    Rubric,
    available_rubrics,
    load_rubric,
    text,
    validate_rubric_file,
)

VALID = textwrap.dedent(
    """\
    assignment: task1
    title:
      ru: Градиентный спуск
      en: Gradient descent
    lang: ru
    entry:
      patterns: ["*.ipynb"]
      hints: [task1]
    probes: [gd]
    trace: true
    limits:
      timeout_s: 120
    parameters:
      seed: 0
    checks:
      - id: gd_runs
        title: Runs
        points: 2
        kind: gd.function
      - id: gd_converges
        title: {en: Converges}
        points: 3
        kind: gd.steps
        credit: {too_few: 0.5}
        params: {min_steps: 5}
      - id: gd_bonus
        title: Bonus
        points: 1
        kind: gd.plot
        bonus: true
        visibility: after_due
    """
)


def write(tmp_path: Path, body: str, name: str = "task1.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    return str(info.value)


def line_of(body: str, needle: str) -> int:
    """1-based line of the first line containing ``needle`` (so tests don't hard-code numbers)."""
    for number, line in enumerate(body.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_valid_rubric_loads(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    rubric = load_rubric(path)
    assert rubric.assignment == "task1"
    assert [c.id for c in rubric.checks] == ["gd_runs", "gd_converges", "gd_bonus"]
    assert rubric.max_score == 5
    assert rubric.limits.timeout_s == 120
    assert rubric.limits.cell_timeout_s == 60  # default kept
    assert rubric.entry.patterns == ["*.ipynb"]
    assert rubric.checks[1].credit == {"too_few": 0.5}
    assert rubric.checks[1].params == {"min_steps": 5}
    assert rubric.checks[2].visibility == "after_due"
    assert rubric.source_path == path
    assert rubric.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert validate_rubric_file(path) == []


def test_models_are_frozen_and_defaults(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, VALID))
    with pytest.raises(Exception):
        rubric.assignment = "other"  # type: ignore[misc]
    assert LimitsSpec().memory_gb == 4
    built = Rubric(
        assignment="x", title="X", checks=[CheckSpec(id="a", title="A", points=1, kind="k")]
    )
    assert built.source_path is None
    assert re.fullmatch(r"[0-9a-f]{64}", built.digest)
    assert built.entry.patterns == ["*.ipynb", "*.py"]


def test_unknown_key_names_file_key_line_and_allowed(tmp_path: Path) -> None:
    body = VALID.replace("    points: 3\n", "    pointz: 3\n")
    path = write(tmp_path, body)
    message = error_of(path)
    line = line_of(body, "pointz")
    assert f"task1.yaml:{line}: checks[1].pointz: unknown key (allowed: id, title, points," in message
    # the now-missing 'points' is reported at the line of its check
    assert f"task1.yaml:{line_of(body, 'id: gd_converges')}: checks[1].points: missing" in message


def test_unknown_top_level_and_nested_keys(tmp_path: Path) -> None:
    body = VALID.replace("trace: true\n", "trace: true\nprobez: []\n").replace(
        "  timeout_s: 120\n", "  timeout_s: 120\n  memory: 8\n"
    )
    problems = validate_rubric_file(write(tmp_path, body))
    # the message lists the allowed keys; the list grows with the schema, so check its start
    assert any(f":{line_of(body, 'probez')}: probez: unknown key (allowed: assignment, title, lang" in p
               for p in problems), problems
    assert any(f":{line_of(body, 'memory: 8')}: limits.memory: unknown key (allowed: timeout_s"
               in p for p in problems), problems


def test_wrong_type_names_line(tmp_path: Path) -> None:
    body = VALID.replace("    points: 3\n", "    points: lots\n")
    path = write(tmp_path, body)
    message = error_of(path)
    assert (
        f"task1.yaml:{line_of(body, 'points: lots')}: checks[1].points: "
        "Input should be a valid number, unable to parse string as a number"
    ) in message


def test_constraint_violations(tmp_path: Path) -> None:
    body = (
        VALID.replace("credit: {too_few: 0.5}", "credit: {too_few: 1.5}")
        .replace("id: gd_runs", "id: GD-runs")
        .replace("timeout_s: 120", "timeout_s: 0")
        .replace("lang: ru", "lang: de")
    )
    problems = validate_rubric_file(write(tmp_path, body))
    joined = "\n".join(problems)
    assert f":{line_of(body, 'credit:')}: checks[1].credit.too_few:" in joined
    assert f":{line_of(body, 'GD-runs')}: checks[0].id:" in joined
    assert f":{line_of(body, 'timeout_s: 0')}: limits.timeout_s:" in joined
    assert f":{line_of(body, 'lang: de')}: lang:" in joined
    assert len(problems) == 4


def test_bad_text_mapping(tmp_path: Path) -> None:
    body = VALID.replace("title: Runs", "title: {de: Läuft}")
    problems = validate_rubric_file(write(tmp_path, body))
    assert len(problems) == 1
    assert problems[0].endswith(
        f"task1.yaml:{line_of(body, 'Läuft')}: checks[0].title: "
        "unknown language key(s) de (allowed: ru, en)"
    )


def test_duplicate_id_points_at_duplicate(tmp_path: Path) -> None:
    body = VALID.replace("id: gd_bonus", "id: gd_runs")
    message = error_of(write(tmp_path, body))
    line = [n for n, text_ in enumerate(body.splitlines(), 1) if "id: gd_runs" in text_][1]
    assert f"task1.yaml:{line}: checks[2].id: duplicate check id 'gd_runs'" in message


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    body = VALID.replace("    points: 3\n", "    points: 3\n    points: 4\n")
    message = error_of(write(tmp_path, body))
    assert f"task1.yaml:{line_of(body, 'points: 4')}: checks[1].points: duplicate key" in message


def test_missing_checks(tmp_path: Path) -> None:
    body = VALID.split("checks:")[0]
    message = error_of(write(tmp_path, body))
    assert "task1.yaml:1: checks: missing required key" in message


def test_empty_checks_list(tmp_path: Path) -> None:
    body = VALID.split("checks:")[0] + "checks: []\n"
    message = error_of(write(tmp_path, body))
    assert f"task1.yaml:{line_of(body, 'checks: []')}: checks: List should have at least 1" in message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    body = VALID.replace("    kind: gd.plot\n", "    kind: [gd.plot\n")
    message = error_of(write(tmp_path, body))
    match = re.search(r"task1\.yaml:(\d+): YAML syntax error", message)
    assert match, message
    # the parser notices the unclosed bracket at the next line at the latest
    assert int(match.group(1)) in (line_of(body, "[gd.plot"), line_of(body, "[gd.plot") + 1)


def test_yaml_syntax_error_exact_line(tmp_path: Path) -> None:
    body = "assignment: task1\ntitle: T\nchecks:\n  - id: a\n   bad indent: 1\n"
    message = error_of(write(tmp_path, body))
    assert "task1.yaml:5: YAML syntax error" in message


@pytest.mark.parametrize(
    ("body", "fragment"),
    [("", "task1.yaml:1: the file is empty"), ("# only a comment\n", "the file is empty"),
     ("- a\n- b\n", "task1.yaml:1: the top level must be a mapping"),
     ("just text\n", "the top level must be a mapping")],
)
def test_empty_or_non_mapping(tmp_path: Path, body: str, fragment: str) -> None:
    assert fragment in error_of(write(tmp_path, body))


def test_name_lookup(tmp_path: Path) -> None:
    write(tmp_path, VALID, "task1.yaml")
    write(tmp_path, VALID.replace("assignment: task1", "assignment: task2"), "task2.yaml")
    assert load_rubric("task2", rubrics_dir=tmp_path).assignment == "task2"
    assert available_rubrics(tmp_path) == ["task1", "task2"]
    with pytest.raises(RubricError, match=r"unknown rubric “task9”.*available: task1, task2"):
        load_rubric("task9", rubrics_dir=tmp_path)


def test_name_lookup_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, VALID)
    monkeypatch.setenv("GRADER_RUBRICS_DIR", str(tmp_path))
    assert load_rubric("task1").source_path == tmp_path / "task1.yaml"


def test_paths_are_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", VALID)
    assert load_rubric("sub/task1.yaml").assignment == "task1"
    with pytest.raises(RubricError, match="not found"):
        load_rubric("missing.yaml", rubrics_dir=tmp_path / "sub")
    # relative display path when the file is under the working directory
    body = VALID.replace("points: 2", "points: -1")
    write(tmp_path / "sub", body)
    assert f"sub/task1.yaml:{line_of(body, 'points: -1')}: checks[0].points:" in error_of(
        Path("sub/task1.yaml")
    )


def test_text_helper() -> None:
    assert text("plain", "en") == "plain"
    assert text({"ru": "привет", "en": "hello"}, "en") == "hello"
    assert text({"ru": "привет", "en": "hello"}, "ru") == "привет"
    assert text({"ru": "привет"}, "en") == "привет"
    assert text({"en": "hello"}, "ru") == "hello"
    assert text(None, "ru") == ""
