"""HW 3 probe, transfer learning: is a model's backbone really pretrained, what was frozen, and
(with --retrain) the architecture retrained from its pretrained start within a time budget.

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

logger = logging.getLogger(__name__)

BACKBONES = ("ResNet", "VGG", "DenseNet", "MobileNetV2", "MobileNetV3", "EfficientNet", "Inception3", "GoogLeNet",
             "AlexNet", "SqueezeNet", "ShuffleNetV2", "RegNet", "ConvNeXt", "VisionTransformer", "SwinTransformer",
             "MNASNet", "MaxVit")
PRETRAINED_COSINE = 0.9  # fine-tuning moves the first convolution only a little; a fresh init is ~0
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


def _cosine(a: Any, b: Any) -> float:
    x, y = a.detach().double().flatten().cpu(), b.detach().double().flatten().cpu()
    denom = float(x.norm() * y.norm())
    return float((x @ y) / denom) if denom > 0 else 0.0


def _equal(p: Any, sd: dict[str, Any], key: str | None) -> bool:
    torch = sys.modules["torch"]
    return key is not None and bool(torch.equal(p.detach().cpu(), sd[key].to(p.dtype)))


def _group(name: str, prefix: str) -> str:
    if prefix and name.startswith(prefix + "."):
        name = name[len(prefix) + 1:]
    return name.split(".")[0]


def inspect(model: Any, weights_dir: str | None, used: list[str]) -> dict[str, Any]:
    """What the model's weights say about transfer learning (plain data)."""
    params = list(model.named_parameters())
    found = backbone_of(model)
    convs = [(n, p) for n, p in params if p.dim() == 4]
    info: dict[str, Any] = {"backbone": found[0] if found else None, "backbone_path": found[1] if found else None,
                            "params": int(sum(p.numel() for _, p in params)),
                            "trainable": int(sum(p.numel() for _, p in params if p.requires_grad)),
                            "weights_used": used, "files_compared": []}
    best: tuple[float, str, dict[str, str], dict[str, Any]] | None = None
    if weights_dir and convs:
        for path in _candidate_files(Path(weights_dir), used, found[0] if found else None):
            try:
                sd = _state_dict(path)
            except Exception as exc:
                info.setdefault("file_errors", {})[path.name] = f"{type(exc).__name__}: {exc}"[:200]
                continue
            matched = match_tensors(params, sd)
            info["files_compared"].append(path.name)
            key = matched.get(convs[0][0])
            cos = _cosine(convs[0][1], sd[key]) if key is not None else 0.0
            if best is None or cos > best[0]:
                best = (cos, path.name, matched, sd)
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
        info.update(weights_file=best[1], first_conv={"name": convs[0][0], "shape": list(convs[0][1].shape),
                                                      "file_key": matched.get(convs[0][0]), "cosine": best[0],
                                                      "equal": _equal(convs[0][1], sd, matched.get(convs[0][0]))},
                    matched=len(matched), unchanged=unchanged, pretrained=best[0] >= PRETRAINED_COSINE)
        info["early_cosines"] = [round(_cosine(p, sd[matched[n]]), 4) for n, p in convs[:3] if n in matched]
    return info


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
    """Train the architecture from its pretrained start with the reference loss for at most
    `budget_s` seconds; hidden predictions and per-epoch history go to the outbox."""
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
    stats, start, stopped = [], time.monotonic(), "epochs"
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
            if time.monotonic() - start > budget:
                stopped = "budget"
                break
        val_loss, val_acc = _validate(fresh, fn, vx, vy, kind, dev, ref)
        stats.append(ref.EpochStats(epoch, total / max(1, seen), correct / max(1, seen), val_loss, val_acc,
                                    time.monotonic() - t0))
        if stopped == "budget":
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
                      "budget_s": budget, "seconds": round(time.monotonic() - start, 2), "stopped": stopped,
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
