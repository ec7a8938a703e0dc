"""HW 3 probe: the student's models on image folders, fed through the student's own transform.

Runs in the student's kernel (in the sandbox) after the student's cells, as the models family's
after-run probe for an image-folder dataset (`grader_inside.probes.kernel.run_after`; Task 2's is
`models`). The hidden images come as one
uint8 array (N x S x S x 3, decoded once per batch by the grader: grader/data/cache.py), and so
does a labelled subset of the student's own validation images.

For every model left in the namespace (discovery as in Task 2) the probe builds candidate input
pipelines: the student's evaluation transforms found in the namespace (a validation/test
dataset's `transform`, `Compose` variables; random augmentations dropped), run on batches of
tensors (ToTensor becomes a division by 255; Resize, CenterCrop, Normalize ... run as they are);
only when none of them runs with the model, standard ones (ImageNet normalisation at 224, 0..1 ...).
The candidate with the best validation accuracy predicts the hidden images in batches. A student transform that cannot run
on tensors is applied image by image to PIL images instead, and the record says so.
Plain data only: <folder>/models.json (the probe's folder, outbox/models; as in Task 2, plus `transform`, `transfer`,
`histories`) and int16 predictions pred_<k>.npy. No hidden label is ever here.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from grader_inside.probes import transfer
from grader_inside.probes.budget import WorkBudget, out_of_budget
from grader_inside.probes.models import Found, Predictor, _first_tensor, describe, discover, pick_device, student_names
from grader_inside.probes.strictjson import clean_json

logger = logging.getLogger(__name__)

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
TRIAL = 2
EVAL_BATCH = 32
MAX_TRANSFORMS = 6
_TO_FLOAT = {"ToTensor"}  # PIL/ndarray -> float tensor in 0..1
_TO_DTYPE = {"ToDtype", "ConvertImageDtype"}  # on uint8 input: to float in 0..1
_NO_OP = {"PILToTensor", "ToImage", "ToImageTensor", "ToPureTensor", "ToPILImage", "Identity"}
_AUGMENT = {"ColorJitter", "GaussianBlur", "RandAugment", "AutoAugment", "TrivialAugmentWide", "AugMix",
            "ElasticTransform", "GaussianNoise", "JPEG"}
_EVAL_NAMES = ("val", "valid", "test", "eval", "infer", "pred")


@dataclass
class Pipeline:
    """One way to turn a batch of uint8 N x S x S x 3 images into a model's input."""

    label: str  # "student: val_transform" | "standard: ImageNet normalisation, 224"
    steps: str  # "Resize(256) -> CenterCrop(224) -> Normalize"
    fn: Callable[[np.ndarray], Any]
    notes: list[str] = field(default_factory=list)
    pil: bool = False  # applied image by image to PIL images (not on tensors)


# -- the student's transforms ---------------------------------------------------------------
def flatten(obj: Any, depth: int = 0) -> list[Any]:
    """The steps of a transform pipeline (Compose, v2 Compose, nn.Sequential, lists), in order."""
    if depth > 6:
        return [obj]
    inner = obj if isinstance(obj, (list, tuple)) else getattr(obj, "transforms", None)
    if type(obj).__name__ == "Sequential" and hasattr(obj, "children"):
        inner = list(obj.children())
    if isinstance(inner, (list, tuple)) and type(obj).__name__ not in ("RandomApply", "RandomChoice", "RandomOrder"):
        return [step for item in inner for step in flatten(item, depth + 1)]
    return [obj]


def _is_transform(obj: Any) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith("torchvision.transforms") and type(obj).__name__ == "Compose"


def _dataset_transform(obj: Any) -> Any:
    data = getattr(obj, "dataset", None) if type(obj).__name__ == "DataLoader" else obj
    for _ in range(4):  # Subset / ConcatDataset wrappers
        if data is None or getattr(data, "transform", None) is not None or not hasattr(data, "dataset"):
            break
        data = data.dataset
    return getattr(data, "transform", None) if data is not None else None


def student_transforms(namespace: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, transform) pairs: those of validation/test datasets and loaders first, then other
    Compose variables (evaluation-sounding names first), without repeats."""
    torch_data = sys.modules.get("torch.utils.data")
    found: list[tuple[int, str, Any]] = []
    seen: set[int] = set()
    for name, obj in student_names(namespace):
        if isinstance(obj, type):
            continue
        transform = None
        try:
            if torch_data is not None and isinstance(obj, (torch_data.DataLoader, torch_data.Dataset)):
                transform = _dataset_transform(obj)
            elif _is_transform(obj):
                transform = obj
        except Exception:
            continue
        if transform is None or id(transform) in seen or not callable(transform):
            continue
        seen.add(id(transform))
        lowered = name.lower()
        evalish = any(w in lowered for w in _EVAL_NAMES)
        rank = (0 if evalish else 2) + (0 if transform is not obj else 1)
        found.append((rank, name, transform))
    return [(name, t) for _, name, t in sorted(found, key=lambda f: f[0])][:MAX_TRANSFORMS]


def _is_random(step: Any) -> bool:
    name = type(step).__name__
    return name.startswith("Random") or name in _AUGMENT


def _step_name(step: Any) -> str:
    name = type(step).__name__
    size = getattr(step, "size", None)
    if name in ("Resize", "CenterCrop") and size is not None:
        size = tuple(size) if isinstance(size, (list, tuple)) else size
        return f"{name}({size})"
    return name


def tensor_pipeline(label: str, transform: Any, device: str) -> Pipeline:
    """The transform run on batched tensors: uint8 N x 3 x S x S in, the model's batch out."""
    torch = sys.modules["torch"]
    steps = flatten(transform)
    dropped = [type(s).__name__ for s in steps if _is_random(s)]
    kept = [s for s in steps if not _is_random(s)]

    def fn(batch: np.ndarray) -> Any:
        # float pixel values (0..255) from the start: resizing floats is several times faster than
        # resizing uint8, and differs only by uint8 rounding; laid out N x 3 x S x S (contiguous)
        # the resize and Normalize take about 30% less than channels-last, with the same values
        x = torch.from_numpy(np.array(batch)).to(device).permute(0, 3, 1, 2).contiguous().float()
        scaled = False
        for step in kept:
            name = type(step).__name__
            if name in _TO_FLOAT or name in _TO_DTYPE:
                if not scaled:  # ToTensor / ToDtype(scale=True) / ConvertImageDtype: 0..1
                    x, scaled = x.div_(255.0), True
            elif name not in _NO_OP:
                x = step(x)
        if not scaled:  # no conversion step: what ToTensor would have given
            x = x.div_(255.0)
        return x.contiguous()

    notes = [f"random augmentation left out at evaluation: {', '.join(sorted(set(dropped)))}"] if dropped else []
    described = " -> ".join(_step_name(s) for s in kept) or "no steps"
    return Pipeline(label, described, fn, notes)


def pil_pipeline(label: str, transform: Any) -> Pipeline:
    """The student's transform, image by image on PIL images (the slow way); random augmentation
    is left out here too where the pipeline is a Compose."""
    torch = sys.modules["torch"]
    from PIL import Image

    steps = flatten(transform)
    dropped = sorted({type(s).__name__ for s in steps if _is_random(s)})
    notes = ["applied to PIL images one by one: the transform does not run on tensors"]
    if dropped and type(transform).__name__ == "Compose":
        try:
            transform = type(transform)([s for s in steps if not _is_random(s)])
            notes.append(f"random augmentation left out at evaluation: {', '.join(dropped)}")
        except Exception:  # a Compose of another kind: used as it is
            pass

    def fn(batch: np.ndarray) -> Any:
        out = [transform(Image.fromarray(np.asarray(img))) for img in batch]
        return torch.stack([o if isinstance(o, torch.Tensor) else torch.as_tensor(np.asarray(o)) for o in out])

    described = " -> ".join(_step_name(s) for s in flatten(transform))
    return Pipeline(label, described, fn, notes, pil=True)


def standard_pipelines(size: int, device: str) -> list[Pipeline]:
    """Common inputs when the student's transform is not found or does not fit the model."""
    torch = sys.modules["torch"]
    F = torch.nn.functional
    out = []
    for side in dict.fromkeys((224, size, 128, 64)):
        for norm in ("imagenet", "0..1", "-1..1"):
            def fn(batch: np.ndarray, side: int = side, norm: str = norm) -> Any:
                x = torch.from_numpy(np.array(batch)).to(device).permute(0, 3, 1, 2).float().div_(255.0)
                if x.shape[-1] != side:
                    x = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
                if norm == "imagenet":
                    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
                    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
                    x = (x - mean) / std
                elif norm == "-1..1":
                    x = x * 2.0 - 1.0
                return x.contiguous()

            label = {"imagenet": "ImageNet normalisation", "0..1": "pixels / 255", "-1..1": "-1..1"}[norm]
            out.append(Pipeline(f"standard: {label}, {side}x{side}", f"Resize({side}) -> {norm}", fn))
    return out


def keras_pipelines(model: Any, size: int) -> list[Pipeline]:
    """Channels-last inputs for a Keras model, at its own input size, in the usual value ranges."""
    shape = getattr(model, "input_shape", None)
    side = shape[1] if isinstance(shape, tuple) and len(shape) == 4 and isinstance(shape[1], int) else None
    out = []
    for s in dict.fromkeys(x for x in (side, 224, size) if x):
        for scale in ("0..255", "0..1", "-1..1", "caffe"):
            def fn(batch: np.ndarray, s: int = s, scale: str = scale) -> Any:
                from PIL import Image

                imgs = np.asarray(batch)
                if imgs.shape[1] != s:
                    imgs = np.stack([np.asarray(Image.fromarray(a).resize((s, s), Image.Resampling.BILINEAR))
                                     for a in imgs])
                x = imgs.astype(np.float32)
                if scale == "0..1":
                    x /= 255.0
                elif scale == "-1..1":
                    x = x / 127.5 - 1.0
                elif scale == "caffe":  # keras.applications.resnet50/vgg preprocess_input
                    x = x[..., ::-1] - np.array([103.939, 116.779, 123.68], dtype=np.float32)
                return np.ascontiguousarray(x)

            out.append(Pipeline(f"standard: channels last, {scale}, {s}x{s}", f"Resize({s}) -> {scale}", fn))
    return out


# -- evaluation -----------------------------------------------------------------------------
class ImageModel:
    """One model's class predictions for batches prepared by a Pipeline."""

    def __init__(self, found: Found, device: str, n_classes: int) -> None:
        self.pred = Predictor(found, device)
        self.found = found
        self.n_classes = n_classes
        self.forward_s = 0.0

    def classes(self, x: Any) -> np.ndarray:
        pred = self.pred
        start = time.perf_counter()
        if self.found.framework == "torch":
            torch = pred.torch
            with torch.inference_mode():
                if x.is_floating_point() and x.dtype != torch.float64 and pred.dtype == np.float64:
                    x = x.double()
                out = _first_tensor(self.found.obj(x), torch).float()
                if str(pred.device).startswith("cuda"):
                    torch.cuda.synchronize()
                scores = out.detach().cpu().numpy()
        else:
            scores = pred._keras_scores(x)
        self.forward_s += time.perf_counter() - start
        n = len(x)
        if scores.ndim != 2 or scores.shape[0] != n or scores.shape[1] < self.n_classes:
            raise ValueError(f"output of shape {tuple(scores.shape)} for {n} images; expected ({n}, "
                             f"{self.n_classes}) class scores")
        return np.argmax(scores, axis=1)

    def predict(self, pipe: Pipeline, images: np.ndarray, batch: int) -> np.ndarray:
        out = np.empty(len(images), dtype=np.int16)
        for start, x in prepared(pipe, images, batch):
            out[start:start + len(x)] = self.classes(x)
        return out


def prepared(pipe: Pipeline, images: np.ndarray, batch: int) -> Iterator[tuple[int, Any]]:
    """(start, model input) per batch, the next batch prepared in a thread while the caller runs
    the model on this one (torch and PIL release the GIL), as a DataLoader's workers overlap
    decoding with the forward passes."""
    starts = list(range(0, len(images), batch))
    if not starts:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="grader-prep") as prep:
        pending = prep.submit(pipe.fn, np.asarray(images[0:batch]))
        for k, start in enumerate(starts):
            x = pending.result()
            if k + 1 < len(starts):
                nxt = starts[k + 1]
                pending = prep.submit(pipe.fn, np.asarray(images[nxt:nxt + batch]))
            yield start, x


def _pipelines(f: Found, transforms: list[tuple[str, Any]], device: str, size: int,
               trial: np.ndarray, model: ImageModel, errors: dict[str, str]) -> list[Pipeline]:
    """The student's transforms that run with this model (tensors, else PIL)."""
    if f.framework != "torch":
        return []
    works = []
    for name, transform in transforms:
        label = f"student: {name}"
        for make in (lambda: tensor_pipeline(label, transform, device), lambda: pil_pipeline(label, transform)):
            try:
                pipe = make()
                model.classes(pipe.fn(trial))
            except Exception as exc:
                errors[label] = f"{type(exc).__name__}: {exc}"[:200]
                continue
            works.append(pipe)
            break
    return works


def choose(model: ImageModel, candidates: list[Pipeline], val_x: np.ndarray, val_y: np.ndarray,
           errors: dict[str, str], budget: WorkBudget) -> tuple[Pipeline | None, float, dict[str, float]]:
    tried: dict[str, float] = {}
    best: tuple[float, Pipeline] | None = None
    for pipe in candidates:
        limit = budget.spent()
        if limit is not None:
            errors[pipe.label] = out_of_budget(limit, "not tried")
            continue
        try:
            acc = float(np.mean(model.predict(pipe, val_x, EVAL_BATCH) == val_y))
        except Exception as exc:
            errors[pipe.label] = f"{type(exc).__name__}: {exc}"[:200]
            continue
        tried[pipe.label] = acc
        if best is None or acc > best[0]:
            best = (acc, pipe)
    return (best[1], best[0], tried) if best else (None, 0.0, tried)


def evaluate(f: Found, rec: dict[str, Any], k: int, ctx: dict[str, Any], out: Path) -> Pipeline | None:
    n_classes = len(ctx["classes"])
    try:
        model = ImageModel(f, ctx["device"], n_classes)
    except Exception as exc:
        rec["error"] = f"cannot prepare the model: {type(exc).__name__}: {exc}"[:300]
        return None
    val_x, val_y, hidden = ctx["val_x"], ctx["val_y"], ctx["hidden"]
    errors: dict[str, str] = {}
    try:
        own = _pipelines(f, ctx["transforms"], ctx["device"], ctx["size"], val_x[:TRIAL], model, errors)
        best, acc, tried = choose(model, own, val_x, val_y, errors, ctx["budget"])
        if best is None:  # no transform of the student's runs with this model: the usual inputs
            std = standard_pipelines(ctx["size"], ctx["device"]) if f.framework == "torch" \
                else keras_pipelines(f.obj, ctx["size"])
            runs = [p for p in std if _runs(model, p, val_x[:TRIAL], errors)]
            other, other_acc, more = choose(model, runs, val_x, val_y, errors, ctx["budget"])
            tried.update(more)
            if other is not None and (best is None or other_acc > acc):
                best, acc = other, other_acc
        rec.update(tried=tried, format_errors=errors)
        if best is None:
            ran = [e for e in errors.values() if "class scores" in e]  # it ran, but the output does not fit
            rec["error"] = f"no input worked: {(ran or list(errors.values()) or ['no transform found'])[0]}"[:300]
            return None
        example = best.fn(val_x[:1])
        rec.update(val_accuracy=acc, shape=",".join(["N", *(str(d) for d in tuple(example.shape)[1:])]),
                   scale=best.label, transform={"label": best.label, "steps": best.steps, "notes": best.notes,
                                                "pil": best.pil})
        model.forward_s = 0.0
        start = time.perf_counter()
        preds = model.predict(best, hidden, int(ctx["batch_size"]))
        rec["inference_s"] = time.perf_counter() - start
        rec["forward_s"] = model.forward_s
        np.save(out / f"pred_{k}.npy", preds, allow_pickle=False)
        rec["predictions"] = f"pred_{k}.npy"
        rec["batch_size"] = int(ctx["batch_size"])
        return best
    except Exception as exc:
        rec["error"] = f"{type(exc).__name__}: {exc}"[:300]
        return None
    finally:
        model.pred.restore()


def _runs(model: ImageModel, pipe: Pipeline, trial: np.ndarray, errors: dict[str, str]) -> bool:
    try:
        model.classes(pipe.fn(trial))
        return True
    except Exception as exc:
        errors[pipe.label] = f"{type(exc).__name__}: {exc}"[:200]
        return False


# -- learning curves left in the namespace --------------------------------------------------
_SERIES_MAX = 1000


def _numbers(value: Any) -> list[float] | None:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not 2 <= len(value) <= _SERIES_MAX:
        return None
    out = []
    for v in value:
        try:
            out.append(float(v.item() if hasattr(v, "item") else v))
        except (TypeError, ValueError, RuntimeError):
            return None
    return out


def _metric(name: str) -> tuple[str, str] | None:
    """('train'|'val', 'loss'|'accuracy') for a series name such as val_loss, train_accs, loss."""
    n = name.lower()
    metric = "loss" if "loss" in n else ("accuracy" if "acc" in n else None)
    if metric is None:
        return None
    part = "val" if any(w in n for w in ("val", "valid", "test")) else "train"
    return part, metric


def _pairs(series: dict[str, list[float]], source: str) -> list[dict[str, Any]]:
    found: dict[tuple[str, str], tuple[str, list[float]]] = {}
    for name, values in series.items():
        kind = _metric(name)
        if kind is not None and kind not in found:
            found[kind] = (name, values)
    out = []
    for metric in ("loss", "accuracy"):
        if ("train", metric) in found and ("val", metric) in found:
            (tn, tv), (vn, vv) = found[("train", metric)], found[("val", metric)]
            out.append({"source": f"{source}: {tn}, {vn}", "metric": metric, "train": tv, "val": vv})
    return out


def histories(namespace: dict[str, Any]) -> list[dict[str, Any]]:
    """Training and validation series per epoch: Keras History objects, dicts of lists, and
    list variables named like train_losses / val_losses."""
    out: list[dict[str, Any]] = []
    loose: dict[str, list[float]] = {}
    for name, obj in student_names(namespace):
        if isinstance(obj, type):
            continue
        try:
            data = getattr(obj, "history", None) if type(obj).__name__ == "History" else obj
            if isinstance(data, dict):
                series = {str(k): v for k, v in ((k, _numbers(v)) for k, v in list(data.items())[:40]) if v}
                out += _pairs(series, name)
            else:
                values = _numbers(obj)
                if values is not None:
                    loose[name] = values
        except Exception:
            continue
    out += _pairs(loose, "variables")
    return out[:6]


# -- entry point ----------------------------------------------------------------------------
def run(namespace: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    out = Path(config["folder"])
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"models": [], "skipped": 0, "error": None, "kind": "images"}
    budget = WorkBudget(float(config.get("budget_s", 240.0)))
    images = config["images"]
    try:
        report["histories"] = histories(namespace)
        found, skipped = discover(namespace)
        report["skipped"] = skipped
        device = pick_device(str(config.get("device", "auto")))
        report["device"] = device
        hidden = np.load(config["hidden_images"], allow_pickle=False, mmap_mode="r")
        report["hidden_images"] = int(len(hidden))
        if found:
            ctx = {"classes": images["classes"], "device": device, "size": int(images["size"]),
                   "val_x": np.load(images["format_images"], allow_pickle=False),
                   "val_y": np.load(images["format_labels"], allow_pickle=False),
                   "hidden": hidden, "transforms": student_transforms(namespace),
                   "batch_size": int(config.get("batch_size", 64)), "budget": budget}
            report["transforms_found"] = [name for name, _ in ctx["transforms"]]
            used = transfer.used_files(Path(config["outbox"]))
            for k, f in enumerate(found):
                rec = describe(f)
                report["models"].append(rec)
                limit = budget.spent()
                if limit is not None:
                    rec["error"], rec["limit"] = out_of_budget(limit, "not evaluated"), limit
                    continue
                pipe = evaluate(f, rec, k, ctx, out)
                if f.framework == "keras":
                    rec["keras_transfer"] = transfer.keras_groups(f.obj, used)
                if f.framework == "torch":
                    rec["transfer"] = transfer.inspect(f.obj, images.get("weights_dir"), used)
                    retrain = config.get("retrain")
                    limit = budget.spent(ahead_s=float(retrain["budget_s"])) if retrain else None
                    if pipe is not None and retrain and limit is not None:
                        rec["retrain_error"] = out_of_budget(limit, "not retrained (it would not fit)")
                        rec["limit"] = limit
                    elif pipe is not None and retrain:
                        transfer.retrain_into(f.obj, pipe.fn, rec, k, {**config, "device_used": device}, hidden,
                                              out, used)
    except Exception as exc:  # reported to the grader; never breaks the other probes
        logger.exception("image models probe failed")
        report["error"] = f"{type(exc).__name__}: {exc}"[:500]
    report.update(budget.record())
    report["duration_s"] = report["wall_s"]
    (out / "models.json").write_text(json.dumps(clean_json(report)), encoding="utf-8")
    return report
