"""Finding the students in a submissions folder and each one's entry file.

A submissions root is one of:
  * a folder with one sub-folder or one file per student (Moodle "download all", with or without
    folders; GitHub Classroom clones ``<assignment>-<login>``; plain names);
  * one student's notebook, script or zip;
  * a zip of the whole class folder (unpacked, then treated as a folder).

One bad student never stops the rest: whatever goes wrong becomes that student's `error`.
"""
from __future__ import annotations

import hashlib
import fnmatch
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.errors import IntakeError
from grader.i18n import Text, joined, kept_message, msg, said, tr
from grader.intake.archive import ArchiveCaps, is_zip, safe_extract
from grader.intake.entry import check_entry, choose_entry, first_match, is_checkpoint
from grader.intake.names import (
    detect_classroom_prefix,
    nfc,
    parse_moodle,
    strip_classroom_prefix,
    unique_ids,
)

logger = logging.getLogger(__name__)

DEFAULT_PATTERNS: tuple[str, ...] = ("*.ipynb", "*.py")
_JUNK = {"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini"}
_OTHER_ARCHIVES = {
    ".rar": "RAR", ".7z": "7z", ".tar": "tar", ".gz": "gzip", ".tgz": "tar.gz",
    ".bz2": "bzip2", ".xz": "xz",
}
_MAX_LISTED = 6
_ROOT_UNPACK = "_root"  # slugs never start with "_", so this cannot clash with a student


@dataclass(frozen=True)
class Submission:
    """One student's hand-in, as found and as it will be run."""

    student: str
    """Display name: "Ivanov Ivan" from Moodle, the login from GitHub Classroom, else the name."""
    student_id: str
    """Filesystem-safe unique slug (Cyrillic kept): the report folder name."""
    source: Path
    """The student's folder or file as found in the submissions root."""
    files_root: Path
    """The folder the sandbox copy is made from; only `files` under it belong to the student."""
    files: tuple[Path, ...]
    """The student's files (absolute, under `files_root`), sorted by relative path."""
    entry: Path | None
    """The notebook or script to run (under `files_root`), or None when there is none."""
    sha256: str
    """Hash of the files as handed in (relative paths and contents): stable across runs."""
    notes: tuple[str, ...] = ()
    """Translated lines for the student's report."""
    error: str | None = None
    """Translated message when nothing can be graded; None otherwise."""
    note_msgs: tuple[Text | None, ...] = ()
    """`notes` as catalogue messages (one for each note), for reports in another language."""
    error_msg: Text | None = None
    """`error` as a catalogue message."""
    moodle_id: str | None = None
    login: str | None = None


@dataclass(frozen=True)
class _Unit:
    """What one student handed in, before unpacking."""

    display: str
    paths: tuple[Path, ...]
    source: Path
    moodle_id: str | None = None
    login: str | None = None
    onlinetext_only: bool = False


@dataclass(frozen=True)
class _Options:
    patterns: tuple[str, ...]
    hints: tuple[str, ...]
    lang: str
    caps: ArchiveCaps
    unpack_dir: Path
    classroom_prefix: str | None = None
    skip: tuple[Path, ...] = field(default_factory=tuple)


def discover(
    root: Path,
    *,
    patterns: Sequence[str] = DEFAULT_PATTERNS,
    unpack_dir: Path,
    lang: str = "ru",
    caps: ArchiveCaps = ArchiveCaps(),
    entry_hints: Sequence[str] = (),
    classroom_prefix: str | None = None,
    single: bool | None = None,
) -> list[Submission]:
    """The submissions under `root`, one per student, in name order.

    `patterns` are globs for entry files in order of preference; `entry_hints` are globs
    (``"*task1*"``) preferred among several candidates. `unpack_dir` receives unpacked archives
    (``<unpack_dir>/<student_id>/``); it must not be `root` or contain it. `single` says whether
    `root` is one student's work (True), a class (False) or to guess (None).
    Raises `IntakeError` only when `root` itself is unusable.
    """
    root = Path(root)
    unpack_dir = Path(unpack_dir)
    if not root.exists():
        raise IntakeError(tr(lang, "intake.root_missing", path=str(root)))
    root_resolved, unpack_resolved = root.resolve(), unpack_dir.resolve()
    if unpack_resolved == root_resolved or (root.is_dir() and root_resolved.is_relative_to(unpack_resolved)):
        raise IntakeError(tr(lang, "intake.unpack_dir_bad", path=str(unpack_dir), root=str(root)))
    opts = _Options(
        patterns=tuple(patterns), hints=tuple(entry_hints), lang=lang, caps=caps,
        unpack_dir=unpack_dir, classroom_prefix=classroom_prefix, skip=(unpack_resolved,),
    )
    if root.is_dir():
        if single:
            login = strip_classroom_prefix(root.name, classroom_prefix) if classroom_prefix else None
            unit = _Unit(display=login or nfc(root.name), paths=(root,), source=root, login=login)
            return _build_all([unit], opts)
        return _discover_dir(root, opts)
    if _is_zip_like(root) and single is not True:
        return _discover_root_zip(root, opts, single)
    return _build_all([_Unit(display=nfc(_stem(root)), paths=(root,), source=root)], opts)


def _discover_root_zip(root: Path, opts: _Options, single: bool | None) -> list[Submission]:
    """A zip as the root: the whole class, or one student (guessed from its content)."""
    dest = opts.unpack_dir / _ROOT_UNPACK
    _reset(dest)
    unit = _Unit(display=nfc(_stem(root)), paths=(root,), source=root)
    try:
        safe_extract(root, dest, opts.caps, lang=opts.lang)
    except IntakeError as exc:
        logger.warning("cannot unpack %s: %s", root, exc)
        return _build_all([unit], opts)  # builds again and records the error for the student
    inner = _descend(dest)
    if single is False or _looks_like_class(inner, opts):
        logger.info("%s holds a class folder; discovering inside", root)
        return _discover_dir(inner, opts)
    _reset(dest)  # one student's zip: unpacked again into that student's own folder
    return _build_all([unit], opts)


# Files an instructor keeps beside the students' work in the class folder: never a student.
_CLASS_METADATA = ("readme*", "expected*", "*.yaml", "*.yml", "*.md", "*.csv", "*.tsv")


def _is_class_metadata(path: Path) -> bool:
    return (path.is_file() and parse_moodle(path.name) is None
            and any(fnmatch.fnmatch(path.name.lower(), pat) for pat in _CLASS_METADATA))


def _discover_dir(root: Path, opts: _Options) -> list[Submission]:
    entries = [p for p in _children(root) if not _is_skipped(p, opts) and not _is_class_metadata(p)]
    moodle = {p: parse_moodle(p.name) for p in entries}
    prefix = opts.classroom_prefix
    if prefix is None and entries and not any(moodle.values()) and all(p.is_dir() for p in entries):
        prefix = detect_classroom_prefix([p.name for p in entries])
        if prefix:
            logger.info("GitHub Classroom prefix detected: %r", prefix)
    units: list[_Unit] = []
    moodle_groups: dict[str, list[Path]] = {}
    for path in entries:
        parsed = moodle[path]
        if parsed is not None:
            if parsed.moodle_id not in moodle_groups:
                moodle_groups[parsed.moodle_id] = []
                units.append(_Unit(display="", paths=(), source=path, moodle_id=parsed.moodle_id))
            moodle_groups[parsed.moodle_id].append(path)
            continue
        login = strip_classroom_prefix(path.name, prefix) if prefix else None
        display = login or nfc(path.name if path.is_dir() else _stem(path))
        units.append(_Unit(display=display, paths=(path,), source=path, login=login))
    units = [_moodle_unit(u, moodle_groups[u.moodle_id], root) if u.moodle_id else u for u in units]
    return _build_all(units, opts)


def _moodle_unit(placeholder: _Unit, paths: list[Path], root: Path) -> _Unit:
    """One Moodle student: file-plugin folders/files preferred over the online text."""
    parsed = [(p, parse_moodle(p.name)) for p in paths]
    files = [p for p, m in parsed if m is not None and m.plugin != "onlinetext"]
    texts = [p for p, m in parsed if m is not None and m.plugin == "onlinetext"]
    chosen = files or texts
    first = parse_moodle(chosen[0].name)
    assert first is not None
    return _Unit(
        display=first.student,
        paths=tuple(chosen),
        source=chosen[0] if len(chosen) == 1 else root,
        moodle_id=placeholder.moodle_id,
        onlinetext_only=not files,
    )


def _build_all(units: list[_Unit], opts: _Options) -> list[Submission]:
    ids = unique_ids(u.display for u in units)
    out: list[Submission] = []
    for unit, sid in zip(units, ids):
        try:
            out.append(_build(unit, sid, opts))
        except Exception as exc:  # one student's surprise must not stop the class
            logger.exception("intake failed for %s", unit.source)
            out.append(
                Submission(
                    student=unit.display, student_id=sid, source=unit.source,
                    files_root=unit.source if unit.source.is_dir() else unit.source.parent,
                    files=(), entry=None, sha256="",
                    error=tr(opts.lang, "intake.unexpected", detail=f"{type(exc).__name__}: {exc}"),
                    error_msg=msg("intake.unexpected", detail=f"{type(exc).__name__}: {exc}"),
                    moodle_id=unit.moodle_id, login=unit.login,
                )
            )
    return out


def _build(unit: _Unit, sid: str, opts: _Options) -> Submission:
    lang = opts.lang
    stage = opts.unpack_dir / sid
    files_root, files = _as_found(unit)
    sha = submission_sha256(files_root, files)

    def result(entry: Path | None = None, notes: Sequence[str | Text] = (),
               error: str | Text | None = None) -> Submission:
        shown = [said(note, lang) for note in notes]
        error_text, error_msg = said(error, lang) if error is not None else (None, None)
        return Submission(
            student=unit.display, student_id=sid, source=unit.source, files_root=files_root,
            files=tuple(files), entry=entry, sha256=sha, notes=tuple(t for t, _ in shown), error=error_text,
            moodle_id=unit.moodle_id, login=unit.login, note_msgs=tuple(m for _, m in shown), error_msg=error_msg,
        )

    if unit.onlinetext_only:
        return result(error=msg("intake.only_onlinetext"))
    if not files:
        return result(error=msg("intake.empty", name=unit.source.name))

    notes: list[str | Text] = []
    single = files[0] if len(files) == 1 else None
    if single is not None and single.suffix.casefold() in _OTHER_ARCHIVES:
        return result(error=msg("intake.unsupported_archive", name=single.name,
                               fmt=_OTHER_ARCHIVES[single.suffix.casefold()]))
    owned = False
    try:
        if single is not None and _is_zip_like(single):
            _reset(stage)
            safe_extract(single, stage, opts.caps, lang=lang)
            files_root = _descend(stage)
            files, owned = _walk(files_root), True
        elif not _has_candidate(files_root, files, opts) and any(_is_zip_like(f) for f in files):
            files_root, files = _unpack_nested(files_root, files, stage, opts)
            owned = True
    except IntakeError as exc:
        return result(error=kept_message(exc) or str(exc))
    if not files:
        return result(error=msg("intake.empty", name=unit.source.name))

    choice = choose_entry(files, files_root, opts.patterns, opts.hints, lang)
    notes.extend(choice.notes)
    if choice.entry is None:
        return result(notes=notes, error=msg(
            "intake.no_candidates", patterns=", ".join(opts.patterns), files=_listing(files_root, files, lang),
        ))
    entry = choice.entry
    display = entry.relative_to(files_root).as_posix()
    check = check_entry(entry, display, lang)
    if check.error is not None:
        return result(entry=entry, notes=notes, error=check.error)
    if check.upgraded is not None:
        if not owned:
            files_root, files, entry = _copy_to_stage(files_root, files, entry, stage)
        import nbformat  # old notebooks only (see check_entry)

        nbformat.write(check.upgraded, str(entry))
        notes.append(msg("intake.nb_converted", name=display, version=check.old_version or "?"))
    return result(entry=entry, notes=notes)


def _as_found(unit: _Unit) -> tuple[Path, list[Path]]:
    """The folder and files the student handed in, before any unpacking."""
    if len(unit.paths) == 1:
        path = unit.paths[0]
        if path.is_dir():
            top = _descend(path)
            return top, _walk(top)
        return path.parent, [path]
    base = Path(os.path.commonpath([p.parent if p.is_file() else p for p in unit.paths]))
    files: list[Path] = []
    for path in unit.paths:
        files.extend(_walk(path) if path.is_dir() else [path])
    return base, sorted(files, key=lambda f: f.relative_to(base).as_posix())


def _has_candidate(files_root: Path, files: Sequence[Path], opts: _Options) -> bool:
    for f in files:
        rel = PurePosixPath(f.relative_to(files_root).as_posix())
        if first_match(rel, opts.patterns) is not None and not is_checkpoint(rel):
            return True
    return False


def _unpack_nested(
    files_root: Path, files: Sequence[Path], stage: Path, opts: _Options
) -> tuple[Path, list[Path]]:
    """Copy the folder into `stage` and unpack its zips in place, like "Extract here" (one level)."""
    _reset(stage)
    stage.mkdir(parents=True)
    zips = [f for f in files if _is_zip_like(f)]
    for f in files:
        if f in zips:
            continue
        target = stage / f.relative_to(files_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target)
    for z in zips:
        safe_extract(z, stage / z.relative_to(files_root).parent, opts.caps, lang=opts.lang)
    top = _descend(stage)
    return top, _walk(top)


def _copy_to_stage(
    files_root: Path, files: Sequence[Path], entry: Path, stage: Path
) -> tuple[Path, list[Path], Path]:
    """A private copy of the student's files, so that the original is never modified."""
    _reset(stage)
    stage.mkdir(parents=True)
    copied: list[Path] = []
    for f in files:
        target = stage / f.relative_to(files_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target)
        copied.append(target)
    return stage, copied, stage / entry.relative_to(files_root)


def submission_sha256(files_root: Path, files: Sequence[Path]) -> str:
    """sha256 over (relative path, size, content) of each file, in sorted relative-path order."""
    digest = hashlib.sha256()
    for rel, path in sorted((nfc(f.relative_to(files_root).as_posix()), f) for f in files):
        digest.update(rel.encode("utf-8") + b"\0")
        digest.update(str(path.stat().st_size).encode("ascii") + b"\0")
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def is_junk(name: str) -> bool:
    """Hidden files and folders, OS litter, caches and checkpoints: never part of the work."""
    return name.startswith(".") or name.startswith("~$") or name in _JUNK


def _children(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir()
         if not is_junk(p.name) and not p.is_symlink() and (p.is_dir() or p.is_file())),
        key=lambda p: (nfc(p.name).casefold(), p.name),
    )


def _is_skipped(path: Path, opts: _Options) -> bool:
    resolved = path.resolve()
    return any(resolved == s or s.is_relative_to(resolved) for s in opts.skip)


def _descend(folder: Path) -> Path:
    """Through wrapper folders: while a folder holds exactly one sub-folder and nothing else."""
    while True:
        children = _children(folder)
        if len(children) == 1 and children[0].is_dir():
            folder = children[0]
        else:
            return folder


def _walk(folder: Path) -> list[Path]:
    """The regular files under `folder` (no junk, links, FIFOs), sorted by relative path."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [d for d in dirnames if not is_junk(d) and not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            path = Path(dirpath, name)
            if is_junk(name):
                continue
            if not path.is_file() or path.is_symlink():
                # links could point anywhere on the grader's machine; FIFOs and devices would
                # block or never end when read
                logger.info("ignoring %s: not a regular file", path)
                continue
            found.append(path)
    return sorted(found, key=lambda f: f.relative_to(folder).as_posix())


def _looks_like_class(folder: Path, opts: _Options) -> bool:
    """Guess whether an unpacked root zip holds a class (True) or one student's work."""
    children = _children(folder)
    names = [PurePosixPath(c.name) for c in children]
    if any(c.is_file() and _has_candidate(folder, [c], opts) for c in children):
        return False
    if any(parse_moodle(c.name) for c in children):
        return True
    if len(children) < 2:
        return False
    if opts.classroom_prefix and any(strip_classroom_prefix(n.name, opts.classroom_prefix) for n in names):
        return True
    if all(c.is_dir() for c in children) and detect_classroom_prefix([c.name for c in children]):
        return True
    with_work = sum(
        1 for c in children
        if (c.is_dir() and _has_candidate(c, _walk(c), opts)) or (c.is_file() and _is_zip_like(c))
    )
    return with_work >= 2 and 2 * with_work >= len(children)


def _listing(files_root: Path, files: Sequence[Path], lang: str) -> Text:
    names = [f.relative_to(files_root).as_posix() for f in files]
    more = [msg("intake.and_more", count=len(names) - _MAX_LISTED)] if len(names) > _MAX_LISTED else []
    return joined([", ".join(names[:_MAX_LISTED]), *more], "")


def _is_zip_like(path: Path) -> bool:
    """A zip by name (a corrupt one must be reported as such, not as "no notebook"), or a zip
    without any extension. Other zip-based files (.docx, .xlsx, a renamed .ipynb) are not
    unpacked: the student is told what they are instead."""
    suffix = path.suffix.casefold()
    return suffix == ".zip" or (suffix == "" and is_zip(path))


def _stem(path: Path) -> str:
    return path.stem if path.suffix else path.name


def _reset(folder: Path) -> None:
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)
