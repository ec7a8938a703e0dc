"""The hidden test labels never reach the sandbox: a hostile notebook looks for them everywhere."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.data import SplitSettings, prepare_mnist, write_idx
from grader.run.runner import RunRequest, run_submission
from grader.sandbox import BwrapSandbox

FASHION = Path("/usr/share/datasets/fashion-mnist")
pytestmark = [pytest.mark.sandbox, pytest.mark.kernel, pytest.mark.slow]

HUNT = """
import gzip, hashlib, json, os
targets = json.loads({targets!r})
found, opened = [], {{}}
for path in targets:
    try:
        with open(path, 'rb') as fh:
            opened[path] = len(fh.read())
    except OSError as exc:
        opened[path] = type(exc).__name__
for top in ['/']:
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in ('/proc', '/sys', '/dev')]
        for name in files:
            if 'label' not in name.lower() and not name.endswith('.npy'):
                continue
            path = os.path.join(folder, name)
            try:
                data = open(path, 'rb').read()
                if data[:2] == b'\\x1f\\x8b':
                    data = gzip.decompress(data)
            except Exception:
                continue
            found.append([path, hashlib.sha256(data[-{n}:]).hexdigest()])
print('HUNT' + json.dumps({{'opened': opened, 'found': found}}))
"""


def _source(tmp_path: Path) -> Path:
    if FASHION.is_dir():
        return FASHION
    rng = np.random.default_rng(1)
    src = tmp_path / "given"
    for name, arr in {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (60, 28, 28), dtype=np.uint8),
                      "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 60, dtype=np.uint8),
                      "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
                      "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 40, dtype=np.uint8)}.items():
        write_idx(src / name, arr)
    return src


def test_sandbox_cannot_read_the_hidden_labels(tmp_path: Path) -> None:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    source = _source(tmp_path)
    prepared = prepare_mnist(source, tmp_path / "cache", SplitSettings(train_limit=100))
    labels = prepared.hidden_labels().astype(np.uint8)
    secret = {f.name: f for f in source.iterdir() if "t10k-labels" in f.name}
    targets = [str(prepared.labels_path), *map(str, secret.values()), str(prepared.hidden_images)]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(HUNT.format(targets=json.dumps(targets), n=len(labels)))]
    entry = tmp_path / "sub" / "hunt.ipynb"
    entry.parent.mkdir()
    nbformat.write(nb, str(entry))
    req = RunRequest(entry=entry, timeout_s=120, cell_timeout_s=110, mounts=prepared.mounts(),
                     env=prepared.sandbox_env())
    run = run_submission(req, BwrapSandbox(), tmp_path / "out")
    assert run.status == "ok", run.message
    outputs = nbformat.read(str(run.executed_notebook), as_version=4).cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    result = json.loads(text.split("HUNT", 1)[1])
    opened = result["opened"]
    assert opened[str(prepared.labels_path)] == "FileNotFoundError"
    for path in secret.values():
        assert opened[str(path)] == "FileNotFoundError"  # the instructor's folder shows up empty
    assert isinstance(opened[str(prepared.hidden_images)], int)  # the images may be read
    digest = __import__("hashlib").sha256(labels.tobytes()).hexdigest()
    assert [p for p, h in result["found"] if h == digest] == []
    assert result["found"], "the hunt found no label files at all: the search itself is broken"
