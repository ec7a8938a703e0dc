"""Task 1.1 steps computed by hand in a markdown cell (the course allows LaTeX for them):

    $x_1 = x_0 - \\eta f'(x_0) = 1 - 0.1 \\cdot 7.24 = 0.276$
    | k | x_k |        (or a table of the values)
    |---|-----|
    | 1 | 0.276 |

The value after the last `=` of each `x_k = ...` is the student's x_k. Every written step is
checked against one step of the reference from the previous written value, with the student's
function (tabulated by the probe), their step size (written next to the steps, else read from
the steps) and the precision they wrote the numbers with. A slip in step k is named with the
value it should have had; a later step computed correctly from the slipped value still counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from grader.families.gd.analysis import Analysis
from grader.families.gd.fit import Func
from grader_inside.notebook import Cell

_NUMBER = r"[-−–]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_INDEX = r"x\s*(?:_\s*\{\s*\(?\s*(\d{1,3})\s*\)?\s*\}|\^\s*\{\s*\(\s*(\d{1,3})\s*\)\s*\}|_\s*(\d{1,3})|(\d{1,3}))"
_ASSIGN = re.compile(r"(?<![\w(\\'])" + _INDEX + r"\s*=")
_LR = re.compile(r"(?:\\eta|\\alpha|η|α|\blr\b|learning[ _]rate|\bшаг(?:\s+обучения)?)\s*=\s*(" + _NUMBER + ")",
                 re.IGNORECASE)
_ROW = re.compile(r"^\s*\|\s*(\d{1,3})\s*\|\s*(" + _NUMBER + r")\s*\|")


@dataclass(frozen=True)
class HandSteps:
    cell: int  # the markdown cell (counted among markdown cells)
    values: tuple[float, ...]  # x_0, x_1, ... as written
    lr: float
    correct: int  # steps that follow from the value written before them
    slips: tuple[tuple[int, float, float], ...]  # (k, written x_k, x_k computed from x_(k-1))


def _number(text: str) -> float:
    return float(text.replace("−", "-").replace("–", "-"))


def _decimals(text: str) -> float:
    """Half a unit of the last digit written: 0.276 -> 0.0005."""
    mantissa = text.split("e")[0].split("E")[0]
    digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10.0**-digits


def _normalised(text: str) -> str:
    return re.sub(r"(\d),(\d)", r"\1.\2", text)  # decimal commas: 0,276


def written_values(text: str) -> dict[int, str]:
    """k -> x_k as written (the number after the last `=` of its statement, or a table row)."""
    text = _normalised(text)
    found: dict[int, str] = {}
    matches = list(_ASSIGN.finditer(text))
    for i, m in enumerate(matches):
        k = int(next(g for g in m.groups() if g is not None))
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        statement = re.split(r"\$\$|\$|\n|\\\\|;", text[m.end():end])[0]
        numbers = re.findall(_NUMBER, statement.split("=")[-1])
        if numbers and k not in found:
            found[k] = numbers[-1]
    for line in text.split("\n"):
        row = _ROW.match(line)
        if row and int(row.group(1)) not in found:
            found[int(row.group(1))] = row.group(2)
    return found


def hand_steps(cells: list[Cell], an: Analysis) -> HandSteps | None:
    """The best-supported run of hand-computed steps in the markdown cells, checked."""
    func = an.main
    if func is None or not func.exact:
        return None
    best: HandSteps | None = None
    for cell in cells:
        if cell.kind != "markdown":
            continue
        values = written_values(cell.source)
        if 0 not in values:
            start = [v for k, v in an.scalars.items() if k.lower() in ("x0", "x_0", "x_start", "start")]
            if start and 1 in values:
                values[0] = repr(start[0])
        ks = sorted(values)
        run = [k for i, k in enumerate(ks) if k == i]  # x_0, x_1, ... without gaps
        if len(run) < 2:
            continue
        checked = _check(cell, [values[k] for k in run], func, _written_lr(cell.source))
        if checked is not None and (best is None or checked.correct > best.correct):
            best = checked
    return best


def _written_lr(text: str) -> float | None:
    m = _LR.search(_normalised(text))
    return _number(m.group(1)) if m else None


def _check(cell: Cell, texts: list[str], func: Func, lr: float | None) -> HandSteps | None:
    x = np.array([_number(t) for t in texts])
    q = np.array([_decimals(t) for t in texts])
    g = func.grad(x[:-1])
    if not np.all(np.isfinite(g)):
        return None
    d = np.diff(x)
    if lr is None:
        ok = np.abs(g) > 1e-12
        if not ok.any():
            return None
        lr = float(np.median(-d[ok] / g[ok]))
    if not lr > 0:
        return None
    curvature = np.abs(np.gradient(func.dy, func.x))
    expected = x[:-1] - lr * g
    # the rounding of the written x_k, carried through one step, plus that of x_(k+1)
    tol = 1.5 * (q[1:] + q[:-1] * (1 + lr * np.interp(x[:-1], func.x, curvature))) + 1e-3 * np.abs(d)
    good = np.abs(x[1:] - expected) <= tol
    if not good.any():
        return None
    slips = tuple((k + 1, float(x[k + 1]), float(expected[k])) for k in np.flatnonzero(~good))
    return HandSteps(cell.number, tuple(x.tolist()), lr, int(good.sum()), slips)
