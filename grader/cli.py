"""The `grader` command: a thin click layer over the library."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from grader.errors import GraderError
from grader.results import load_batch


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


def _data_options(values: tuple[str, ...]) -> dict[str, Path]:
    """`--data mnist=<folder>` options as {name: folder}."""
    out: dict[str, Path] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not name.strip() or not folder.strip():
            raise click.BadParameter(f"expected NAME=FOLDER (e.g. mnist=./mnist), got {value!r}", param_hint="--data")
        path = Path(folder.strip()).expanduser()
        if not path.is_dir():
            raise click.BadParameter(f"{path} is not a folder", param_hint="--data")
        out[name.strip().lower()] = path
    return out


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what the grader does.")
@click.version_option(package_name="grader")
def main(verbose: bool) -> None:
    """Autograder for the course "Neural-network technologies of data analysis"."""
    _setup_logging(verbose)


@main.command()
@click.argument("folder", type=click.Path(exists=True, path_type=Path))
@click.option("-a", "--assignment", required=True, help="Rubric name in rubrics/ (e.g. task1) or a YAML path.")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: reports/<assignment>).")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None, help="Report language (default: the rubric's).")
@click.option("--workers", type=int, default=None, help="Submissions graded in parallel (default: number of cores).")
@click.option("--timeout", "timeout_s", type=float, default=None, help="Seconds for a whole submission (overrides the rubric).")
@click.option("--force", is_flag=True, help="Re-grade everyone, even unchanged submissions.")
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "plain"]), default="auto",
              help="Isolation: bubblewrap (auto when available) or a plain process (trusted code only).")
@click.option("--data", "data", multiple=True, metavar="NAME=FOLDER",
              help="Dataset for the runs, e.g. mnist=<folder> with the four MNIST IDX files (plain or .gz) "
                   "or a torchvision root (Task 2; default: the built-in demo data).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              help="Where student models are evaluated (Task 2): a GPU when there is one (auto), or forced.")
def grade(folder: Path, assignment: str, out_dir: Path | None, lang: str | None, workers: int | None,
          timeout_s: float | None, force: bool, sandbox: str, data: tuple[str, ...], device: str) -> None:
    """Grade every submission in FOLDER (one sub-folder or file per student)."""
    from grader.grading import GradeOptions, Progress, default_workers, grade_batch
    from grader.report.batch import render_batch
    from grader.rubric import load_rubric
    from grader.rubric.schema import text

    try:
        rubric = load_rubric(assignment)
        out = out_dir or Path("reports") / rubric.assignment
        options = GradeOptions(out_dir=out, lang=lang, workers=workers or default_workers(),
                               timeout_s=timeout_s, force=force, sandbox=sandbox,
                               data=_data_options(data), device=device)
        tty = sys.stderr.isatty()

        def progress(p: Progress) -> None:
            bar = "#" * int(20 * p.done / max(p.total, 1))
            now = ", ".join(p.running[:3]) + (" ..." if len(p.running) > 3 else "")
            line = f"[{bar:<20}] {p.done}/{p.total}  {now}"
            if tty:
                click.echo("\r" + line[:120].ljust(120), nl=False, err=True)
            elif p.last is not None:
                click.echo(f"{p.done}/{p.total} {p.last.student}: {p.last.score:g}/{p.last.max_score:g} "
                           f"({p.last.status})", err=True)

        batch = grade_batch(folder, rubric, options, on_progress=progress)
        if tty:
            click.echo("", err=True)
        shown_lang = lang or rubric.lang
        index = render_batch(batch, out, title=text(rubric.title, shown_lang), lang=shown_lang,
                             check_ids=[c.id for c in rubric.checks])
    except GraderError as exc:
        raise click.ClickException(str(exc)) from exc
    counts = {s: sum(1 for r in batch.students if r.status == s) for s in ("graded", "error", "timeout")}
    click.echo(f"{len(batch.students)} submissions: {counts['graded']} graded, {counts['error']} error, "
               f"{counts['timeout']} timeout.")
    click.echo(f"Sandbox: {batch.sandbox}")
    click.echo(f"Results: {out / 'results.json'}\nReport:  {index}")


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-a", "--assignment", default=None, help="Rubric (default: the one named in results.json).")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None)
def report(out_dir: Path, assignment: str | None, lang: str | None) -> None:
    """Re-render the HTML reports and gradebook of a graded batch (nothing is re-run)."""
    from grader.report.batch import render_batch
    from grader.rubric import load_rubric
    from grader.rubric.schema import text

    try:
        batch = load_batch(out_dir / "results.json")
        rubric = load_rubric(assignment or batch.assignment)
        shown = lang or rubric.lang
        index = render_batch(batch, out_dir, title=text(rubric.title, shown), lang=shown,
                             check_ids=[c.id for c in rubric.checks])
    except (GraderError, OSError, ValueError, KeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Report: {index}")


@main.command("validate-rubric")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_rubric(path: Path) -> None:
    """Check a rubric YAML file; problems are listed with file, line and key."""
    from grader.rubric import validate_rubric_file

    problems = validate_rubric_file(path)
    if problems:
        raise click.ClickException("\n".join(problems))
    click.echo(f"{path}: OK")
