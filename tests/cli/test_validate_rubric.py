"""`grader validate-rubric`: OK for a shipped rubric; for the issue's example the three problems,
each with file, line and key, and a non-zero exit."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from grader.cli import main
from grader.rubric import default_rubrics_dir

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "rubrics" / "misspelt.yaml"


def test_the_issues_example_is_rejected(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    Path("r.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    out = CliRunner().invoke(main, ["validate-rubric", "r.yaml"])
    assert out.exit_code != 0
    assert "OK" not in out.output
    assert "r.yaml:9: checks[0].params.min_stpes: gd.steps has no parameter 'min_stpes' (did you mean " \
           "'min_steps'?)" in out.output
    assert "r.yaml:10: checks[0].credit.too_fwe: gd.steps has no outcome 'too_fwe' (did you mean 'too_few'?)" \
        in out.output
    assert "r.yaml:13: checks[1].kind: unknown check kind 'gd.plott' (did you mean 'gd.plot'?)" in out.output


def test_a_shipped_rubric_is_ok() -> None:
    path = default_rubrics_dir() / "task2.yaml"
    out = CliRunner().invoke(main, ["validate-rubric", str(path)])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == f"{path}: OK"
