"""Late submissions: the policy's arithmetic, where submission times come from, and the rubric keys."""
from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.errors import RubricError
from grader.i18n import text_of
from grader.intake import Submission
from grader.late import (
    SubmissionClock,
    SubmissionTime,
    apply_lateness,
    find_moodle_worksheet,
    git_commit_time,
    late_days,
    parse_moodle_time,
    penalty_share,
    read_moodle_times,
)
from grader.results import CheckResult, SubmissionResult
from grader.rubric import load_rubric
from grader.rubric.schema import LateSpec, Rubric

MSK = timezone(timedelta(hours=3))
DUE = datetime(2025, 3, 3, 23, 59, tzinfo=MSK)
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def rubric(**extra: object) -> Rubric:
    data: dict[str, object] = {"assignment": "t", "title": "T",
                               "checks": [{"id": "a", "title": "A", "points": 4, "kind": "gd.function"}]}
    data.update(extra)
    return Rubric.model_validate(data)


def result(score: float = 4.0) -> SubmissionResult:
    check = CheckResult("a", "A", "pass", score, 4.0, "ok")
    return SubmissionResult("s", "s.ipynb", "", "graded", score, 4.0, 1.0, None, (check,))


def submission(source: Path, **kw: object) -> Submission:
    files = tuple(p for p in source.rglob("*") if p.is_file() and ".git" not in p.parts) if source.is_dir() else (source,)
    return Submission(student="s", student_id="s", source=source, files_root=source if source.is_dir() else source.parent,
                      files=files, entry=None, sha256="", **kw)  # type: ignore[arg-type]


# --- arithmetic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("delay", "grace", "days"), [
    (timedelta(0), 0, 0),
    (-timedelta(days=2), 0, 0),
    (timedelta(seconds=1), 0, 1),
    (timedelta(hours=23, minutes=59), 0, 1),
    (timedelta(days=1), 0, 1),
    (timedelta(days=1, seconds=1), 0, 2),
    (timedelta(minutes=10), 15, 0),
    (timedelta(minutes=20), 15, 1),
])
def test_late_days_counts_started_days_after_due_and_grace(delay: timedelta, grace: float, days: int) -> None:
    assert late_days(DUE + delay, DUE, grace) == days


def test_penalty_share_per_day_cut_off_and_cap() -> None:
    policy = LateSpec(per_day=0.1, max_days=7)
    assert penalty_share(0, policy) == 0.0
    assert penalty_share(3, policy) == pytest.approx(0.3)
    assert penalty_share(7, policy) == pytest.approx(0.7)
    assert penalty_share(8, policy) == 1.0
    assert penalty_share(20, LateSpec(per_day=0.25)) == 1.0
    assert penalty_share(5, None) == 0.0


def test_apply_lateness_takes_a_share_of_the_earned_score_and_says_so() -> None:
    r = rubric(due=DUE.isoformat(), late={"per_day": 0.1, "max_days": 7})
    late = apply_lateness(result(3.0), SubmissionTime(DUE + timedelta(days=1, hours=2), "git"), r, "en")
    assert (late.late_days, late.penalty, late.score) == (2, pytest.approx(0.6), pytest.approx(2.4))
    assert late.submitted_at == (DUE + timedelta(days=1, hours=2)).isoformat(timespec="seconds")
    assert any("2 days late" in n and "20%" in n and "last commit" in n for n in late.notes)
    on_time = apply_lateness(result(3.0), SubmissionTime(DUE - timedelta(hours=1), "moodle"), r, "ru")
    assert (on_time.score, on_time.penalty, on_time.late_days) == (3.0, 0.0, 0)
    assert any("в срок" in n for n in on_time.notes)


def test_unknown_time_applies_no_penalty_and_keeps_the_reason() -> None:
    r = rubric(due=DUE.isoformat(), late={"per_day": 0.5})
    out = apply_lateness(result(), SubmissionTime(None, "", "why: no worksheet"), r, "en")
    assert out.score == 4.0 and out.penalty == 0.0 and out.submitted_at is None
    assert out.notes == ("why: no worksheet",)
    assert apply_lateness(result(), None, r, "en") == result()


def test_results_json_keeps_the_late_fields_and_reads_old_files() -> None:
    r = rubric(due=DUE.isoformat(), late={"per_day": 0.1})
    late = apply_lateness(result(), SubmissionTime(DUE + timedelta(hours=5), "files"), r, "en")
    data = late.to_json()
    assert {"submitted_at", "late_days", "penalty"} <= set(data)
    assert SubmissionResult.from_json(data) == late
    old = {k: v for k, v in data.items() if k not in ("submitted_at", "late_days", "penalty", "moodle_id")}
    back = SubmissionResult.from_json(old)
    assert (back.submitted_at, back.late_days, back.penalty, back.moodle_id) == (None, 0, 0.0, None)


# --- rubric keys --------------------------------------------------------------------------------


def write_rubric(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text("assignment: t\ntitle: T\n" + extra +
                    "checks:\n  - {id: a, title: A, points: 1, kind: gd.function, visibility: visible}\n",
                    encoding="utf-8")
    return path


def test_rubric_reads_due_and_late(tmp_path: Path) -> None:
    r = load_rubric(write_rubric(tmp_path, "due: 2025-03-03T23:59:00+03:00\n"
                                            "late: {per_day: 0.1, max_days: 7, grace_minutes: 5}\n"))
    assert r.due == DUE and r.late == LateSpec(per_day=0.1, max_days=7, grace_minutes=5)


@pytest.mark.parametrize(("extra", "expected"), [
    ("late: {per_day: 0.1}\n", "late: a late policy needs a 'due' date"),
    ("due: 2025-03-03 23:59\n", "due:"),  # no timezone
    ("due: 2025-03-03T23:59:00+03:00\nlate: {per_day: 1.5}\n", "late.per_day"),
    ("due: 2025-03-03T23:59:00+03:00\nlate: {per_day: 0.1, weekly: 1}\n", "late.weekly: unknown key"),
])
def test_rubric_rejects_bad_late_settings(tmp_path: Path, extra: str, expected: str) -> None:
    with pytest.raises(RubricError) as info:
        load_rubric(write_rubric(tmp_path, extra))
    assert expected in str(info.value)


def test_after_due_without_a_due_date_stays_hidden() -> None:
    from grader.selfcheck import split_checks

    r = rubric(checks=[{"id": "a", "title": "A", "points": 1, "kind": "k", "visibility": "after_due"}])
    assert r.due is None
    shown, hidden = split_checks(r, datetime.now(timezone.utc))
    assert shown == [] and [c.id for c in hidden] == ["a"]


# --- Moodle worksheet ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Tuesday, 4 March 2025, 10:05 AM", datetime(2025, 3, 4, 10, 5, tzinfo=MSK)),
    ("Tuesday, 4 March 2025, 12:30 PM", datetime(2025, 3, 4, 12, 30, tzinfo=MSK)),
    ("Tuesday, 4 March 2025, 12:30 AM", datetime(2025, 3, 4, 0, 30, tzinfo=MSK)),
    ("вторник, 4 марта 2025, 22:15", datetime(2025, 3, 4, 22, 15, tzinfo=MSK)),
    ("четверг, 1 мая 2025, 09:00", datetime(2025, 5, 1, 9, 0, tzinfo=MSK)),
    ("Tuesday, March 4, 2025, 9:05 PM", datetime(2025, 3, 4, 21, 5, tzinfo=MSK)),
    ("2025-03-04T10:00:00+00:00", datetime(2025, 3, 4, 10, 0, tzinfo=timezone.utc)),
    ("-", None),
    ("", None),
    ("вчера вечером", None),
])
def test_parse_moodle_time(text: str, expected: datetime | None) -> None:
    assert parse_moodle_time(text, MSK) == expected


WORKSHEET = (
    "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments\n"
    "Participant 10234,Петров Пётр,p@x,Submitted for grading,,10,Yes,\"Monday, 3 March 2025, 11:00 PM\",-,\n"
    "Participant 10240,Григорьева Дарья,g@x,Submitted for grading,,10,Yes,\"Wednesday, 5 March 2025, 9:00 AM\",-,\n"
    "Participant 10250,Нет Работы,n@x,No submission,,10,Yes,-,-,\n"
)


def test_moodle_worksheet_is_found_and_read(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "grades.csv").write_text("\ufeff" + WORKSHEET, encoding="utf-8")
    sheet = find_moodle_worksheet(tmp_path)
    assert sheet == tmp_path / "grades.csv"
    times = read_moodle_times(sheet, MSK)
    assert times == {"10234": datetime(2025, 3, 3, 23, 0, tzinfo=MSK), "10240": datetime(2025, 3, 5, 9, 0, tzinfo=MSK)}


def test_russian_worksheet_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "оценки.csv"
    path.write_text("Идентификатор;Полное имя;Последнее изменение (ответ)\nУчастник10234;Петров;вторник, 4 марта 2025, 10:00\n",
                    encoding="utf-8")
    assert read_moodle_times(path, MSK) == {"10234": datetime(2025, 3, 4, 10, 0, tzinfo=MSK)}


def test_clock_uses_the_worksheet_for_moodle_students_and_says_when_it_is_missing(tmp_path: Path) -> None:
    folder = tmp_path / "Петров Пётр_10234_assignsubmission_file_"
    folder.mkdir()
    (folder / "hw.ipynb").write_text("{}", encoding="utf-8")
    sub = submission(folder, moodle_id="10234")
    (tmp_path / "grades.csv").write_text(WORKSHEET, encoding="utf-8")
    found = SubmissionClock.for_class(tmp_path, zone=MSK).time_of(sub, "en")
    assert found == SubmissionTime(datetime(2025, 3, 3, 23, 0, tzinfo=MSK), "moodle")
    (tmp_path / "grades.csv").unlink()
    missing = SubmissionClock.for_class(tmp_path, zone=MSK).time_of(sub, "en")
    assert missing.at is None and "no Moodle grading worksheet" in text_of(missing.note or "", "en")
    assert "--allow-file-times" in text_of(missing.note or "", "en")
    allowed = SubmissionClock.for_class(tmp_path, zone=MSK, allow_file_times=True).time_of(sub, "en")
    assert allowed.source == "files" and allowed.at is not None
    assert abs(allowed.at.timestamp() - (folder / "hw.ipynb").stat().st_mtime) < 1


def test_file_times_only_when_allowed(tmp_path: Path) -> None:
    work = tmp_path / "w.ipynb"
    work.write_text("{}", encoding="utf-8")
    stamp = datetime(2025, 3, 6, 12, 0, tzinfo=timezone.utc).timestamp()
    os.utime(work, (stamp, stamp))
    sub = submission(work)
    assert SubmissionClock(zone=MSK).time_of(sub, "en").at is None
    got = SubmissionClock(zone=MSK, allow_file_times=True).time_of(sub, "en")
    assert got.source == "files" and got.at is not None and got.at.timestamp() == stamp


# --- git ----------------------------------------------------------------------------------------


def make_clone(path: Path, when: str) -> Path:
    path.mkdir(parents=True)
    (path / "hw.ipynb").write_text("{}", encoding="utf-8")
    env = {**os.environ, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": when,
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for argv in (["init", "-q"], ["add", "."], ["-c", "user.name=s", "-c", "user.email=s@x", "commit", "-qm", "hw"]):
        subprocess.run(["git", *argv], cwd=path, env=env, check=True)
    return path


@needs_git
def test_git_commit_time_of_a_clone(tmp_path: Path) -> None:
    clone = make_clone(tmp_path / "task1-ivanov", "2025-03-05T10:00:00+03:00")
    assert git_commit_time(clone) == datetime(2025, 3, 5, 10, 0, tzinfo=MSK)
    sub = submission(clone, login="ivanov")
    assert SubmissionClock(zone=MSK).time_of(sub, "en") == SubmissionTime(datetime(2025, 3, 5, 10, 0, tzinfo=MSK), "git")


@needs_git
def test_git_never_runs_programs_named_by_the_clone(tmp_path: Path) -> None:
    clone = make_clone(tmp_path / "evil", "2025-03-05T10:00:00+03:00")
    marker = tmp_path / "pwned"
    script = tmp_path / "payload.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    script.chmod(0o755)
    for key in ("core.fsmonitor", "core.pager", "gpg.program", "core.hooksPath"):
        subprocess.run(["git", "config", key, str(script)], cwd=clone, check=True)
    subprocess.run(["git", "config", "log.showSignature", "true"], cwd=clone, check=True)
    (clone / ".git" / "hooks" / "post-checkout").write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    assert git_commit_time(clone) == datetime(2025, 3, 5, 10, 0, tzinfo=MSK)
    assert not marker.exists()


@needs_git
def test_git_never_reads_a_repository_above_the_folder(tmp_path: Path) -> None:
    outer = make_clone(tmp_path / "outer", "2025-03-05T10:00:00+03:00")
    inner = outer / "student"
    inner.mkdir()
    assert git_commit_time(inner) is None
