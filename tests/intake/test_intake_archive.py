from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from grader.errors import IntakeError, UnsafeArchiveError
from grader.intake import ArchiveCaps, safe_extract
from grader.intake.archive import _Budget, copy_capped, entry_name

MB = 1024 * 1024


def make_zip(path: Path, entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def all_files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def test_extracts_plain_zip(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "w.zip", {"hw/a.ipynb": b"{}", "hw/data/x.csv": b"1,2\n", "__MACOSX/hw/._a.ipynb": b"x"})
    out = safe_extract(z, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in out) == ["hw/a.ipynb", "hw/data/x.csv"]
    assert not (tmp_path / "out" / "__MACOSX").exists()


@pytest.mark.parametrize("evil", ["../../evil.txt", "/tmp/evil_abs.txt", "ok/../../evil.txt", "..\\evil.txt", "C:/evil.txt"])
def test_zip_slip_refused_and_nothing_written(tmp_path: Path, evil: str) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    z = make_zip(work / "s.zip", {"good.txt": b"fine", evil: b"pwned"})
    before = all_files(tmp_path)
    with pytest.raises(UnsafeArchiveError) as info:
        safe_extract(z, work / "out", lang="en")
    assert "refused" in str(info.value)
    assert all_files(tmp_path) == before  # not even good.txt: the checks run before writing
    assert not Path("/tmp/evil_abs.txt").exists()


def test_symlink_entry_refused(tmp_path: Path) -> None:
    z = tmp_path / "l.zip"
    with zipfile.ZipFile(z, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError):
        safe_extract(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_zip_bomb_refused_from_headers(tmp_path: Path) -> None:
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("zeros.bin", "w", force_zip64=True) as fh:
            chunk = bytes(MB)
            for _ in range(50):
                fh.write(chunk)
    assert z.stat().st_size < 200_000
    caps = ArchiveCaps(max_total_bytes=10 * MB)
    with pytest.raises(UnsafeArchiveError):
        safe_extract(z, tmp_path / "out", caps)
    assert not (tmp_path / "out").exists()
    # The ratio alone refuses it too, even under generous size limits.
    with pytest.raises(UnsafeArchiveError, match="200"):
        safe_extract(z, tmp_path / "out", ArchiveCaps(max_total_bytes=100 * MB, max_file_bytes=100 * MB), lang="en")


def test_single_file_cap(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "big.zip", {"a.bin": bytes(range(256)) * 8192}, compression=zipfile.ZIP_STORED)
    with pytest.raises(UnsafeArchiveError):
        safe_extract(z, tmp_path / "out", ArchiveCaps(max_file_bytes=MB))


def test_too_many_files(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(30)})
    with pytest.raises(UnsafeArchiveError, match="30"):
        safe_extract(z, tmp_path / "out", ArchiveCaps(max_files=20))


def test_streaming_enforces_caps_when_headers_lie() -> None:
    caps = ArchiveCaps(max_total_bytes=3 * MB, max_file_bytes=2 * MB)
    with pytest.raises(UnsafeArchiveError):
        copy_capped(io.BytesIO(bytes(3 * MB)), io.BytesIO(), max_file_bytes=caps.max_file_bytes,
                    budget=_Budget(caps.max_total_bytes), archive="a.zip", entry="x", caps=caps, lang="en")
    budget = _Budget(caps.max_total_bytes)
    copy_capped(io.BytesIO(bytes(2 * MB)), io.BytesIO(), max_file_bytes=caps.max_file_bytes,
                budget=budget, archive="a.zip", entry="x", caps=caps, lang="en")
    with pytest.raises(UnsafeArchiveError):
        copy_capped(io.BytesIO(bytes(2 * MB)), io.BytesIO(), max_file_bytes=caps.max_file_bytes,
                    budget=budget, archive="a.zip", entry="y", caps=caps, lang="en")


def test_bad_zip_is_intake_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(IntakeError):
        safe_extract(bad, tmp_path / "out")


def test_corrupt_member_cleans_up(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "c.zip", {"a.txt": b"hello" * 1000, "b.txt": b"world" * 1000})
    data = bytearray(z.read_bytes())
    idx = data.find(b"b.txt") + len(b"b.txt") + 5  # inside b.txt's compressed data
    data[idx : idx + 8] = b"\xff" * 8
    z.write_bytes(bytes(data))
    with pytest.raises(IntakeError):
        safe_extract(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _raw_name_zip(path: Path, raw_name: bytes) -> Path:
    """A zip with one entry whose name bytes are written as given, without the UTF-8 flag."""
    placeholder = "N" * len(raw_name)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(placeholder, b"data")
    path.write_bytes(path.read_bytes().replace(placeholder.encode(), raw_name))
    return path


def test_cp866_names_decoded(tmp_path: Path) -> None:
    z = _raw_name_zip(tmp_path / "w.zip", "Иванов/решение.ipynb".encode("cp866"))
    out = safe_extract(z, tmp_path / "out")
    assert [p.relative_to(tmp_path / "out").as_posix() for p in out] == ["Иванов/решение.ipynb"]


def test_utf8_names_with_and_without_flag(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "f.zip", {"Петров Пётр/работа.ipynb": b"{}"})
    with zipfile.ZipFile(z) as zf:
        assert entry_name(zf.infolist()[0]) == "Петров Пётр/работа.ipynb"
    z2 = _raw_name_zip(tmp_path / "g.zip", "Работа.py".encode("utf-8"))
    with zipfile.ZipFile(z2) as zf:
        assert entry_name(zf.infolist()[0]) == "Работа.py"


def test_lying_size_header_cannot_write_more(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "liar.zip", {"zeros.bin": bytes(5 * MB)})
    blob = bytearray(z.read_bytes())
    blob[22:26] = (1000).to_bytes(4, "little")  # local header: uncompressed size
    central = blob.find(b"PK\x01\x02")
    blob[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    z.write_bytes(bytes(blob))
    with pytest.raises(IntakeError):
        safe_extract(z, tmp_path / "out", ArchiveCaps(max_total_bytes=MB))
    assert not (tmp_path / "out").exists()
