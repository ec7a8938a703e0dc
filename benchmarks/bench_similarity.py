"""How long `grader similarity` takes on a class of 300 notebooks (target: under 30 s).

    .venv/bin/python benchmarks/bench_similarity.py [--n 300] [--repeat 3] [--json figures.json]
        [--keep DIR]

It writes N generated notebooks into a batch folder laid out as `grader grade` leaves it
(results.json, .folders.json, .entries.json pointing at the notebooks), then times
`compare_batch` (the library call behind `grader similarity`: read every notebook, fingerprint,
compare all N*(N-1)/2 pairs, write similarity.json) with the class's starter notebook, REPEAT
times in this process, and reports the median against the target, with the time split into
reading, fingerprinting (on every core, and again on one core) and comparing from one more run.

Each notebook is the starter's cells plus 8-14 cells of generated code, 150-250 lines: statements
drawn from a pool of shapes (loops, functions, classes, numpy/torch/matplotlib calls) with their
own names and numbers, so independent notebooks share structure but not runs of code, as
independent students do. Every tenth notebook is planted: an exact copy, a copy with every
name changed, or a copy with its cells shuffled, of an independent one. The benchmark checks
that exactly the planted pairs are found: if not, it measures the wrong thing and exits 1.
The exit status is 0 even when the time target is missed.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_S = 30.0
STARTER = [
    "import numpy as np\nimport matplotlib.pyplot as plt\nimport torch\nfrom torch import nn\n"
    "from sklearn.model_selection import train_test_split\n",
    "DATA_DIR = './data'\nSEED = 0\nnp.random.seed(SEED)\ntorch.manual_seed(SEED)\n",
    "def show(values, title):\n    plt.figure(figsize=(6, 4))\n    plt.plot(range(len(values)), values, marker='o')\n"
    "    plt.title(title)\n    plt.grid(True)\n    plt.show()\n",
]
SHAPES = [
    "{a} = np.linspace({n1}, {n2}, {n3})",
    "{a} = {b} * {f1} + {c} ** {n4} - {f2}",
    "for {i} in range({n3}):\n    {a} = {a} - {f1} * {b}[{i} % {n5}]\n    {c}.append({a} + {n6})",
    "if {a} > {f1}:\n    {b} = {b} / {n4}\nelif {a} < -{f2}:\n    {b} = {b} * {n5}\nelse:\n    {b} = {b} + {f3}",
    "def {fn}({a}, {b}={f1}):\n    {c} = {a} ** {n4} - {b} * np.sin({a} * {n2})\n    return {c} + {n1}",
    "plt.plot({a}, {b}, label='{w1}')\nplt.title('{w2} {n3}')\nplt.legend()\nplt.show()",
    "{a} = [{b} * {n4} for {b} in range({n5}) if {b} % {n6} == {n1}]",
    "while abs({a}) > {f3} and {i} < {n3}:\n    {a} = {a} * {f1} - {f2}\n    {i} += {n6}",
    "{a} = torch.randn({n5}, {n6})\n{b} = nn.Linear({n6}, {n4})({a})\nprint('{w1}', {b}.shape)",
    "{a} = {{'{w1}': {n1}, '{w2}': {f1}}}\nfor {k}, {v} in {a}.items():\n    print({k}, {v} * {n4})",
    "class {cls}:\n    def __init__(self, {a}={n1}):\n        self.{a} = {a}\n        self.{b} = []\n\n"
    "    def {fn}(self, {c}):\n        self.{b}.append({c} * self.{a} + {f2})\n        return sum(self.{b}) / len(self.{b})",
    "try:\n    {a} = int({b}) // {n6}\nexcept ValueError as {c}:\n    print('{w2}', {c}, {n2})",
    "{a}, {b} = train_test_split({c}, test_size={f4}, random_state={n1})",
    "{a} = np.array([{n1}, {n2}, {n3}, {n4}]) * {f1}\n{b} = {a}.mean() - {a}.std() * {f2}",
    "{a} = sorted({b}, key=lambda {k}: ({k} * {n5}) % {n6})[:{n4}]",
    "with torch.no_grad():\n    {a} = {b}({c}).argmax(dim={n1} % 2)\n    {v} = ({a} == {k}).float().mean().item()",
    "{a} = {fn}({b}, {f3}) if {c} else {fn}({b} * {n2}, {f1})",
    "{a} = np.zeros(({n5}, {n6}))\n{a}[{n1} % {n5}, :] = {f2}\n{b} = {a}.sum(axis={n1} % 2)",
]
WORDS = ["loss", "accuracy", "step", "train", "test", "gradient", "model", "epoch", "result", "error", "score"]


def _number(rng: random.Random, kind: str) -> str:
    return str(rng.randint(1, 999)) if kind == "n" else f"{rng.uniform(0.001, 9.9):.3f}"


def plan(rng: random.Random) -> list[list[tuple[str, dict[str, str]]]]:
    """One notebook's generated cells: for each statement, its shape and its numbers and words."""
    cells = []
    for _ in range(rng.randint(8, 14)):
        statements = []
        for _ in range(rng.randint(3, 6)):
            shape = rng.choice(SHAPES)
            fields = {f"n{j}": _number(rng, "n") for j in range(1, 7)}
            fields.update({f"f{j}": _number(rng, "f") for j in range(1, 5)})
            fields.update(w1=rng.choice(WORDS), w2=rng.choice(WORDS))
            fields.update({slot: str(rng.randrange(40)) for slot in ("a", "b", "c", "i", "k", "v", "fn", "cls")})
            statements.append((shape, fields))
        cells.append(statements)
    return cells


def render(cells: list[list[tuple[str, dict[str, str]]]], names: str = "") -> list[str]:
    """The planned cells as code; `names` prefixes every identifier (a renamed copy)."""
    out = []
    for statements in cells:
        lines = []
        for shape, fields in statements:
            values = dict(fields)
            for slot in ("a", "b", "c", "i", "k", "v", "fn", "cls"):
                stem = {"fn": "compute", "cls": "Model"}.get(slot, "var")
                values[slot] = f"{names}{stem}_{fields[slot]}" if slot != "cls" else f"{names.title()}{stem}{fields[slot]}"
            lines.append(shape.format(**values))
        out.append("\n".join(lines) + "\n")
    return out


def make_class(n: int, seed: int = 0) -> tuple[dict[str, list[str]], set[frozenset[str]]]:
    """Student -> code cells (starter included), and the planted pairs."""
    rng = random.Random(seed)
    plans: dict[str, list[list[tuple[str, dict[str, str]]]]] = {}
    codes: dict[str, list[str]] = {}
    planted: set[frozenset[str]] = set()
    for index in range(n):
        student = f"student_{index:03d}"
        originals = [s for s in plans if not any(s in p for p in planted)]
        if index % 10 == 9 and originals:
            source = rng.choice(originals)
            kind = (index // 10) % 3
            if kind == 0:
                cells = render(plans[source])
            elif kind == 1:
                cells = render(plans[source], names="my_")
            else:
                cells = render(plans[source])
                rng.shuffle(cells)
            planted.add(frozenset((source, student)))
        else:
            plans[student] = plan(rng)
            cells = render(plans[student])
        codes[student] = STARTER + cells
    return codes, planted


def write_batch(root: Path, codes: dict[str, list[str]]) -> tuple[Path, Path]:
    """(the batch folder, the starter notebook) as `grader grade` leaves them."""
    from grader.results import BatchResult, CheckResult, SubmissionResult, write_json_atomic

    out = root / "out"
    out.mkdir(parents=True)
    folders, entries, students = {}, {}, []
    for student, cells in codes.items():
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# Homework")] + [nbformat.v4.new_code_cell(c) for c in cells]
        entry = root / "submissions" / student / "hw.ipynb"
        entry.parent.mkdir(parents=True)
        nbformat.write(nb, str(entry))
        folders[student], entries[student] = student, str(entry)
        students.append(SubmissionResult(student, "hw.ipynb", f"{len(students):064x}", "graded", 1.0, 1.0, 0.0, None,
                                         (CheckResult("x", "X", "pass", 1.0, 1.0, ""),)))
    write_json_atomic(out / "results.json", BatchResult("bench", "2026-01-01T00:00:00+00:00", tuple(students)).to_json())
    (out / ".folders.json").write_text(json.dumps(folders), encoding="utf-8")
    (out / ".entries.json").write_text(json.dumps(entries), encoding="utf-8")
    starter = root / "starter.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in STARTER]
    nbformat.write(nb, str(starter))
    return out, starter


def split_times(out: Path, starter: Path) -> dict[str, float]:
    """One run cut into its stages: reading the notebooks, fingerprinting (on every core), comparing the pairs."""
    from grader.results import load_batch
    from grader.similarity.batch import batch_codes, starter_code
    from grader.similarity.detect import Settings, compare, fingerprint, fingerprint_all

    settings = Settings()
    start = time.perf_counter()
    codes = batch_codes(out, load_batch(out / "results.json"))
    read = time.perf_counter()
    drop = fingerprint(starter_code(starter), settings).hashes
    prints = [fp.without(drop) for fp in fingerprint_all(list(codes.values()), settings)]
    printed = time.perf_counter()
    for i, a in enumerate(prints):
        for b in prints[i + 1:]:
            compare(a, b, ("a", "b"), settings)
    compared = time.perf_counter()
    fingerprint_all(list(codes.values()), settings, workers=1)  # one core, for the speed-up
    serial = time.perf_counter() - compared
    return {"read_s": read - start, "fingerprint_s": printed - read, "compare_s": compared - printed,
            "fingerprint_one_core_s": serial}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="write the batch here and keep it")
    args = parser.parse_args(argv)

    from grader.similarity.batch import compare_batch

    codes, planted = make_class(args.n)
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        root = args.keep or Path(tmp)
        out, starter = write_batch(root, codes)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            report = compare_batch(out, starter=starter)
            times.append(time.perf_counter() - start)
        found = {frozenset((p.a, p.b)) for p in report.pairs}
        parts = split_times(out, starter)
    median = statistics.median(times)
    lines = sum(c.count("\n") for cells in codes.values() for c in cells) / len(codes)
    figures: dict[str, Any] = {"n": args.n, "repeat": args.repeat, "times_s": times, "median_s": median,
                               "target_s": TARGET_S, "lines_per_notebook": lines, "planted": len(planted),
                               "found": len(found), "missed": len(planted - found), "extra": len(found - planted),
                               **parts}
    print(f"{args.n} notebooks ({lines:.0f} lines each on average), {len(planted)} planted copies")
    print(f"grader similarity (compare_batch): median {median:.2f} s of {args.repeat} "
          f"[{', '.join(f'{t:.2f}' for t in times)}]  target < {TARGET_S:.0f} s: "
          f"{'ok' if median < TARGET_S else 'MISSED'}")
    print(f"  read {parts['read_s']:.2f} s, fingerprint {parts['fingerprint_s']:.2f} s "
          f"(one core: {parts['fingerprint_one_core_s']:.2f} s), compare {parts['compare_s']:.2f} s")
    print(f"planted pairs found: {len(planted & found)}/{len(planted)}; pairs not planted: {len(found - planted)}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0 if found == planted else 1


if __name__ == "__main__":
    sys.exit(main())
