"""A tiny stand-in for AFHQ, and a stand-in "pretrained" checkpoint, made on the spot.

Used by tools/make_hw3_samples.py, the HW 3 tests and the benchmark; nothing here is shipped as
data (the repository stays small):

    make_shapes_dataset(folder)  afhq/{train,val}/{cat,dog,wild}/*.png: three visually distinct
                                 classes (a reddish disc, a greenish square, a bluish triangle on a
                                 noisy background, random place and size), 64x64 by default
    write_fake_weights(folder)   resnet18's real architecture, briefly "pretrained" on other shapes,
                                 saved under the exact file name torchvision downloads
                                 (ResNet18_Weights.IMAGENET1K_V1.url's basename)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

CLASSES = ("cat", "dog", "wild")
FAKE_WEIGHTS_SEED = 12345  # not the kernel's seed 0: `weights=None` must not match the file
PRETRAIN_DATA_SEED = 99  # the stand-in's "ImageNet": shapes that are not in any sample dataset
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def shape_image(cls: int, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """One size x size x 3 uint8 picture of class `cls` (0 disc, 1 square, 2 triangle)."""
    img = rng.normal(120, 25, (size, size, 3)).clip(0, 255)
    colour = np.array([[210, 60, 50], [60, 190, 70], [60, 80, 210]][cls], dtype=float)
    colour = (colour + rng.normal(0, 20, 3)).clip(0, 255)
    r = rng.uniform(0.18, 0.32) * size
    cy, cx = rng.uniform(r, size - r, 2)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    img[shape_mask(cls, yy, xx, cy, cx, r)] = colour
    return img.astype(np.uint8)


def shape_mask(cls: int, yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, r: float) -> np.ndarray:
    """Where class `cls`'s shape is (0 disc, 1 square, 2 triangle), centred at (cy, cx), size r."""
    if cls == 0:
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    if cls == 1:
        return (abs(yy - cy) <= r * 0.85) & (abs(xx - cx) <= r * 0.85)
    return (yy >= cy - r) & (yy <= cy + r) & (abs(xx - cx) <= (yy - (cy - r)) / 2)


def make_shapes_dataset(folder: Path, train: int = 20, val: int = 12, size: int = 64, seed: int = 0,
                        ext: str = ".png") -> Path:
    """Write afhq/train and afhq/val under `folder`; returns the afhq folder."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    root = folder / "afhq"
    for split, count in (("train", train), ("val", val)):
        for k, cls in enumerate(CLASSES):
            out = root / split / cls
            out.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                Image.fromarray(shape_image(k, rng, size)).save(out / f"{split}_{cls}_{i:04d}{ext}")
    return root


def resnet18_file_name() -> str:
    from torchvision.models import ResNet18_Weights

    return Path(ResNet18_Weights.IMAGENET1K_V1.url).name  # resnet18-f37072fd.pth


def write_fake_weights(folder: Path, pretrain: bool = True) -> Path:
    """resnet18's architecture "pretrained" for two epochs on 240 shapes of a separate seed (so its
    features are worth transferring, as ImageNet's are), its 1000-class head left at random
    initialisation, saved under torchvision's file name for IMAGENET1K_V1 (a few seconds on a CPU).
    `pretrain=False`: the seeded random initialisation only (enough to test weight matching)."""
    import torch
    from torchvision.models import resnet18

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / resnet18_file_name()
    if path.is_file():
        return path
    rng = np.random.default_rng(PRETRAIN_DATA_SEED)
    labels = torch.arange(240) % len(CLASSES)
    images = np.stack([shape_image(int(k), rng, 64) for k in labels])
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    x = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(FAKE_WEIGHTS_SEED)
        model = resnet18()
        head, model.fc = model.fc, torch.nn.Linear(512, len(CLASSES))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        for _ in range(2 if pretrain else 0):
            for idx in torch.randperm(len(labels)).split(32):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x[idx]), labels[idx]).backward()
                opt.step()
        model.fc = head
    tmp = path.with_name(path.name + ".part")
    torch.save(model.state_dict(), tmp)
    tmp.replace(path)
    return path
