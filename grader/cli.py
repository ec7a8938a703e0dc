"""The `grader` command: a thin click layer over the library."""
from __future__ import annotations

import logging
import os
import shutil
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from grader.errors import GraderError
from grader.executors import EXECUTORS
from grader.families import options as family_options
from grader.results import load_batch

if TYPE_CHECKING:
    from grader.report.exports import BonusPolicy
    from grader.rubric import Rubric

T = TypeVar("T")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


def _named_folders(flag: str, values: tuple[str, ...]) -> dict[str, Path]:
    """`--data mnist=<folder>` options as {name: folder}."""
    out: dict[str, Path] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not name.strip() or not folder.strip():
            raise click.BadParameter(f"expected NAME=FOLDER (e.g. mnist=./mnist), got {value!r}", param_hint=flag)
        path = Path(folder.strip()).expanduser()
        if not path.is_dir():
            raise click.BadParameter(f"{path} is not a folder", param_hint=flag)
        out[name.strip().lower()] = path
    return out


F = TypeVar("F", bound=Callable[..., Any])


def _family_options(command: F) -> F:
    """The options the assignment families add to `grade` (grader.families), in the table's order."""
    for opt in reversed(family_options()):
        if opt.kind == "flag":
            command = click.option(opt.flag, opt.name, is_flag=True, help=opt.help)(command)
        elif opt.kind == "folder":
            command = click.option(opt.flag, opt.name, type=click.Path(exists=True, file_okay=False, path_type=Path),
                                   default=None, metavar=opt.metavar, help=opt.help)(command)
        else:  # named_folders: NAME=FOLDER, repeatable
            command = click.option(opt.flag, opt.name, multiple=True, metavar=opt.metavar, help=opt.help)(command)
    return command


def _family_values(given: dict[str, Any]) -> dict[str, Any]:
    """The families' option values as their hooks read them."""
    declared = {opt.name: opt for opt in family_options()}
    return {name: _named_folders(declared[name].flag, value) if declared[name].kind == "named_folders" else value
            for name, value in given.items()}


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what the grader does.")
@click.version_option(package_name="grader")
def main(verbose: bool) -> None:
    """Autograder for the course "Neural-network technologies of data analysis"."""
    _setup_logging(verbose)


@main.command()
@click.argument("folder", type=click.Path(exists=True, path_type=Path))
@click.option("-a", "--assignment", required=True, help="Rubric name in rubrics/ (e.g. task1) or a YAML path.")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="FOLDER", help="Output folder (default: reports/<assignment>).")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None, help="Report language (default: the rubric's).")
@click.option("--workers", type=int, default=None, help="Submissions graded in parallel (default: number of cores).")
@click.option("--timeout", "timeout_s", type=float, default=None, help="Seconds for a whole submission (overrides the rubric).")
@click.option("--force", is_flag=True, help="Re-grade everyone, even unchanged submissions.")
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "plain"]), default="auto",
              help="Isolation: bubblewrap (auto: stop and say how to install it where it is missing) or, "
                   "asked for by name, a plain process with no isolation (trusted code only, e.g. the samples).")
@click.option("--allow-file-times", is_flag=True,
              help="Use file modification times as submission times when nothing better is known (late penalties).")
@click.option("--moodle-worksheet", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Moodle grading worksheet (CSV): submission times, and the template of moodle_grades.csv "
                   "(default: one found in FOLDER).")
@click.option("--moodle-lang", type=click.Choice(["ru", "en"]), default=None,
              help="Language of the Moodle interface the grades are uploaded in (column titles).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              help="Where student models are evaluated (Task 2): a GPU when there is one (auto), or forced.")
@click.option("--executor", type=click.Choice(list(EXECUTORS)), default="local", show_default=True,
              help="Where the sandboxed runs happen: " + "; ".join(f"{name}: {e.summary}" for name, e in EXECUTORS.items())
                   + ". The checks, results and reports are always made here.")
@click.option("--address", default=None, metavar="auto|HOST:PORT",
              help="--executor ray: the cluster to grade on, auto (the one started on this machine with `ray start "
                   "--head`, or RAY_ADDRESS) or its head's HOST:PORT (default: auto).")
@click.option("--check-memory", "check_memory_mb", type=click.IntRange(min=512), default=4096, show_default=True,
              metavar="MB", help="Memory each process that runs the checks may use; a submission whose checks need "
                   "more gets an error that says so, and the batch goes on.")
@_family_options
def grade(folder: Path, assignment: str, out_dir: Path | None, lang: str | None, workers: int | None,
          timeout_s: float | None, force: bool, sandbox: str, allow_file_times: bool,
          moodle_worksheet: Path | None, moodle_lang: str | None, device: str, executor: str,
          address: str | None, check_memory_mb: int, **family: Any) -> None:
    """Grade every submission in FOLDER (one sub-folder or file per student)."""
    from grader.grading import GradeOptions, Progress, default_workers, grade_batch
    from grader.i18n import localized, tr
    from grader.late import find_moodle_worksheet
    from grader.report.batch import render_batch, summary_lines
    from grader.report.exports import write_exports
    from grader.report.html import round_points, sandbox_summary
    from grader.rubric import load_rubric
    from grader.rubric.schema import text

    if address is not None and executor == "local":
        raise click.UsageError("--address names a cluster: use it with --executor ray")
    try:
        rubric = load_rubric(assignment)
        out = out_dir or Path("reports") / rubric.assignment
        worksheet = moodle_worksheet or find_moodle_worksheet(folder)
        options = GradeOptions(out_dir=out, lang=lang, workers=workers or default_workers(),
                               timeout_s=timeout_s, force=force, sandbox=sandbox,
                               allow_file_times=allow_file_times, moodle_worksheet=worksheet,
                               device=device, family_options=_family_values(family), executor=executor,
                               address=address, check_memory_mb=check_memory_mb)
        tty = sys.stderr.isatty()
        shown_lang = lang or rubric.lang

        def progress(p: Progress) -> None:
            bar = "#" * int(20 * p.done / max(p.total, 1))
            now = ", ".join(p.running[:3]) + (" ..." if len(p.running) > 3 else "")
            line = f"[{bar:<20}] {p.done}/{p.total}  {now}"
            if tty:
                click.echo("\r" + line[:120].ljust(120), nl=False, err=True)
            elif p.last is not None:
                click.echo(tr(shown_lang, "cli.progress", done=p.done, total=p.total, student=p.last.student,
                              score=round_points(p.last.score), max=round_points(p.last.max_score),
                              status=tr(shown_lang, f"report.submission_status.{p.last.status}")), err=True)

        batch = grade_batch(folder, rubric, options, on_progress=progress)
        if tty:
            click.echo("", err=True)
        index = render_batch(batch, out, title=text(rubric.title, shown_lang), lang=shown_lang,
                             check_ids=[c.id for c in rubric.checks], bonus_ids=_bonus_ids(rubric),
                             titles=_titles(rubric, shown_lang))
        kinds = ["gradescope"] + (["moodle"] if any(r.moodle_id for r in batch.students) else [])
        exported = write_exports(batch, out, kinds, lang=shown_lang, moodle_lang=moodle_lang,
                                 moodle_worksheet=worksheet, bonus=_bonus_policy(rubric))
    except GraderError as exc:
        raise click.ClickException(str(exc)) from exc
    for warning in exported.warnings:
        click.echo(f"Moodle: {warning}", err=True)
    for line in summary_lines(batch, shown_lang):
        click.echo(line)
    click.echo(tr(shown_lang, "cli.sandbox", sandbox=localized(batch.sandbox, sandbox_summary(batch.sandbox),
                                                               shown_lang)))
    _echo_notices(out, shown_lang)
    click.echo(tr(shown_lang, "cli.results", path=out / "results.json"))
    click.echo(tr(shown_lang, "cli.report", path=index))
    if any(path.name == "moodle_grades.csv" for path in exported.paths):
        click.echo(tr(shown_lang, "cli.moodle", path=out / "moodle_grades.csv"))


def _titles(rubric: Rubric, lang: str) -> dict[str, str]:
    from grader.report.batch import check_titles

    return check_titles(rubric, lang)


def _bonus_ids(rubric: Rubric) -> list[str]:
    return [c.id for c in rubric.checks if c.bonus]


def _bonus_policy(rubric: Rubric) -> BonusPolicy:
    """The rubric's choice for bonus points above the maximum in Moodle."""
    from grader.report.exports import BonusPolicy

    return BonusPolicy(rubric.moodle.bonus, top_score=rubric.top_score)


def _echo_notices(out: Path, lang: str) -> None:
    """What the instructor must fix once for the batch (HW 3: pretrained files the students' code
    needed and the grader lacks), the same notices as above the table in index.html."""
    from grader.report.batch import instructor_notices

    for notice in instructor_notices(out, lang):
        click.echo(notice, err=True)


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-a", "--assignment", default=None, help="Rubric (default: the one named in results.json).")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None,
              help="Report language (default: the rubric's): every label, message and chart is rendered in it.")
@click.option("--overrides", "overrides_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, metavar="FILE", help="Instructor's grades (YAML or CSV: student, check, points, comment) merged into "
                                 "the results (default: grades/overrides.yaml|.yml|.csv in the current folder "
                                 "or in OUT_DIR).")
def report(out_dir: Path, assignment: str | None, lang: str | None, overrides_path: Path | None) -> None:
    """Re-render the HTML reports and gradebook of a graded batch (nothing is re-run), with the
    instructor's grades from the overrides file merged in."""
    from grader.i18n import tr
    from grader.overrides import awaiting_review, find_overrides_file, merge_overrides
    from grader.report.batch import render_batch, student_folders
    from grader.results import write_json_atomic
    from grader.rubric import load_rubric
    from grader.rubric.schema import text

    try:
        batch = load_batch(out_dir / "results.json")
        rubric = load_rubric(assignment or batch.assignment)
        shown = lang or rubric.lang
        path = overrides_path or find_overrides_file(Path.cwd(), out_dir)
        applied = 0
        if path is not None:
            batch, applied = merge_overrides(batch, path, shown, student_folders(out_dir))
            write_json_atomic(out_dir / "results.json", batch.to_json())
        index = render_batch(batch, out_dir, title=text(rubric.title, shown), lang=shown,
                             check_ids=[c.id for c in rubric.checks], bonus_ids=_bonus_ids(rubric),
                             titles=_titles(rubric, shown))
    except (GraderError, OSError, ValueError, KeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    if path is not None:
        click.echo(tr(shown, "cli.overrides", path=path, applied=applied))
    waiting = awaiting_review(batch)
    if waiting:
        click.echo(tr(shown, "cli.awaiting", count=waiting))
    _echo_notices(out_dir, shown)
    click.echo(tr(shown, "cli.report", path=index))


@main.command("validate-rubric")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_rubric(path: Path) -> None:
    """Check a rubric YAML file; problems are listed with file, line and key."""
    from grader.rubric import validate_rubric_file

    problems = validate_rubric_file(path)
    if problems:
        raise click.ClickException("\n".join(problems))
    click.echo(f"{path}: OK")


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--to", "kinds", type=click.Choice(["gradebook", "gradescope", "moodle", "all"]), multiple=True,
              default=("all",), show_default=True, help="Which export (repeatable).")
@click.option("-a", "--assignment", default=None, help="Rubric (default: the one named in results.json).")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None,
              help="Language of feedback texts (default: the rubric's).")
@click.option("--moodle-lang", type=click.Choice(["ru", "en"]), default=None,
              help="Language of the Moodle interface the grades are uploaded in (column titles).")
@click.option("--moodle-worksheet", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Fill this grading worksheet downloaded from Moodle instead of writing a new CSV.")
def export(out_dir: Path, kinds: tuple[str, ...], assignment: str | None, lang: str | None,
           moodle_lang: str | None, moodle_worksheet: Path | None) -> None:
    """Write gradebook exports of a graded batch in OUT_DIR (nothing is re-run)."""
    from grader.report.exports import EXPORT_KINDS, write_exports
    from grader.rubric import load_rubric

    wanted = list(EXPORT_KINDS) if "all" in kinds else list(dict.fromkeys(kinds))
    try:
        batch = load_batch(out_dir / "results.json")
        rubric = load_rubric(assignment or batch.assignment)
        done = write_exports(batch, out_dir, wanted, lang=lang or rubric.lang, check_ids=[c.id for c in rubric.checks],
                             moodle_lang=moodle_lang, moodle_worksheet=moodle_worksheet, bonus=_bonus_policy(rubric))
    except (GraderError, OSError, ValueError, KeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    for warning in done.warnings:
        click.echo(f"Moodle: {warning}", err=True)
    for path in done.paths:
        click.echo(str(path))


def _with_rubric(assignment: str, lang: str | None, work: Callable[[Rubric, str], T]) -> tuple[T | None, str, str]:
    """Load the rubric and run ``work(rubric, language)``: (its result, the language, "") or, on
    failure, (None, the language, a plain message): a student never sees our traceback."""
    from grader.rubric import load_rubric

    from grader.i18n import error_text, tr

    shown = lang or "ru"
    try:
        rubric = load_rubric(assignment)
        shown = lang or rubric.lang
        return work(rubric, shown), shown, ""
    except GraderError as exc:
        return None, shown, error_text(exc, shown)
    except Exception as exc:
        logging.getLogger(__name__).info("the grader failed", exc_info=True)
        return None, shown, tr(shown, "grader.internal_error", error=f"{type(exc).__name__}: {exc}")


def _colour_wanted() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("-a", "--assignment", required=True, help="Rubric name (e.g. task1) or a YAML path.")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None, help="Language (default: the rubric's).")
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "plain"]), default="auto",
              help="Isolation: bubblewrap when it works here, else a plain process (said in the output).")
@click.option("--timeout", "timeout_s", type=float, default=None,
              help="Seconds for the whole run (default: the rubric's).")
def check(path: Path, assignment: str, lang: str | None, sandbox: str, timeout_s: float | None) -> None:
    """Self-check: run the checks a student may see on a notebook or work folder.

    Exit status: 0 when every required visible check passes, 1 otherwise, 2 when the grader
    itself failed.
    """
    from grader.i18n import tr
    from grader.selfcheck import render, run_self_check

    tty = sys.stderr.isatty()

    def running(shown: str) -> Callable[[int, int], None] | None:
        """In a terminal: one line, rewritten as each cell starts ("Running cell 3 of 12...")."""
        if not tty:
            return None
        return lambda cell, cells: click.echo("\r" + tr(shown, "selfcheck.running_cell", cell=cell, cells=cells)
                                              .ljust(60), nl=False, err=True)

    with warnings.catch_warnings():
        if not logging.getLogger().isEnabledFor(logging.INFO):  # numeric noise from analysing odd steps
            warnings.simplefilter("ignore", RuntimeWarning)
        result, shown_lang, error = _with_rubric(assignment, lang, lambda rubric, shown: run_self_check(
            path, rubric, lang=shown, sandbox=sandbox, timeout_s=timeout_s,  # type: ignore[arg-type]
            progress=running(shown)))
    if tty:
        click.echo("\r" + " " * 60 + "\r", nl=False, err=True)
    if result is None:
        click.echo(tr(shown_lang, "selfcheck.grader_error", error=error), err=True)
        sys.exit(2)
    width = min(shutil.get_terminal_size((100, 24)).columns, 140)
    click.echo(render(result, shown_lang, colour=_colour_wanted(), width=width))
    sys.exit(0 if result.passed else 1)


@main.command()
@click.option("-a", "--assignment", required=True, help="Rubric name or YAML path (e.g. .github/classroom/task1.yaml).")
@click.option("--path", "repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("."),
              metavar="FOLDER", help="The repository to grade (default: the current folder).")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None, help="Language (default: the rubric's).")
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "plain"]), default="auto",
              help="Isolation: bubblewrap when it works here, else a plain process (said in the result).")
@click.option("--max-score", type=float, default=None,
              help="The rubric's maximum, for the result Classroom gets when the rubric itself cannot be read "
                   "(init-classroom writes it into the workflow).")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="FOLDER", help="Keep the run's files here (default: a temporary folder, removed).")
def ci(assignment: str, repo: Path, lang: str | None, sandbox: str, max_score: float | None,
       out_dir: Path | None) -> None:
    """GitHub Classroom: grade this repository, write the reporter's step outputs.

    Exit status 0 whenever a result was written (the Classroom reporter fails the job on a
    failing result), 2 when no result could be written.
    """
    from grader.classroom import RUNNERS, CiOutcome, append_summary, failed_outcome, grade_repository, \
        write_step_output

    known: dict[str, float] = {}

    def work(rubric: Rubric, shown: str) -> CiOutcome:
        known["max_score"] = rubric.max_score  # the rubric's own maximum, should grading fail after this
        return grade_repository(repo, rubric, lang=shown, sandbox=sandbox, out_dir=out_dir)  # type: ignore[arg-type]

    graded, shown_lang, error = _with_rubric(assignment, lang, work)
    # the reporter still gets a result: 0 of the rubric's maximum when it could be read
    outcome = graded or failed_outcome(error or "", shown_lang, known.get("max_score", max_score))
    outputs = outcome.outputs()
    output = os.environ.get("GITHUB_OUTPUT")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    try:
        if output:
            for name, value in outputs.items():
                write_step_output(Path(output), name, value)
        if summary:
            append_summary(Path(summary), outcome.summary)
    except OSError as exc:
        click.echo(f"cannot write the GitHub Actions files: {exc}", err=True)
        sys.exit(2)
    if not output:
        from grader.i18n import tr

        click.echo(tr(shown_lang, "ci.no_output"), err=True)
        click.echo(outcome.summary)
        for runner, name in RUNNERS.items():
            click.echo(f"{runner.upper()}_RESULTS={outputs[name]}")
    click.echo(outcome.points_line)


@main.command("init-classroom")
@click.option("-a", "--assignment", required=True, help="Rubric name (e.g. task1) or a YAML path.")
@click.option("--path", "repo", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              metavar="FOLDER", help="The student template repository (default: the current folder).")
@click.option("--grader-spec", default=None,
              help="What the workflow pip-installs (default: this grader's git origin at its current commit).")
@click.option("--python", "python_version", default="3.11", show_default=True, help="Python version in Actions.")
@click.option("--force", is_flag=True, help="Overwrite an existing workflow or rubric copy.")
def init_classroom(assignment: str, repo: Path, grader_spec: str | None, python_version: str, force: bool) -> None:
    """Write .github/workflows/classroom.yml (and a rubric copy) for a GitHub Classroom template."""
    from grader.classroom import default_grader_spec, write_classroom_files
    from grader.i18n import tr
    from grader.rubric import load_rubric

    try:
        rubric = load_rubric(assignment)
        spec = grader_spec or default_grader_spec()
        if not spec:
            raise click.UsageError(tr(rubric.lang, "classroom.no_spec"))
        written = write_classroom_files(repo, rubric, grader_spec=spec, python=python_version, force=force,
                                        lang=rubric.lang)
    except GraderError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in written:
        click.echo(f"wrote {path}")
    hidden = sum(1 for c in rubric.checks if c.visibility != "visible")
    if hidden:
        click.echo(tr(rubric.lang, "classroom.hidden_warning", count=hidden), err=True)


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-a", "--assignment", default=None, help="Rubric (default: the one named in results.json).")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None,
              help="Language of the page (default: the reports'; the page can switch).")
@click.option("--overrides", "overrides_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The overrides file to write (default: the one grader report reads, else "
                   "OUT_DIR/grades/overrides.yaml).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port on 127.0.0.1 (default: a free one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
def review(out_dir: Path, assignment: str | None, lang: str | None, overrides_path: Path | None, port: int,
           open_browser: bool) -> None:
    """Grade manual items and answer flags on a local web page (127.0.0.1, with a secret token in
    its address): each save writes the overrides file and re-renders the reports and exports."""
    from grader.i18n import tr

    try:
        from grader.review.server import ReviewSettings, address, bind, make_app, new_token, server_for
        from grader.review.store import open_review
    except ImportError as exc:
        raise click.ClickException(tr(lang or "en", "review.extra_missing", error=exc)) from exc
    try:
        store = open_review(out_dir, assignment, overrides_path)
    except (GraderError, OSError, ValueError, KeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    shown = lang or store.lang
    token = new_token()
    try:
        sock = bind(port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc}") from exc
    url = address(sock, token)
    click.echo(tr(shown, "review.serving", url=url, path=store.overrides))
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    server_for(make_app(store, ReviewSettings(token, shown))).run(sockets=[sock])


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--starter", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The instructor's starter notebook (or .py): its code is left out of the comparison.")
@click.option("--threshold", type=click.FloatRange(0.05, 1.0), default=0.5, show_default=True,
              help="Report a pair when the common code is at least this share of either student's code.")
@click.option("-a", "--assignment", default=None, help="Rubric (default: the one named in results.json).")
def similarity(out_dir: Path, starter: Path | None, threshold: float, assignment: str | None) -> None:
    """Compare the code of every student in a graded batch (winnowed fingerprints of the normalised
    code cells): pairs go to OUT_DIR/similarity.json, the class index and the review page. They
    never change a grade."""
    from grader.i18n import tr
    from grader.report.batch import render_class
    from grader.rubric import load_rubric
    from grader.rubric.schema import text

    try:
        from grader.similarity.batch import compare_batch
        from grader.similarity.detect import Settings
    except ImportError as exc:
        raise click.ClickException(tr("en", "review.extra_missing", error=exc)) from exc
    try:
        found = compare_batch(out_dir, starter=starter, settings=Settings(threshold=threshold))
        batch = load_batch(out_dir / "results.json")
        rubric = load_rubric(assignment or batch.assignment)
        shown = batch.students[0].lang if batch.students else rubric.lang
        index = render_class(batch, out_dir, title=text(rubric.title, shown), lang=shown,
                             check_ids=[c.id for c in rubric.checks], titles=_titles(rubric, shown))
    except (GraderError, OSError, ValueError, KeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    if found.skipped:
        click.echo(tr(shown, "similarity.skipped", names=", ".join(found.skipped)), err=True)
    click.echo(tr(shown, "similarity.done", compared=found.compared, pairs=len(found.pairs),
                  path=out_dir / "similarity.json", index=index))


@main.command("init-gradescope")
@click.option("-a", "--assignment", required=True, help="Rubric name (e.g. task1) or a YAML path.")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="The zip to write (default: gradescope_<assignment>.zip here).")
@click.option("--grader-spec", default=None,
              help="What setup.sh pip-installs: a requirement, or the path of a grader wheel to put in the zip "
                   "(default: this grader's git origin at its current commit).")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None, help="Language of the results (default: the rubric's).")
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "plain"]), default="auto", show_default=True,
              help="Isolation inside Gradescope's container: bubblewrap when it works there (auto), required (bwrap), "
                   "or none beyond the container (plain).")
@click.option("--force", is_flag=True, help="Overwrite an existing zip.")
def init_gradescope(assignment: str, out_path: Path | None, grader_spec: str | None, lang: str | None,
                    sandbox: str, force: bool) -> None:
    """Write the Gradescope autograder zip (setup.sh, run_autograder, the rubric)."""
    from grader.classroom import default_grader_spec
    from grader.gradescope import build_bundle
    from grader.i18n import tr
    from grader.rubric import load_rubric

    try:
        rubric = load_rubric(assignment)
        shown = lang or rubric.lang
        spec = grader_spec or default_grader_spec()
        if not spec:
            raise click.UsageError(tr(shown, "gradescope.no_spec"))
        path = out_path or Path(f"gradescope_{rubric.assignment}.zip")
        if path.exists() and not force:
            raise click.ClickException(tr(shown, "gradescope.exists", path=str(path)))
        bundle = build_bundle(rubric, grader_spec=spec, lang=lang, sandbox=sandbox)  # type: ignore[arg-type]
        bundle.write(path)
    except GraderError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(tr(shown, "gradescope.written", path=str(path), files=", ".join(sorted(bundle.files))))
    click.echo(tr(shown, "gradescope.sandbox_note", sandbox=sandbox), err=True)


@main.command("gradescope-run")
@click.option("-a", "--assignment", required=True, help="Rubric name or YAML path (in the bundle: source/<rubric>).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="FOLDER",
              help="Gradescope's autograder folder (default: $GRADER_AUTOGRADER_ROOT, else /autograder).")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None, help="Language (default: the rubric's).")
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "plain"]), default="auto", show_default=True,
              help="Isolation: bubblewrap when it works here (auto), required (bwrap), or none (plain).")
def gradescope_run(assignment: str, root: Path | None, lang: str | None, sandbox: str) -> None:
    """Inside Gradescope (run_autograder calls it): grade ROOT/submission, write
    ROOT/results/results.json. Exit status 0 whenever results.json was written."""
    from grader.gradescope import autograder_root, run_autograder

    folder = root or autograder_root()
    data = run_autograder(folder, assignment, lang=lang, sandbox=sandbox)  # type: ignore[arg-type]
    click.echo(f"score {data['score']}; results: {folder / 'results' / 'results.json'}")
    if data.get("extra_data", {}).get("sandbox"):  # stdout: for the instructor only
        click.echo(f"sandbox: {data['extra_data']['sandbox']}")
