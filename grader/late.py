"""When a submission was handed in, and what lateness costs.

Where the time comes from, in this order:

1. Moodle: the grading worksheet (assignment -> "Download grading worksheet", a CSV) placed in
   the class folder or named with ``--moodle-worksheet``; its "Last modified (submission)"
   column, matched by participant number to the download folder names
   (``Full Name_12345_assignsubmission_file_``). Moodle writes that column in the instructor's
   timezone without saying which, so the deadline's timezone is assumed.
2. GitHub Classroom clones: the committer time of HEAD, read with ``git log -1 --format=%cI``.
   The clone is untrusted data: git runs with the clone named as a safe directory, no hooks,
   no fsmonitor, no pager, no signature checks, no system or global config, and a timeout.
   The student sets that time on their own machine; GitHub's own push time is not in a clone.
3. File modification times, only when the instructor allows it (``--allow-file-times``):
   downloading, copying and unzipping change them.

Without any of these the submission's time is unknown; no penalty is applied and the report
says why. Penalties follow the rubric's ``late`` policy (``grader.rubric.schema.LateSpec``).
"""
from __future__ import annotations

import csv
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from grader.i18n import Text, joined, msg, said
from grader.intake import Submission
from grader.results import SubmissionResult
from grader.rubric.schema import LateSpec, Rubric

logger = logging.getLogger(__name__)

GIT_TIMEOUT_S = 10.0
MAX_WORKSHEET_BYTES = 20 * 1024 * 1024

# Column titles of Moodle's grading worksheet, as the English and Russian language packs write
# them (several Russian translations have shipped over the years).
ID_COLUMNS = ("identifier", "идентификатор")
SUBMITTED_COLUMNS = (
    "last modified (submission)",
    "последнее изменение (ответ)",
    "последнее изменение работы",
    "последнее изменение (представление)",
)
_PARTICIPANT = re.compile(r"(\d+)\s*$")

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7, "авг": 8,
    "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
}
_DAY_MONTH = re.compile(r"(?P<day>\d{1,2})\s+(?P<month>[^\W\d_]+)\.?\s+(?P<year>\d{4})", re.UNICODE)
_MONTH_DAY = re.compile(r"(?P<month>[^\W\d_]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})", re.UNICODE)
_CLOCK = re.compile(r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?")


@dataclass(frozen=True)
class SubmissionTime:
    """When a submission was handed in, where that came from, and a report line if unknown."""

    at: datetime | None
    source: str = ""  # "moodle" | "git" | "files" | "" (unknown)
    note: str | Text | None = None  # a catalogue message (text from callers not converted yet)


@dataclass(frozen=True)
class Lateness:
    late_days: int  # started days after the deadline and its grace; 0 when on time
    share: float  # share of the earned score taken off, 0..1


def late_days(submitted: datetime, due: datetime, grace_minutes: float = 0.0) -> int:
    """Started days after ``due`` + grace: one second late is one day; on time is 0."""
    over = submitted - (due + timedelta(minutes=grace_minutes))
    if over <= timedelta(0):
        return 0
    return math.ceil(over / timedelta(days=1))


def penalty_share(days: int, policy: LateSpec | None) -> float:
    """Share of the earned score taken off for ``days`` days late under ``policy``."""
    if policy is None or days <= 0:
        return 0.0
    if policy.max_days is not None and days > policy.max_days:
        return 1.0
    return min(1.0, policy.per_day * days)


def assess(when: SubmissionTime, rubric: Rubric) -> Lateness:
    if when.at is None or rubric.due is None:
        return Lateness(0, 0.0)
    grace = rubric.late.grace_minutes if rubric.late is not None else 0.0
    days = late_days(when.at, rubric.due, grace)
    return Lateness(days, penalty_share(days, rubric.late))


def apply_lateness(result: SubmissionResult, when: SubmissionTime | None, rubric: Rubric,
                   lang: str) -> SubmissionResult:
    """``result`` with the submission time, days late and penalty recorded and a report note.

    The penalty is a share of the earned score (bonus included); ``score`` becomes net of it.
    """
    if when is None or rubric.due is None:
        return result
    added: list[str | Text] = []
    if when.at is None:
        if when.note:
            added.append(when.note)
        return _with_notes(result, added, lang)
    lateness = assess(when, rubric)
    penalty = round(result.score * lateness.share, 4)
    shown = _local_time(when.at, rubric.due.tzinfo)
    source = msg(f"late.source.{when.source}")
    if lateness.late_days == 0:
        added.append(msg("late.on_time", time=shown, source=source))
    elif rubric.late is None:
        added.append(msg("late.late_no_policy", time=shown, source=source, days=lateness.late_days))
    else:
        added.append(msg("late.late", time=shown, source=source, days=lateness.late_days,
                         percent=round(lateness.share * 100), penalty=round(penalty, 2)))
    if when.note:
        added.append(when.note)
    late = replace(result, score=round(result.score - penalty, 4), penalty=penalty,
                   late_days=lateness.late_days, submitted_at=when.at.isoformat(timespec="seconds"))
    return _with_notes(late, added, lang)


def _with_notes(result: SubmissionResult, added: list[str | Text], lang: str) -> SubmissionResult:
    """`result` with notes `added` after its own, each kept as text and as its message."""
    shown = [said(note, lang) for note in added]
    kept = result.note_msgs if len(result.note_msgs) == len(result.notes) else (None,) * len(result.notes)
    return replace(result, notes=result.notes + tuple(t for t, _ in shown),
                   note_msgs=tuple(kept) + tuple(m for _, m in shown))


def _local_time(at: datetime, zone: tzinfo | None) -> str:
    """The time in the deadline's zone, as ISO 8601 (the catalogue writes it as people read it)."""
    return (at.astimezone(zone) if zone is not None else at).isoformat(timespec="minutes")


# --- where the time comes from ------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionClock:
    """Finds each submission's time for one class folder (built once per batch)."""

    zone: tzinfo | None
    """Timezone assumed for times written without one (Moodle's worksheet)."""
    allow_file_times: bool = False
    worksheet: Path | None = None
    moodle_times: dict[str, datetime] = field(default_factory=dict)

    @classmethod
    def for_class(cls, root: Path, *, zone: tzinfo | None, allow_file_times: bool = False,
                  worksheet: Path | None = None) -> SubmissionClock:
        """A clock for the class in ``root``; reads the Moodle worksheet (given, or found there)."""
        sheet = worksheet or find_moodle_worksheet(root)
        times = read_moodle_times(sheet, zone) if sheet is not None else {}
        return cls(zone=zone, allow_file_times=allow_file_times, worksheet=sheet, moodle_times=times)

    def time_of(self, sub: Submission, lang: str) -> SubmissionTime:
        why: list[Text] = []
        if sub.moodle_id is not None:
            if sub.moodle_id in self.moodle_times:
                return SubmissionTime(self.moodle_times[sub.moodle_id], "moodle")
            if self.worksheet is None:
                why.append(msg("late.no_worksheet"))
            else:
                why.append(msg("late.not_in_worksheet", id=sub.moodle_id, sheet=self.worksheet.name))
        clone = sub.source if sub.source.is_dir() else None
        if clone is not None and is_git_clone(clone):
            at = git_commit_time(clone)
            if at is not None:
                return SubmissionTime(at, "git")
            why.append(msg("late.git_failed"))
        if self.allow_file_times:
            at = files_time(sub)
            if at is not None:
                return SubmissionTime(at, "files", joined(why, " ") if why else None)
        if not self.allow_file_times:
            why.append(msg("late.file_times_off"))
        return SubmissionTime(None, "", msg("late.unknown", why=joined(why, " ")))


def files_time(sub: Submission) -> datetime | None:
    """The newest modification time among the files as handed in (not the unpacked copies)."""
    source = sub.source
    try:
        if source.is_file():
            stamps = [source.stat().st_mtime]
        else:
            stamps = [f.stat().st_mtime for f in sub.files if f.is_relative_to(source)]
            if not stamps:
                stamps = [source.stat().st_mtime]
    except OSError:
        return None
    return datetime.fromtimestamp(max(stamps)).astimezone()


# --- Moodle grading worksheet -------------------------------------------------------------------


def find_moodle_worksheet(root: Path) -> Path | None:
    """A Moodle grading worksheet among the CSV files directly in ``root``, if there is one."""
    if not root.is_dir():
        return None
    for path in sorted(root.glob("*.csv")):
        if path.is_file() and not path.is_symlink() and _worksheet_columns(_header(path)) is not None:
            return path
    return None


def read_moodle_times(path: Path, zone: tzinfo | None) -> dict[str, datetime]:
    """Participant number -> submission time, from a Moodle grading worksheet."""
    rows = _rows(path)
    if not rows:
        return {}
    columns = _worksheet_columns(rows[0])
    if columns is None:
        logger.warning("%s is not a Moodle grading worksheet (no identifier/submission columns)", path)
        return {}
    id_col, time_col = columns
    times: dict[str, datetime] = {}
    for row in rows[1:]:
        if len(row) <= max(id_col, time_col):
            continue
        match = _PARTICIPANT.search(row[id_col])
        at = parse_moodle_time(row[time_col], zone)
        if match and at is not None:
            times[match.group(1)] = at
    return times


def _header(path: Path) -> list[str]:
    rows = _rows(path, limit=1)
    return rows[0] if rows else []


def _rows(path: Path, limit: int | None = None) -> list[list[str]]:
    try:
        if path.stat().st_size > MAX_WORKSHEET_BYTES:
            logger.warning("%s is too large to be a grading worksheet", path)
            return []
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        logger.warning("cannot read %s: %s", path, exc)
        return []
    lines = text.splitlines()
    dialect: type[csv.Dialect] | csv.Dialect = csv.excel
    try:
        dialect = csv.Sniffer().sniff(lines[0] if lines else "", delimiters=",;\t")
    except csv.Error:
        pass
    reader = csv.reader(lines, dialect)
    out: list[list[str]] = []
    for row in reader:
        out.append(row)
        if limit is not None and len(out) >= limit:
            break
    return out


def _worksheet_columns(header: Iterable[str]) -> tuple[int, int] | None:
    names = [h.strip().casefold() for h in header]
    id_col = next((i for i, n in enumerate(names) if n in ID_COLUMNS), None)
    time_col = next((i for i, n in enumerate(names) if n in SUBMITTED_COLUMNS), None)
    if id_col is None or time_col is None:
        return None
    return id_col, time_col


def parse_moodle_time(value: str, zone: tzinfo | None) -> datetime | None:
    """A date as Moodle prints it ("Tuesday, 5 March 2024, 10:00 AM", "вторник, 5 марта 2024,
    10:00", "March 5, 2024, 10:00 PM") or ISO 8601; None for "-" or anything unreadable.
    Times without a timezone get ``zone``."""
    value = value.strip()
    if not value or value in ("-", "—"):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        at = _parse_words(value)
    if at is None:
        return None
    return at.replace(tzinfo=zone) if at.tzinfo is None and zone is not None else at


def _parse_words(value: str) -> datetime | None:
    date = _DAY_MONTH.search(value) or _MONTH_DAY.search(value)
    if date is None:
        return None
    month = _MONTHS.get(date["month"].casefold()[:3])
    clock = _CLOCK.search(value, date.end())
    if month is None or clock is None:
        return None
    hour = int(clock["hour"])
    ampm = (clock["ampm"] or "").replace(".", "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        return datetime(int(date["year"]), month, int(date["day"]), hour, int(clock["minute"]),
                        int(clock["second"] or 0))
    except ValueError:
        return None


# --- git ----------------------------------------------------------------------------------------


def is_git_clone(folder: Path) -> bool:
    git_dir = folder / ".git"
    return git_dir.is_dir() and not git_dir.is_symlink()


def git_commit_time(folder: Path, timeout_s: float = GIT_TIMEOUT_S) -> datetime | None:
    """Committer time of HEAD in the clone at ``folder``, or None (no git, no commit, timeout).

    Only ``folder/.git`` is read (never a repository above it), with every setting that could
    make git run a program from the clone's own config turned off.
    """
    git = shutil.which("git")
    if git is None or not is_git_clone(folder):
        return None
    folder = folder.resolve()
    argv = [
        git, "--no-pager",
        "-c", f"safe.directory={folder}",
        "-c", "core.hooksPath=/dev/null",
        "-c", "core.fsmonitor=false",
        "-c", "log.showSignature=false",
        "-c", "gpg.program=false",
        "--git-dir", str(folder / ".git"), "--work-tree", str(folder),
        "log", "-1", "--no-show-signature", "--no-color", "--format=%cI", "HEAD", "--",
    ]
    with tempfile.TemporaryDirectory(prefix="grader-git-home-") as home:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "GIT_PAGER": "cat",
            "GIT_CEILING_DIRECTORIES": str(folder.parent),
        }
        try:
            done = subprocess.run(argv, cwd=home, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            logger.warning("git log in %s failed: %s", folder, exc)
            return None
    if done.returncode != 0:
        logger.info("git log in %s: %s", folder, done.stderr.decode(errors="replace").strip()[:300])
        return None
    text = done.stdout.decode(errors="replace").strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        logger.warning("git log in %s printed %r, not a time", folder, text[:100])
        return None
