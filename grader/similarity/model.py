"""The similarity report of a batch: which students' code overlaps, and where (plain data).

Written by `grader similarity` to ``<out>/similarity.json`` and read by the class index and the
review page. This module holds data only: no fingerprinting (see :mod:`grader.similarity.detect`),
no HTML. A pair is evidence for the instructor to read; it never changes a grade.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.results import BatchResult, write_json_atomic

logger = logging.getLogger(__name__)

SIMILARITY_FILE = "similarity.json"

Span = tuple[int, int]  # [start, end) in a student's shown code


@dataclass(frozen=True)
class Pair:
    """Two students whose code overlaps: the share of each one's code found in the other's."""

    a: str
    b: str
    share_a: float  # 0..1 of a's normalised code that also appears in b's
    share_b: float
    overlap: int  # characters of normalised code in common
    spans_a: tuple[Span, ...]  # where the common code is in a's shown code
    spans_b: tuple[Span, ...]

    @property
    def score(self) -> float:
        return max(self.share_a, self.share_b)

    def involves(self, student: str) -> bool:
        return student in (self.a, self.b)

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "share_a": round(self.share_a, 4), "share_b": round(self.share_b, 4),
                "overlap": self.overlap, "spans_a": [list(s) for s in self.spans_a],
                "spans_b": [list(s) for s in self.spans_b]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Pair:
        return cls(str(data["a"]), str(data["b"]), float(data["share_a"]), float(data["share_b"]),
                   int(data["overlap"]), _spans(data.get("spans_a")), _spans(data.get("spans_b")))


def _spans(raw: Any) -> tuple[Span, ...]:
    return tuple((int(s), int(e)) for s, e in raw or ())


@dataclass(frozen=True)
class SimilarityReport:
    """Every pair above the threshold, with what is needed to show it side by side."""

    computed_at: str  # ISO 8601
    threshold: float
    starter: str | None  # the instructor's starter notebook subtracted, if any
    compared: int  # students whose code was compared
    sha256: Mapping[str, str]  # student -> the submission's hash when compared (to spot stale pairs)
    code: Mapping[str, str]  # student -> the normalised code shown (students in some pair only)
    pairs: tuple[Pair, ...]
    skipped: tuple[str, ...] = ()  # students with no code to compare
    settings: Mapping[str, float] = field(default_factory=dict)  # k, window, min_overlap, ...

    def pairs_of(self, student: str) -> list[Pair]:
        return [p for p in self.pairs if p.involves(student)]

    def to_json(self) -> dict[str, Any]:
        return {"computed_at": self.computed_at, "threshold": self.threshold, "starter": self.starter,
                "compared": self.compared, "skipped": list(self.skipped), "settings": dict(self.settings),
                "sha256": dict(self.sha256), "code": dict(self.code), "pairs": [p.to_json() for p in self.pairs]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SimilarityReport:
        return cls(str(data["computed_at"]), float(data["threshold"]),
                   None if data.get("starter") is None else str(data["starter"]), int(data["compared"]),
                   {str(k): str(v) for k, v in (data.get("sha256") or {}).items()},
                   {str(k): str(v) for k, v in (data.get("code") or {}).items()},
                   tuple(Pair.from_json(p) for p in data.get("pairs") or ()),
                   tuple(str(s) for s in data.get("skipped") or ()),
                   {str(k): float(v) for k, v in (data.get("settings") or {}).items()})


def write_similarity(report: SimilarityReport, out_dir: Path) -> Path:
    path = out_dir / SIMILARITY_FILE
    write_json_atomic(path, report.to_json())
    return path


def load_similarity(out_dir: Path) -> SimilarityReport | None:
    """The batch's similarity report, or None when there is none or it cannot be read (logged):
    a broken side file never stops a report from rendering."""
    path = Path(out_dir) / SIMILARITY_FILE
    if not path.is_file():
        return None
    try:
        return SimilarityReport.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("%s cannot be read (%s); run grader similarity again", path, exc)
        return None


# -- what the pages show -----------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    student: str
    share: float
    segments: tuple[tuple[str, bool], ...]  # (text, common with the other side)

    @property
    def common_lines(self) -> int:
        """Lines of this side's code that hold common code."""
        lines: set[int] = set()
        at = 0
        for text, common in self.segments:
            if common:
                lines.update(range(at, at + text.count("\n") + 1))
            at += text.count("\n")
        return len(lines)


@dataclass(frozen=True)
class PairView:
    left: Side
    right: Side
    overlap: int
    stale: bool  # a submission changed since the comparison: run it again


def segments(code: str, spans: tuple[Span, ...]) -> tuple[tuple[str, bool], ...]:
    """`code` cut into runs of (text, inside a span): spans are clipped, sorted and merged first."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(code), e)) for s, e in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in merged:
        if start > at:
            out.append((code[at:start], False))
        out.append((code[start:end], True))
        at = end
    if at < len(code):
        out.append((code[at:], False))
    return tuple(out)


def pair_view(report: SimilarityReport, pair: Pair, batch: BatchResult | None = None,
              first: str | None = None) -> PairView:
    """The pair ready for a page, with `first` (or pair.a) on the left."""
    sides = [Side(pair.a, pair.share_a, segments(report.code.get(pair.a, ""), pair.spans_a)),
             Side(pair.b, pair.share_b, segments(report.code.get(pair.b, ""), pair.spans_b))]
    if first == pair.b:
        sides.reverse()
    return PairView(sides[0], sides[1], pair.overlap, is_stale(report, pair, batch))


def is_stale(report: SimilarityReport, pair: Pair, batch: BatchResult | None) -> bool:
    if batch is None:
        return False
    now = {r.student: r.sha256 for r in batch.students}
    return any(now.get(s) != report.sha256.get(s) for s in (pair.a, pair.b))


def pair_views(report: SimilarityReport | None, batch: BatchResult | None = None,
               student: str | None = None) -> list[PairView]:
    """The report's pairs (only `student`'s when given, with that student on the left)."""
    if report is None:
        return []
    pairs = report.pairs if student is None else report.pairs_of(student)
    return [pair_view(report, p, batch, first=student) for p in pairs]
