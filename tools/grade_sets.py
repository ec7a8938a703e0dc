"""Grade every shipped and hidden set the way the end-to-end tests do, into one folder per set.

A refactor that must not change a grade is checked by running this before and after it and
comparing the two folders with tools/compare_results.py:

    .venv/bin/python tools/grade_sets.py ~/sets-before            # on the old commit
    .venv/bin/python tools/grade_sets.py ~/sets-after --secrets-from ~/sets-before   # on the new one
    .venv/bin/python tools/compare_results.py ~/sets-before ~/sets-after

Sets: task1 and task1_hidden (rubric as shipped), task2 and task2_hidden (the demo data's cut of
tests/integration/task2_support.py), hw3 (the stand-in images and weights of tools/hw3_data.py).

Each batch with a hidden split draws its own secret (the split's order and noise, grader/data/hidden.py),
so accuracies differ slightly from batch to batch by design. `--secrets-from` copies each set's
secret from an earlier folder, so that the two runs score the same hidden images.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools"), str(ROOT / "tests"), str(ROOT / "tests" / "integration")]

from grader.data.hidden import SECRET_FILE  # noqa: E402
from grader.grading import GradeOptions, grade_batch  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402

SETS = ("task1", "task1_hidden", "task2", "task2_hidden", "hw3")


def grade(name: str, out: Path, workers: int, secrets: Path | None = None) -> None:
    target = out / name
    secret = secrets / name / ".data" / SECRET_FILE if secrets is not None else None
    if secret is not None and secret.is_file():
        (target / ".data").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(secret, target / ".data" / SECRET_FILE)
    if name in ("task1", "task1_hidden"):
        folder = ROOT / "submissions" / "task1" if name == "task1" else ROOT / "tests" / "fixtures" / name
        grade_batch(folder, load_rubric("task1"), GradeOptions(out_dir=target, workers=workers, lang="en"))
    elif name in ("task2", "task2_hidden"):
        from task2_support import demo_rubric

        folder = ROOT / "submissions" / "task2" if name == "task2" else ROOT / "tests" / "fixtures" / name
        grade_batch(folder, demo_rubric(), GradeOptions(out_dir=target, workers=workers, lang="en"))
    elif name == "hw3":
        from hw3_data import make_shapes_dataset, write_fake_weights
        from test_hw3_samples import small_rubric

        data = make_shapes_dataset(out / ".hw3" / "data")
        weights = write_fake_weights(out / ".hw3" / "weights").parent
        grade_batch(ROOT / "submissions" / "hw3", small_rubric(), GradeOptions(
            out_dir=target, workers=workers, lang="en", family_options={"data": {"afhq": data}, "weights": weights}))
    else:
        raise SystemExit(f"unknown set {name!r}; sets: {', '.join(SETS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--secrets-from", type=Path, default=None,
                        help="a folder graded earlier: each set's hidden-split secret is taken from it")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in args.sets:
        logging.warning("grading %s", name)
        grade(name, args.out, args.workers, args.secrets_from)


if __name__ == "__main__":
    main()
