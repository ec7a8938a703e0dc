"""Frozen result records and their JSON form (the stable results contract).

Scoring, serialisation and rendering live apart: this module only holds data and converts it
to and from plain JSON-able dicts.

Every text for people is stored twice: as text in the language it was graded in (``message``,
``error``, ``notes``: results.json stays readable, and exports use it), and as the catalogue
message it was made from (``msg``, ``error_msg``, ``note_msgs``: a :class:`~grader.i18n.Message`
or a :class:`~grader.i18n.Joined` of them), which a report renders in its own language. Results written before messages were kept have only the
text; they load and render as before.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.i18n import Text, text_from_json

CheckStatus = Literal["pass", "fail", "partial", "error", "manual"]
SubmissionStatus = Literal["graded", "error", "timeout"]


@dataclass(frozen=True)
class Review:
    """The instructor's word on a check (from the overrides file) and what the grader said before."""

    comment: str
    auto_status: CheckStatus  # "manual" for a check only the instructor grades
    auto_points: float
    auto_message: str
    auto_msg: Text | None = None  # auto_message as a catalogue message

    def to_json(self) -> dict[str, Any]:
        return {"comment": self.comment, "auto_status": self.auto_status, "auto_points": self.auto_points,
                "auto_message": self.auto_message, "auto_msg": _msg_json(self.auto_msg)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Review:
        return cls(str(data.get("comment", "")), data.get("auto_status", "manual"),
                   float(data.get("auto_points") or 0.0), str(data.get("auto_message", "")),
                   text_from_json(data.get("auto_msg")))


@dataclass(frozen=True)
class Flag:
    """Something the instructor should look at before a grade stands: why, and where.

    Raised by a check (implausible accuracy, inconsistent evidence) or by the pipeline (the
    grader's in-kernel code was tampered with). A flag never changes points by itself.
    """

    kind: str  # what sort of doubt: "tampering", "implausible", "evidence", ...
    message: str  # in the report's language, for the instructor and the student
    check: str | None = None  # the check it concerns; None for the whole submission
    msg: Text | None = None  # `message` as a catalogue message

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "check": self.check, "msg": _msg_json(self.msg)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Flag:
        check = data.get("check")
        return cls(str(data.get("kind", "")), str(data.get("message", "")),
                   str(check) if check is not None else None, text_from_json(data.get("msg")))


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: CheckStatus
    points: float
    max_points: float
    message: str
    metrics: dict[str, float] = field(default_factory=dict)
    figures: tuple[str, ...] = ()  # file names relative to the student's report folder
    visibility: str = "visible"
    review: Review | None = None  # set when the instructor graded or overrode this check
    msg: Text | None = None  # `message` as a catalogue message (None: results of older graders)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "points": self.points,
                "max_points": self.max_points, "message": self.message, "metrics": dict(self.metrics),
                "figures": list(self.figures), "visibility": self.visibility,
                "review": self.review.to_json() if self.review is not None else None, "msg": _msg_json(self.msg)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            id=str(data["id"]),
            title=str(data.get("title", data["id"])),
            status=data["status"],
            points=float(data["points"]),
            max_points=float(data["max_points"]),
            message=str(data.get("message", "")),
            metrics={str(k): float(v) for k, v in (data.get("metrics") or {}).items()},
            figures=tuple(data.get("figures") or ()),
            visibility=str(data.get("visibility", "visible")),
            review=Review.from_json(data["review"]) if isinstance(data.get("review"), dict) else None,
            msg=text_from_json(data.get("msg")),
        )


@dataclass(frozen=True)
class CellError:
    """A student's cell that raised: where, what, and the student's own lines."""

    cell: int  # 1-based number among the notebook's code cells
    ename: str
    evalue: str
    traceback: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellError:
        return cls(int(data["cell"]), str(data["ename"]), str(data["evalue"]), str(data["traceback"]))


@dataclass(frozen=True)
class SubmissionResult:
    student: str
    submission: str
    sha256: str
    status: SubmissionStatus
    score: float
    max_score: float
    duration_s: float
    error: str | None
    checks: tuple[CheckResult, ...]
    sandbox: str = ""  # which isolation was used, and why when it was a fallback
    cell_errors: tuple[CellError, ...] = ()
    notes: tuple[str, ...] = ()  # plain lines for the report (intake remarks, shims used)
    figures: tuple[str, ...] = ()  # report-level figures (the student's own plots)
    cache_key: str = ""  # submission + rubric + grader version; a resumed batch skips equal keys
    lang: str = "ru"
    submitted_at: str | None = None  # ISO 8601, when the time is known (Moodle, git, file times)
    late_days: int = 0  # started days after the deadline (and its grace), 0 when on time
    penalty: float = 0.0  # points taken off for lateness; `score` is already net of it
    moodle_id: str | None = None  # Moodle participant number, from the download folder name
    flags: tuple[Flag, ...] = ()  # for the instructor's review before the grade stands
    error_msg: Text | None = None  # `error` as a catalogue message
    note_msgs: tuple[Text | None, ...] = ()  # `notes` as catalogue messages, one for each note (or none)
    cpu_s: float | None = None  # CPU time the student's code used (the budgets count it, not wall time)

    def to_json(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "submission": self.submission,
            "sha256": self.sha256,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "duration_s": round(self.duration_s, 3),
            "error": self.error,
            "checks": [c.to_json() for c in self.checks],
            "sandbox": self.sandbox,
            "cell_errors": [e.to_json() for e in self.cell_errors],
            "notes": list(self.notes),
            "figures": list(self.figures),
            "cache_key": self.cache_key,
            "lang": self.lang,
            "submitted_at": self.submitted_at,
            "late_days": self.late_days,
            "penalty": self.penalty,
            "moodle_id": self.moodle_id,
            "flags": [f.to_json() for f in self.flags],
            "error_msg": _msg_json(self.error_msg),
            "note_msgs": [_msg_json(m) for m in self.note_msgs],
            "cpu_s": self.cpu_s,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmissionResult:
        return cls(
            student=str(data["student"]),
            submission=str(data.get("submission", "")),
            sha256=str(data.get("sha256", "")),
            status=data["status"],
            score=float(data["score"]),
            max_score=float(data["max_score"]),
            duration_s=float(data.get("duration_s", 0.0)),
            error=data.get("error"),
            checks=tuple(CheckResult.from_json(c) for c in data.get("checks", [])),
            sandbox=str(data.get("sandbox", "")),
            cell_errors=tuple(CellError.from_json(e) for e in data.get("cell_errors", [])),
            notes=tuple(data.get("notes", [])),
            figures=tuple(data.get("figures", [])),
            cache_key=str(data.get("cache_key", "")),
            lang=str(data.get("lang", "ru")),
            submitted_at=data.get("submitted_at"),
            late_days=int(data.get("late_days") or 0),
            penalty=float(data.get("penalty") or 0.0),
            moodle_id=data.get("moodle_id"),
            flags=tuple(Flag.from_json(f) for f in data.get("flags") or () if isinstance(f, dict)),
            error_msg=text_from_json(data.get("error_msg")),
            note_msgs=_note_msgs(data),
            cpu_s=float(data["cpu_s"]) if isinstance(data.get("cpu_s"), (int, float)) else None,
        )


@dataclass(frozen=True)
class BatchResult:
    assignment: str
    graded_at: str  # ISO 8601
    students: tuple[SubmissionResult, ...]
    sandbox: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment,
            "graded_at": self.graded_at,
            "sandbox": self.sandbox,
            "students": [s.to_json() for s in self.students],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BatchResult:
        return cls(
            assignment=str(data["assignment"]),
            graded_at=str(data["graded_at"]),
            students=tuple(SubmissionResult.from_json(s) for s in data.get("students", [])),
            sandbox=str(data.get("sandbox", "")),
        )


def _msg_json(message: Text | None) -> dict[str, Any] | None:
    return message.to_json() if message is not None else None


def _note_msgs(data: dict[str, Any]) -> tuple[Text | None, ...]:
    """The notes' messages, kept only when there is one entry per note (else the texts stand)."""
    stored = data.get("note_msgs")
    if not isinstance(stored, list) or len(stored) != len(data.get("notes") or ()):
        return ()
    return tuple(text_from_json(m) for m in stored)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a kill mid-write never leaves a half file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)


def load_batch(path: Path) -> BatchResult:
    return BatchResult.from_json(json.loads(path.read_text(encoding="utf-8")))
