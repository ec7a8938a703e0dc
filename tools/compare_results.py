"""Compare two folders of graded sets (tools/grade_sets.py) student by student and check by check.

    .venv/bin/python tools/compare_results.py ~/sets-before ~/sets-after

Grades (each check's status and points, each student's status and score) must be equal; so must
the messages, errors, notes, flags, figure lists and the metrics (numbers to 1e-6) once each
folder's own path is written as <ROOT>. Timings are left out: duration, CPU time, metrics that
measure speed (names ending in `_s` or `per_s`) and the speeds quoted in messages ("991 images/s"),
which are shown and never graded. Sets with a hidden split compare exactly only when the second
was graded with the first one's secrets (tools/grade_sets.py --secrets-from). Exits 1 when
anything differs, listing each difference.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

STUDENT_FIELDS = ("status", "score", "max_score", "error", "notes", "figures")
CHECK_FIELDS = ("title", "status", "points", "max_points", "message", "figures")
SPEED = re.compile(r"\d[\d,.\u00a0 ]* (images/s|изобр\./с)")


def _load(root: Path, name: str) -> dict[str, Any]:
    text = (root / name / "results.json").read_text(encoding="utf-8")
    for form in (str(root.resolve()), str(root)):
        text = text.replace(form, "<ROOT>")
    text = SPEED.sub(r"<speed> \1", text)
    return {s["student"]: s for s in json.loads(text)["students"]}


def _timing(metric: str) -> bool:
    return metric.endswith(("_s", "per_s"))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, abs_tol=1e-6)
    return a == b


def compare(before: Path, after: Path, name: str) -> list[str]:
    old, new = _load(before, name), _load(after, name)
    problems = [f"{name}: {s} graded only before" for s in sorted(set(old) - set(new))]
    problems += [f"{name}: {s} graded only after" for s in sorted(set(new) - set(old))]
    for student in sorted(set(old) & set(new)):
        a, b = old[student], new[student]
        where = f"{name}/{student}"
        problems += [f"{where}: {f} {a.get(f)!r} -> {b.get(f)!r}" for f in STUDENT_FIELDS
                     if not _same(a.get(f), b.get(f))]
        flags = [(f.get("check"), f.get("kind"), f.get("text")) for f in a.get("flags", [])]
        if flags != [(f.get("check"), f.get("kind"), f.get("text")) for f in b.get("flags", [])]:
            problems.append(f"{where}: flags differ")
        checks_a = {c["id"]: c for c in a["checks"]}
        checks_b = {c["id"]: c for c in b["checks"]}
        if list(checks_a) != list(checks_b):
            problems.append(f"{where}: checks {list(checks_a)} -> {list(checks_b)}")
        for cid in checks_a.keys() & checks_b.keys():
            ca, cb = checks_a[cid], checks_b[cid]
            problems += [f"{where}/{cid}: {f} {ca.get(f)!r} -> {cb.get(f)!r}" for f in CHECK_FIELDS
                         if not _same(ca.get(f), cb.get(f))]
            ma = {k: v for k, v in (ca.get("metrics") or {}).items() if not _timing(k)}
            mb = {k: v for k, v in (cb.get("metrics") or {}).items() if not _timing(k)}
            if ma.keys() != mb.keys() or not all(_same(ma[k], mb[k]) for k in ma):
                problems.append(f"{where}/{cid}: metrics {ma} -> {mb}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    sets = sorted(p.parent.name for p in args.before.glob("*/results.json"))
    missing = [s for s in sets if not (args.after / s / "results.json").is_file()]
    problems = [f"{s}: not graded after" for s in missing]
    counts = []
    for name in sets:
        if name in missing:
            continue
        found = compare(args.before, args.after, name)
        problems += found
        students = len(_load(args.before, name))
        checks = sum(len(s["checks"]) for s in _load(args.before, name).values())
        counts.append(f"{name}: {students} students, {checks} checks, {len(found)} differences")
    sys.stdout.write("\n".join(counts + problems) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
