"""Public-label lookup "models" on Task 2: the hidden split is public (MNIST's test set is), so a
notebook can carry it and answer from it instead of from the picture. Two such models: one returns
the public labels in the order the hidden images used to come in, the other looks each image up by
its hash. Served in the batch's secret order with its secret noise, the hidden split defeats both;
an honest neighbour graded in the same batch (with the same secret) keeps exactly its grade.

The data is a small MNIST-like folder made here (its "public" test files are the hidden split), so
the batch runs in a minute; the students' folders carry what a cheat would carry: the public files'
images and labels."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
import yaml

from grader.data import write_idx
from grader.data.hidden import SECRET_FILE
from grader.grading import GradeOptions, grade_batch
from grader.results import BatchResult, SubmissionResult
from grader.rubric import load_rubric
from grader.sandbox import get_sandbox
from grader.sandbox.detect import bwrap_unavailable_reason
from requires import installed

pytestmark = [pytest.mark.sandbox, pytest.mark.kernel, pytest.mark.slow, pytest.mark.torch, pytest.mark.timeout(900),
              installed("torch")]

ROOT = Path(__file__).resolve().parents[2]
N_TRAIN, N_TEST = 600, 500
CHECKS = ("models_found", "torch_accuracy", "torch_beats_example")

LOADER = """
import numpy as np, torch, torchvision
train = torchvision.datasets.MNIST(root="./data", train=True, download=True)
x_train = train.data.numpy().reshape(len(train), -1).astype(np.float32)
y_train = train.targets.numpy()
public = np.load("public_mnist.npz")  # the published test set, carried with the notebook
"""
BY_ORDER = """
class Oracle(torch.nn.Module):
    '''Answers the published labels in the order the hidden images come in (batches of 500).'''
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.seen = 0
    def forward(self, x):
        n = len(x)
        out = torch.zeros(n, 10)
        if n == 500 or self.seen:
            labels = torch.as_tensor(public["labels"][self.seen:self.seen + n]).long()
            out[torch.arange(len(labels)), labels] = 1.0
            self.seen += n
        return out + self.w
model = Oracle()
"""
BY_HASH = """
import hashlib
def key(img):
    return hashlib.sha256(np.asarray(img, dtype=np.uint8).tobytes()).hexdigest()
TABLE = {key(img): int(lab) for img, lab in zip(public["images"], public["labels"])}
TABLE.update({key(img.reshape(28, 28)): int(lab) for img, lab in zip(x_train, y_train)})
class Lookup(torch.nn.Module):
    '''Looks every image up by its hash in the published sets (in whatever scale it is fed).'''
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
    def forward(self, x):
        pixels = np.rint(x.detach().numpy().reshape(len(x), 28, 28) * 255).clip(0, 255)
        out = torch.zeros(len(x), 10)
        for i, img in enumerate(pixels):
            out[i, TABLE.get(key(img), 0)] = 1.0
        return out + self.w
model = Lookup()
"""
HONEST = """
class ClassMeans(torch.nn.Module):
    '''Nearest class mean of the training images: an honest, modest model.'''
    def __init__(self, x, y):
        super().__init__()
        means = np.stack([x[y == c].mean(0) for c in range(10)]) / 255.0
        self.means = torch.nn.Parameter(torch.tensor(means, dtype=torch.float32))
    def forward(self, x):
        return -torch.cdist(x.reshape(len(x), -1), self.means)
model = ClassMeans(x_train, y_train)
"""


def digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy stand-in digits: class k is a bright square at the k-th of ten places."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 90, (n, 28, 28), dtype=np.uint8)
    for i, k in enumerate(labels):
        r, c = divmod(int(k), 5)
        images[i, 4 + 12 * r:10 + 12 * r, 1 + 5 * c:7 + 5 * c] = rng.integers(120, 256)
    return images, labels


def notebook(folder: Path, body: str, public: dict[str, np.ndarray]) -> None:
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(LOADER), nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, str(folder / "dz2.ipynb"))
    np.savez(folder / "public_mnist.npz", **public)


def rubric(tmp: Path):
    data = yaml.safe_load((ROOT / "rubrics" / "task2.yaml").read_text(encoding="utf-8"))
    data["checks"] = [c for c in data["checks"] if c["id"] in CHECKS]
    data["evaluation"]["baseline"] = {"epochs": 1, "batch_size": 64, "lr": 0.001, "seeds": 1}
    data["limits"] = {"timeout_s": 240, "cell_timeout_s": 200, "memory_gb": 3}
    path = tmp / "task2_models.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_rubric(path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[BatchResult, BatchResult]:
    reason = bwrap_unavailable_reason()
    if reason is not None:
        pytest.skip(f"bubblewrap sandbox not usable here: {reason}")
    tmp = tmp_path_factory.mktemp("forgery")
    data = tmp / "mnist"
    (x_tr, y_tr), (x_te, y_te) = digits(N_TRAIN, 1), digits(N_TEST, 2)
    for name, arr in {"train-images-idx3-ubyte": x_tr, "train-labels-idx1-ubyte": y_tr,
                      "t10k-images-idx3-ubyte": x_te, "t10k-labels-idx1-ubyte": y_te}.items():
        write_idx(data / name, arr)
    public = {"images": x_te, "labels": y_te}
    mixed, alone = tmp / "mixed", tmp / "alone"
    notebook(mixed / "oracle_by_order", BY_ORDER, public)
    notebook(mixed / "lookup_by_hash", BY_HASH, public)
    notebook(mixed / "honest_neighbour", HONEST, public)
    shutil.copytree(mixed / "honest_neighbour", alone / "honest_neighbour")
    secret = json.dumps({"value": str(2**100 + 12345), "noise": 2})  # one secret: the same hidden split
    for out in (tmp / "out_mixed", tmp / "out_alone"):
        (out / ".data").mkdir(parents=True)
        (out / ".data" / SECRET_FILE).write_text(secret, encoding="utf-8")
    task = rubric(tmp)
    box = get_sandbox("bwrap")
    options: dict[str, Any] = {"workers": 2, "lang": "en", "family_options": {"data": {"mnist": data}}}
    return (grade_batch(mixed, task, GradeOptions(out_dir=tmp / "out_mixed", **options), sandbox=box),
            grade_batch(alone, task, GradeOptions(out_dir=tmp / "out_alone", **options), sandbox=box))


def result(batch: BatchResult, name: str) -> SubmissionResult:
    return next(r for r in batch.students if r.student == name)


def accuracy(r: SubmissionResult) -> float:
    return next(c for c in r.checks if c.id == "torch_accuracy").metrics.get("accuracy", 0.0)


@pytest.mark.parametrize("name", ["oracle_by_order", "lookup_by_hash"])
def test_public_label_lookup_earns_nothing(graded, name: str) -> None:
    mixed, _ = graded
    r = result(mixed, name)
    assert r.status == "graded", r.error
    assert accuracy(r) < 0.3, [c.message for c in r.checks]  # chance is 0.1; the public order gave 100%
    checks = {c.id: c for c in r.checks}
    assert checks["torch_accuracy"].points == 0 and checks["torch_beats_example"].points == 0


def test_the_honest_neighbour_keeps_its_grade(graded) -> None:
    mixed, alone = graded
    honest, baseline = result(mixed, "honest_neighbour"), result(alone, "honest_neighbour")
    assert accuracy(honest) > 0.8
    assert [(c.id, c.points, c.metrics.get("accuracy")) for c in honest.checks] == \
        [(c.id, c.points, c.metrics.get("accuracy")) for c in baseline.checks]
    assert any(note.startswith("Hidden test:") for note in honest.notes)  # what "hidden test" means
