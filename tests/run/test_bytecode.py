"""The grader writes its own modules' bytecode before sandboxed runs need it."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from grader.run import bytecode


def test_missing_bytecode_is_written_and_kept_fresh(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("X = 1\n")
    (pkg / "sub" / "mod.py").write_text("Y = 2\n")
    assert bytecode.ensure_compiled(pkg)
    for src in (pkg / "__init__.py", pkg / "sub" / "mod.py"):
        assert Path(importlib.util.cache_from_source(str(src))).is_file()


def test_the_grader_package_itself_is_compiled() -> None:
    harness = bytecode.PACKAGE / "harness.py"
    shim = bytecode.PACKAGE / "shims" / "grader_offline" / "__init__.py"
    cached = [Path(importlib.util.cache_from_source(str(src))) for src in (harness, shim)]
    for pyc in cached:
        pyc.unlink(missing_ok=True)
    assert bytecode.ensure_compiled.__wrapped__()  # the uncached call: it runs once per process
    for pyc in cached:
        assert pyc.is_file()
