"""What "hidden test" means: the hidden split as one batch serves it to the students' models.

The hidden split's images are public for some datasets (MNIST's test set, in its public order;
AFHQ's validation folder), so serving them as they are would let a "model" return the public
labels by call order, or look each image up by its hash. Each batch therefore draws a secret
(128 random bits, `hidden-secret.json` in the batch's data folder, readable only by the grader,
never mounted in the sandbox, reused when the same batch resumes) and serves:

    images  the hidden split in a secret shuffled order, every pixel moved by a secret noise of
            at most `noise` grey levels (uniform in -noise..+noise, clipped to 0..255): too small
            to change what a model sees, enough that no image equals its public file
    labels  in the same secret order, kept beside the grader (never mounted)

The noise and the order come from the secret alone, so a batch is repeatable on the grader's
side and unpredictable inside the sandbox. A model that has memorised the public set (by
nearest neighbour on a copy it carries) is not stopped by this: the models checks flag accuracy
above the rubric's plausibility ceiling, and `--retrain` (the architecture trained afresh by the
grader) is the strong guarantee.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.errors import DataError

logger = logging.getLogger(__name__)

SECRET_FILE = "hidden-secret.json"
NOISE_LEVELS = 2
CHUNK_PIXELS = 1 << 24  # images perturbed at a time: about 16 M pixels (memory stays bounded)


@dataclass(frozen=True)
class HiddenSecret:
    """One batch's secret: where the hidden split's order and noise (and the demo's hidden
    images) come from. `tag` names folders without revealing anything."""

    value: int
    noise: int = NOISE_LEVELS

    def generator(self, purpose: str) -> np.random.Generator:
        """A generator for one use of the secret (`purpose` keeps the uses independent)."""
        salt = int.from_bytes(hashlib.sha256(purpose.encode()).digest()[:8], "big")
        return np.random.default_rng(np.random.SeedSequence([self.value, salt]))

    def derived_seed(self, purpose: str) -> int:
        return int(self.generator(purpose).integers(0, 2**63 - 1))

    @property
    def tag(self) -> str:
        return hashlib.sha256(f"hidden-secret|{self.value}|{self.noise}".encode()).hexdigest()[:12]


def batch_secret(folder: Path, noise: int = NOISE_LEVELS) -> HiddenSecret:
    """The batch's secret from `folder` (its data folder), drawn and written there on first use."""
    path = folder / SECRET_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return HiddenSecret(int(data["value"]), int(data.get("noise", noise)))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"unreadable hidden-split secret {path}: {exc}; delete it to draw a new one "
                        "(every student of this batch is then graded on a newly shuffled hidden split)") from exc
    secret = HiddenSecret(secrets.randbits(128), noise)
    if not pin_secret(folder, secret):  # another process of the same batch drew it first
        return batch_secret(folder, noise)
    logger.info("drew the hidden split's secret order and noise for this batch (%s)", path)
    return secret


def pin_secret(folder: Path, secret: HiddenSecret) -> bool:
    """Write `secret` as the batch's secret in `folder`, readable by the grader alone. False, and
    nothing written, when the folder has one already. Batches draw theirs (batch_secret); the tests
    pin one so that the same hidden digits are asked on every run."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder / SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"value": str(secret.value), "noise": secret.noise}, fh)
    return True


def served_order(n: int, secret: HiddenSecret, purpose: str) -> np.ndarray:
    """The secret order: served image i is the hidden split's image order[i]."""
    return secret.generator(f"{purpose}|order").permutation(n)


def serve_hidden(images: np.ndarray, labels: np.ndarray, secret: HiddenSecret, purpose: str,
                 out: Path) -> np.ndarray:
    """Write the served images to `out` (a .npy file, uint8, same shape) and return the labels in
    the served order. `images` may be a memory map: it is read in chunks."""
    if len(images) != len(labels):
        raise DataError(f"{len(images)} hidden images but {len(labels)} labels")
    order = served_order(len(images), secret, purpose)
    noise_rng = secret.generator(f"{purpose}|noise")
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    served = np.lib.format.open_memmap(part, mode="w+", dtype=np.uint8, shape=tuple(images.shape))
    per_image = int(np.prod(images.shape[1:], dtype=np.int64)) or 1
    step = max(1, CHUNK_PIXELS // per_image)
    for start in range(0, len(order), step):
        idx = order[start:start + step]
        chunk = np.asarray(images[np.sort(idx)], dtype=np.int16)[np.argsort(np.argsort(idx))]
        if secret.noise:
            chunk += noise_rng.integers(-secret.noise, secret.noise + 1, size=chunk.shape, dtype=np.int16)
        served[start:start + len(idx)] = np.clip(chunk, 0, 255).astype(np.uint8)
    served.flush()
    del served
    os.replace(part, out)
    return np.asarray(labels)[order]
