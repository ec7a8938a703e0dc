"""Files between the driver and a cluster's workers, as tar bytes: the submission's files out,
the data folders a run mounts out, the folder a run leaves back.

Nothing is unpickled from these: a tar is bytes, and unpacking it keeps only regular files and
folders (and, for the grader's own data folders, links that stay inside them), each inside the
destination, within a count and a byte budget.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.errors import ExecutionError


@dataclass(frozen=True)
class Budget:
    files: int
    bytes: int


def submission_path(src: Path, root: Path | None) -> Path:
    """Where a submission file goes in the run's copy (the runner's rule: relative to the root
    when under it, else its name alone)."""
    return src.relative_to(root) if root is not None and src.is_relative_to(root) else Path(src.name)


def pack_files(files: Iterable[Path], root: Path | None) -> bytes:
    """The submission's regular files (links and the rest are left, as the runner's copy leaves
    them) as a tar, each under its path in the run's copy."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for src in files:
            if src.is_file() and not src.is_symlink():
                tar.add(src, arcname=str(submission_path(src, root)), recursive=False)
    return buffer.getvalue()


def pack_tree(path: Path, name: str = "data") -> bytes:
    """A folder (or file) as a tar whose one top-level entry is `name`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(path, arcname=name, recursive=True)
    return buffer.getvalue()


def pack_folders(root: Path, names: Iterable[str]) -> bytes:
    """The folders `names` of `root` (those that exist) as a tar, each under its name."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in names:
            if (root / name).is_dir():
                tar.add(root / name, arcname=name, recursive=True)
    return buffer.getvalue()


def digest(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def unpack_trusted(blob: bytes, dest: Path) -> None:
    """A tar the grader made of its own files (submission copies, data folders), under tarfile's
    `data` filter (no absolute paths, no `..`, no special files). A link that leaves the tree is
    left out: inside the sandbox, where only the tree is mounted, it would lead nowhere too."""
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        tar.extractall(dest, filter=_inside_links_only)


def _inside_links_only(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        if member.issym() or member.islnk():
            return None
        raise


def unpack_run(blob: bytes, dest: Path, tops: tuple[str, ...], budget: Budget) -> int:
    """The folder a sandboxed run left (evidence, like any sandbox output) into `dest`: only
    regular files and folders under one of `tops`, within `budget`; ExecutionError otherwise,
    before anything is written. The number of files written."""
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        members = tar.getmembers()
        _check_members(members, tops, budget)
        tar.extractall(dest, members=members, filter="data")
    return sum(1 for m in members if m.isfile())


def _check_members(members: list[tarfile.TarInfo], tops: tuple[str, ...], budget: Budget) -> None:
    files = [m for m in members if m.isfile()]
    if len(files) > budget.files or sum(m.size for m in files) > budget.bytes:
        raise ExecutionError(f"the run's folder from the worker holds {len(files)} files, "
                             f"{sum(m.size for m in files)} bytes: over the {budget.files} files, "
                             f"{budget.bytes} bytes a run may hand back")
    for member in members:
        parts = Path(member.name).parts
        if not (member.isfile() or member.isdir()) or member.name.startswith("/") or ".." in parts \
                or not parts or parts[0] not in tops:
            raise ExecutionError(f"the run's folder from the worker has an entry that is not a file of "
                                 f"{' or '.join(tops)}: {member.name[:200]!r}")


def materialise(blob_digest: str, fetch: Callable[[], bytes], cache: Path) -> Path:
    """The data tar `blob_digest` unpacked under `cache` once per machine (several runs at a
    time may ask: the first to finish unpacking puts it in place, the others drop their copy).
    `fetch()` gives the tar's bytes, called only when this machine has no copy yet."""
    done = cache / blob_digest
    if not done.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache, prefix=".unpacking-"))
        os.chmod(staging, 0o755)  # mounted read-only for the sandbox's unprivileged user
        try:
            unpack_trusted(fetch(), staging)
            os.rename(staging, done)
        except OSError:
            if not done.is_dir():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return done / "data"
