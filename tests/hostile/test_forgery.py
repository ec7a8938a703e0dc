"""Forgeries: notebooks that try to get a grade they did not earn, graded in one batch beside two
honest students, through the whole pipeline under bubblewrap.

The forged probe data are the real data of an honest student, graded first: the best a forger
could hand back.
"""
from __future__ import annotations

import json
import resource
import uuid
from pathlib import Path

import pytest
import yaml
from hostile_corpus import FORGERIES, GOOD, GOOD_CELLS, World, build_class, new_marker, write_notebook
from hostile_support import ROOT, Graded, assert_others_intact, comparable, template

from grader.grading import GradeOptions, grade_batch
from grader.report.batch import render_batch
from grader.report.exports import write_exports
from grader.rubric import load_rubric
from grader.sandbox import BwrapSandbox
from grader.sandbox.detect import bwrap_unavailable_reason

pytestmark = [pytest.mark.sandbox, pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(900)]


FORMULA = '=HYPERLINK("example","click")'
FORMULA_FOLDER = f"{FORMULA}_10999_assignsubmission_file_"


def _rubric(folder: Path):
    data = yaml.safe_load((ROOT / "rubrics" / "task1.yaml").read_text(encoding="utf-8"))
    data.update(assignment="forgery", lang="en")
    data["limits"] = {"timeout_s": 90, "cell_timeout_s": 45, "memory_gb": 2, "scratch_mb": 256}
    path = folder / "forgery.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_rubric(path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Graded, int]:
    reason = bwrap_unavailable_reason()
    if reason is not None:
        pytest.skip(f"bubblewrap sandbox not usable here: {reason}")
    tmp = tmp_path_factory.mktemp("forgery")
    rubric, box = _rubric(tmp), BwrapSandbox()
    world = World(root=tmp / "class", out=tmp / "out", secret_file=tmp / "secret.txt", secret="-",
                  token_var="-", token="-", port=0, marker=new_marker(), backend="bwrap")
    build_class(tmp / "baseline", world, [])
    base = grade_batch(tmp / "baseline", rubric, GradeOptions(out_dir=tmp / "baseline_out", workers=2), sandbox=box)
    run = tmp / "baseline_out" / GOOD[0] / "run"
    payload = {"probe": json.loads((run / "probe.json").read_text()),
               "figures": json.loads((run / "figures.json").read_text())}
    world = World(**{**world.__dict__, "forged": json.dumps(payload)})
    build_class(world.root, world, [])
    for name, case in FORGERIES.items():
        case.build(world.root / name, world)
    write_notebook(world.root / FORMULA_FOLDER, GOOD_CELLS)  # a Moodle folder whose name is a formula
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    batch = grade_batch(world.root, rubric, GradeOptions(out_dir=world.out, workers=2), sandbox=box)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    render_batch(batch, world.out, title="forgery", lang="en", check_ids=[c.id for c in rubric.checks])
    write_exports(batch, world.out, ["moodle"], lang="en")
    folders = json.loads((world.out / ".folders.json").read_text(encoding="utf-8"))
    return Graded(world=world, batch=batch, baseline={r.student: r for r in base.students}, folders=folders,
                  server_connections=0, cgroups_left=[]), grown_kib


def has_message(text: str | None, key: str) -> bool:
    return text is not None and template(key, "en").search(text) is not None


def _withheld(g: Graded, name: str) -> None:
    """Tampering: every check left to the instructor with no points, the student flagged."""
    r = g.result(name)
    assert r.score == 0
    assert all(c.status == "manual" and c.points == 0 for c in r.checks), [(c.id, c.status) for c in r.checks]
    assert all(has_message(c.message, "integrity.withheld") for c in r.checks)
    assert [f.kind for f in r.flags if f.kind == "tampering"] == ["tampering"], r.flags


def _flag_text(g: Graded, name: str) -> str:
    return " ".join(f.message for f in g.result(name).flags)


def test_the_forgers_neighbours_keep_their_grades(graded: tuple[Graded, int]) -> None:
    g, _ = graded
    for good in GOOD:
        assert g.result(good).score == 10 and not g.result(good).flags  # 8 + 2 bonus points
    for name in FORGERIES:
        assert_others_intact(g, name)
    assert g.result("library_optimiser").flags == ()  # not a forgery: a library used openly
    # the flags reach the class index and the students' reports
    index = (g.world.out / "index.html").read_text(encoding="utf-8")
    assert "Flagged for the instructor&#39;s review: 7" in index  # all but the forged files and the flood
    assert "Needs the instructor&#39;s review" in g.report("forged_finish_hidden")


def test_a_replaced_probe_named_in_the_source_is_caught(graded: tuple[Graded, int]) -> None:
    g, _ = graded
    _withheld(g, "forged_finish")
    assert "names the grader's in-kernel code" in _flag_text(g, "forged_finish")


def test_a_replaced_probe_hidden_from_the_source_is_caught_by_its_seal(graded: tuple[Graded, int]) -> None:
    g, _ = graded
    _withheld(g, "forged_finish_hidden")
    text = _flag_text(g, "forged_finish_hidden")
    assert "the check's data were replaced" in text and "names the grader" not in text


def test_forged_files_in_the_outbox_are_replaced_by_the_harness(graded: tuple[Graded, int]) -> None:
    g, _ = graded
    r = g.result("forged_files")
    assert r.score == 0  # what the notebook really did: nothing
    record = g.run_record("forged_files")
    assert [c["number"] for c in record["cells"]] == [1] and record["integrity"]["probe"] == "sealed"
    assert (g.folder("forged_files") / "run" / "executed.ipynb").is_file()


@pytest.mark.parametrize(("name", "what"), [
    # importlib.import_module raises no "import" audit event; loading the module reads its file
    ("imported_internals", "grader_inside/probes/__pycache__/gd.cpython"),
    ("read_internals", "reading the grader's file /opt/grader-pkg/grader_inside/probes/gd.py (cell 1)"),
    ("patched_code", "replacing the grader's code: FigureCapture.flush.__code__ (cell 1)"),
    ("wire", "an attempt to open the grader's own channel (cell 1)"),
])
def test_touching_the_graders_code_is_seen_by_the_tripwires(graded: tuple[Graded, int], name: str, what: str) -> None:
    g, _ = graded
    _withheld(g, name)
    assert what in _flag_text(g, name)


def test_the_wire_refuses_the_students_code(graded: tuple[Graded, int]) -> None:
    g, _ = graded
    assert "refused: [Errno 13]" in g.executed_text("wire")
    assert g.run_record("wire")["integrity"]["probe"] == "sealed"


def test_a_json_bomb_is_refused_before_it_is_parsed(graded: tuple[Graded, int]) -> None:
    g, grown_kib = graded
    r = g.result("json_bomb")
    assert any(has_message(n, "run.json_refused") and "2,000,0" in n for n in r.notes), r.notes
    _withheld(g, "json_bomb")
    # 2,000,000 dicts would have cost the grader's process several hundred MB
    assert grown_kib < 150 * 1024, f"the grader grew by {grown_kib // 1024} MB"


def test_an_inode_flood_is_capped_and_the_work_still_graded(graded: tuple[Graded, int]) -> None:
    g, _ = graded
    r = g.result("inode_flood")
    assert any(has_message(n, "run.too_many_files") for n in r.notes), r.notes
    assert r.score == g.result(GOOD[0]).score  # the records and the sealed figures came first
    kept = sum(1 for p in (g.folder("inode_flood") / "run").rglob("*") if p.is_file())
    assert kept <= 2000
    assert comparable(g.result(GOOD[0])) == comparable(g.baseline[GOOD[0]])


def test_a_formula_in_a_name_lands_as_text_in_every_spreadsheet(graded: tuple[Graded, int]) -> None:
    g, _ = graded
    r = g.result(FORMULA)
    assert r.score == 10 and r.moodle_id == "10999"
    for name in ("gradebook.csv", "moodle_grades.csv"):
        text = (g.world.out / name).read_text(encoding="utf-8-sig")
        assert "'=HYPERLINK" in text, name
        assert not any(cell.startswith("=") for line in text.splitlines() for cell in line.split(",")), name


def test_a_library_optimiser_is_named_and_worth_the_rubrics_share(graded: tuple[Graded, int]) -> None:
    g, _ = graded
    checks = {c.id: c for c in g.result("library_optimiser").checks}
    for check_id in ("steps", "momentum", "nesterov"):
        check = checks[check_id]
        assert (check.status, check.points) == ("partial", check.max_points * 0.5), (check_id, check.message)
        assert "torch.optim.SGD" in check.message, check.message
