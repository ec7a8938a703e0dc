"""The warm matplotlib font cache handed to every sandboxed run."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.run import mplcache
from grader.sandbox import PlainSandbox, SandboxSpec
from grader_inside import prepare

from run_support import run_one_cell


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    mplcache.matplotlib_cache.cache_clear()
    yield tmp_path / "cache"
    mplcache.matplotlib_cache.cache_clear()


def test_cache_is_built_once_and_copied_into_a_runs_config_dir(
    fresh_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = mplcache.matplotlib_cache()
    assert folder is not None and folder.is_relative_to(fresh_cache)
    built = sorted(p.name for p in folder.glob("fontlist-*.json"))
    assert built
    run_dir = tmp_path / "run-mpl"
    monkeypatch.setenv(prepare.MPL_CACHE_ENV, str(folder))
    monkeypatch.setenv("MPLCONFIGDIR", str(run_dir))
    prepare.warm_config_dir()
    assert sorted(p.name for p in run_dir.iterdir()) == built


@pytest.mark.kernel
def test_every_run_gets_the_cache_mounted_and_named(fresh_cache: Path, tmp_path: Path) -> None:
    seen: list[SandboxSpec] = []

    class Recording(PlainSandbox):
        def run(self, spec: SandboxSpec):  # type: ignore[override]
            seen.append(spec)
            return super().run(spec)

    outcome = run_one_cell(tmp_path, "import os\nprint(sorted(os.listdir(os.environ['MPLCONFIGDIR'])))",
                           Recording())
    assert [c.status for c in outcome.cells] == ["ok"]
    spec = seen[0]
    cache = mplcache.matplotlib_cache()
    assert spec.env[prepare.MPL_CACHE_ENV] == str(cache)
    assert any(m.source == cache and not m.writable for m in spec.mounts)
