from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from grader.errors import IntakeError
from grader.intake import ArchiveCaps, Submission, discover

MB = 1024 * 1024


def notebook(*sources: str, nbformat: int = 4) -> str:
    cells = [
        {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": src}
        for i, src in enumerate(sources)
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": nbformat, "nbformat_minor": 5})


def notebook_v3(*sources: str) -> str:
    cells = [
        {"cell_type": "code", "collapsed": False, "input": src, "language": "python", "metadata": {}, "outputs": []}
        for src in sources
    ]
    return json.dumps({"metadata": {"name": ""}, "nbformat": 3, "nbformat_minor": 0,
                       "worksheets": [{"cells": cells, "metadata": {}}]})


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def make_zip(path: Path, entries: dict[str, str | bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def run(root: Path, tmp_path: Path, **kwargs: object) -> list[Submission]:
    return discover(root, unpack_dir=tmp_path / "unpacked", **kwargs)  # type: ignore[arg-type]


def by_student(subs: list[Submission]) -> dict[str, Submission]:
    return {s.student: s for s in subs}


# ---- names -------------------------------------------------------------------------------------


def test_moodle_folders(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "Ivanov Ivan_12345_assignsubmission_file_" / "hw.ipynb", notebook("x = 1"))
    write(root / "Иванова Мария_777_assignsubmission_file_" / "работа.ipynb", notebook("y = 2"))
    write(root / "Иванова Мария_777_assignsubmission_onlinetext_" / "onlinetext.html", "<p>см. файл</p>")
    write(root / "Petrov Petr_555_assignsubmission_onlinetext_" / "onlinetext.html",
          "<a href='https://colab.research.google.com/drive/1'>link</a>")
    subs = by_student(run(root, tmp_path))
    assert set(subs) == {"Ivanov Ivan", "Иванова Мария", "Petrov Petr"}
    ivan = subs["Ivanov Ivan"]
    assert (ivan.moodle_id, ivan.student_id, ivan.error) == ("12345", "Ivanov_Ivan", None)
    assert ivan.entry is not None and ivan.entry.name == "hw.ipynb"
    maria = subs["Иванова Мария"]
    assert maria.student_id == "Иванова_Мария" and maria.entry is not None and maria.entry.name == "работа.ipynb"
    assert maria.error is None
    petr = subs["Petrov Petr"]
    assert petr.entry is None and petr.error is not None and "Colab" in petr.error


def test_moodle_flat_files_grouped_by_student(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "Ivanov Ivan_12345_assignsubmission_file_hw.ipynb", notebook("x = 1\ny = 2"))
    write(root / "Ivanov Ivan_12345_assignsubmission_file_data.csv", "a,b\n")
    write(root / "Sidorov Sid_99_assignsubmission_file_main.py", "print(1)\n")
    subs = by_student(run(root, tmp_path))
    assert set(subs) == {"Ivanov Ivan", "Sidorov Sid"}
    assert len(subs["Ivanov Ivan"].files) == 2
    assert subs["Ivanov Ivan"].entry is not None and subs["Ivanov Ivan"].entry.suffix == ".ipynb"
    assert subs["Sidorov Sid"].files == (root / "Sidorov Sid_99_assignsubmission_file_main.py",)


def test_classroom_prefix_detected_and_given(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    for login in ("ivanov", "petrov-p", "Sid0rov"):
        write(root / f"task1-gd-{login}" / "gd.ipynb", notebook("x = 1"))
    subs = run(root, tmp_path)
    assert [s.login for s in subs] == ["ivanov", "petrov-p", "Sid0rov"]
    assert [s.student for s in subs] == ["ivanov", "petrov-p", "Sid0rov"]
    given = run(root, tmp_path, classroom_prefix="task1")
    assert [s.login for s in given] == ["gd-ivanov", "gd-petrov-p", "gd-Sid0rov"]


def test_plain_names_with_spaces_cyrillic_and_collisions(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "Пётр Иванов" / "a.ipynb", notebook("x = 1"))
    write(root / "Пётр/Иванов.ipynb".replace("/", "_"), notebook("x = 1"))  # "Пётр_Иванов.ipynb"
    write(root / "a b" / "a.py", "x = 1\n")
    write(root / "A  B" / "a.py", "x = 1\n")
    subs = run(root, tmp_path)
    ids = [s.student_id for s in subs]
    assert len(set(i.casefold() for i in ids)) == len(ids)
    assert set(ids) == {"Пётр_Иванов", "Пётр_Иванов_2", "a_b", "A_B_2"} or set(ids) == {
        "Пётр_Иванов", "Пётр_Иванов_2", "A_B", "a_b_2"}
    for sid in ids:
        assert all(ch.isalnum() or ch in "._-" for ch in sid)


def test_nfd_names_from_macos_become_nfc(tmp_path: Path) -> None:
    import unicodedata

    root = tmp_path / "subs"
    write(root / unicodedata.normalize("NFD", "Йорик") / "a.ipynb", notebook("x = 1"))
    [sub] = run(root, tmp_path)
    assert sub.student == "Йорик" and sub.student_id == "Йорик"


# ---- layouts -----------------------------------------------------------------------------------


def test_nested_wrapper_folders_are_descended(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "hw1" / "final" / "solution.ipynb", notebook("x = 1"))
    write(root / "ivanov" / "hw1" / "final" / "data" / "x.csv", "1\n")
    write(root / "ivanov" / ".ipynb_checkpoints" / "solution-checkpoint.ipynb", notebook("x"))
    write(root / "petrov" / "solution.ipynb", notebook("x = 1"))
    subs = by_student(run(root, tmp_path))
    ivan = subs["ivanov"]
    assert ivan.files_root == root / "ivanov" / "hw1" / "final"
    assert ivan.entry == ivan.files_root / "solution.ipynb"
    assert {f.relative_to(ivan.files_root).as_posix() for f in ivan.files} == {"solution.ipynb", "data/x.csv"}


def test_junk_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "hw.ipynb", notebook("x = 1"))
    write(root / "ivanov" / "__pycache__" / "m.pyc", b"\0")
    write(root / "ivanov" / ".git" / "config", "x")
    write(root / "__MACOSX" / "ivanov" / "._hw.ipynb", b"\0\0")
    write(root / ".DS_Store", b"\0")
    write(root / ".hidden" / "x.ipynb", notebook("x"))
    subs = run(root, tmp_path)
    assert [s.student for s in subs] == ["ivanov"]
    assert [f.name for f in subs[0].files] == ["hw.ipynb"]


def test_single_file_students(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov.ipynb", notebook("x = 1"))
    write(root / "petrov.py", "x = 1\n")
    write(root / "sidorov.pdf", b"%PDF-1.4 ...")
    subs = by_student(run(root, tmp_path))
    ivan = subs["ivanov"]
    assert ivan.files == (root / "ivanov.ipynb",) and ivan.files_root == root and ivan.entry == root / "ivanov.ipynb"
    assert subs["petrov"].entry == root / "petrov.py" and subs["petrov"].error is None
    assert subs["sidorov"].entry is None and "sidorov.pdf" in (subs["sidorov"].error or "")


def test_root_is_a_single_notebook_or_script(tmp_path: Path) -> None:
    nb = write(tmp_path / "my work.ipynb", notebook("x = 1"))
    [sub] = run(nb, tmp_path)
    assert (sub.student, sub.student_id, sub.entry, sub.files) == ("my work", "my_work", nb, (nb,))
    py = write(tmp_path / "gd.py", "x = 1\n")
    [sub] = run(py, tmp_path)
    assert sub.entry == py and sub.error is None


def test_zip_student_in_folder(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    make_zip(root / "Ivanov Ivan_1_assignsubmission_file_" / "hw1.zip",
             {"hw1/solution.ipynb": notebook("x = 1"), "hw1/data.csv": "1\n"})
    make_zip(root / "petrov.zip", {"petrov/gd.py": "x = 1\n"})
    subs = by_student(run(root, tmp_path))
    ivan = subs["Ivanov Ivan"]
    assert ivan.error is None and ivan.entry is not None and ivan.entry.name == "solution.ipynb"
    assert ivan.files_root.is_relative_to(tmp_path / "unpacked")
    assert {f.name for f in ivan.files} == {"solution.ipynb", "data.csv"}
    petrov = subs["petrov"]
    assert petrov.entry is not None and petrov.entry.name == "gd.py"


def test_nested_zip_next_to_other_files_unpacked_one_level(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "readme.txt", "hi")
    make_zip(root / "ivanov" / "work.zip", {"nb.ipynb": notebook("x = 1"), "inner.zip": b"PK"})
    [sub] = run(root, tmp_path)
    assert sub.error is None and sub.entry is not None
    assert {f.relative_to(sub.files_root).as_posix() for f in sub.files} == {"readme.txt", "nb.ipynb", "inner.zip"}
    # The student's folder is untouched.
    assert sorted(p.name for p in (root / "ivanov").iterdir()) == ["readme.txt", "work.zip"]


def test_data_zip_is_not_unpacked_when_a_notebook_is_present(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "nb.ipynb", notebook("x = 1"))
    make_zip(root / "ivanov" / "data.zip", {"x.csv": "1\n"})
    [sub] = run(root, tmp_path)
    assert sub.files_root == root / "ivanov"
    assert {f.name for f in sub.files} == {"nb.ipynb", "data.zip"}


def test_root_zip_of_a_class(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "class.zip", {
        "hw1/Ivanov Ivan_1_assignsubmission_file_/a.ipynb": notebook("x = 1"),
        "hw1/Petrov Petr_2_assignsubmission_file_/b.ipynb": notebook("x = 1"),
    })
    subs = run(z, tmp_path)
    assert [s.student for s in subs] == ["Ivanov Ivan", "Petrov Petr"]
    assert all(s.error is None for s in subs)


def test_root_zip_of_a_class_of_plain_folders(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "class.zip", {"ivanov/a.ipynb": notebook("x = 1"), "petrov/b.ipynb": notebook("x")})
    assert [s.student for s in run(z, tmp_path)] == ["ivanov", "petrov"]


def test_root_zip_of_one_student(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "Ivanov_hw1.zip", {"hw1/nb.ipynb": notebook("x = 1"), "hw1/util.py": "y = 1\n"})
    [sub] = run(z, tmp_path)
    assert sub.student == "Ivanov_hw1" and sub.entry is not None and sub.entry.name == "nb.ipynb"
    assert sub.source == z


def test_zip_slip_student_becomes_error_and_writes_nothing_outside(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "subs"
    make_zip(root / "evil.zip", {"nb.ipynb": notebook("x = 1"), "../../evil.txt": "pwned", "/abs_evil.txt": "x"})
    write(root / "good" / "nb.ipynb", notebook("x = 1"))
    subs = by_student(run(root, tmp_path, lang="en"))
    assert subs["evil"].error is not None and "refused" in subs["evil"].error
    assert subs["good"].error is None
    assert not list(tmp_path.rglob("evil.txt")) and not list(tmp_path.rglob("abs_evil.txt"))


def test_zip_bomb_student_becomes_error(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    root.mkdir()
    with zipfile.ZipFile(root / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("nb.ipynb", "w", force_zip64=True) as fh:
            for _ in range(50):
                fh.write(bytes(MB))
    assert (root / "bomb.zip").stat().st_size < 200_000
    [sub] = run(root, tmp_path, caps=ArchiveCaps(max_total_bytes=10 * MB))
    assert sub.error is not None and sub.entry is None
    unpacked = tmp_path / "unpacked"
    assert sum(p.stat().st_size for p in unpacked.rglob("*") if p.is_file()) == 0


def test_too_many_files_student_becomes_error(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    make_zip(root / "many.zip", {f"f{i}.py": "x = 1\n" for i in range(50)})
    [sub] = run(root, tmp_path, caps=ArchiveCaps(max_files=10), lang="en")
    assert sub.error is not None and "too many files" in sub.error


def test_bad_zip_student_becomes_error(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "broken.zip", b"PK\x03\x04garbage")
    write(root / "ok.py", "x = 1\n")
    subs = by_student(run(root, tmp_path, lang="en"))
    assert "damaged" in (subs["broken"].error or "")
    assert subs["ok"].error is None


def test_rar_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov.rar", b"Rar!\x1a\x07\x00")
    [sub] = run(root, tmp_path, lang="en")
    assert sub.error is not None and "RAR" in sub.error


def test_missing_root_raises(tmp_path: Path) -> None:
    with pytest.raises(IntakeError):
        run(tmp_path / "nope", tmp_path)


def test_unpack_dir_must_differ_from_root(tmp_path: Path) -> None:
    with pytest.raises(IntakeError):
        discover(tmp_path, unpack_dir=tmp_path)


def test_unpack_dir_inside_root_is_not_a_student(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    make_zip(root / "ivanov.zip", {"nb.ipynb": notebook("x = 1")})
    subs = discover(root, unpack_dir=root / "unpacked")
    again = discover(root, unpack_dir=root / "unpacked")
    assert [s.student for s in subs] == [s.student for s in again] == ["ivanov"]


# ---- entry validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"cells": [', "not valid JSON"),
        (bytes(range(256)) * 4, "binary file"),
        (b"PK\x03\x04" + bytes(100), "zip archive"),
        ("<!DOCTYPE html><html><body>GitHub</body></html>", "HTML"),
        ('{"name": "not a notebook", "items": [1, 2]}', "not a Jupyter notebook"),
        ("[1, 2, 3]", "not a Jupyter notebook"),
        ("", "empty"),
    ],
)
def test_broken_notebooks(tmp_path: Path, content: str | bytes, expected: str) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "solution.ipynb", content)
    [sub] = run(root, tmp_path, lang="en")
    assert sub.entry == root / "ivanov" / "solution.ipynb"
    assert sub.error is not None and expected in sub.error and "solution.ipynb" in sub.error


def test_binary_notebook_message_in_russian(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "solution.ipynb", b"\x00\x01\x02binary")
    [sub] = run(root, tmp_path)
    assert sub.error == (
        "Файл solution.ipynb — не ноутбук Jupyter (это двоичный файл). "
        "Сохраните ноутбук через File → Download .ipynb и сдайте заново."
    )


def test_nbformat3_is_converted_in_a_copy(tmp_path: Path) -> None:
    import nbformat

    root = tmp_path / "subs"
    original = write(root / "ivanov" / "old.ipynb", notebook_v3("x = 1", "print(x)"))
    write(root / "ivanov" / "data.csv", "1\n")
    before = original.read_text(encoding="utf-8")
    [sub] = run(root, tmp_path, lang="en")
    assert sub.error is None and sub.entry is not None
    assert sub.entry != original and sub.entry.is_relative_to(tmp_path / "unpacked")
    assert {f.name for f in sub.files} == {"old.ipynb", "data.csv"}
    converted = nbformat.read(str(sub.entry), as_version=nbformat.NO_CONVERT)
    assert converted.nbformat == 4 and [c.source for c in converted.cells] == ["x = 1", "print(x)"]
    assert any("nbformat 3" in n for n in sub.notes)
    assert original.read_text(encoding="utf-8") == before
    assert sub.source == root / "ivanov"


def test_nbformat3_single_file_student(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov.ipynb", notebook_v3("x = 1"))
    [sub] = run(root, tmp_path)
    assert sub.error is None and sub.entry is not None and sub.files == (sub.entry,)


def test_unconvertible_old_notebook(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "old.ipynb", json.dumps({"nbformat": 2, "worksheets": "nonsense"}))
    [sub] = run(root, tmp_path, lang="en")
    assert sub.error is not None and "old format" in sub.error


def test_empty_folder(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    (root / "ivanov").mkdir(parents=True)
    write(root / "petrov" / ".ipynb_checkpoints" / "a-checkpoint.ipynb", notebook("x"))
    subs = run(root, tmp_path, lang="en")
    assert [s.error is not None and "empty" in s.error for s in subs] == [True, True]
    assert all(s.entry is None for s in subs)


def test_no_notebook_or_script(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "report.docx", b"PK..")
    write(root / "ivanov" / "notes.txt", "hi")
    [sub] = run(root, tmp_path, lang="en")
    assert sub.error is not None and "report.docx" in sub.error and "*.ipynb" in sub.error


# ---- entry choice ------------------------------------------------------------------------------


def test_two_notebooks_note_and_deterministic_choice(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "a.ipynb", notebook("x = 1\ny = 2\nz = 3", "print(x)"))
    write(root / "ivanov" / "b.ipynb", notebook("x = 1"))
    first = run(root, tmp_path)
    second = run(root, tmp_path)
    assert first == second
    [sub] = first
    assert sub.entry is not None and sub.entry.name == "a.ipynb"
    assert sub.notes == (
        "Найдено несколько подходящих файлов (2): a.ipynb, b.ipynb; проверяется a.ipynb "
        "(в нём больше кода). Оставьте в сдаче один ноутбук с решением.",
    )


def test_equal_notebooks_choose_alphabetically(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "b.ipynb", notebook("x = 1"))
    write(root / "ivanov" / "a.ipynb", notebook("x = 1"))
    [sub] = run(root, tmp_path, lang="en")
    assert sub.entry is not None and sub.entry.name == "a.ipynb" and "alphabetical" in sub.notes[0]


def test_hints_then_patterns_then_untitled(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "hinted" / "big.ipynb", notebook("x = 1\n" * 50))
    write(root / "hinted" / "task1_gd.ipynb", notebook("x = 1"))
    write(root / "nb_first" / "main.py", "x = 1\n" * 50)
    write(root / "nb_first" / "work.ipynb", notebook("x = 1"))
    write(root / "untitled" / "Untitled.ipynb", notebook("x = 1\n" * 50))
    write(root / "untitled" / "hw.ipynb", notebook("x = 1"))
    write(root / "only_untitled" / "Untitled1.ipynb", notebook("x = 1"))
    subs = by_student(run(root, tmp_path, entry_hints=("*task1*",), lang="en"))
    names = {k: (s.entry.name if s.entry else None) for k, s in subs.items()}
    assert names == {"hinted": "task1_gd.ipynb", "nb_first": "work.ipynb", "untitled": "hw.ipynb",
                     "only_untitled": "Untitled1.ipynb"}
    assert "expects" in subs["hinted"].notes[0]
    assert "notebooks are preferred" in subs["nb_first"].notes[0]
    assert subs["only_untitled"].notes == ()


def test_app_files_are_not_the_notebook_entry(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "app_and_notebook" / "mnist_app.py", "import gradio as gr\n" * 40)
    write(root / "app_and_notebook" / "Lab.ipynb", notebook("x = 1"))
    write(root / "server_and_script" / "server.py", "import fastapi\n" * 40)
    write(root / "server_and_script" / "cnn.py", "x = 1\n")
    write(root / "only_app" / "app.py", "import gradio as gr\n")
    write(root / "main_script" / "main.py", "x = 1\n" * 5)
    write(root / "main_script" / "utils.py", "x = 1\n")
    subs = by_student(run(root, tmp_path, entry_hints=("*mnist*",), lang="en"))
    names = {k: (s.entry.name if s.entry else None) for k, s in subs.items()}
    assert names == {"app_and_notebook": "Lab.ipynb", "server_and_script": "cnn.py", "only_app": "app.py",
                     "main_script": "main.py"}
    assert "web app or server" in subs["app_and_notebook"].notes[0]


def test_broken_candidate_loses_to_readable_one(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "a.ipynb", "{broken")
    write(root / "ivanov" / "b.ipynb", notebook("x = 1"))
    [sub] = run(root, tmp_path)
    assert sub.entry is not None and sub.entry.name == "b.ipynb" and sub.error is None and sub.notes


def test_patterns_order_scripts_only(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "ivanov" / "app.py", "import gradio\n")
    write(root / "ivanov" / "nb.ipynb", notebook("x = 1"))
    [sub] = run(root, tmp_path, patterns=("app.py", "*.py"))
    assert sub.entry is not None and sub.entry.name == "app.py"


# ---- hashing -----------------------------------------------------------------------------------


def test_sha256_stable_and_sensitive(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    nb = write(root / "ivanov" / "nb.ipynb", notebook("x = 1"))
    data = write(root / "ivanov" / "data" / "x.csv", "1\n")
    [a] = run(root, tmp_path)
    [b] = run(root, tmp_path)
    assert a.sha256 == b.sha256 and len(a.sha256) == 64
    data.write_text("2\n", encoding="utf-8")
    [c] = run(root, tmp_path)
    assert c.sha256 != a.sha256
    data.write_text("1\n", encoding="utf-8")
    data.rename(data.with_name("y.csv"))
    [d] = run(root, tmp_path)
    assert d.sha256 not in (a.sha256, c.sha256)
    nb.write_text(notebook("x = 2"), encoding="utf-8")
    [e] = run(root, tmp_path)
    assert e.sha256 not in (a.sha256, c.sha256, d.sha256)


def test_sha256_independent_of_location(tmp_path: Path) -> None:
    one = write(tmp_path / "one" / "ivanov" / "nb.ipynb", notebook("x = 1"))
    write(tmp_path / "two" / "ivanov" / "nb.ipynb", one.read_text(encoding="utf-8"))
    [a] = run(tmp_path / "one", tmp_path)
    [b] = discover(tmp_path / "two", unpack_dir=tmp_path / "u2")
    assert a.sha256 == b.sha256


def test_one_bad_student_does_not_stop_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    disc = sys.modules["grader.intake.discover"]  # the package re-exports a function of that name
    root = tmp_path / "subs"
    write(root / "a" / "nb.ipynb", notebook("x = 1"))
    write(root / "b" / "nb.ipynb", notebook("x = 1"))
    real = disc.choose_entry

    def flaky(files, files_root, *args, **kwargs):  # type: ignore[no-untyped-def]
        if files_root.name == "a":
            raise RuntimeError("boom")
        return real(files, files_root, *args, **kwargs)

    monkeypatch.setattr(disc, "choose_entry", flaky)
    subs = by_student(run(root, tmp_path, lang="en"))
    assert "boom" in (subs["a"].error or "") and subs["b"].error is None


# ---- odd hand-ins ------------------------------------------------------------------------------


def test_zip_renamed_to_ipynb_is_explained_not_unpacked(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    make_zip(root / "ivanov.ipynb", {"nb.ipynb": notebook("x = 1")})
    [sub] = run(root, tmp_path, lang="en")
    assert sub.error is not None and "zip archive with another extension" in sub.error


def test_docx_is_not_unpacked(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    make_zip(root / "ivanov" / "report.docx", {"word/document.xml": "<w/>"})
    [sub] = run(root, tmp_path, lang="en")
    assert sub.error is not None and "report.docx" in sub.error and "document.xml" not in sub.error


def test_script_encodings(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "cookie.py", "# -*- coding: cp1251 -*-\nprint('привет')\n".encode("cp1251"))
    write(root / "plain.py", "print('привет')\n".encode("cp1251"))
    subs = by_student(run(root, tmp_path, lang="en"))
    assert subs["cookie"].error is None
    assert subs["plain"].error is not None and "UTF-8" in subs["plain"].error


def test_moodle_folder_without_trailing_underscore(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    write(root / "Ivanov Ivan_12345_assignsubmission_file" / "hw.ipynb", notebook("x = 1"))
    [sub] = run(root, tmp_path)
    assert (sub.student, sub.moodle_id) == ("Ivanov Ivan", "12345")


def test_single_folder_root(tmp_path: Path) -> None:
    root = tmp_path / "task1-ivanov"
    write(root / "a" / "nb.ipynb", notebook("x = 1"))
    write(root / "b" / "nb.ipynb", notebook("x = 1\ny = 2"))
    [sub] = run(root, tmp_path, single=True, classroom_prefix="task1")
    assert (sub.student, sub.login) == ("ivanov", "ivanov")
    assert sub.entry == root / "b" / "nb.ipynb" and sub.notes


def test_windows_class_zip_with_cp866_names(tmp_path: Path) -> None:
    z = tmp_path / "class.zip"
    names = {"Иванов/нб.ipynb": notebook("x = 1"), "Петров/нб.ipynb": notebook("x = 1")}
    placeholders = {f"P{i}" + "x" * (len(n.encode("cp866")) - 2): n for i, n in enumerate(names)}
    with zipfile.ZipFile(z, "w") as zf:
        for ph, name in placeholders.items():
            zf.writestr(ph, names[name])
    blob = z.read_bytes()
    for ph, name in placeholders.items():
        blob = blob.replace(ph.encode(), name.encode("cp866"))
    z.write_bytes(blob)
    subs = run(z, tmp_path)
    assert [s.student for s in subs] == ["Иванов", "Петров"]
    assert all(s.entry is not None and s.entry.name == "нб.ipynb" for s in subs)


# ---- files that must never be read -------------------------------------------------------------


def test_oversized_entry_is_refused_without_reading_it(tmp_path: Path) -> None:
    nb = write(tmp_path / "class" / "big" / "work.ipynb", notebook("x = 1"))
    with nb.open("r+b") as fh:  # sparse: 150 MB by its size, nothing on disk
        fh.truncate(150 * MB)
    write(tmp_path / "class" / "ok" / "work.ipynb", notebook("x = 1"))
    subs = by_student(run(tmp_path / "class", tmp_path, lang="en"))
    assert subs["big"].error is not None and "150 MB, over the 100 MB limit" in subs["big"].error
    assert subs["ok"].error is None


def test_fifos_and_links_in_the_class_folder_are_ignored(tmp_path: Path) -> None:
    import os

    root = tmp_path / "class"
    write(root / "ivanov" / "work.ipynb", notebook("x = 1"))
    os.mkfifo(root / "ivanov" / "data.csv")  # reading it would block the grader for ever
    os.mkfifo(root / "petrov.ipynb")
    (root / "ivanov" / "secrets.txt").symlink_to("/etc/passwd")
    subs = by_student(run(root, tmp_path))
    assert list(subs) == ["ivanov"]
    assert [f.name for f in subs["ivanov"].files] == ["work.ipynb"]
