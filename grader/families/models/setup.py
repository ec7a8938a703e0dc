"""Everything a Task 2 batch prepares once: the data splits, the example's baseline, and what
each run needs from them (mounts, environment, probe settings)."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal, Mapping

import numpy as np

from grader.data.hidden import NOISE_LEVELS
from grader.data.imagefolder import ImageFolderSettings, PreparedImages, prepare_imagefolder
from grader.data.splits import PreparedMnist, SplitSettings, prepare_mnist
from grader.errors import DataError
from grader.family import AfterProbe
from grader.artifacts import Records
from grader.families.models import PROBE_FOLDER, WEIGHTS_MISSING
from grader.i18n import Text, msg, tr
from grader.families.models.baseline import Baseline, BaselineSettings, example_baseline
from grader.families.models.weights import (
    WeightsFolder,
    missing_in,
    prepare_weights,
    transform_notes,
    unserved_paths,
)
from grader.results import Flag
from grader.rubric import Rubric
from grader.families.models.sections import (ImageFolderDataSpec, MnistDataSpec, RetrainBudgetSpec, datasets,
                                             evaluation)
from grader.sandbox import Mount
from grader.sandbox.bwrap import PACKAGE_ROOT

logger = logging.getLogger(__name__)

DeviceChoice = Literal["auto", "cpu", "cuda"]
REFERENCE = Path(__file__).resolve().parents[2] / "reference"
OFFLINE_ENV = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DISABLE_GIT": "true",
               "WANDB_CONSOLE": "off", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@dataclass(frozen=True)
class ImageData:
    """HW 3: an image-folder dataset, where it appears in the sandbox, and the weights folder."""

    prepared: PreparedImages
    mount_points: tuple[str, ...]  # /content/afhq, ./afhq, ... (the rubric's list)
    kaggle: dict[str, str]  # Kaggle "owner/name" -> top folder in its archive (afhq)
    weights: WeightsFolder
    retrain_budget: RetrainBudgetSpec | None = None


@dataclass(frozen=True)
class ModelsSetup:
    mnist: PreparedMnist | None
    baseline: Baseline | None
    device: DeviceChoice
    evaluate: bool
    batch_size: int = 500
    format_images: int = 1000
    eval_timeout_s: float = 300.0
    retrain: BaselineSettings | None = None  # equal-budget retraining (the baseline's settings)
    images: ImageData | None = None  # HW 3 (image folders, pretrained weights); mnist is None then
    gpu_present: bool | None = None  # whether the runs' machines have a GPU (None: this machine's /dev/nvidiactl)

    @property
    def digest(self) -> str:
        data = self.mnist.digest if self.mnist is not None else ""
        if self.images is not None:
            data += f"|{self.images.prepared.digest}|{self.images.weights.digest}"
        return hashlib.sha256(f"{data}|{self.device}".encode()).hexdigest()

    @property
    def n_classes(self) -> int:
        return len(self.images.prepared.classes) if self.images is not None else 10

    def hidden_labels(self) -> np.ndarray:
        """The hidden split's labels (grader side only; they never enter the sandbox)."""
        if self.images is not None:
            return self.images.prepared.hidden_labels()
        assert self.mnist is not None
        return self.mnist.hidden_labels()

    def sandbox_device(self) -> Literal["cpu", "cuda"]:
        """GPU devices are passed into the sandbox only when asked for and present."""
        if self.device == "cpu":
            return "cpu"
        present = Path("/dev/nvidiactl").exists() if self.gpu_present is None else self.gpu_present
        return "cuda" if present else "cpu"

    def mounts(self) -> tuple[Mount, ...]:
        """The data mounts; with retraining also the reference loop, beside the grader package."""
        mounts = self.mnist.mounts() if self.mnist is not None else ()
        if self.images is not None:
            mounts += self.images.prepared.mounts(self.images.mount_points) + self.images.weights.mounts()
        if self.retrain is not None and REFERENCE.is_dir():
            mounts += (Mount(REFERENCE, f"{PACKAGE_ROOT}/reference"),)
        return mounts

    def env(self) -> dict[str, str]:
        env = {**OFFLINE_ENV, **(self.mnist.sandbox_env() if self.mnist is not None else {})}
        if self.images is not None:
            env.update(self.images.prepared.sandbox_env())
            env.update(self.images.weights.env())
            served = {slug: {"path": str(self.images.prepared.student_dir), "folder": folder}
                      for slug, folder in self.images.kaggle.items()}
            env["GRADER_KAGGLE_DATASETS"] = json.dumps(served)
        if importlib.util.find_spec("tensorflow") is None:
            env["KERAS_BACKEND"] = "torch"  # Keras 3 runs on torch where TensorFlow is absent
        return env

    def after_probe(self) -> AfterProbe | None:
        """The models probe after the student's cells (HW 3's `images` for image folders); None when
        the rubric does not evaluate the models."""
        if not self.evaluate:
            return None
        module = "grader_inside.probes.images" if self.images is not None else "grader_inside.probes.models"
        return AfterProbe(module, self.probe_config(), self.eval_timeout_s, PROBE_FOLDER)

    def probe_config(self) -> dict[str, Any]:
        if not self.evaluate:
            return {}
        if self.images is not None:
            return self._image_probe_config()
        assert self.mnist is not None
        config: dict[str, Any] = {
            "data_dir": str(self.mnist.student_dir), "hidden_images": str(self.mnist.hidden_images),
            "device": self.device, "batch_size": self.batch_size, "format_images": self.format_images,
            "timeout_s": self.eval_timeout_s, "budget_s": self.eval_timeout_s * 0.8}
        if self.retrain is not None:
            config["retrain"] = asdict(self.retrain)
        return config

    def _image_probe_config(self) -> dict[str, Any]:
        assert self.images is not None
        data, budget = self.images.prepared, self.images.retrain_budget
        config: dict[str, Any] = {
            "images": {"classes": list(data.classes), "format_images": str(data.format_images),
                       "format_labels": str(data.format_labels), "size": data.hidden.size,
                       "weights_dir": str(self.images.weights.checkpoints)},
            "hidden_images": str(data.hidden_images), "device": self.device, "batch_size": self.batch_size,
            "format_images": self.format_images, "timeout_s": self.eval_timeout_s,
            "budget_s": self.eval_timeout_s * 0.8}
        seconds = None
        if budget is not None and self.retrain is not None:
            seconds = budget.budget_s if self.sandbox_device() == "cuda" else budget.cpu_budget_s
        if seconds and data.train_images is not None and data.train_labels is not None:
            config["retrain"] = {"budget_s": seconds, "epochs": budget.epochs, "batch_size": budget.batch_size,
                                 "lr": budget.lr, "train_images": str(data.train_images),
                                 "train_labels": str(data.train_labels)}
        return config

    def parameters(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The rubric's parameters with `{data.mnist}` (`{data.afhq}`) and `{device}` filled in."""
        fill = {"{device}": self.sandbox_device()}
        if self.mnist is not None:
            fill["{data.mnist}"] = str(self.mnist.student_dir)
        if self.images is not None:
            fill[f"{{data.{self.images.prepared.name}}}"] = str(self.images.prepared.student_dir)
        return {k: fill.get(v, v) if isinstance(v, str) else v for k, v in params.items()}

    def run_notes(self, records: Records, errors: list[str], lang: str) -> list[str]:
        """What one run needs to hear about its data: dataset paths the grader does not serve, and
        the evaluation's remarks on the student's transforms."""
        if self.images is None:
            return []
        where = ", ".join(self.images.mount_points) or str(self.images.prepared.student_dir)
        notes = [tr(lang, "hw3.path_not_served", path=path, where=where)
                 for path in unserved_paths(errors, _data_words(self))]
        return notes + [tr(lang, "hw3.transform_note", model=model, transform=label, detail=detail)
                        for model, label, detail in transform_notes(records)]

    def on_worker(self, moved: Mapping[Path, Path]) -> ModelsSetup:
        """The set-up on another machine whose copies of the data folders are `moved` (a cluster's
        node): the app stage reads the student's digits on the host and mounts the hidden images,
        both from this node's copies."""
        if self.mnist is None:
            return self
        m = self.mnist
        hidden = moved.get(m.hidden_images.parent, m.hidden_images.parent) / m.hidden_images.name
        return replace(self, mnist=replace(m, student_dir=moved.get(m.student_dir, m.student_dir),
                                           hidden_images=hidden))

    def run_error(self, records: Records) -> Text | None:
        """The run's error that is the instructor's to fix (HW 3: weight files the --weights folder
        lacks), said once and plainly; None when there is none."""
        missing = missing_in(records.text(WEIGHTS_MISSING) or "") if self.images is not None else ()
        if not missing:
            return None
        assert self.images is not None
        return msg("hw3.weights_missing", files=", ".join(missing),
                   folder=str(self.images.weights.source or "--weights <folder>"))

    def notes(self, lang: str) -> list[str]:
        """What the data was, and what "hidden test" means (for every report)."""
        if self.images is not None:
            data = self.images.prepared
            return [tr(lang, "hw3.data", source=str(data.source), n_train=data.n_train, n_val=data.n_validation,
                       n_hidden=data.n_hidden, classes=", ".join(data.classes),
                       where=", ".join(self.images.mount_points) or str(data.student_dir)),
                    tr(lang, "models.hidden_meaning", n_hidden=data.n_hidden, noise=NOISE_LEVELS)]
        assert self.mnist is not None
        key = "models.data_demo" if self.mnist.demo else "models.data_files"
        return [tr(lang, key, n_train=self.mnist.n_train, n_val=self.mnist.n_validation,
                   n_hidden=self.mnist.n_hidden, source=str(self.mnist.source)),
                tr(lang, "models.hidden_meaning", n_hidden=self.mnist.n_hidden, noise=NOISE_LEVELS)]

    def flags(self, lang: str) -> tuple[Flag, ...]:
        """A grade made on the demo data is marked so wherever results go (report, results.json,
        exports): it is not a grade on the course's dataset."""
        if self.mnist is not None and self.mnist.demo:
            return (Flag("demo", tr(lang, "models.demo_flag")),)
        return ()


def _data_words(setup: ModelsSetup) -> tuple[str, ...]:
    assert setup.images is not None
    data = setup.images.prepared
    return (data.name, "train", "val", "test", *data.classes)


def prepare_setup(rubric: Rubric, data: Mapping[str, Path], device: DeviceChoice, cache_dir: Path,
                  with_baseline: bool = True, retrain: bool = False, weights: Path | None = None) -> ModelsSetup | None:
    """None for a rubric that uses no dataset; DataError for a bad data folder."""
    specs = datasets(rubric)
    known = {"mnist"} | set(specs)
    unknown = sorted(set(data) - known)
    if unknown:
        raise DataError(f"unknown dataset name(s) {', '.join(unknown)} in --data (known: {', '.join(sorted(known))})")
    image_specs = {k: v for k, v in specs.items() if isinstance(v, ImageFolderDataSpec)}
    if image_specs:
        return _image_setup(rubric, image_specs, data, device, cache_dir, retrain, weights)
    ev = evaluation(rubric)
    if "mnist" not in specs and ev is None:
        return None
    spec = specs.get("mnist")
    assert spec is None or isinstance(spec, MnistDataSpec)
    settings = SplitSettings() if spec is None else SplitSettings(spec.validation, spec.seed, spec.train_limit)
    prepared = prepare_mnist(data.get("mnist"), cache_dir, settings)
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


def _image_setup(rubric: Rubric, specs: Mapping[str, ImageFolderDataSpec], data: Mapping[str, Path],
                 device: DeviceChoice, cache_dir: Path, retrain: bool, weights: Path | None) -> ModelsSetup:
    if len(specs) > 1:
        raise DataError(f"a rubric may name one image-folder dataset; this one names {', '.join(sorted(specs))}")
    name, spec = next(iter(specs.items()))
    if name not in data:
        raise DataError(f"this assignment needs its images: pass --data {name}=<folder> with "
                        f"{spec.train}/<class>/<images> and {spec.validation}/<class>/<images>")
    ev = evaluation(rubric)
    budget = ev.retrain_budget if ev is not None else None
    wants_retrain = budget is not None and (retrain or (ev is not None and ev.retrain))
    settings = ImageFolderSettings(
        train=spec.train, validation=spec.validation, hidden=spec.hidden, hidden_share=spec.hidden_share,
        seed=spec.seed, size=spec.image_size, fit=spec.fit,
        format_images=ev.format_images if ev is not None else 200, train_limit=spec.train_limit,
        retrain_images=budget.images_per_class if wants_retrain and budget is not None else None)
    prepared = prepare_imagefolder(name, data[name], cache_dir, settings)
    images = ImageData(prepared, tuple(spec.mounts), dict(spec.kaggle), prepare_weights(weights, cache_dir), budget)
    return ModelsSetup(None, None, device, evaluate=ev is not None, batch_size=ev.batch_size if ev else 64,
                       format_images=ev.format_images if ev else 200, eval_timeout_s=ev.timeout_s if ev else 300.0,
                       retrain=BaselineSettings() if wants_retrain else None, images=images)


MAX_SHIM_NOTES = 8


def shim_notes(outbox: Path, lang: str) -> list[str]:
    """The offline stand-ins the student's code used (from the sandbox's shims.log)."""
    path = outbox / "shims.log"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[:MAX_SHIM_NOTES]
    except OSError:
        return []
    return [tr(lang, "models.shim_used", detail=line.strip()[:300]) for line in lines if line.strip()]
