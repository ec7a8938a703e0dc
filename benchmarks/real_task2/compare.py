#!/usr/bin/env python
"""The grader on real public Task 2 / HW 3 notebooks, against the verdicts in MANIFEST.yaml.

The notebooks stay outside the repository (their authors' work): fetch each one at the commit the
manifest names and save it under its `file` name in one folder. Then:

    python benchmarks/real_task2/compare.py ~/corpus/task2            # written answers only (seconds)
    python benchmarks/real_task2/compare.py ~/corpus/task2 --run      # every check, notebooks run

Without --run only the checks that need no kernel run (the written answers). With --run the
notebooks are graded in the sandbox with rubrics/task2.yaml on the demo data, the students'
training part cut to --train-limit images so that the tutorials' 10-25 epochs end in minutes;
the model names reported and each check's outcome are compared with the manifest. Prints one
line per verdict (ok / DIFFERS) and exits 1 when any differs.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader.artifacts import Artifacts  # noqa: E402
from grader.families.notebook.answers import check_answers  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402
from grader_inside.notebook import read_cells  # noqa: E402

MANIFEST = Path(__file__).with_name("MANIFEST.yaml")


def answers_key(path: Path) -> str:
    spec = next(c for c in load_rubric("task2").checks if c.kind == "notebook.answers")
    ctx = Artifacts(lang="en", cells=read_cells(path))
    return check_answers(ctx, dict(spec.params)).key


def graded(corpus: Path, entries: list[dict[str, Any]], train_limit: int, out: Path) -> dict[str, dict[str, Any]]:
    """Each notebook in a folder of its own, graded as one class; file -> {models, checks}."""
    from grader.grading import GradeOptions, grade_batch

    rubric = load_rubric("task2")
    data = rubric.section("data")["mnist"].model_copy(update={"train_limit": train_limit})
    limits = rubric.limits.model_copy(update={"timeout_s": 1500, "cell_timeout_s": 1200})
    rubric = rubric.model_copy(update={"data": {"mnist": data}, "limits": limits})
    klass = out / "class"
    folders = {}
    for i, entry in enumerate(entries):
        folder = klass / f"nb{i:02d}"
        folder.mkdir(parents=True)
        shutil.copy(corpus / entry["file"], folder / entry["file"])
        folders[folder.name] = entry["file"]
    batch = grade_batch(klass, rubric, GradeOptions(out_dir=out / "out", workers=2, lang="en"))
    found: dict[str, dict[str, Any]] = {}
    for result in batch.students:
        file = folders.get(result.student, result.student)
        models_json = out / "out" / result.student / "run" / "models" / "models.json"
        try:
            names = [m["name"] for m in json.loads(models_json.read_text(encoding="utf-8"))["models"]]
        except (OSError, ValueError, KeyError):
            names = []
        found[file] = {"models": names, "checks": result.checks}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="the folder holding the manifest's notebooks")
    parser.add_argument("--run", action="store_true", help="also run the notebooks and compare every check")
    parser.add_argument("--train-limit", type=int, default=2000)
    args = parser.parse_args()
    entries = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["notebooks"]
    entries = [e for e in entries if (args.corpus / e["file"]).is_file()]
    differs = 0
    results: dict[str, dict[str, Any]] = {}
    if args.run:
        work = Path(tempfile.mkdtemp(prefix="real_task2_"))
        results = graded(args.corpus, entries, args.train_limit, work)
        print(f"graded in {work / 'out'}")
    rubric = load_rubric("task2")
    credit = {c.id: c.credit for c in rubric.checks}
    for entry in entries:
        path = args.corpus / entry["file"]
        print(f"{entry['repo']}/{entry['path']}")
        for check, verdict in entry["verdicts"].items():
            expect = verdict["expect"]
            if check == "answers" and not args.run:
                got: Any = answers_key(path)
            elif not args.run:
                continue
            elif check == "models":
                got = results.get(entry["file"], {}).get("models")
            else:
                res = next((c for c in results.get(entry["file"], {}).get("checks", ()) if c.id == check), None)
                share = credit[check].get(expect, 1.0 if expect == "ok" else 0.0)
                got = expect if res is not None and abs(res.points - share * res.max_points) < 1e-6 else (
                    f"{res.points}/{res.max_points}: {res.message[:160]}" if res is not None else "not graded")
            same = got == expect
            differs += not same
            print(f"  {'ok     ' if same else 'DIFFERS'} {check}: expected {expect}, got {got}")
    sys.exit(1 if differs else 0)


if __name__ == "__main__":
    main()
