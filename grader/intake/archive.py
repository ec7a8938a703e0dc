"""Safe unpacking of zip archives handed in by students.

Every entry is checked before anything is written: no absolute paths, no ``..``, no symlinks,
a bounded number of files, bounded sizes and compression ratio as the headers claim them. The
sizes are enforced again while the data is streamed, since headers can lie. A refused archive
raises `UnsafeArchiveError`; a corrupt, encrypted or unreadable one raises `IntakeError`. On any
error the files this call wrote are removed again.
"""
from __future__ import annotations

import logging
import re
import shutil
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from grader.errors import IntakeError, UnsafeArchiveError
from grader.i18n import error
from grader.intake.names import nfc

logger = logging.getLogger(__name__)

_MB = 1024 * 1024
_CHUNK = 1024 * 1024
_UTF8_FLAG = 0x800
_UNICODE_PATH_EXTRA = 0x7075
_JUNK_PARTS = {"__MACOSX"}
_JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ArchiveCaps:
    """Limits for one archive; anything over them is refused as unsafe."""

    max_files: int = 2000
    """Entries (files and folders) in one archive."""
    max_total_bytes: int = 200 * _MB
    """Uncompressed size of all entries together."""
    max_file_bytes: int = 200 * _MB
    """Uncompressed size of one entry."""
    max_ratio: float = 200.0
    """Uncompressed / compressed size, per entry and overall."""
    ratio_min_bytes: int = _MB
    """The ratio is only judged for data at least this large: small text compresses well."""


def is_zip(path: Path) -> bool:
    """Whether `path` is a zip archive by its content (students rename archives)."""
    try:
        return path.is_file() and zipfile.is_zipfile(path)
    except OSError:
        return False


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as the student's machine meant it.

    Uses the UTF-8 flag when set, then an Info-ZIP Unicode Path extra field; otherwise a
    non-ASCII name is tried as UTF-8 (macOS and 7-Zip write UTF-8 without the flag) and then
    as cp866 (Windows Explorer zips of Cyrillic names).
    """
    if info.flag_bits & _UTF8_FLAG:
        return nfc(info.filename)
    unicode_path = _unicode_path_extra(info.extra)
    if unicode_path is not None:
        return nfc(unicode_path)
    try:
        raw = info.orig_filename.encode("cp437")  # zipfile decoded the raw bytes as cp437
    except UnicodeEncodeError:
        return nfc(info.filename)
    raw = raw.split(b"\0", 1)[0]
    if raw.isascii():
        return raw.decode("ascii")
    try:
        return nfc(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return nfc(raw.decode("cp866"))


def _unicode_path_extra(extra: bytes) -> str | None:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if tag == _UNICODE_PATH_EXTRA and len(body) > 5 and body[0] == 1:
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        pos += 4 + size
    return None


def _parts(name: str) -> tuple[str, ...] | None:
    """Path components of an entry name; None when it is absolute or climbs with ``..``."""
    name = name.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        return None
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        return None
    return parts


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _mb(n: int) -> float:
    return n / _MB


def _check_entries(
    zf: zipfile.ZipFile, archive: str, caps: ArchiveCaps, lang: str
) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    infos = zf.infolist()
    if len(infos) > caps.max_files:
        raise error(UnsafeArchiveError, lang, "intake.unsafe.too_many", name=archive, count=len(infos), limit=caps.max_files)
    plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    total = compressed = 0
    for info in infos:
        name = entry_name(info)
        parts = _parts(name)
        if parts is None:
            climbs = ".." in name.replace("\\", "/").split("/")
            key = "intake.unsafe.parent" if climbs else "intake.unsafe.absolute"
            raise error(UnsafeArchiveError, lang, key, name=archive, entry=name)
        if _is_symlink(info):
            raise error(UnsafeArchiveError, lang, "intake.unsafe.symlink", name=archive, entry=name)
        if info.file_size > caps.max_file_bytes:
            raise error(UnsafeArchiveError, lang, "intake.unsafe.file_too_big", name=archive, entry=name,
                   size_mb=_mb(info.file_size), limit_mb=_mb(caps.max_file_bytes))
        if (
            info.file_size >= caps.ratio_min_bytes
            and info.file_size > caps.max_ratio * max(info.compress_size, 1)
        ):
            raise error(UnsafeArchiveError, lang, "intake.unsafe.ratio", name=archive, entry=name,
                   ratio=round(info.file_size / max(info.compress_size, 1)), limit=caps.max_ratio)
        total += info.file_size
        compressed += info.compress_size
        if total > caps.max_total_bytes:
            raise error(UnsafeArchiveError, lang, "intake.unsafe.total_too_big", name=archive,
                        size_mb=_mb(sum(i.file_size for i in infos)), limit_mb=_mb(caps.max_total_bytes))
        if not parts or parts[0] in _JUNK_PARTS or parts[-1] in _JUNK_NAMES:
            continue
        plan.append((info, tuple(nfc(p) for p in parts)))
    if total >= caps.ratio_min_bytes and total > caps.max_ratio * max(compressed, 1):
        raise error(UnsafeArchiveError, lang, "intake.unsafe.ratio", name=archive, entry="*",
               ratio=round(total / max(compressed, 1)), limit=caps.max_ratio)
    return plan


@dataclass
class _Budget:
    """Bytes still allowed while streaming (mutable on purpose: it is spent)."""

    total_left: int


def copy_capped(
    src: BinaryIO, dst: BinaryIO, *, max_file_bytes: int, budget: _Budget, archive: str,
    entry: str, caps: ArchiveCaps, lang: str,
) -> int:
    """Copy `src` to `dst` in chunks, refusing as soon as a size cap is passed."""
    written = 0
    while True:
        chunk = src.read(_CHUNK)
        if not chunk:
            return written
        written += len(chunk)
        budget.total_left -= len(chunk)
        if written > max_file_bytes:
            raise error(UnsafeArchiveError, lang, "intake.unsafe.file_too_big", name=archive, entry=entry,
                   size_mb=_mb(written), limit_mb=_mb(max_file_bytes))
        if budget.total_left < 0:
            raise error(UnsafeArchiveError, lang, "intake.unsafe.total_too_big", name=archive,
                   size_mb=_mb(caps.max_total_bytes - budget.total_left),
                   limit_mb=_mb(caps.max_total_bytes))
        dst.write(chunk)


def safe_extract(
    zip_path: Path, dest: Path, caps: ArchiveCaps = ArchiveCaps(), *, lang: str = "ru"
) -> list[Path]:
    """Unpack `zip_path` into `dest` (created if needed); the files written, in archive order.

    ``__MACOSX`` folders and ``.DS_Store`` files are left out.
    Raises `UnsafeArchiveError` for a dangerous archive, `IntakeError` for an unreadable one.
    """
    archive = zip_path.name
    written: list[Path] = []
    created_dirs: list[Path] = []
    dest = Path(dest)
    dest_existed = dest.exists()
    try:
        try:
            zf = zipfile.ZipFile(zip_path)
        except zipfile.BadZipFile as exc:
            raise error(IntakeError, lang, "intake.bad_zip", name=archive, detail=str(exc)) from exc
        with zf:
            plan = _check_entries(zf, archive, caps, lang)
            dest.mkdir(parents=True, exist_ok=True)
            root = dest.resolve()
            budget = _Budget(caps.max_total_bytes)
            for info, parts in plan:
                target = root.joinpath(*parts)
                # Belt and braces: _parts() already refused anything that could leave `dest`.
                if not target.resolve().is_relative_to(root):
                    raise error(UnsafeArchiveError, lang, "intake.unsafe.parent", name=archive, entry="/".join(parts))
                if info.is_dir():
                    if not target.exists():
                        created_dirs.append(target)
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_symlink() or target.is_dir():
                    raise error(UnsafeArchiveError, lang, "intake.unsafe.parent", name=archive, entry="/".join(parts))
                written.append(target)
                with _open_entry(zf, info, archive, lang) as src, target.open("wb") as dst:
                    copy_capped(
                        src, dst, max_file_bytes=caps.max_file_bytes, budget=budget,
                        archive=archive, entry="/".join(parts), caps=caps, lang=lang,
                    )
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        _cleanup(dest, dest_existed, written, created_dirs)
        raise error(IntakeError, lang, "intake.bad_zip", name=archive, detail=str(exc)) from exc
    except OSError as exc:
        _cleanup(dest, dest_existed, written, created_dirs)
        raise error(IntakeError, lang, "intake.unpack_failed", name=archive, detail=str(exc)) from exc
    except BaseException:
        _cleanup(dest, dest_existed, written, created_dirs)
        raise
    logger.debug("unpacked %s: %d files into %s", zip_path, len(written), dest)
    return written


def _open_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: str, lang: str) -> BinaryIO:
    try:
        return zf.open(info)
    except RuntimeError as exc:  # zipfile says "... is encrypted, password required"
        raise error(IntakeError, lang, "intake.zip_encrypted", name=archive) from exc
    except NotImplementedError as exc:  # e.g. Deflate64 from Windows Explorer
        raise error(IntakeError, lang, "intake.zip_method", name=archive, detail=str(exc)) from exc


def _cleanup(dest: Path, dest_existed: bool, written: list[Path], dirs: list[Path]) -> None:
    if not dest_existed:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for path in written:
        path.unlink(missing_ok=True)
    for path in reversed(dirs):
        try:
            path.rmdir()
        except OSError:
            pass
