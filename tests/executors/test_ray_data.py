"""HW 3 on a real local Ray cluster: the data a run mounts (the student's image tree, the hidden
images, the pretrained weights) reaches the worker through the object store and is unpacked
there once, and the grades are those of a local batch, the missing weights file named alike."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from grader.grading import GradeOptions, grade_batch
from requires import installed

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from hw3_data import make_shapes_dataset, write_fake_weights  # noqa: E402
from test_hw3_samples import small_rubric  # noqa: E402  (the stand-in data's sizes)
from test_ray_cluster import summary  # noqa: E402

SAMPLES = ROOT / "submissions" / "hw3"
CHOSEN = ("ivanov_ivan", "volkova_maria")  # a full solution; one whose weights file is missing

pytestmark = [pytest.mark.slow, pytest.mark.kernel, pytest.mark.sandbox, pytest.mark.torch, pytest.mark.timeout(1800),
              installed("torch", "torchvision")]


def test_hw3_on_ray_is_graded_as_locally_with_the_data_shipped(ray_head: str, tmp_path: Path) -> None:
    folder = tmp_path / "class"
    for name in CHOSEN:
        shutil.copytree(SAMPLES / name, folder / name)
    data = make_shapes_dataset(tmp_path / "data")
    weights = write_fake_weights(tmp_path / "weights").parent
    shipped = Path(tempfile.gettempdir()) / "grader-ray-data"
    before = set(shipped.iterdir()) if shipped.is_dir() else set()

    def options(out: str, **more: str) -> GradeOptions:
        return GradeOptions(out_dir=tmp_path / out, workers=2, lang="en", sandbox="bwrap",
                            family_options={"data": {"afhq": data}, "weights": weights}, **more)  # type: ignore[arg-type]

    local = grade_batch(folder, small_rubric(), options("local"))
    on_ray = grade_batch(folder, small_rubric(), options("ray", executor="ray", address=ray_head))
    assert summary(on_ray) == summary(local)
    assert {r.student: r.status for r in on_ray.students}["ivanov_ivan"] == "graded"
    volkova = next(r for r in on_ray.students if r.student == "volkova_maria")
    assert volkova.error is not None and "resnet50-11ad3fa6.pth" in volkova.error
    unpacked = set(shipped.iterdir()) - before
    assert unpacked, "no data folder was unpacked on the worker"
    for folder_ in unpacked:
        shutil.rmtree(folder_, ignore_errors=True)  # the test's own copies
