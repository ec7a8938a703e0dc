"""The instructor's grades: points and comments that replace a check's result in a graded batch.

An overrides file grades the `manual` checks (quality of answers, conclusions) and may overrule
any automatic check: the instructor has the final word. `grader report` merges it into the
batch without re-running anything. Two formats, one entry per (student, check):

    # grades/overrides.yaml
    - student: "Иванов Иван"      # as in the report (or the report folder's name)
      check: answers_quality      # a check id from the rubric
      points: 2
      comment: "Ответы верные, но без примеров."

    grades/overrides.csv: a header `student,check,points,comment` (`;` separators and decimal
    commas, as Excel writes them in a Russian locale, are read too).

Every problem is reported as ``FILE:LINE: message``, all at once. Merging is repeatable: a
check's automatic result is kept in its `review`, so re-running with an edited file (or with an
entry removed) starts again from the grader's own results.
"""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.errors import OverridesError
from grader.i18n import msg, tr
from grader.results import BatchResult, CheckResult, Review, SubmissionResult

logger = logging.getLogger(__name__)

DEFAULT_FILES = ("grades/overrides.yaml", "grades/overrides.yml", "grades/overrides.csv")
CSV_ALIASES = {"check_id": "check", "id": "check", "score": "points", "comments": "comment"}


class OverrideEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    student: str = Field(min_length=1)
    check: str = Field(min_length=1)
    points: float = Field(ge=0)
    comment: str = ""

    @field_validator("points", mode="before")
    @classmethod
    def _decimal_comma(cls, value: Any) -> Any:
        return value.strip().replace(",", ".") if isinstance(value, str) else value

    @field_validator("comment", mode="before")
    @classmethod
    def _empty_comment(cls, value: Any) -> Any:
        return "" if value is None else value


@dataclass(frozen=True)
class Override:
    student: str
    check: str
    points: float
    comment: str
    line: int  # where the entry starts in its file, for messages


# -- reading --------------------------------------------------------------------------------------


def find_overrides_file(*folders: Path) -> Path | None:
    """The first `grades/overrides.{yaml,yml,csv}` under the given folders, if any."""
    for folder in folders:
        for name in DEFAULT_FILES:
            path = folder / name
            if path.is_file():
                return path
    return None


def load_overrides(path: Path) -> list[Override]:
    """Read and validate an overrides file; OverridesError lists every problem with its line."""
    try:
        source = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise OverridesError(f"{path}: cannot read the overrides file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise OverridesError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    rows = _csv_rows(path, source) if path.suffix.lower() == ".csv" else _yaml_rows(path, source)
    problems: list[str] = []
    out: list[Override] = []
    for line, key_lines, data in rows:
        try:
            entry = OverrideEntry.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                key = str(err["loc"][0]) if err["loc"] else ""
                where = key_lines.get(key, line)
                what = _problem(err, key)
                problems.append(f"{path}:{where}: {what}")
            continue
        out.append(Override(entry.student, entry.check, entry.points, entry.comment, line))
    if problems:
        raise OverridesError(_header(path, problems))
    return out


def _problem(err: Any, key: str) -> str:
    if not key:
        return "each entry needs student, check, points (and optionally comment)"
    if key == "(extra values)":
        return "more values than columns: put a comment containing commas or semicolons in quotes"
    if err["type"] == "extra_forbidden":
        return f"unknown column/key '{key}' (allowed: student, check, points, comment)"
    if err["type"] == "missing":
        return f"'{key}' is missing"
    return f"{key}: {err['msg']}"


def _header(path: Path, problems: list[str]) -> str:
    count = len(problems)
    return "\n".join([f"overrides file {path} is invalid ({count} problem{'s' if count != 1 else ''}):", *problems])


Row = tuple[int, dict[str, int], Any]  # (line, key -> line, data)


def _yaml_rows(path: Path, source: str) -> list[Row]:
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise OverridesError(f"{path}{where}: YAML syntax error: {getattr(exc, 'problem', None) or exc}") from None
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode) or not isinstance(data, list):
        raise OverridesError(f"{path}:{root.start_mark.line + 1}: the file must be a list of entries "
                             "(- student: ..., check: ..., points: ..., comment: ...)")
    rows: list[Row] = []
    for node, item in zip(root.value, data):
        keys = ({str(k.value): k.start_mark.line + 1 for k, _ in node.value}
                if isinstance(node, yaml.MappingNode) else {})
        rows.append((node.start_mark.line + 1, keys, item))
    return rows


def _csv_rows(path: Path, source: str) -> list[Row]:
    first = source.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ("\t" if "\t" in first else ",")
    reader = csv.reader(io.StringIO(source), delimiter=delimiter)
    try:
        header = [CSV_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in next(reader)]
    except StopIteration:
        return []
    if "student" not in header or "check" not in header:
        raise OverridesError(f"{path}:1: the first line must name the columns: student, check, points, comment "
                             f"(found: {', '.join(header) or 'nothing'})")
    rows: list[Row] = []
    line = reader.line_num + 1
    for values in reader:
        if any(v.strip() for v in values):
            data = {h: v for h, v in zip(header, values) if h and not (h == "comment" and v == "")}
            if len(values) > len(header):
                data["(extra values)"] = values[len(header):]
            rows.append((line, {}, data))
        line = reader.line_num + 1
    return rows


# -- writing (the review page) ---------------------------------------------------------------------

WRITTEN_HEADER = "# The instructor's grades: written by `grader review`, read by `grader report`."


def _points_text(points: float, decimal_comma: bool = False) -> str:
    text = f"{points:g}"
    return text.replace(".", ",") if decimal_comma else text


def write_overrides(path: Path, entries: Iterable[Override]) -> None:
    """Write `entries` as the overrides file at `path` (YAML, or CSV by the suffix), atomically.

    A CSV file keeps the separator it has (`;` with decimal commas, as a Russian Excel writes).
    Comments in a hand-written YAML file are not kept: the caller backs the file up first.
    """
    if path.suffix.lower() == ".csv":
        old = path.read_text(encoding="utf-8-sig").split("\n", 1)[0] if path.is_file() else ""
        delimiter = ";" if old.count(";") > old.count(",") else ","
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
        writer.writerow(["student", "check", "points", "comment"])
        writer.writerows([e.student, e.check, _points_text(e.points, delimiter == ";"), e.comment] for e in entries)
        text, encoding = buf.getvalue(), "utf-8-sig"
    else:
        rows = [{"student": e.student, "check": e.check, "points": int(e.points) if e.points == int(e.points)
                 else e.points, **({"comment": e.comment} if e.comment else {})} for e in entries]
        body = yaml.safe_dump(rows, allow_unicode=True, sort_keys=False, width=1000) if rows else "[]\n"
        text, encoding = f"{WRITTEN_HEADER}\n{body}", "utf-8"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding=encoding)
    tmp.replace(path)


# -- merging --------------------------------------------------------------------------------------


def _norm(name: str) -> str:
    return " ".join(name.casefold().replace("ё", "е").split())


def check_overrides(overrides: Iterable[Override], batch: BatchResult, path: Path,
                    folders: Mapping[str, str] | None = None) -> dict[tuple[str, str], Override]:
    """Entries keyed by (student, check id) after checking them against the batch.

    A student may be named as in the report or by the report folder's name; an unknown student
    or check id, points above the check's maximum, or two entries for one check are errors.
    """
    by_name: dict[str, SubmissionResult] = {}
    for result in batch.students:
        by_name[_norm(result.student)] = result
        folder = (folders or {}).get(result.student)
        if folder:
            by_name.setdefault(_norm(folder), result)
    problems: list[str] = []
    found: dict[tuple[str, str], Override] = {}
    for entry in overrides:
        result = by_name.get(_norm(entry.student))
        if result is None:
            known = ", ".join(sorted(r.student for r in batch.students)[:10])
            problems.append(f"{path}:{entry.line}: student '{entry.student}' is not in this batch (students: {known})")
            continue
        check = next((c for c in result.checks if c.id == entry.check), None)
        if check is None:
            known = ", ".join(c.id for c in result.checks)
            problems.append(f"{path}:{entry.line}: check '{entry.check}' is not in the results (checks: {known})")
            continue
        if entry.points > check.max_points + 1e-9:
            problems.append(f"{path}:{entry.line}: {entry.points:g} points for '{entry.check}' exceed its "
                            f"maximum of {check.max_points:g}")
            continue
        key = (result.student, check.id)
        if key in found:
            problems.append(f"{path}:{entry.line}: a second entry for {result.student} / {check.id} "
                            f"(the first is on line {found[key].line})")
            continue
        found[key] = entry
    if problems:
        raise OverridesError(_header(path, problems))
    return found


def automatic(check: CheckResult) -> CheckResult:
    """The check as the grader left it, before any instructor's review."""
    if check.review is None:
        return check
    r = check.review
    return replace(check, status=r.auto_status, points=r.auto_points, message=r.auto_message, review=None,
                   msg=r.auto_msg)


def reviewed(check: CheckResult, entry: Override, lang: str) -> CheckResult:
    auto = automatic(check)
    points = round(entry.points, 4)
    status = "pass" if points >= auto.max_points else ("fail" if points <= 0 else "partial")
    # the instructor's comment is their own text; the grader's word only when they wrote none
    said_text = None if entry.comment else msg("manual.reviewed")
    return replace(auto, status=status, points=points,
                   message=entry.comment or tr(lang, "manual.reviewed"), msg=said_text,
                   review=Review(entry.comment, auto.status, auto.points, auto.message, auto.msg))


def apply_overrides(batch: BatchResult, entries: Mapping[tuple[str, str], Override], lang: str) -> BatchResult:
    """The batch with every check reset to the grader's result, then the instructor's entries applied.

    A student's score is rescaled from the new check points by the same factor as before, so a
    late penalty (a share of the earned score) carries over.
    """
    students = []
    for result in batch.students:
        checks = tuple(reviewed(c, entries[(result.student, c.id)], lang) if (result.student, c.id) in entries
                       else automatic(c) for c in result.checks)
        students.append(_rescored(result, checks))
    return replace(batch, students=tuple(students))


def _rescored(result: SubmissionResult, checks: tuple[CheckResult, ...]) -> SubmissionResult:
    old_gross = sum(c.points for c in result.checks)
    new_gross = sum(c.points for c in checks)
    factor = result.score / old_gross if old_gross > 0 else 1.0
    score = round(new_gross * factor, 4)
    changes: dict[str, Any] = {"checks": checks, "score": score}
    if "penalty" in {f.name for f in fields(result)}:
        changes["penalty"] = round(new_gross - score, 4)
    return replace(result, **changes)


def awaiting_review(batch: BatchResult) -> int:
    """How many checks still wait for the instructor."""
    return sum(1 for r in batch.students for c in r.checks if c.status == "manual")


def merge_overrides(batch: BatchResult, path: Path, lang: str,
                    folders: Mapping[str, str] | None = None) -> tuple[BatchResult, int]:
    """Load `path`, check it against `batch` and apply it; (merged batch, entries applied)."""
    entries = check_overrides(load_overrides(path), batch, path, folders)
    logger.info("applying %d overrides from %s", len(entries), path)
    return apply_overrides(batch, entries, lang), len(entries)
