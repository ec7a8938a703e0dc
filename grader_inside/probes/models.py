"""Task 2 probe: find the student's models, work out their input format, predict hidden images.

Runs inside the student's kernel (in the sandbox) after the student's cells, in a grader cell, as
the models family's after-run probe (`grader_inside.probes.kernel.run_after`; HW 3's image folders
have `images` instead):

    models.run(globals(), config)

It finds every `torch.nn.Module` and Keras model left in the namespace (also one level inside a
list, tuple or dict), tries candidate input formats (shape x value range) on the validation split
the student was given, keeps the best, predicts the hidden images in batches and writes plain
data only:
    <folder>/models.json       one record per model (name, framework, sizes, layers, chosen
                               format, validation accuracy per candidate, timing, errors)
    <folder>/pred_<k>.npy      int16 class predictions for the hidden images
It never sees a hidden label. torch and keras are used only if the student's code imported them.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from grader_inside.probes.budget import WorkBudget, out_of_budget
from grader_inside.probes.strictjson import clean_json

logger = logging.getLogger(__name__)

N_CLASSES = 10
MAX_MODELS = 8
MAX_CONTAINER = 50
SHAPE_TRIAL = 2
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

# Candidate layouts of a batch of N 28x28 grey images, in order of preference on ties.
SHAPES: dict[str, str] = {
    "N,1,28,28": "channels first",
    "N,784": "flattened",
    "N,28,28": "no channel axis",
    "N,28,28,1": "channels last",
    "N,3,28,28": "grey repeated to 3 channels, first",
    "N,28,28,3": "grey repeated to 3 channels, last",
    "N,1,32,32": "padded to 32x32",
}
SCALES: dict[str, str] = {
    "0..1": "pixels / 255",
    "mnist-norm": "(pixels / 255 - 0.1307) / 0.3081",
    "-1..1": "(pixels / 255 - 0.5) / 0.5",
    "0..255": "raw pixel values",
}


@dataclass(frozen=True)
class Found:
    name: str
    obj: Any
    framework: str  # torch | keras


def shape_batch(images: np.ndarray, shape: str) -> np.ndarray:
    """uint8 N x 28 x 28 images laid out as `shape` (still uint8: scaling comes after)."""
    n = len(images)
    if shape == "N,1,28,28":
        return images[:, None, :, :]
    if shape == "N,784":
        return images.reshape(n, -1)
    if shape == "N,28,28":
        return images
    if shape == "N,28,28,1":
        return images[:, :, :, None]
    if shape == "N,3,28,28":
        return np.repeat(images[:, None, :, :], 3, axis=1)
    if shape == "N,28,28,3":
        return np.repeat(images[:, :, :, None], 3, axis=3)
    if shape == "N,1,32,32":
        return np.pad(images, ((0, 0), (2, 2), (2, 2)))[:, None, :, :]
    raise ValueError(shape)


def scale_batch(batch: np.ndarray, scale: str, dtype: Any = np.float32) -> np.ndarray:
    x = batch.astype(dtype)
    if scale == "0..255":
        return x
    x /= 255.0
    if scale == "mnist-norm":
        x -= MNIST_MEAN
        x /= MNIST_STD
    elif scale == "-1..1":
        x -= 0.5
        x /= 0.5
    return x


# -- discovery ------------------------------------------------------------------------------
def _torch_module_type() -> Any:
    torch = sys.modules.get("torch")
    return getattr(getattr(torch, "nn", None), "Module", None) if torch is not None else None


def _keras_model_types() -> tuple[type, ...]:
    types: list[type] = []
    for mod in ("keras", "tensorflow.keras", "tf_keras"):
        m = sys.modules.get(mod)
        cls = getattr(m, "Model", None) if m is not None else None
        if isinstance(cls, type):
            types.append(cls)
    return tuple(types)


def _framework(obj: Any, torch_module: Any, keras_types: tuple[type, ...]) -> str | None:
    if keras_types and isinstance(obj, keras_types):
        try:
            return "keras" if _keras_layers(obj) else None  # `Sequential()` with nothing added
        except Exception:
            return "keras"
    if torch_module is not None and isinstance(obj, torch_module):
        try:
            if not any(True for _ in obj.parameters()):
                return None  # losses, activations, containers without weights
        except Exception:
            return None
        return "torch"
    return None


IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit"})  # and every name starting with "_"


def student_names(namespace: dict[str, Any]) -> list[tuple[str, Any]]:
    """The namespace's variables that are the student's: not IPython's own (its input and output
    caches `In`, `Out`, `_12`, `_`, `__` hold the same objects under names no student chose), not
    modules."""
    return [(name, value) for name, value in list(namespace.items())
            if not name.startswith("_") and name not in IPYTHON_NAMES and not isinstance(value, type(sys))]


def _attributes(value: Any) -> list[tuple[str, Any]]:
    """An object's own public attributes (its __dict__, read without running any property), for a
    model kept inside a helper object of the student's (`trainer.model`)."""
    try:
        attrs = vars(value)
    except TypeError:
        return []
    if not isinstance(attrs, dict):
        return []
    return [(k, v) for k, v in list(attrs.items())[:MAX_CONTAINER] if isinstance(k, str) and not k.startswith("_")]


def discover(namespace: dict[str, Any]) -> tuple[list[Found], int]:
    """Models in the namespace (deduplicated, sub-modules of another model left out), each under
    the student's own name for it: a variable first, then an item of a list, tuple or dict
    (`models[0]`, `zoo['cnn']`), then an attribute of an object of the student's (`trainer.model`)."""
    torch_module = _torch_module_type()
    keras_types = _keras_model_types()
    if torch_module is None and not keras_types:
        return [], 0
    found: list[Found] = []
    seen: set[int] = set()

    def consider(name: str, obj: Any) -> None:
        if id(obj) in seen or isinstance(obj, type):
            return
        fw = _framework(obj, torch_module, keras_types)
        if fw is not None:
            seen.add(id(obj))
            found.append(Found(name, obj, fw))

    variables = student_names(namespace)
    for name, value in variables:
        consider(name, value)
    for name, value in variables:
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value[:MAX_CONTAINER]):
                consider(f"{name}[{i}]", item)
        elif isinstance(value, dict):
            for key, item in list(value.items())[:MAX_CONTAINER]:
                consider(f"{name}[{key!r}]", item)
    for name, value in variables:
        if id(value) not in seen and not isinstance(value, (list, tuple, dict, type)) and not callable(value):
            for attr, item in _attributes(value):
                consider(f"{name}.{attr}", item)
    children: set[int] = set()
    for f in found:
        if f.framework == "torch":
            children.update(id(m) for m in f.obj.modules() if m is not f.obj)
    kept = [f for f in found if id(f.obj) not in children]
    return kept[:MAX_MODELS], max(0, len(kept) - MAX_MODELS)


# -- description ----------------------------------------------------------------------------
def describe(f: Found) -> dict[str, Any]:
    rec: dict[str, Any] = {"name": f.name, "framework": f.framework, "class": type(f.obj).__name__}
    try:
        if f.framework == "torch":
            params = list(f.obj.parameters())
            rec["params"] = int(sum(p.numel() for p in params))
            rec["trainable_params"] = int(sum(p.numel() for p in params if p.requires_grad))
            rec["conv_weights"] = int(sum(1 for p in params if p.dim() >= 3))
            leaves = [type(m).__name__ for m in f.obj.modules() if not any(True for _ in m.children())]
        else:
            weights = list(f.obj.weights)
            rec["params"] = int(sum(int(np.prod(w.shape)) for w in weights))
            rec["trainable_params"] = int(sum(int(np.prod(w.shape)) for w in f.obj.trainable_weights))
            rec["conv_weights"] = int(sum(1 for w in weights if len(w.shape) >= 3))
            leaves = [type(layer).__name__ for layer in _keras_layers(f.obj)]
        rec["layers"] = leaves[:40]
    except Exception as exc:
        rec["describe_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return rec


def _keras_layers(model: Any) -> list[Any]:
    out: list[Any] = []
    for layer in getattr(model, "layers", []):
        if getattr(layer, "layers", None):
            out.extend(_keras_layers(layer))
        else:
            out.append(layer)
    return out


# -- prediction -----------------------------------------------------------------------------
class Predictor:
    """Calls one model on uint8 images in a given format; returns class indices."""

    def __init__(self, found: Found, device: str) -> None:
        self.found = found
        self.device = device
        self.torch = sys.modules.get("torch")
        self.dtype: Any = np.float32
        if found.framework == "torch":
            model = found.obj
            self.was_training = bool(model.training)
            first = next(iter(model.parameters()))
            if first.is_floating_point():
                self.dtype = {self.torch.float64: np.float64}.get(first.dtype, np.float32)
            model.to(device)
            model.eval()

    def restore(self) -> None:
        if self.found.framework == "torch" and self.was_training:
            self.found.obj.train()

    def scores(self, batch: np.ndarray) -> np.ndarray:
        if self.found.framework == "torch":
            torch = self.torch
            with torch.inference_mode():
                x = torch.from_numpy(batch).to(self.device)
                out = self.found.obj(x)
                out = _first_tensor(out, torch)
                if out.dtype not in (torch.float32, torch.float64):
                    out = out.float()
                return out.detach().cpu().numpy()
        return self._keras_scores(batch)

    def _keras_scores(self, batch: np.ndarray) -> np.ndarray:
        keras = sys.modules.get("keras")
        torch = self.torch
        if torch is not None:
            with torch.no_grad():
                out = self.found.obj(batch, training=False)
        else:
            out = self.found.obj(batch, training=False)
        if isinstance(out, (list, tuple)):
            out = out[0]
        if keras is not None and hasattr(keras, "ops"):
            return np.asarray(keras.ops.convert_to_numpy(out))
        return np.asarray(out)

    def classes(self, images: np.ndarray, shape: str, scale: str) -> np.ndarray:
        scores = self.scores(scale_batch(shape_batch(images, shape), scale, self.dtype))
        n = len(images)
        if scores.ndim == 3 and scores.shape[1] == 1:
            scores = scores[:, 0, :]
        if scores.ndim != 2 or scores.shape[0] != n or scores.shape[1] != N_CLASSES:
            raise ValueError(f"output of shape {tuple(scores.shape)} for {n} images; "
                             f"expected ({n}, {N_CLASSES}) class scores")
        return np.argmax(scores, axis=1)


def _first_tensor(out: Any, torch: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (list, tuple)):
        for item in out:
            if isinstance(item, torch.Tensor):
                return item
    logits = getattr(out, "logits", None)  # e.g. a HuggingFace-style output object
    if isinstance(logits, torch.Tensor):
        return logits
    raise ValueError(f"the model returned {type(out).__name__}, not a tensor of class scores")


def choose_format(pred: Predictor, val_x: np.ndarray, val_y: np.ndarray) -> dict[str, Any]:
    """Try every layout that runs, with every value range; the best validation accuracy wins."""
    errors: dict[str, str] = {}
    shapes: list[str] = []
    for shape in SHAPES:
        try:
            pred.classes(val_x[:SHAPE_TRIAL], shape, "0..1")
            shapes.append(shape)
        except Exception as exc:
            errors[shape] = f"{type(exc).__name__}: {exc}"[:200]
    tried: dict[str, float] = {}
    best: tuple[float, str, str] | None = None
    for shape in shapes:
        for scale in SCALES:
            try:
                got = _predict_batched(pred, val_x, shape, scale, 256)
            except Exception as exc:
                errors[f"{shape} {scale}"] = f"{type(exc).__name__}: {exc}"[:200]
                continue
            acc = float(np.mean(got == val_y))
            tried[f"{shape} {scale}"] = acc
            if best is None or acc > best[0]:
                best = (acc, shape, scale)
    result: dict[str, Any] = {"tried": tried, "format_errors": errors}
    if best is not None:
        result.update(val_accuracy=best[0], shape=best[1], scale=best[2])
    return result


def _predict_batched(pred: Predictor, images: np.ndarray, shape: str, scale: str, batch: int) -> np.ndarray:
    out = np.empty(len(images), dtype=np.int16)
    for start in range(0, len(images), batch):
        out[start:start + batch] = pred.classes(images[start:start + batch], shape, scale)
    return out


# -- entry point ----------------------------------------------------------------------------
def _read_validation(data_dir: str, limit: int) -> tuple[np.ndarray, np.ndarray]:
    from grader_inside.idx import read_idx

    raw = Path(data_dir) / "MNIST" / "raw"
    x = read_idx(raw / "t10k-images-idx3-ubyte")
    y = read_idx(raw / "t10k-labels-idx1-ubyte")
    rng = np.random.default_rng(0)
    keep = np.sort(rng.permutation(len(y))[: min(limit, len(y))])
    return x[keep], y[keep].astype(np.int16)


def pick_device(requested: str) -> str:
    torch = sys.modules.get("torch")
    cuda = bool(torch is not None and torch.cuda.is_available())
    if requested == "cuda" and not cuda:
        return "cpu"
    return "cuda" if requested in ("auto", "cuda") and cuda else "cpu"


def run(namespace: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Evaluate every model in `namespace`; write models.json and predictions under the outbox."""
    out = Path(config["folder"])
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"models": [], "skipped": 0, "error": None}
    budget = WorkBudget(float(config.get("budget_s", 240.0)))
    try:
        found, skipped = discover(namespace)
        report["skipped"] = skipped
        device = pick_device(str(config.get("device", "auto")))
        report["device"] = device
        if found:
            val_x, val_y = _read_validation(config["data_dir"], int(config.get("format_images", 1000)))
            hidden = np.load(config["hidden_images"], allow_pickle=False, mmap_mode="r")
            report["hidden_images"] = int(len(hidden))
        for k, f in enumerate(found):
            rec = describe(f)
            report["models"].append(rec)
            limit = budget.spent()
            if limit is not None:
                rec["error"], rec["limit"] = out_of_budget(limit, "not evaluated"), limit
                continue
            _evaluate(f, rec, k, device, val_x, val_y, hidden, int(config.get("batch_size", 500)), out)
            if config.get("retrain") and budget.spent() is None:
                try:
                    retrain(f, rec, k, {**config["retrain"], "data_dir": config["data_dir"]}, hidden, out)
                except Exception as exc:  # the student's architecture may not survive a copy
                    rec["retrain_error"] = f"{type(exc).__name__}: {exc}"[:300]
    except Exception as exc:  # reported to the grader; never breaks the other probes
        logger.exception("models probe failed")
        report["error"] = f"{type(exc).__name__}: {exc}"[:500]
    report.update(budget.record())
    report["duration_s"] = report["wall_s"]
    (out / "models.json").write_text(json.dumps(clean_json(report)), encoding="utf-8")
    return report


def _evaluate(f: Found, rec: dict[str, Any], k: int, device: str, val_x: np.ndarray, val_y: np.ndarray,
              hidden: np.ndarray, batch: int, out: Path) -> None:
    try:
        pred = Predictor(f, device)
    except Exception as exc:
        rec["error"] = f"cannot prepare the model: {type(exc).__name__}: {exc}"[:300]
        return
    try:
        rec.update(choose_format(pred, val_x, val_y))
        if "shape" not in rec:
            rec["error"] = "no input format worked: the model does not take 28x28 images"
            return
        timed = timed_predict(pred.classes, hidden, rec["shape"], rec["scale"], batch,
                              sync=_sync_fn(pred))
        np.save(out / f"pred_{k}.npy", timed[0], allow_pickle=False)
        rec["predictions"] = f"pred_{k}.npy"
        rec["inference_s"] = timed[1]
        rec["batch_size"] = batch
    except Exception as exc:
        rec["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        pred.restore()


# -- equal-budget retraining ----------------------------------------------------------------
def torch_input_fn(shape: str, scale: str) -> Callable[[Any], Any]:
    """The chosen format as a function of float (N, 1, 28, 28) tensors in 0..1 (the reference
    loop's input), the same transform `shape_batch` + `scale_batch` apply to uint8 arrays."""
    import torch.nn.functional as F

    def fn(x: Any) -> Any:
        n = x.shape[0]
        if shape == "N,784":
            x = x.reshape(n, 784)
        elif shape == "N,28,28":
            x = x.reshape(n, 28, 28)
        elif shape == "N,28,28,1":
            x = x.reshape(n, 28, 28, 1)
        elif shape == "N,3,28,28":
            x = x.expand(n, 3, 28, 28)
        elif shape == "N,28,28,3":
            x = x.reshape(n, 28, 28, 1).expand(n, 28, 28, 3)
        elif shape == "N,1,32,32":
            x = F.pad(x, (2, 2, 2, 2))
        if scale == "0..255":
            return x * 255.0
        if scale == "mnist-norm":
            return (x - MNIST_MEAN) / MNIST_STD
        if scale == "-1..1":
            return (x - 0.5) / 0.5
        return x

    return fn


def output_kind(model: Any, batch: Any) -> str:
    """logits, log_probs or probs: what the student's output layer returns (the loss depends on it)."""
    torch = sys.modules["torch"]
    with torch.inference_mode():
        out = _first_tensor(model(batch), torch).float()
    if out.min() >= 0 and torch.allclose(out.sum(1), torch.ones(len(out)), atol=1e-3):
        return "probs"
    if out.max() <= 0 and torch.allclose(out.exp().sum(1), torch.ones(len(out)), atol=1e-3):
        return "log_probs"
    return "logits"


def _student_tensors(data_dir: str) -> tuple[Any, Any, Any, Any]:
    from grader_inside.idx import read_idx

    torch = sys.modules["torch"]
    raw = Path(data_dir) / "MNIST" / "raw"

    def part(name: str) -> tuple[Any, Any]:
        x = torch.from_numpy(read_idx(raw / f"{name}-images-idx3-ubyte")).float().div_(255.0).unsqueeze(1)
        return x, torch.from_numpy(read_idx(raw / f"{name}-labels-idx1-ubyte").astype(np.int64))

    return (*part("train"), *part("t10k"))


def retrain(f: Found, rec: dict[str, Any], k: int, config: dict[str, Any], hidden: np.ndarray, out: Path) -> None:
    """Re-initialise the student's architecture and train it with the reference loop, per seed;
    hidden-split predictions and per-epoch history go to the outbox (scored by the grader)."""
    if f.framework != "torch" or "shape" not in rec:
        rec["retrain_error"] = "only PyTorch models that run on 28x28 images are retrained"
        return
    try:
        from reference import mnist as ref
    except ImportError as exc:
        rec["retrain_error"] = f"reference loop unavailable: {exc}"
        return
    torch = sys.modules["torch"]
    train_x, train_y, val_x, val_y = _student_tensors(config["data_dir"])
    fn = torch_input_fn(rec["shape"], rec["scale"])
    model = f.obj.to("cpu")
    kind = output_kind(model.eval(), fn(val_x[:64]))
    hidden_x = torch.from_numpy(np.asarray(hidden)).float().div_(255.0).unsqueeze(1)
    runs = []
    for seed in range(int(config.get("seeds", 1))):
        fresh, untouched = ref.reinitialise(model, seed)
        trained = ref.train(lambda m=fresh: m, (train_x, train_y), (val_x, val_y),
                            optimiser=ref.OptimiserSpec(lr=float(config.get("lr", 1e-3))),
                            epochs=int(config.get("epochs", 1)), batch_size=int(config.get("batch_size", 64)),
                            subset=config.get("subset"), seed=seed, input_fn=fn, outputs=kind)
        preds = ref.predict(trained.model, hidden_x, batch_size=500, input_fn=fn).numpy().astype(np.int16)
        name = f"retrain_{k}_{seed}.npy"
        np.save(out / name, preds, allow_pickle=False)
        runs.append({"seed": seed, "predictions": name, "history": trained.history.to_json(),
                     "untouched": list(untouched)})
    rec["retrain"] = {"outputs": kind, "runs": runs}


def _sync_fn(pred: Predictor) -> Callable[[], None] | None:
    torch = pred.torch
    if pred.device.startswith("cuda") and torch is not None:
        return torch.cuda.synchronize
    return None


def timed_predict(classes: Callable[[np.ndarray, str, str], np.ndarray], images: np.ndarray, shape: str,
                  scale: str, batch: int, sync: Callable[[], None] | None = None) -> tuple[np.ndarray, float]:
    """Predict all `images` in batches; seconds measured around the whole loop."""
    preds = np.empty(len(images), dtype=np.int16)
    start = time.perf_counter()
    for i in range(0, len(images), batch):
        preds[i:i + batch] = classes(np.asarray(images[i:i + batch]), shape, scale)
    if sync is not None:
        sync()
    return preds, time.perf_counter() - start
