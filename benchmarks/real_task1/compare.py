"""Task 1 on real student work: the grader's verdicts against a careful hand grading.

The files (public student notebooks and scripts) are never in this repository: fetch each one
named in manifest.yaml into a folder as <id>.<ext> and point this script at that folder.

    python benchmarks/real_task1/compare.py FOLDER [--out DIR] [--recheck] [--json PATH]
    python benchmarks/real_task1/compare.py --expected SET [--out DIR] [--recheck]

It grades FOLDER with the task1 rubric (sandboxed, as `grader grade` does), then re-runs the
Task 1 checks on each run's saved artifacts to read the credit *key* every check chose (the
results carry only points), and prints agreement per check and overall, by key (a manifest
`also` key counts) and by credit, and lists every disagreement with both verdicts.
`--recheck` skips the runs and re-checks an existing DIR: the analysis can be changed and
re-measured in seconds. A file whose sha256 differs from the manifest's is reported and left
out (it is not the file that was graded by hand).

`--expected SET` does the same for a set with an EXPECTED.yaml (submissions/task1,
tests/fixtures/task1_hidden), whose verdicts are shares of points: agreement by credit.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from grader.artifacts import CheckContext
from grader.families import CHECKS  # noqa: E402
from grader.grading import GradeOptions, grade_batch  # noqa: E402
from grader.intake import discover  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402
from grader.run.runner import CellRecord  # noqa: E402
from grader_inside.notebook import read_cells  # noqa: E402

MANIFEST = Path(__file__).with_name("manifest.yaml")


@dataclass(frozen=True)
class Verdict:
    file_id: str
    check: str
    expected: str
    also: tuple[str, ...]
    got: str
    expected_share: float
    got_share: float
    why: str
    message: str

    @property
    def key_agrees(self) -> bool:
        return self.got == self.expected or self.got in self.also

    @property
    def credit_agrees(self) -> bool:
        return abs(self.got_share - self.expected_share) < 1e-9


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _local_files(folder: Path, manifest: dict[str, Any]) -> tuple[dict[str, Path], list[str]]:
    """The manifest's files found in `folder` with the right content, and what is wrong."""
    found: dict[str, Path] = {}
    problems: list[str] = []
    for file_id, entry in manifest["files"].items():
        paths = sorted(folder.glob(f"{file_id}.*"))
        if not paths:
            problems.append(f"{file_id}: not in {folder}")
            continue
        if _sha256(paths[0]) != entry["sha256"]:
            problems.append(f"{file_id}: {paths[0].name} is not the graded file (sha256 differs)")
            continue
        found[file_id] = paths[0]
    return found, problems


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _cell_records(report: Any) -> tuple[CellRecord, ...]:
    cells = report.get("cells", []) if isinstance(report, dict) else []
    return tuple(CellRecord(int(c.get("number", 0)), str(c.get("status", "")), str(c.get("ename", "")),
                            str(c.get("evalue", "")), "", float(c.get("duration_s") or 0))
                 for c in cells if isinstance(c, dict))


def outcomes_from_artifacts(entry: Path, student_dir: Path, rubric: Any, lang: str) -> dict[str, tuple[str, str]]:
    """check id -> (credit key, message), re-computed from one run's saved artifacts."""
    run = student_dir / "run"
    probe = _read_json(run / "probe.json")
    figures = _read_json(run / "figures.json")
    try:
        cells = read_cells(entry)
    except (ValueError, OSError, UnicodeDecodeError):
        cells = []
    ctx = CheckContext(lang=lang, cells=cells, run_cells=_cell_records(_read_json(run / "run.json")),
                       probe=probe if isinstance(probe, dict) else {},
                       figures=[f for f in figures if isinstance(f, dict)] if isinstance(figures, list) else [],
                       out_dir=student_dir / "recheck")
    out: dict[str, tuple[str, str]] = {}
    for spec in rubric.checks:
        outcome = CHECKS[spec.kind](ctx, dict(spec.params))
        out[spec.id] = (outcome.key, outcome.message)
    return out


def compare(folder: Path, out: Path, recheck: bool, lang: str = "en") -> tuple[list[Verdict], list[str]]:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    rubric = load_rubric(manifest["rubric"])
    files, problems = _local_files(folder, manifest)
    if not recheck:
        grade_batch(folder, rubric, GradeOptions(out_dir=out, workers=2, lang=lang, force=True))
    subs = discover(folder, patterns=tuple(rubric.entry.patterns), unpack_dir=out / ".unpacked",
                    entry_hints=tuple(rubric.entry.hints), lang=lang)
    by_source = {sub.source.resolve(): sub for sub in subs if sub.entry is not None}
    credit = {spec.id: spec.credit for spec in rubric.checks}
    verdicts: list[Verdict] = []
    for file_id, path in files.items():
        sub = by_source.get(path.resolve())
        if sub is None or sub.entry is None or not (out / sub.student_id / "run").is_dir():
            problems.append(f"{file_id}: no run artifacts under {out}")
            continue
        got = outcomes_from_artifacts(sub.entry, out / sub.student_id, rubric, lang)
        for check, hand in manifest["files"][file_id]["verdicts"].items():
            key, message = got[check]
            table = credit[check]
            verdicts.append(Verdict(file_id, check, hand["key"], tuple(hand.get("also", ())), key,
                                    table.get(hand["key"], 0.0), table.get(key, 0.0),
                                    hand.get("why", ""), message))
    return verdicts, problems


def summary(verdicts: list[Verdict]) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    for check in dict.fromkeys(v.check for v in verdicts):
        mine = [v for v in verdicts if v.check == check]
        rows[check] = {"n": len(mine), "key": sum(v.key_agrees for v in mine) / len(mine),
                       "credit": sum(v.credit_agrees for v in mine) / len(mine)}
    if verdicts:
        rows["overall"] = {"n": len(verdicts), "key": sum(v.key_agrees for v in verdicts) / len(verdicts),
                           "credit": sum(v.credit_agrees for v in verdicts) / len(verdicts)}
    return rows


def _print(verdicts: list[Verdict], problems: list[str]) -> None:
    for line in problems:
        print(f"! {line}")
    rows = summary(verdicts)
    print(f"\n{'check':<12} {'n':>4} {'key':>7} {'credit':>7}")
    for check, row in rows.items():
        print(f"{check:<12} {int(row['n']):>4} {row['key']:>7.1%} {row['credit']:>7.1%}")
    wrong = [v for v in verdicts if not v.key_agrees]
    print(f"\n{len(wrong)} disagreement(s):")
    for v in wrong:
        print(f"- {v.file_id} {v.check}: hand {v.expected} ({v.expected_share:g}), grader {v.got} "
              f"({v.got_share:g})\n    hand: {v.why}\n    grader: {v.message[:300]}")


def compare_expected(folder: Path, out: Path, recheck: bool, lang: str = "en") -> list[Verdict]:
    """A shipped or hidden set against its EXPECTED.yaml (shares of each check's points), the
    checks re-run on each run's artifacts as for the manifest."""
    expected = yaml.safe_load((folder / "EXPECTED.yaml").read_text(encoding="utf-8"))
    rubric = load_rubric("task1")
    if not recheck:
        grade_batch(folder, rubric, GradeOptions(out_dir=out, workers=2, lang=lang, force=True))
    subs = discover(folder, patterns=tuple(rubric.entry.patterns), unpack_dir=out / ".unpacked",
                    entry_hints=tuple(rubric.entry.hints), lang=lang)
    credit = {spec.id: spec.credit for spec in rubric.checks}
    graded = json.loads((out / "results.json").read_text(encoding="utf-8"))["students"]
    verdicts: list[Verdict] = []
    for key, entry in expected.items():
        sub = next((s for s in subs if s.source.name == key), None)
        if sub is None:
            continue
        if sub.entry is not None and (out / sub.student_id / "run").is_dir():
            got = outcomes_from_artifacts(sub.entry, out / sub.student_id, rubric, lang)
            shares = {c: (credit[c].get(k, 1.0 if k == "ok" else 0.0), m) for c, (k, m) in got.items()}
        else:  # never ran (unreadable, no entry): what the batch recorded
            record = next(r for r in graded if r["student"] in (sub.student, key))
            shares = {c["id"]: (c["points"] / c["max_points"] if c["max_points"] else 0.0, c["message"])
                      for c in record["checks"]}
        for check, share in entry["checks"].items():
            share_got, message = shares[check]
            verdicts.append(Verdict(key, check, f"{share:g}", (), f"{share_got:g}", share, share_got,
                                    entry.get("note", ""), message))
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?", help="the fetched files, named <id>.<ext>")
    parser.add_argument("--expected", type=Path, help="a set with an EXPECTED.yaml instead of the manifest")
    parser.add_argument("--out", type=Path, default=Path("reports/real_task1"), help="grading output folder")
    parser.add_argument("--recheck", action="store_true", help="re-check the runs already in --out")
    parser.add_argument("--json", type=Path, help="also write the table and every verdict here")
    args = parser.parse_args()
    if args.expected is not None:
        verdicts, problems = compare_expected(args.expected.resolve(), args.out.resolve(), args.recheck), []
    elif args.folder is not None:
        verdicts, problems = compare(args.folder.resolve(), args.out.resolve(), args.recheck)
    else:
        parser.error("give the folder of fetched files, or --expected SET")
    _print(verdicts, problems)
    if args.json:
        args.json.write_text(json.dumps({"summary": summary(verdicts),
                                         "verdicts": [v.__dict__ for v in verdicts],
                                         "problems": problems}, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
