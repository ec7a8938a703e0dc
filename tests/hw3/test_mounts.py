"""Data mounts at Colab/Kaggle paths: bubblewrap binds them read-only (also ./name in the working
folder); the plain backend links ./name; the rubric refuses odd mount points."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from grader.families.models.sections import ImageFolderDataSpec
from grader.sandbox import Limits, Mount, SandboxSpec
from grader.sandbox.plain import PlainSandbox

SCRIPT = ("import os\nfor p in ['/content/afhq/train/x.txt', './afhq/train/x.txt', "
          "'/kaggle/input/animal-faces/afhq/train/x.txt']:\n"
          "    print(p, os.path.exists(p) and open(p).read())\n"
          "try:\n    open('/content/afhq/new.txt', 'w')\nexcept OSError as e:\n    print('read-only', e.errno)\n")


def _spec(tmp_path: Path, data: Path, targets: tuple[str, ...]) -> SandboxSpec:
    scratch, outbox = tmp_path / "scratch", tmp_path / "outbox"
    scratch.mkdir()
    outbox.mkdir()
    return SandboxSpec(argv=(sys.executable, "-c", SCRIPT), scratch=scratch, outbox=outbox,
                       mounts=tuple(Mount(data, t) for t in targets), limits=Limits(wall_time_s=60))


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "x.txt").write_text("hello")
    return folder


@pytest.mark.sandbox
def test_bwrap_binds_at_colab_and_kaggle_paths(tmp_path: Path, data: Path) -> None:
    from grader.sandbox.bwrap import BwrapSandbox

    spec = _spec(tmp_path, data, ("/content/afhq", "./afhq", "/kaggle/input/animal-faces/afhq"))
    out = BwrapSandbox(use_cgroups=False).run(spec).stdout.decode()
    assert out.count(" hello") == 3, out
    assert "read-only 30" in out  # EROFS


def test_plain_links_mounts_in_the_working_folder(tmp_path: Path, data: Path) -> None:
    spec = _spec(tmp_path, data, ("./afhq",))
    out = PlainSandbox(use_cgroups=False).run(spec).stdout.decode()
    assert "./afhq/train/x.txt hello" in out
    assert (spec.scratch / "afhq").is_symlink()


@pytest.mark.parametrize("bad", ["afhq", "../afhq", "/content/../etc", "./"])
def test_rubric_refuses_odd_mount_points(bad: str) -> None:
    with pytest.raises(ValidationError, match="mount point"):
        ImageFolderDataSpec(kind="imagefolder", mounts=[bad])

