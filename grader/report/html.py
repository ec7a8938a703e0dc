"""HTML reports: one self-contained page per student and one class summary (index).

Reads results only (see ARCHITECTURE.md): every number shown here was computed by grading and
stored in the result records; this module formats, translates and embeds figures, nothing else.
Every label comes from ``grader/messages/report.yaml`` through :func:`grader.i18n.tr`.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

import jinja2

from grader import __version__
from grader.i18n import LANGS, Text, catalogue, format_share, format_when, localized, msg, tr
from grader.i18n import format_number as format_localized
from grader.paths import cache_root
from grader.report.charts import CHART_SUFFIX, draw_chart_file
from grader.results import BatchResult, CheckResult, SubmissionResult
from grader.similarity.model import SimilarityReport, pair_views
from grader.tracebacks import in_student_cells

logger = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates"
STUDENT_REPORT_NAME = "report.html"
INDEX_NAME = "index.html"
HISTOGRAM_BINS = 10

_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
# CSI sequences (colours, cursor moves) and the two-byte escapes IPython tracebacks may carry.
_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


# ---------------------------------------------------------------------------------------------
# Formatting helpers (pure; also used by tests)


def strip_ansi(text: str) -> str:
    """`text` without terminal colour codes (IPython colours its tracebacks)."""
    return _ANSI_RE.sub("", text)


def format_number(value: float, *, digits: int = 4) -> str:
    """A float as a person reads it: 3 not 3.0, 0.9876 not 0.98765432, 1.2e-05 for tiny values."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1e6 or abs(value) < 10 ** -digits:
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


POINT_DECIMALS = 2  # rubrics give halves and quarters; a late penalty's share gives hundredths


def round_points(value: float) -> float:
    """Points as every report and export gives them: two decimals (never 0.8999999999999999)."""
    return round(float(value), POINT_DECIMALS)


def shown_points(value: float, lang: str) -> str:
    """Points rounded to two decimals, as the language writes them (1,5 in Russian)."""
    return format_localized(round_points(value), lang)


def own_name(submission: str) -> str:
    """The submission as the student knows it: an absolute path (results written before the
    grader kept the student's own name) shows only its file name."""
    path = PurePath(submission)
    return path.name if path.is_absolute() else submission


def bonus_points(result: SubmissionResult, bonus_ids: Collection[str]) -> float:
    """The bonus points in a score: those of the rubric's bonus checks, or, when they are not
    known, whatever the score has above the maximum."""
    if bonus_ids:
        return sum(c.points for c in result.checks if c.id in bonus_ids and c.status != "manual")
    return max(result.score - result.max_score, 0.0)


def is_plain_sandbox(sandbox: str) -> bool:
    """Whether the isolation line says the submission ran without a sandbox."""
    return "plain" in sandbox.lower()


def sandbox_summary(description: str) -> Text | None:
    """The sandbox's own description (English, technical: grader/sandbox writes it for logs and
    results.json) as a message in the report's language; None for one it does not recognise."""
    text = description.lower()
    limits = msg("report.sandbox_limits.cgroup" if "cgroup v" in text else "report.sandbox_limits.rlimits")
    if text.startswith("bubblewrap"):
        who = msg("report.sandbox_who.unprivileged" if "unprivileged user" in text else "report.sandbox_who.userns")
        return msg("report.sandbox_bwrap", who=who, limits=limits)
    if text.startswith("plain process"):
        why = "report.sandbox_why.requested" if "requested explicitly" in text else "report.sandbox_why.unavailable"
        return msg("report.sandbox_plain", why=msg(why), limits=limits)
    return None


_NUMBERED_METRIC = re.compile(r"(.+)_(\d+)$")


def metric_label(name: str, lang: str) -> str:
    """A metric's label from the catalogue (``metric.NAME``; ``metric.BASE`` with n for
    ``BASE_3``), or its own name when the catalogue has none."""
    if f"metric.{name}" in catalogue():
        return tr(lang, f"metric.{name}")
    numbered = _NUMBERED_METRIC.match(name)
    if numbered and f"metric.{numbered.group(1)}" in catalogue():
        return tr(lang, f"metric.{numbered.group(1)}", n=int(numbered.group(2)))
    return name


@dataclass(frozen=True)
class Figure:
    """One figure ready for the page: a data URI, or a note saying why it is missing."""

    name: str
    data_uri: str | None
    note: str | None
    caption: str = ""


def embed_figure(student_dir: Path, name: str, lang: str, caption: str = "") -> Figure:
    """Read figure `name` from `student_dir` as a base64 data URI, so the page travels alone.

    A chart the checks left as data (``*.chart.json``, see :mod:`grader.report.charts`) is drawn
    here, in `lang`. A missing or unreadable file, a name pointing outside the folder, or an
    unknown format gives a Figure with a note instead of raising: one lost plot must not cost the
    whole report.
    """
    base = student_dir.resolve()
    path = (student_dir / name).resolve()
    if name.endswith(CHART_SUFFIX) and path.is_relative_to(base):
        svg = draw_chart_file(path, lang)
        if svg is None:
            return Figure(name, None, tr(lang, "report.figure_missing", name=caption or name), caption)
        encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        return Figure(name, f"data:image/svg+xml;base64,{encoded}", None, caption)
    mime = _IMAGE_TYPES.get(path.suffix.lower())
    if mime is None:
        logger.warning("figure %s in %s: unsupported format, skipped", name, student_dir)
        return Figure(name, None, tr(lang, "report.figure_unsupported", name=caption or name), caption)
    if not path.is_relative_to(base) or not path.is_file():
        logger.warning("figure %s not found in %s, skipped", name, student_dir)
        return Figure(name, None, tr(lang, "report.figure_missing", name=caption or name), caption)
    try:
        data = path.read_bytes()
    except OSError as exc:
        logger.warning("figure %s in %s unreadable (%s), skipped", name, student_dir, exc)
        return Figure(name, None, tr(lang, "report.figure_missing", name=caption or name), caption)
    encoded = base64.b64encode(data).decode("ascii")
    return Figure(name, f"data:{mime};base64,{encoded}", None, caption)


# ---------------------------------------------------------------------------------------------
# Jinja environment


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs (compiling them costs each `grader grade` 0.07 s)."""
    folder = cache_root() / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    # compiled code depends on the filters too (a filter that takes the context is called with it),
    # so the cache is kept apart for each version of this module
    own = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    return jinja2.FileSystemBytecodeCache(str(folder), pattern=f"__jinja2_{own}_%s.cache")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,  # student names, messages and tracebacks may contain HTML/JS
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _localized_number
    env.filters["pts"] = _localized_points
    env.filters["pct"] = localized_percent
    env.filters["ansi"] = strip_ansi
    env.filters["own_name"] = own_name
    return env


_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"report language must be one of {', '.join(LANGS)}, not {lang!r}")


@jinja2.pass_context
def _localized_number(context: jinja2.runtime.Context, value: float) -> str:
    return format_localized(float(value), context["lang"])


@jinja2.pass_context
def _localized_points(context: jinja2.runtime.Context, value: float) -> str:
    return shown_points(value, context["lang"])


@jinja2.pass_context
def localized_percent(context: jinja2.runtime.Context, share: float | None) -> str:
    """The `pct` filter: a share as a percentage in the page's language (the context's `lang`)."""
    return "—" if share is None else format_share(share, context["lang"])


def _translator(lang: str) -> Callable[..., str]:
    def t(key: str, **params: Any) -> str:
        return tr(lang, key, **params)

    return t


def _common_context(lang: str) -> dict[str, Any]:
    return {"lang": lang, "t": _translator(lang), "version": __version__, "is_plain": is_plain_sandbox,
            "when": lambda iso: format_when(iso, lang),
            # a stored message in this report's language (its text as graded for older results)
            "say": lambda text, message: localized(text, message, lang),
            "sandbox_summary": lambda description: localized(description, sandbox_summary(description), lang),
            "metric": lambda name: metric_label(name, lang),
            # results graded before the grader renamed cells: at least the failing cell's header
            "in_student_cells": lambda traceback, cell: in_student_cells(traceback, {}, cell)}


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------------------------------------
# Student report


def render_student_report(result: SubmissionResult, student_dir: Path, *, title: str, lang: str,
                          bonus_ids: Collection[str] = (), titles: Mapping[str, str] | None = None) -> Path:
    """Write ``student_dir/report.html`` for one submission and return its path.

    The page is self-contained: figures named in ``result.figures`` and in each check's
    ``figures`` are read from `student_dir` and embedded as base64 images. `bonus_ids` are the
    rubric's bonus checks (marked, and their points explained next to the score). `titles` are
    the checks' titles in `lang` from the rubric (default: those the results were graded with).
    """
    _check_lang(lang)
    student_dir = Path(student_dir)
    result = retitled(result, titles)
    check_figures = {
        check.id: [embed_figure(student_dir, name, lang, tr(lang, "report.figure_check", title=check.title, number=n))
                   for n, name in enumerate(check.figures, 1)]
        for check in result.checks
    }
    html = _env().get_template("student.html").render(
        **_common_context(lang),
        title=title,
        r=result,
        check_figures=check_figures,
        report_figures=[embed_figure(student_dir, name, lang, tr(lang, "report.figure_student", number=n))
                        for n, name in enumerate(result.figures, 1)],
        detailed_checks=[c for c in result.checks if c.metrics or c.figures],
        notes=note_texts(result, lang),
        check_titles={c.id: c.title for c in result.checks},
        bonus_ids=set(bonus_ids),
        bonus=bonus_points(result, bonus_ids),
    )
    path = student_dir / STUDENT_REPORT_NAME
    _write_text_atomic(path, html)
    logger.info("wrote %s", path)
    return path


def note_texts(result: SubmissionResult, lang: str) -> list[str]:
    """The result's notes in `lang` (as graded, for results that kept no messages)."""
    kept = result.note_msgs if len(result.note_msgs) == len(result.notes) else (None,) * len(result.notes)
    return [localized(text, message, lang) for text, message in zip(result.notes, kept)]


def retitled(result: SubmissionResult, titles: Mapping[str, str] | None) -> SubmissionResult:
    """`result` with its checks' titles from `titles` (the rubric's, in the report's language)."""
    if not titles:
        return result
    checks = tuple(dataclasses.replace(c, title=titles[c.id]) if c.id in titles else c for c in result.checks)
    return dataclasses.replace(result, checks=checks)


# ---------------------------------------------------------------------------------------------
# Class summary


@dataclass(frozen=True)
class CheckSummary:
    """One check across the class: pass rate and mean points among graded submissions."""

    id: str
    title: str
    max_points: float
    graded: int  # graded submissions that have this check
    passed: int
    mean_points: float | None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.graded if self.graded else None


@dataclass(frozen=True)
class HistogramBar:
    lo: float
    hi: float
    count: int


def check_order(students: Sequence[SubmissionResult]) -> list[tuple[str, str, float]]:
    """(id, title, max_points) of every check, in rubric order as the results record it.

    Each result lists its checks in rubric order; a submission that errored early may list
    fewer, so the union keeps the first-seen order.
    """
    seen: dict[str, tuple[str, str, float]] = {}
    for result in students:
        for check in result.checks:
            if check.id not in seen:
                seen[check.id] = (check.id, check.title, check.max_points)
    return list(seen.values())


def summarise_checks(students: Sequence[SubmissionResult]) -> list[CheckSummary]:
    """Pass rate (share of graded submissions with status pass) and mean points per check."""
    summaries = []
    for check_id, title, max_points in check_order(students):
        found = [
            check
            for result in students
            if result.status == "graded"
            for check in result.checks
            if check.id == check_id
        ]
        passed = sum(1 for c in found if c.status == "pass")
        mean = sum(c.points for c in found) / len(found) if found else None
        summaries.append(CheckSummary(check_id, title, max_points, len(found), passed, mean))
    return summaries


def score_histogram(students: Sequence[SubmissionResult], bins: int = HISTOGRAM_BINS) -> list[HistogramBar]:
    """Equal-width bins over 0..max score; the last bin includes the full score."""
    top = max((r.max_score for r in students), default=0.0)
    top = max(top, max((r.score for r in students), default=0.0))
    if top <= 0:
        top = 1.0
    width = top / bins
    counts = [0] * bins
    for result in students:
        index = int(min(max(result.score, 0.0), top) / width)
        counts[min(index, bins - 1)] += 1
    return [HistogramBar(i * width, (i + 1) * width, n) for i, n in enumerate(counts)]


def _points_by_check(result: SubmissionResult) -> dict[str, CheckResult]:
    return {check.id: check for check in result.checks}


def _first_line(text: str | None, limit: int = 160) -> str:
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def render_index(
    batch: BatchResult,
    out_dir: Path,
    *,
    title: str,
    lang: str,
    folder_of: Callable[[SubmissionResult], str] = lambda result: result.student,
    notices: Sequence[str] = (),
    similarity: SimilarityReport | None = None,
    bonus_ids: Collection[str] = (),
    titles: Mapping[str, str] | None = None,
) -> Path:
    """Write ``out_dir/index.html``, the class summary, and return its path.

    `folder_of` names each student's report folder under `out_dir` (links go to
    ``<folder>/report.html``); by default it is the student's name. `notices` are messages for
    the instructor about the whole batch (a missing pretrained weights file), shown above the table.
    `similarity` (from `grader similarity`) adds the pairs of students whose code overlaps.
    `titles`: the checks' titles in `lang` (see :func:`render_student_report`).
    """
    _check_lang(lang)
    out_dir = Path(out_dir)
    students = sorted((retitled(r, titles) for r in batch.students), key=lambda r: (r.student, r.submission))
    counts = {status: sum(1 for r in students if r.status == status) for status in ("graded", "error", "timeout")}
    rows = [
        {
            "r": result,
            "href": quote(f"{folder_of(result)}/{STUDENT_REPORT_NAME}"),
            "checks": _points_by_check(result),
            "error": _first_line(localized(result.error, result.error_msg, lang)),
            "bonus": bonus_points(result, bonus_ids),
        }
        for result in students
    ]
    bars = score_histogram(students)
    html = _env().get_template("index.html").render(
        **_common_context(lang),
        title=title,
        batch=batch,
        rows=rows,
        checks=summarise_checks(students),
        counts=counts,
        total=len(students),
        bars=bars,
        bar_max=max((b.count for b in bars), default=0),
        top_score=bars[-1].hi if bars else 0.0,
        notices=list(notices),
        similarity=similarity,
        similar_pairs=pair_views(similarity, batch),
        bonus_ids=set(bonus_ids),
    )
    path = out_dir / INDEX_NAME
    _write_text_atomic(path, html)
    logger.info("wrote %s", path)
    return path
