"""HW 3 probe, transfer learning: how close a model's early weights are to the pretrained files
(against what unrelated weights give), what was frozen, and (with --retrain) the architecture
retrained from its pretrained start within a time budget. The decision is the grader's
(grader/families/transfer/checks.py): this only measures.

Runs in the student's kernel (in the sandbox), called by grader_inside/probes/images.py for each PyTorch
model. The pretrained files are the instructor's `--weights` folder, mounted read-only where
torch hub looks (`$TORCH_HOME/hub/checkpoints`); they are trusted, and read with
`weights_only=True`. Plain data only goes back to the grader.
"""
from __future__ import annotations

import copy
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from grader_inside.probes.budget import WorkBudget

logger = logging.getLogger(__name__)

BACKBONES = ("ResNet", "VGG", "DenseNet", "MobileNetV2", "MobileNetV3", "EfficientNet", "Inception3", "GoogLeNet",
             "AlexNet", "SqueezeNet", "ShuffleNetV2", "RegNet", "ConvNeXt", "VisionTransformer", "SwinTransformer",
             "MNASNet", "MaxVit")
STEM_TENSORS = 8  # early tensors compared with the file (the grader combines their z: grader/families/transfer/checks.py)
MIN_FILTERS = 4
MAX_FILES = 4
WEIGHT_SUFFIXES = (".pth", ".pt", ".pth.tar", ".ckpt", ".bin")
USED_FILE = "weights_used.txt"


def used_files(outbox: Path) -> list[str]:
    """Weight files the student's code loaded through torch hub (the weights shim's record)."""
    try:
        lines = (outbox / USED_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return list(dict.fromkeys(Path(ln.strip()).name for ln in lines if ln.strip()))


def backbone_of(model: Any) -> tuple[str, str] | None:
    """(class name, module path) of the first torchvision architecture in the model."""
    for path, module in model.named_modules():
        cls = type(module)
        if cls.__name__ in BACKBONES and (cls.__module__ or "").startswith("torchvision.models"):
            return cls.__name__, path
    return None


def _state_dict(path: Path) -> dict[str, Any]:
    torch = sys.modules["torch"]
    try:
        data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # the legacy (non-zip) format cannot be memory-mapped
        data = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
    return {k: v for k, v in data.items() if isinstance(v, torch.Tensor)} if isinstance(data, dict) else {}


def _candidate_files(folder: Path, used: list[str], family: str | None) -> list[Path]:
    try:
        present = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
    except OSError:
        return []
    first = [p for p in present if p.name in used]
    prefix = (family or "").lower()[:5]
    rest = [p for p in present if p not in first and (not prefix or p.name.lower().startswith(prefix))]
    return (first + rest)[:MAX_FILES]


def match_tensors(params: list[tuple[str, Any]], sd: dict[str, Any]) -> dict[str, str]:
    """Model parameter name -> checkpoint key: by name (also after dropping wrapper prefixes such
    as `base.`), or by position among tensors of the same shape (`nn.Sequential(*children)`),
    whichever pairs more tensors."""
    by_name: dict[str, str] = {}
    taken: set[str] = set()
    for name, p in params:
        parts = name.split(".")
        for i in range(len(parts)):
            key = ".".join(parts[i:])
            if key in sd and key not in taken and tuple(sd[key].shape) == tuple(p.shape):
                by_name[name] = key
                taken.add(key)
                break
    by_shape: dict[tuple[int, ...], list[str]] = {}
    for key, t in sd.items():
        if t.is_floating_point() and not key.endswith(("running_mean", "running_var")):
            by_shape.setdefault(tuple(t.shape), []).append(key)
    by_order: dict[str, str] = {}
    for name, p in params:
        keys = by_shape.get(tuple(p.shape))
        if keys:
            by_order[name] = keys.pop(0)
    return by_name if len(by_name) >= len(by_order) else by_order


def _equal(p: Any, sd: dict[str, Any], key: str | None) -> bool:
    torch = sys.modules["torch"]
    return key is not None and bool(torch.equal(p.detach().cpu(), sd[key].to(p.dtype)))


def _group(name: str, prefix: str) -> str:
    if prefix and name.startswith(prefix + "."):
        name = name[len(prefix) + 1:]
    return name.split(".")[0]


def similarity(student: Any, pretrained: Any) -> dict[str, float] | None:
    """How much closer a tensor is to the file's than unrelated weights come.

    cosine: the cosine similarity of the two tensors (flattened). Unrelated weights (another
    initialisation, weights=None then trained) pair their filters (rows along the first axis) with
    the file's filters in no particular order; the cosine of a random pairing has, over all m!
    pairings, the mean and variance of Hoeffding's combinatorial limit theorem:
        E = sum(G) / m,   Var = sum_ij (G_ij - row_i - col_j + all)^2 / (m - 1)
    where G_ij is the dot product of the student's filter i with the file's filter j. z says how
    many standard deviations the actual pairing is above that. None: no pairing to test (fewer
    than MIN_FILTERS filters, or an all-zero tensor)."""
    a = student.detach().double().cpu().reshape(student.shape[0], -1)
    b = pretrained.detach().double().cpu().reshape(pretrained.shape[0], -1)
    m = a.shape[0]
    norm = float(a.norm() * b.norm())
    if m < MIN_FILTERS or norm <= 0:
        return None
    g = (a @ b.T) / norm
    centred = g - g.mean(1, keepdim=True) - g.mean(0, keepdim=True) + g.mean()
    sd = math.sqrt(float((centred ** 2).sum()) / (m - 1))
    cosine, mean = float(g.trace()), float(g.sum()) / m
    if sd <= 0 or not math.isfinite(sd):
        return None
    return {"cosine": cosine, "chance_mean": mean, "chance_sd": sd, "z": (cosine - mean) / sd}


def stem_similarity(params: list[tuple[str, Any]], sd: dict[str, Any], matched: dict[str, str]) -> list[dict[str, Any]]:
    """The early weight tensors matched with the file (at most STEM_TENSORS, in the model's order,
    each with at least MIN_FILTERS filters), each with its similarity to the file's tensor."""
    out: list[dict[str, Any]] = []
    for name, p in params:
        key = matched.get(name)
        if key is None or p.dim() < 2:
            continue
        stats = similarity(p, sd[key])
        if stats is None:
            continue
        out.append({"name": name, "file_key": key, "shape": list(p.shape), "equal": _equal(p, sd, key),
                    **{k: round(v, 6) for k, v in stats.items()}})
        if len(out) >= STEM_TENSORS:
            break
    return out


def _stem_z(stem: list[dict[str, Any]]) -> float:
    return sum(t["z"] for t in stem) / math.sqrt(len(stem)) if stem else float("-inf")


def inspect(model: Any, weights_dir: str | None, used: list[str]) -> dict[str, Any]:
    """What the model's weights say about transfer learning (plain data): per pretrained file, the
    tensors that match it; for the file the model is closest to, the stem's similarity against
    chance, and per group of layers what is trainable and what still equals the file."""
    params = list(model.named_parameters())
    found = backbone_of(model)
    info: dict[str, Any] = {"backbone": found[0] if found else None, "backbone_path": found[1] if found else None,
                            "params": int(sum(p.numel() for _, p in params)),
                            "trainable": int(sum(p.numel() for _, p in params if p.requires_grad)),
                            "weights_used": used, "files_compared": []}
    best: tuple[float, str, dict[str, str], dict[str, Any], list[dict[str, Any]]] | None = None
    if weights_dir and params:
        for path in _candidate_files(Path(weights_dir), used, found[0] if found else None):
            try:
                sd = _state_dict(path)
            except Exception as exc:
                info.setdefault("file_errors", {})[path.name] = f"{type(exc).__name__}: {exc}"[:200]
                continue
            matched = match_tensors(params, sd)
            info["files_compared"].append(path.name)
            stem = stem_similarity(params, sd, matched)
            if matched and (best is None or _stem_z(stem) > best[0]):
                best = (_stem_z(stem), path.name, matched, sd, stem)
    groups: dict[str, dict[str, Any]] = {}
    prefix = found[1] if found else ""
    matched = best[2] if best else {}
    sd = best[3] if best else {}
    unchanged = 0
    for name, p in params:
        g = groups.setdefault(_group(name, prefix), {"name": _group(name, prefix), "params": 0, "trainable": 0,
                                                      "tensors": 0, "matched": 0, "unchanged": 0})
        g["params"] += p.numel()
        g["trainable"] += p.numel() if p.requires_grad else 0
        g["tensors"] += 1
        if name in matched:
            g["matched"] += 1
            same = _equal(p, sd, matched[name])
            g["unchanged"] += int(same)
            unchanged += int(same)
    info["groups"] = list(groups.values())[:60]
    if best is not None:
        info.update(weights_file=best[1], matched=len(matched), unchanged=unchanged, similarity=best[4])
    return info


def keras_groups(model: Any, used: list[str]) -> dict[str, Any]:
    """A Keras model's top-level layers: their weights, how many of them are trainable (the
    `trainable` flags), and which are models of their own (a keras.applications backbone nested
    as one layer); the weight files its code loaded. Keras weights are not compared with the
    files (only the flags are read)."""
    groups = []
    for layer in list(getattr(model, "layers", []))[:60]:
        weights = list(getattr(layer, "weights", []))
        inner = list(getattr(layer, "layers", None) or [])
        groups.append({"name": str(layer.name), "class": type(layer).__name__,
                       "params": int(sum(int(np.prod(w.shape)) for w in weights)),
                       "trainable": int(sum(int(np.prod(w.shape)) for w in layer.trainable_weights)),
                       "nested": bool(inner), "layers": len(inner),
                       "trainable_layers": sum(1 for x in inner if x.trainable and list(x.weights))})
    return {"groups": groups, "weights_used": [u for u in used if u.endswith((".h5", ".keras", ".weights.h5"))]}


# -- retraining within a time budget --------------------------------------------------------
def pretrained_start(model: Any, weights_dir: str | None, used: list[str], seed: int) -> tuple[Any, int]:
    """A copy of the model: tensors found in the pretrained file take the file's values, every other
    layer is re-initialised (seeded); which parameters train (requires_grad) is kept."""
    torch = sys.modules["torch"]
    fresh = copy.deepcopy(model).cpu()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in fresh.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset) and any(True for _ in module.parameters(recurse=False)):
                reset()
    loaded = 0
    found = backbone_of(fresh)
    files = _candidate_files(Path(weights_dir), used, found[0] if found else None) if weights_dir else []
    if files:
        sd = _state_dict(files[0])
        params = list(fresh.named_parameters())
        with torch.no_grad():
            for name, key in match_tensors(params, sd).items():
                dict(params)[name].copy_(sd[key])
                loaded += 1
    return fresh, loaded


def retrain_into(model: Any, fn: Callable[[np.ndarray], Any], rec: dict[str, Any], k: int, config: dict[str, Any],
                 hidden: np.ndarray, out: Path, used: list[str]) -> None:
    """Train the architecture from its pretrained start with the reference loss for the rubric's
    epochs, within `budget_s` CPU seconds of the kernel's process (grader_inside.probes.budget);
    hidden predictions and per-epoch history go to the outbox."""
    try:
        _retrain(model, fn, rec, k, config, hidden, out, used)
    except Exception as exc:  # the student's architecture may not survive a copy
        rec["retrain_error"] = f"{type(exc).__name__}: {exc}"[:300]


def _retrain(model: Any, fn: Callable[[np.ndarray], Any], rec: dict[str, Any], k: int, config: dict[str, Any],
             hidden: np.ndarray, out: Path, used: list[str]) -> None:
    from grader_inside.probes.models import output_kind
    from reference import mnist as ref

    torch = sys.modules["torch"]
    cfg, images = config["retrain"], config["images"]
    x = np.load(cfg["train_images"], allow_pickle=False)
    y = torch.from_numpy(np.load(cfg["train_labels"], allow_pickle=False).astype(np.int64))
    vx = np.load(images["format_images"], allow_pickle=False)
    vy = torch.from_numpy(np.load(images["format_labels"], allow_pickle=False).astype(np.int64))
    seed, batch, budget = 0, int(cfg.get("batch_size", 32)), float(cfg["budget_s"])
    fresh, loaded = pretrained_start(model, images.get("weights_dir"), used, seed)
    dev = torch.device(config.get("device_used", "cpu"))
    fresh = fresh.to(dev)
    kind = output_kind(fresh.eval(), fn(vx[:8]).to(dev))
    opt = torch.optim.Adam([p for p in fresh.parameters() if p.requires_grad], lr=float(cfg.get("lr", 1e-3)))
    gen = torch.Generator().manual_seed(seed)
    stats, work, stopped = [], WorkBudget(budget), "epochs"
    for epoch in range(1, int(cfg.get("epochs", 3)) + 1):
        t0, total, correct, seen = time.monotonic(), 0.0, 0, 0
        fresh.train()
        for idx in torch.randperm(len(y), generator=gen).split(batch):
            xb, yb = fn(x[idx.numpy()]).to(dev), y[idx].to(dev)
            opt.zero_grad(set_to_none=True)
            scores = fresh(xb)
            loss = ref.loss_of(scores, yb, kind)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            correct += int((scores.detach().argmax(1) == yb).sum())
            seen += len(idx)
            limit = work.spent()
            if limit is not None:
                stopped = limit  # "cpu" (the budget) or "wall" (the backstop)
                break
        val_loss, val_acc = _validate(fresh, fn, vx, vy, kind, dev, ref)
        stats.append(ref.EpochStats(epoch, total / max(1, seen), correct / max(1, seen), val_loss, val_acc,
                                    time.monotonic() - t0))
        if stopped != "epochs":
            break
    fresh.eval()
    preds = np.empty(len(hidden), dtype=np.int16)
    with torch.inference_mode():
        for i in range(0, len(hidden), 64):
            preds[i:i + 64] = fresh(fn(np.asarray(hidden[i:i + 64])).to(dev)).argmax(1).cpu().numpy()
    name = f"retrain_{k}_{seed}.npy"
    np.save(out / name, preds, allow_pickle=False)
    history = ref.History(tuple(stats))
    rec["retrain"] = {"outputs": kind, "runs": [{"seed": seed, "predictions": name, "history": history.to_json()}],
                      "budget_s": budget, "seconds": round(work.used(), 2), "wall_s": round(work.waited(), 2),
                      "stopped": stopped,
                      "pretrained_tensors": loaded, "device": str(dev)}


def _validate(model: Any, fn: Callable[[np.ndarray], Any], vx: np.ndarray, vy: Any, kind: str, dev: Any,
              ref: Any) -> tuple[float, float]:
    torch = sys.modules["torch"]
    model.eval()
    total, correct = 0.0, 0
    with torch.inference_mode():
        for i in range(0, len(vy), 64):
            scores = model(fn(vx[i:i + 64]).to(dev))
            yb = vy[i:i + 64].to(dev)
            total += float(ref.loss_of(scores, yb, kind)) * len(yb)
            correct += int((scores.argmax(1) == yb).sum())
    n = len(vy)
    return (total / n if n else math.nan), (correct / n if n else math.nan)
