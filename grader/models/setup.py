"""Everything a Task 2 batch prepares once: the data splits, the example's baseline, and what
each run needs from them (mounts, environment, probe settings)."""
from __future__ import annotations

import hashlib
import importlib.util
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

from grader.data.splits import PreparedMnist, SplitSettings, prepare_mnist
from grader.errors import DataError
from grader.i18n import tr
from grader.models.baseline import Baseline, BaselineSettings, example_baseline
from grader.rubric import Rubric
from grader.sandbox import Mount
from grader.sandbox.bwrap import PACKAGE_ROOT

logger = logging.getLogger(__name__)

DeviceChoice = Literal["auto", "cpu", "cuda"]
REFERENCE = Path(__file__).resolve().parents[2] / "reference"
OFFLINE_ENV = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DISABLE_GIT": "true",
               "WANDB_CONSOLE": "off", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@dataclass(frozen=True)
class ModelsSetup:
    mnist: PreparedMnist
    baseline: Baseline | None
    device: DeviceChoice
    evaluate: bool
    batch_size: int = 500
    format_images: int = 1000
    eval_timeout_s: float = 300.0
    retrain: BaselineSettings | None = None  # equal-budget retraining (the baseline's settings)

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.mnist.digest}|{self.device}".encode()).hexdigest()

    def sandbox_device(self) -> Literal["cpu", "cuda"]:
        """GPU devices are passed into the sandbox only when asked for and present."""
        if self.device == "cpu":
            return "cpu"
        return "cuda" if Path("/dev/nvidiactl").exists() else "cpu"

    def mounts(self) -> tuple[Mount, ...]:
        """The data mounts; with retraining also the reference loop, beside the grader package."""
        mounts = self.mnist.mounts()
        if self.retrain is not None and REFERENCE.is_dir():
            mounts += (Mount(REFERENCE, f"{PACKAGE_ROOT}/reference"),)
        return mounts

    def env(self) -> dict[str, str]:
        env = {**OFFLINE_ENV, **self.mnist.sandbox_env()}
        if importlib.util.find_spec("tensorflow") is None:
            env["KERAS_BACKEND"] = "torch"  # Keras 3 runs on torch where TensorFlow is absent
        return env

    def probe_config(self) -> dict[str, Any]:
        if not self.evaluate:
            return {}
        config: dict[str, Any] = {
            "data_dir": str(self.mnist.student_dir), "hidden_images": str(self.mnist.hidden_images),
            "device": self.device, "batch_size": self.batch_size, "format_images": self.format_images,
            "timeout_s": self.eval_timeout_s, "budget_s": self.eval_timeout_s * 0.8}
        if self.retrain is not None:
            config["retrain"] = asdict(self.retrain)
        return config

    def parameters(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The rubric's parameters with `{data.mnist}` and `{device}` filled in."""
        fill = {"{data.mnist}": str(self.mnist.student_dir), "{device}": self.sandbox_device()}
        return {k: fill.get(v, v) if isinstance(v, str) else v for k, v in params.items()}

    def notes(self, lang: str) -> list[str]:
        key = "models.data_demo" if self.mnist.demo else "models.data_files"
        return [tr(lang, key, n_train=self.mnist.n_train, n_val=self.mnist.n_validation,
                   n_hidden=self.mnist.n_hidden, source=str(self.mnist.source))]


def prepare_setup(rubric: Rubric, data: Mapping[str, Path], device: DeviceChoice, cache_dir: Path,
                  with_baseline: bool = True, retrain: bool = False) -> ModelsSetup | None:
    """None for a rubric that uses no dataset; DataError for a bad data folder."""
    unknown = sorted(set(data) - {"mnist"})
    if unknown:
        raise DataError(f"unknown dataset name(s) {', '.join(unknown)} in --data (known: mnist)")
    if "mnist" not in rubric.data and rubric.evaluation is None:
        return None
    spec = rubric.data.get("mnist")
    settings = SplitSettings() if spec is None else SplitSettings(spec.validation, spec.seed, spec.train_limit)
    prepared = prepare_mnist(data.get("mnist"), cache_dir, settings)
    ev = rubric.evaluation
    baseline = None
    settings = None
    if ev is not None:
        b = ev.baseline
        settings = BaselineSettings(b.epochs, b.batch_size, b.lr, b.subset, b.seeds)
        if with_baseline:
            baseline = example_baseline(prepared, settings)
    return ModelsSetup(prepared, baseline, device, evaluate=ev is not None,
                       batch_size=ev.batch_size if ev else 500, format_images=ev.format_images if ev else 1000,
                       eval_timeout_s=ev.timeout_s if ev else 300.0,
                       retrain=settings if (retrain or (ev is not None and ev.retrain)) else None)


MAX_SHIM_NOTES = 8


def shim_notes(outbox: Path, lang: str) -> list[str]:
    """The offline stand-ins the student's code used (from the sandbox's shims.log)."""
    path = outbox / "shims.log"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[:MAX_SHIM_NOTES]
    except OSError:
        return []
    return [tr(lang, "models.shim_used", detail=line.strip()[:300]) for line in lines if line.strip()]
