"""The grading pipeline: rubric -> intake -> run (sandbox) -> checks -> results.

The only module that wires the others together. Each student's result is written to
`<out>/<student_id>/result.json` as soon as it is done; a re-run skips students whose
submission, rubric and grader version are unchanged (unless forced).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import grader
from grader.checkproc import DEFAULT_MEMORY_MB, CheckProcesses, OutOfMemory, ProcessLost
from grader.errors import GraderError
from grader.families import CHECKS, hooks, option_defaults, rubric_families, run_evidence
from grader.family import BatchSetup
from grader.artifacts import MANUAL_KEY, NOTHING_FOUND, Artifacts, CellRecord, Outcome, read_records
from grader.executors import Executor, open_executor
from grader.i18n import Text, catalogue, joined, kept_message, msg, said
from grader.intake import Submission, discover
from grader.integrity import scan_source, verdict
from grader.late import SubmissionClock, SubmissionTime, apply_lateness
from grader.results import BatchResult, CellError, CheckResult, Flag, SubmissionResult, write_json_atomic
from grader.rubric import Rubric
from grader.rubric.schema import CheckSpec, text
from grader_inside.notebook import read_cells
from grader.report.figures import draw_all
from grader.run.runner import RunOutcome, RunRequest, run_submission
from grader.sandbox import GIB, MIB, Limits, Sandbox
from grader.tracebacks import execution_counts, in_student_cells

logger = logging.getLogger(__name__)

RESULT_FILE = "result.json"
ENTRIES_FILE = ".entries.json"  # student -> the entry file graded, for the review page and similarity


@dataclass(frozen=True)
class GradeOptions:
    out_dir: Path
    lang: str | None = None  # None: the rubric's language
    workers: int = 1
    timeout_s: float | None = None  # overrides the rubric's whole-submission time
    force: bool = False
    sandbox: str = "auto"
    allow_file_times: bool = False  # file mtimes may serve as submission times (late penalties)
    moodle_worksheet: Path | None = None  # Moodle grading worksheet with submission times
    device: str = "auto"  # where student models run and are evaluated: auto | cpu | cuda
    family_options: Mapping[str, Any] = field(default_factory=dict)  # the options families add (--data, ...)
    executor: str = "local"  # where the sandboxed runs happen: a name in grader.executors.EXECUTORS
    address: str | None = None  # the cluster an executor connects to (ray: auto or HOST:PORT)
    check_memory_mb: int = DEFAULT_MEMORY_MB  # each check process's data limit (grader.checkproc)

    def family_values(self) -> dict[str, Any]:
        """What the families' hooks read: every family option (its default when not given) and the device."""
        return {**option_defaults(), **self.family_options, "device": self.device}


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    running: tuple[str, ...]
    last: SubmissionResult | None


def cache_key(sub: Submission, rubric: Rubric, options: GradeOptions, lang: str,
              when: SubmissionTime | None = None) -> str:
    parts = [sub.sha256, rubric.digest, grader.__version__, lang, str(options.timeout_s)]
    if when is not None and when.at is not None:  # a changed submission time re-grades
        parts.append(when.at.isoformat())
    values = options.family_values()
    for parts_of in hooks(rubric_families(rubric, values), "cache_parts"):  # e.g. a changed --data folder
        parts += parts_of(values)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def grade_batch(root: Path, rubric: Rubric, options: GradeOptions,
                on_progress: Callable[[Progress], None] | None = None,
                sandbox: Sandbox | None = None, executor: Executor | None = None) -> BatchResult:
    """Grade every submission under `root`. The sandboxed runs happen where `executor` puts them
    (default: the one options.executor names, with `sandbox` for local runs); intake, resume,
    the checks and every file of the output folder happen here."""
    lang = options.lang or rubric.lang
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    subs = discover(root, patterns=tuple(rubric.entry.patterns), unpack_dir=out / ".unpacked",
                    lang=lang, entry_hints=tuple(rubric.entry.hints))
    runner = executor or open_executor(options, sandbox)
    try:
        return _grade_with(runner, root, subs, rubric, options, lang, on_progress)
    finally:
        if executor is None:  # opened here, closed here
            runner.close()


def _grade_with(executor: Executor, root: Path, subs: list[Submission], rubric: Rubric, options: GradeOptions,
                lang: str, on_progress: Callable[[Progress], None] | None) -> BatchResult:
    out = options.out_dir
    clock = (SubmissionClock.for_class(root, zone=rubric.due.tzinfo, allow_file_times=options.allow_file_times,
                                       worksheet=options.moodle_worksheet)
             if rubric.due is not None else None)
    times = {sub.student_id: clock.time_of(sub, lang) for sub in subs} if clock is not None else {}
    setup = _prepare_setup(rubric, options, out)
    if setup is not None and executor.gpu is not None:  # the executor's machines decide, not this one
        setup = dataclasses.replace(setup, gpu_present=executor.gpu)
    plan = BatchPlan(rubric, options, out, lang, times, setup)
    results: dict[str, SubmissionResult] = {}
    todo: list[Submission] = []
    for sub in subs:
        key = cache_key(sub, rubric, options, lang, times.get(sub.student_id))
        cached = None if options.force else _cached(out / sub.student_id / RESULT_FILE, key)
        if cached is not None:
            results[sub.student_id] = cached
        else:
            todo.append(sub)
    done = len(results)
    running: set[str] = set()
    lock = threading.Lock()

    def started(sub: Submission) -> None:
        with lock:
            running.add(sub.student)
            if on_progress:
                on_progress(Progress(done, len(subs), tuple(sorted(running)), None))

    def record(sub: Submission, result: SubmissionResult) -> None:
        nonlocal done
        with lock:
            results[sub.student_id] = result
            running.discard(sub.student)
            done += 1
            if on_progress:
                on_progress(Progress(done, len(subs), tuple(sorted(running)), result))

    def check(sub: Submission, staged: Staged) -> None:
        try:
            result = staged if isinstance(staged, SubmissionResult) else _checked(staged, processes, plan)
        except Exception as exc:  # one bad submission never stops the batch
            logger.exception("checking %s failed", sub.student)
            result = plan.crashed(sub, exc, executor.description)
        write_json_atomic(out / sub.student_id / RESULT_FILE, result.to_json())
        record(sub, result)

    # Two stages: the executor's sandboxed runs, and the checks of a finished run here, which
    # overlap the next runs (the checks are the grader's own work, outside the sandbox).
    # The checks run in processes of their own, under a memory limit (grader.checkproc); these
    # threads only wait for them.
    workers = max(1, options.workers)
    with CheckProcesses(min(workers, len(todo) or 1), options.check_memory_mb) as processes, \
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="checks") as checks:
        for sub, staged in executor.runs(plan, todo, started):
            checks.submit(check, sub, staged)
    ordered = tuple(results[s.student_id] for s in subs)
    batch = BatchResult(rubric.assignment, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        ordered, sandbox=executor.description)
    write_json_atomic(out / "results.json", batch.to_json())
    folders = {s.student: s.student_id for s in subs}
    (out / ".folders.json").write_text(json.dumps(folders, ensure_ascii=False), encoding="utf-8")
    entries = {s.student: str(s.entry.resolve()) for s in subs if s.entry is not None}
    (out / ENTRIES_FILE).write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return batch


def _checked(ran: RanSubmission, processes: CheckProcesses, plan: BatchPlan) -> SubmissionResult:
    """The student's result from a check process, or an error result that says why there is none."""
    outcome = processes.check(ran)
    if isinstance(outcome, OutOfMemory):  # not cached: a re-run with a higher limit grades it
        return plan.failed(ran.sub, msg("grader.check_memory", limit=outcome.limit_mb), ran.sandbox)
    if isinstance(outcome, ProcessLost):
        return plan.failed(ran.sub, msg("grader.check_process_lost", detail=outcome.detail), ran.sandbox)
    return outcome


def _prepare_setup(rubric: Rubric, options: GradeOptions, out: Path) -> BatchSetup | None:
    """What the rubric's families prepare once per batch (Task 2, HW 3: datasets, hidden splits,
    baselines); None for a rubric whose families prepare nothing, such as Task 1."""
    values = options.family_values()
    for prepare in hooks(rubric_families(rubric, values), "prepare"):
        setup = prepare(rubric, values, out / ".data")
        if setup is not None:
            return setup  # type: ignore[no-any-return]
    return None


def _cached(path: Path, key: str) -> SubmissionResult | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("cache_key") != key:
        return None
    try:
        return SubmissionResult.from_json(data)
    except (KeyError, TypeError, ValueError):
        return None


def _limits(rubric: Rubric) -> Limits:
    lim = rubric.limits
    return Limits(memory_bytes=int(lim.memory_gb * GIB), max_processes=lim.max_processes,
                  output_bytes=int(lim.output_mb * MIB), scratch_bytes=int(lim.scratch_mb * MIB))


def _error_result(sub: Submission, rubric: Rubric, lang: str, sandbox: str, message: str | Text,
                  status: str = "error", cache: str = "") -> SubmissionResult:
    not_run = {kind: msg("manual.awaiting" if kind == "manual" else "run.not_graded") for kind in ("manual", "")}
    checks = tuple(
        CheckResult(c.id, text(c.title, lang), "manual" if c.kind == "manual" else "error", 0.0, c.points,
                    **_message(not_run["manual" if c.kind == "manual" else ""], lang), visibility=c.visibility)
        for c in rubric.checks
    )
    error, error_msg = said(message, lang)
    return SubmissionResult(sub.student, _own_name(sub), sub.sha256, status,  # type: ignore[arg-type]
                            0.0, rubric.max_score, 0.0, error, checks, sandbox=sandbox,
                            notes=sub.notes, cache_key=cache, lang=lang, moodle_id=sub.moodle_id,
                            error_msg=error_msg, note_msgs=sub.note_msgs)


@dataclass(frozen=True)
class PlannedRun:
    """A submission ready for its sandboxed run: what the sandbox gets, and what the checks need
    afterwards. Made here; the run itself may happen on another machine (grader.executors)."""

    sub: Submission
    rubric: Rubric
    lang: str
    key: str
    student_dir: Path  # here, in the output folder
    request: RunRequest
    timeout: float
    start: float
    when: SubmissionTime | None
    setup: BatchSetup | None
    options: Mapping[str, Any]  # the families' option values (GradeOptions.family_values)


@dataclass(frozen=True)
class RanSubmission:
    """A submission whose sandboxed run is over and whose checks are still to come."""

    sub: Submission
    rubric: Rubric
    sandbox: str  # the isolation the run had, as its sandbox described it
    student_dir: Path
    lang: str
    run: RunOutcome
    key: str
    timeout: float
    start: float
    when: SubmissionTime | None
    setup: BatchSetup | None


Staged = RanSubmission | SubmissionResult  # what a run hands to the checks


@dataclass(frozen=True)
class BatchPlan:
    """What every run of a batch shares, and the steps of one run for an executor: `run` on this
    machine, or `plan` here, `execute` where the sandbox is, `land` here again."""

    rubric: Rubric
    options: GradeOptions
    out: Path
    lang: str
    times: Mapping[str, SubmissionTime]
    setup: BatchSetup | None

    def run(self, sub: Submission, box: Sandbox) -> Staged:
        """The whole run on this machine; a failure of ours becomes this student's error result."""
        try:
            return run_one(sub, self.rubric, box, self.out, self.lang, self.options,
                           when=self.times.get(sub.student_id), setup=self.setup)
        except Exception as exc:  # one bad submission never stops the batch
            logger.exception("grading %s failed", sub.student)
            return self.crashed(sub, exc, box.description)

    def plan(self, sub: Submission, sandbox: str) -> PlannedRun | SubmissionResult:
        return plan_run(sub, self.rubric, self.out, self.lang, self.options, sandbox,
                        when=self.times.get(sub.student_id), setup=self.setup)

    def crashed(self, sub: Submission, exc: BaseException, sandbox: str) -> SubmissionResult:
        return self.failed(sub, msg("grader.internal_error", error=f"{type(exc).__name__}: {exc}"), sandbox)

    def failed(self, sub: Submission, message: str | Text, sandbox: str) -> SubmissionResult:
        return _error_result(sub, self.rubric, self.lang, sandbox, message)


def grade_one(sub: Submission, rubric: Rubric, box: Sandbox, out: Path, lang: str,
              options: GradeOptions, when: SubmissionTime | None = None,
              setup: BatchSetup | None = None,
              progress: Callable[[int, int], None] | None = None) -> SubmissionResult:
    """Grade one submission; `when` (its hand-in time) applies the rubric's late policy;
    `setup` (Task 2) brings the data splits, their mounts and the after-run probe; `progress(cell,
    cells)` is called as each of the student's code cells starts."""
    staged = run_one(sub, rubric, box, out, lang, options, when, setup, progress)
    return staged if isinstance(staged, SubmissionResult) else check_one(staged)


def run_one(sub: Submission, rubric: Rubric, box: Sandbox, out: Path, lang: str,
            options: GradeOptions, when: SubmissionTime | None = None,
            setup: BatchSetup | None = None, progress: Callable[[int, int], None] | None = None) -> Staged:
    """The sandboxed run of one submission (or its result already, when it cannot run)."""
    planned = plan_run(sub, rubric, out, lang, options, box.description, when, setup)
    if isinstance(planned, SubmissionResult):
        return planned
    return land_run(planned, execute_run(planned, box, planned.student_dir, progress), box.description)


def plan_run(sub: Submission, rubric: Rubric, out: Path, lang: str, options: GradeOptions, sandbox: str,
             when: SubmissionTime | None = None, setup: BatchSetup | None = None) -> PlannedRun | SubmissionResult:
    """What the sandboxed run of `sub` will be (or its result already, when it cannot run)."""
    start = time.monotonic()
    key = cache_key(sub, rubric, options, lang, when)
    student_dir = out / sub.student_id
    student_dir.mkdir(parents=True, exist_ok=True)
    if sub.error or sub.entry is None:
        return _error_result(sub, rubric, lang, sandbox, sub.error_msg or sub.error or msg("run.no_entry"), cache=key)
    timeout = options.timeout_s or rubric.limits.timeout_s
    params = setup.parameters(rubric.parameters) if setup is not None else dict(rubric.parameters)
    values = options.family_values()
    request = RunRequest(entry=sub.entry, files=sub.files, files_root=sub.files_root,
                         probes=tuple(rubric.probes), trace=rubric.trace,
                         cell_timeout_s=min(rubric.limits.cell_timeout_s, timeout), timeout_s=timeout,
                         limits=_limits(rubric), parameters=params,
                         sealed=tuple(f for fam in rubric_families(rubric, values) for f in fam.sealed),
                         **(_data_request(setup) if setup is not None else {}))
    return PlannedRun(sub, rubric, lang, key, student_dir, request, timeout, start, when, setup, values)


def execute_run(planned: PlannedRun, box: Sandbox, student_dir: Path,
                progress: Callable[[int, int], None] | None = None) -> RunOutcome:
    """The sandboxed part of a run, on the machine that has `box`: the notebook's run into
    `student_dir`/run, then each family's stage (the apps' runs into `student_dir`/apps)."""
    run = run_submission(planned.request, box, student_dir / "run", progress)
    for stage in hooks(rubric_families(planned.rubric, planned.options), "stage"):
        stage(planned, box, student_dir)
    return run


def land_run(planned: PlannedRun, run: RunOutcome, sandbox: str) -> Staged:
    """A run's outcome, back here, ready for the checks (or the student's result already)."""
    sub, lang = planned.sub, planned.lang
    if run.status == "unreadable":
        assert sub.entry is not None
        return _error_result(sub, planned.rubric, lang, sandbox,
                             msg("run.unreadable", file=sub.entry.name, detail=run.message), cache=planned.key)
    return RanSubmission(sub, planned.rubric, sandbox, planned.student_dir, lang, run, planned.key,
                         planned.timeout, planned.start, planned.when, planned.setup)


def check_one(ran: RanSubmission) -> SubmissionResult:
    """The rubric's checks on what a run left behind, and the student's result."""
    sub, rubric, run, lang, setup = ran.sub, ran.rubric, ran.run, ran.lang, ran.setup
    assert sub.entry is not None
    try:
        cells = read_cells(sub.entry)
    except (ValueError, OSError, UnicodeDecodeError):
        cells = []
    art = Artifacts(lang=lang, cells=cells, run_cells=run.cells, probe=run.probe, figures=list(run.figures),
                    setup=setup, records=read_records(ran.student_dir, _records(rubric)))
    scored = [_score(spec, art, run, lang, ran.student_dir) for spec in rubric.checks]
    results = tuple(result for result, _ in scored)
    withheld, flags = verdict(scan_source(cells, sub.files, sub.files_root) + run.integrity.findings(), lang)
    if withheld is not None:  # tampering: no automatic points, the instructor decides each check
        results = tuple(_withhold(result, msg("integrity.withheld", what=withheld), lang) for result in results)
    flags += tuple(flag for _, check_flags in scored for flag in check_flags)
    score = sum(r.points for r in results)
    status, error = _submission_status(run, lang, ran.timeout)
    notes: list[str | Text] = [m or t for t, m in zip(sub.notes, sub.note_msgs or [None] * len(sub.notes))]
    notes += _run_notes(run, ran.timeout)
    if setup is not None:
        notes += setup.notes(lang) + setup.run_notes(art.records, _error_texts(run), lang)
        flags += setup.flags(lang)  # demo data: not a grade on the course's dataset
        setup_error = setup.run_error(art.records)
        if setup_error is not None and error is None:  # the instructor's to fix, said once and plainly
            status, error = "error", setup_error
    figures = tuple(f"run/{f['png']}" for f in run.figures if f.get("png"))
    error_text, error_msg = said(error, lang) if error is not None else (None, None)
    shown = [said(note, lang) for note in notes]
    result = SubmissionResult(
        student=sub.student, submission=_own_name(sub),
        sha256=sub.sha256, status=status, score=round(score, 4), max_score=rubric.max_score,
        duration_s=time.monotonic() - ran.start, error=error_text, checks=results, sandbox=ran.sandbox,
        cell_errors=_cell_errors(run), notes=tuple(t for t, _ in shown), figures=figures, cache_key=ran.key,
        lang=lang, moodle_id=sub.moodle_id, flags=flags, error_msg=error_msg,
        note_msgs=tuple(m for _, m in shown), cpu_s=run.cpu_s)
    return apply_lateness(result, ran.when, rubric, lang)


def _message(value: str | Text, lang: str) -> dict[str, Any]:
    """A check's message as its result keeps it: the text in `lang` and the catalogue message."""
    text_, message = said(value, lang)
    return {"message": text_, "msg": message}


def _withhold(result: CheckResult, message: Text, lang: str) -> CheckResult:
    """A check left to the instructor: no points until the overrides file gives them."""
    return dataclasses.replace(result, status="manual", points=0.0, message=message.render(lang), msg=message)


def _error_texts(run: RunOutcome) -> list[str]:
    return [f"{c.evalue}\n{c.traceback}" for c in run.cells if c.status == "error"]


def _data_request(setup: BatchSetup) -> dict[str, Any]:
    return {"mounts": setup.mounts(), "env": setup.env(), "after": setup.after_probe(),
            "device": setup.sandbox_device()}


def _submission_status(run: RunOutcome, lang: str, timeout: float) -> tuple[str, Text | None]:
    if run.status == "timeout":
        return "timeout", msg("run.timeout", seconds=int(run.duration_s))
    if run.status in ("memory", "crashed") and run.problem is not None:
        return "error", msg(run.problem.key, **run.problem.fields)
    if run.harness_error:
        return "graded", msg("run.harness_error", detail=run.harness_error)
    return "graded", None


def _timeout_note(cell: CellRecord) -> Text:
    """Which limit stopped a cell, in the student's words: CPU used, time waited, or real time."""
    if cell.limit == "cpu":
        return msg("run.cell_cpu_limit", cell=cell.number, used=round(cell.cpu_s), limit=round(cell.limit_s))
    if cell.limit == "idle":
        return msg("run.cell_idle", cell=cell.number, waited=round(cell.limit_s))
    if cell.limit == "wall":
        return msg("run.cell_wall", cell=cell.number, seconds=round(cell.limit_s))
    return msg("run.cell_timeout", cell=cell.number, seconds=int(cell.duration_s))


def _shim_note(line: str) -> Text:
    """A stand-in the run used: the compatibility shims log a catalogue name, the others a line."""
    name = line.removeprefix("compat:")
    key = f"run.compat.{name}"
    if name != line and key in catalogue():
        return msg(key)
    return msg("run.shim_used", detail=line)


def _missing_package(evalue: str) -> str | None:
    """The top-level package in "No module named 'x.y'", or None."""
    match = re.match(r"No module named '([^']+)'", evalue.strip())
    return match.group(1).split(".")[0] if match else None


def _run_notes(run: RunOutcome, timeout: float) -> list[str | Text]:
    notes: list[str | Text] = []
    for cell in run.cells:
        if cell.status == "timeout":
            notes.append(_timeout_note(cell))
        elif cell.status == "skipped_deadline":
            notes.append(msg("run.cell_skipped", cell=cell.number, limit=int(timeout)))
        elif cell.status == "died":
            notes.append(msg("run.cell_died", cell=cell.number))
    if run.skipped_lines:
        shown = "; ".join(run.skipped_lines[:5])
        notes.append(msg("run.colab_skipped", lines=shown))
    if run.kernel_restarts:
        notes.append(msg("run.restarted"))
    notes += [_shim_note(line) for line in run.shims]
    for cell in run.cells:
        if cell.ename == "ModuleNotFoundError" and (package := _missing_package(cell.evalue)):
            notes.append(msg("run.missing_package", cell=cell.number, package=package))
    notes += [msg(remark.key, **remark.fields) for remark in run.remarks]
    return notes


def _own_name(sub: Submission) -> str:
    """The submission as the student knows it: the entry's path inside their own work (never the
    instructor's folders), or their folder's or file's name when there is no entry."""
    if sub.entry is None:
        return sub.source.name
    return str(sub.entry.relative_to(sub.files_root)) if sub.entry.is_relative_to(sub.files_root) else sub.entry.name


def _cell_errors(run: RunOutcome) -> tuple[CellError, ...]:
    counts = execution_counts(run.executed_notebook)  # IPython's "Cell In[9]" -> the student's "Cell 4"
    return tuple(CellError(c.number, c.ename, c.evalue, in_student_cells(c.traceback, counts, c.number))
                 for c in run.cells if c.status == "error")


def _records(rubric: Rubric) -> list[str]:
    """The files of a student's folder the rubric's families' checks read."""
    return [path for fam in rubric_families(rubric) for path in fam.records]


def _score(spec: CheckSpec, art: Artifacts, run: RunOutcome, lang: str,
           student_dir: Path) -> tuple[CheckResult, tuple[Flag, ...]]:
    """The check's result (its figures drawn into `student_dir`) and the flags it raised for the
    instructor's review."""
    title = text(spec.title, lang)
    try:
        outcome = _outcome(spec, art)
    except GraderError as exc:
        return CheckResult(spec.id, title, "error", 0.0, spec.points, str(exc), visibility=spec.visibility,
                           msg=kept_message(exc)), ()
    except Exception:
        logger.exception("check %s failed", spec.id)
        return CheckResult(spec.id, title, "error", 0.0, spec.points,
                           **_message(msg("run.check_crashed", check=spec.id), lang), visibility=spec.visibility), ()
    if outcome is None:
        return CheckResult(spec.id, title, "error", 0.0, spec.points,
                           **_message(msg("run.unknown_check", kind=spec.kind), lang), visibility=spec.visibility), ()
    flags = tuple(dataclasses.replace(flag, check=flag.check or spec.id) for flag in outcome.flags)
    return _result(spec, title, outcome, run, lang, draw_all(outcome.figures, student_dir)), flags


def _outcome(spec: CheckSpec, art: Artifacts) -> Outcome | None:
    """What the rubric's check kind says of this submission (None: no such kind)."""
    fn = CHECKS.get(spec.kind)
    return None if fn is None else fn(art, dict(spec.params))


def _result(spec: CheckSpec, title: str, outcome: Outcome, run: RunOutcome, lang: str,
            figures: tuple[str, ...]) -> CheckResult:
    message: str | Text = outcome.message
    if outcome.key == MANUAL_KEY:  # the instructor's points come later, from the overrides file
        return CheckResult(spec.id, title, "manual", 0.0, spec.points, **_message(message, lang),
                           metrics=dict(outcome.metrics), figures=figures, visibility=spec.visibility)
    share = spec.credit.get(outcome.key, 1.0 if outcome.key == "ok" else 0.0)
    points = round(spec.points * share, 4)
    status = "pass" if share >= 1.0 else ("fail" if share <= 0.0 else "partial")
    if share < 1.0 and run_evidence(spec.kind) and outcome.key in NOTHING_FOUND:
        failed = [c for c in run.cells if c.status in ("error", "timeout", "died")]
        if failed:
            first = failed[0]
            what = first.ename or first.status
            after = msg("gd.after_error", cell=first.number, error=what)
            message = joined([message, after], "") if not isinstance(message, str) else message + after.render(lang)
    return CheckResult(spec.id, title, status, points, spec.points, **_message(message, lang),  # type: ignore[arg-type]
                       metrics=dict(outcome.metrics), figures=figures, visibility=spec.visibility)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
