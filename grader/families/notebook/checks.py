"""Task 2 checks on the executed notebook: augmentation, a pretrained model, train/validation
curves, saving and loading the model. (Written answers: grader/families/notebook/answers.py.)

Each check reads the student's code with `ast` (grader/families/notebook/source.py), follows values
to where they are used, and asks the run record whether that code completed; the notebook probe
(grader_inside/probes/notebook.py) adds what the code did: files written, data loaders' transforms.
Outcome keys (the rubric maps them to shares of the points):
    augmentation  ok | test_too | not_run | test_only | unused | missing
    pretrained    ok | offline | not_run | untrained | not_pretrained | missing
    curves        ok | train_only | not_run | missing
    save_load     ok | no_prediction | not_run | save_only | load_only | missing
"""
from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from grader.artifacts import Artifacts, Outcome
from grader.families.notebook.source import (
    Aliases,
    Classifier,
    Flow,
    ParsedCell,
    RunInfo,
    Source,
    Use,
    all_calls,
    call_attr,
    constant_strings,
    keyword,
    parse_cells,
    root_name,
)
from grader.i18n import Message, Text, joined, msg

logger = logging.getLogger(__name__)


# -- the notebook as code, built once per submission ---------------------------------------------


@dataclass(frozen=True)
class NotebookCode:
    parsed: list[ParsedCell]
    aliases: Aliases
    run: RunInfo
    tracebacks: dict[int, str]
    probe: dict[str, Any]  # the notebook probe's data ({} when it did not run)

    def flow(self, classify: Classifier) -> Flow:
        return Flow(self.parsed, self.aliases, classify, self.run).analyse()


def notebook_code(art: Artifacts) -> NotebookCode:
    if "notebook" not in art.memo:
        parsed = parse_cells(art.cells)
        probe = art.probe.get("notebook") if isinstance(art.probe.get("notebook"), dict) else {}
        art.memo["notebook"] = NotebookCode(
            parsed, Aliases.of(parsed), RunInfo.of(art.run_cells),
            {r.number: r.traceback or "" for r in art.run_cells if r.status == "error"}, probe or {})
    return art.memo["notebook"]


def _flow(art: Artifacts, name: str, classify: Classifier) -> Flow:
    key = f"notebook.flow.{name}"
    if key not in art.memo:
        art.memo[key] = notebook_code(art).flow(classify)
    return art.memo[key]


def _names(sources: Iterable[Source]) -> str:
    return ", ".join(sorted({s.name.rsplit(".", 1)[-1] for s in sources}))


def _cells(items: Iterable[Source | Use]) -> str:
    return ", ".join(str(n) for n in sorted({i.cell for i in items}))


def _first(uses: list[Use]) -> Use:
    return min(uses, key=lambda u: (u.cell, u.line))


# -- (a) augmentation ----------------------------------------------------------------------------

_TV_AUGMENT = {"ColorJitter", "ElasticTransform", "GaussianBlur", "RandAugment", "AutoAugment",
               "TrivialAugmentWide", "AugMix", "GaussianNoise", "JPEG", "CutMix", "MixUp"}
_TV_FUNCTIONAL = {"rotate", "affine", "perspective", "elastic_transform", "erase", "adjust_brightness",
                  "adjust_contrast", "gaussian_blur", "resized_crop"}
_KERAS_AUGMENT = {"RandAugment", "AugMix", "CutMix", "MixUp"}
_ALBU_AUGMENT = {"Rotate", "ShiftScaleRotate", "Affine", "ElasticTransform", "GridDistortion",
                 "OpticalDistortion", "GaussNoise", "CoarseDropout", "Perspective", "HorizontalFlip",
                 "VerticalFlip", "Blur", "MotionBlur", "GaussianBlur"}
GENERATOR_ARGS = ("rotation_range", "width_shift_range", "height_shift_range", "shear_range",
                  "zoom_range", "horizontal_flip", "vertical_flip", "brightness_range",
                  "channel_shift_range")


def augment_kind(call: ast.Call, qual: str | None) -> str | None:
    """'augment' for a call that builds a random augmentation (any common library)."""
    if qual is None:
        return None
    last = qual.rsplit(".", 1)[-1]
    if qual.startswith("torchvision.transforms.functional."):
        return "augment" if last in _TV_FUNCTIONAL else None
    if qual.startswith("torchvision.transforms."):
        return "augment" if last.startswith("Random") or last in _TV_AUGMENT else None
    if qual.startswith("keras.") and last.endswith("ImageDataGenerator"):
        return "augment" if _generator_augments(call) else None
    if qual.startswith("keras.layers.") or qual.startswith("keras_cv."):
        return "augment" if last.startswith("Random") or last in _KERAS_AUGMENT else None
    if qual.startswith("albumentations."):
        return "augment" if last.startswith("Random") or last in _ALBU_AUGMENT else None
    if qual.startswith("kornia.augmentation."):
        return "augment" if last.startswith("Random") else None
    return None


def _generator_augments(call: ast.Call) -> bool:
    """ImageDataGenerator with any augmentation setting (rescale alone is not augmentation)."""
    for kw in call.keywords:
        if kw.arg in GENERATOR_ARGS:
            if isinstance(kw.value, ast.Constant) and kw.value.value in (0, 0.0, False, None):
                continue
            return True
    return False


def _probe_augmented_loaders(code: NotebookCode) -> list[str]:
    """Training data loaders the probe saw with a random transform (run-time evidence)."""
    out = []
    for item in code.probe.get("loaders", []) or []:
        names = [n for n in item.get("transforms", []) if n.startswith("Random") or n in _TV_AUGMENT]
        training = item.get("train") is True or "train" in str(item.get("name", "")).lower()
        if names and training:
            out.append(f"{item.get('name')} ({', '.join(sorted(set(names)))})")
    return out


def check_augmentation(art: Artifacts, params: dict[str, Any]) -> Outcome:
    code = notebook_code(art)
    flow = _flow(art, "augment", augment_kind)
    if not flow.sources:
        return Outcome("missing", msg("notebook.augmentation.missing"))
    names = _names(flow.sources)
    train = [u for u in flow.uses if u.kind == "train"]
    done = [u for u in train if u.completed]
    tests = [u for u in flow.uses if u.kind == "test"]
    metrics = {"augmentations": float(len({s.name for s in flow.sources}))}
    if done:
        used = frozenset().union(*(u.sources for u in done))
        leaked = [u for u in tests if u.sources & used]
        if leaked:
            return Outcome("test_too", msg("notebook.augmentation.test_too", names=_names(used),
                                          cell=_first(done).cell, test_cell=_first(leaked).cell,
                                          code=_first(leaked).text), metrics)
        return Outcome("ok", msg("notebook.augmentation.ok", names=_names(used),
                                cells=_cells(used), cell=_first(done).cell), metrics)
    if train:
        return Outcome("not_run", msg("notebook.augmentation.not_run", names=names,
                                     cell=_first(train).cell), metrics)
    runtime = _probe_augmented_loaders(code)
    if runtime and any(flow.trains(c.tree.body) for c in code.parsed if c.tree is not None):
        return Outcome("ok", msg("notebook.augmentation.ok_runtime", loaders="; ".join(runtime)),
                       metrics)
    if tests:
        return Outcome("test_only", msg("notebook.augmentation.test_only", names=names,
                                       cell=_first(tests).cell), metrics)
    return Outcome("unused", msg("notebook.augmentation.unused", names=names,
                                cells=_cells(flow.sources)), metrics)


# -- (b) pretrained model ------------------------------------------------------------------------

# A download that failed: the network's own errors, and the grader's weights shim (in the sandbox)
# refusing a file that is not in its --weights folder.
_NETWORK_ERROR = re.compile(
    r"URLError|URL fetch failure|ConnectionError|Network is unreachable|Name or service not known|"
    r"Temporary failure in name resolution|nodename nor servname|HTTPError|MaxRetryError|gaierror|"
    r"Failed to establish a new connection|urlopen error|LocalEntryNotFoundError|OfflineModeIsEnabled|"
    r"PretrainedWeightsMissing",
    re.IGNORECASE)
_TV_NOT_MODELS = {"get_weight", "get_model_weights", "list_models", "get_model_builder", "transforms"}


def pretrained_kind(call: ast.Call, qual: str | None) -> str | None:
    """'pretrained' / 'not_pretrained' for a call that builds a known architecture, else None."""
    if qual is None:
        return None
    parts = qual.split(".")
    last = parts[-1]
    if qual.startswith("torchvision.models.") and last[:1].islower() and last not in _TV_NOT_MODELS \
            and not any(p.endswith("_Weights") for p in parts):
        return _torchvision_weights(call)
    if qual.startswith("keras.applications.") and last[:1].isupper():
        weights = keyword(call, "weights")
        return "not_pretrained" if _is_none(weights) else "pretrained"  # keras defaults to imagenet
    if qual == "torch.hub.load":
        if _is_false(keyword(call, "pretrained")) or _is_none(keyword(call, "weights")):
            return "not_pretrained"
        return "pretrained"
    if qual == "timm.create_model":
        flag = keyword(call, "pretrained")
        return "pretrained" if flag is not None and not _is_false(flag) else "not_pretrained"
    if last == "from_pretrained" or qual.startswith("tensorflow_hub.KerasLayer") or qual == "tensorflow_hub.load":
        return "pretrained"
    return None


def _torchvision_weights(call: ast.Call) -> str:
    weights = keyword(call, "weights")
    flag = keyword(call, "pretrained")
    if weights is not None:
        return "not_pretrained" if _is_none(weights) else "pretrained"
    if flag is not None:
        return "not_pretrained" if _is_false(flag) else "pretrained"
    if call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value is True:
        return "pretrained"  # resnet18(True): the old positional `pretrained`
    return "not_pretrained"  # torchvision's default: random weights


def _is_none(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _is_false(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value in (False, 0, None)


def check_pretrained(art: Artifacts, params: dict[str, Any]) -> Outcome:
    code = notebook_code(art)
    flow = _flow(art, "pretrained", pretrained_kind)
    pre = [s for s in flow.sources if s.kind == "pretrained"]
    if not pre:
        fake = [s for s in flow.sources if s.kind == "not_pretrained"]
        if fake:
            return Outcome("not_pretrained", msg("notebook.pretrained.not_pretrained",
                                                code=fake[0].text, cell=fake[0].cell))
        return Outcome("missing", msg("notebook.pretrained.missing"))
    offline = [s for s in pre if _NETWORK_ERROR.search(code.tracebacks.get(s.cell, ""))]
    train = [u for u in flow.uses if u.kind == "train" and any(s.kind == "pretrained" for s in u.sources)]
    first = min(pre, key=lambda s: (s.cell, s.line))
    if offline:
        key = "offline" if train else "untrained"
        return Outcome(key, msg(f"notebook.pretrained.{key}_offline", code=offline[0].text,
                               cell=offline[0].cell))
    done = [u for u in train if u.completed]
    if done:
        return Outcome("ok", msg("notebook.pretrained.ok", code=first.text, cell=first.cell,
                                train_cell=_first(done).cell))
    if train:
        return Outcome("not_run", msg("notebook.pretrained.not_run", code=first.text,
                                     cell=_first(train).cell))
    return Outcome("untrained", msg("notebook.pretrained.untrained", code=first.text, cell=first.cell))


# -- (c) training and validation curves ----------------------------------------------------------

_VAL = re.compile(r"val|valid|test|dev|валид|тест|провер", re.IGNORECASE)
_TRAIN = re.compile(r"train|обуч|трен", re.IGNORECASE)
_KERAS_TRAIN_KEYS = {"loss", "acc", "accuracy", "epoch_loss", "sparse_categorical_accuracy"}
_PLOT_CALLS = {"plot", "semilogy", "semilogx", "loglog", "step", "line", "errorbar"}
_LOG_CALLBACKS = ("WandbCallback", "WandbMetricsLogger", "TensorBoard", "CSVLogger")
_LOG_FILES = re.compile(r"events\.out\.tfevents|\.wandb$|wandb-summary\.json|wandb-history", re.IGNORECASE)


def series_kind(text: str) -> str | None:
    """'val' / 'train' for a series name or label (Keras keys: `loss` is training), else None."""
    t = text.strip().strip("'\"").lower()
    if not t or t.startswith("_child") or t.startswith("_line"):
        return None
    if _VAL.search(t):
        return "val"
    if _TRAIN.search(t) or t in _KERAS_TRAIN_KEYS or re.search(r"\[['\"](loss|acc|accuracy)['\"]\]", t):
        return "train"
    return None


@dataclass(frozen=True)
class _Logged:
    kinds: frozenset[str]
    cell: int
    completed: bool
    how: str  # "wandb.log", "add_scalar", "callback", "plot"


def _logging_calls(code: NotebookCode) -> list[_Logged]:
    """wandb/TensorBoard/MLflow logging and Keras logging callbacks, with the series they log."""
    found: list[_Logged] = []
    run_names = _names_assigned_from(code, ("wandb.init",))
    dicts = _dict_variables(code)
    for cell, call, top in all_calls(code.parsed):
        qual = code.aliases.qualify(call.func) or ""
        attr = call_attr(call) or ""
        receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
        keys: list[str] = []
        if qual in ("wandb.log", "mlflow.log_metrics") or (attr == "log" and receiver is not None
                                                          and root_name(receiver) in run_names):
            keys = _dict_keys(call.args[0], dicts) if call.args else []
        elif attr in ("add_scalar", "add_scalars") or qual == "mlflow.log_metric":
            keys = constant_strings(call.args[0]) if call.args else []
            if attr == "add_scalars" and len(call.args) > 1:
                keys += _dict_keys(call.args[1], dicts)
        elif attr in ("fit", "fit_generator") and _has_logging_callback(code, call):
            with_val = keyword(call, "validation_data") is not None or keyword(call, "validation_split") is not None
            found.append(_Logged(frozenset({"train", "val"} if with_val else {"train"}), cell,
                                 code.run.completed(cell, top), "callback"))
            continue
        else:
            continue
        kinds = frozenset(k for k in (series_kind(key) for key in keys) if k)
        found.append(_Logged(kinds, cell, code.run.completed(cell, top), attr or qual))
    return found


def _names_assigned_from(code: NotebookCode, quals: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for cell in code.parsed:
        if cell.tree is None:
            continue
        for node in ast.walk(cell.tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                    and (code.aliases.qualify(node.value.func) or "").endswith(quals):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _dict_keys(expr: ast.expr, variables: dict[str, list[str]]) -> list[str]:
    if isinstance(expr, ast.Dict):
        return [" ".join(constant_strings(k)) for k in expr.keys if k is not None]
    if isinstance(expr, ast.Call) and call_attr(expr) == "dict":
        return [kw.arg for kw in expr.keywords if kw.arg]
    if isinstance(expr, ast.Name):
        return variables.get(expr.id, [])
    return []


def _dict_variables(code: NotebookCode) -> dict[str, list[str]]:
    """Keys put into dict variables: `logs = {"train_loss": ...}`, `logs["val_loss"] = ...`."""
    found: dict[str, list[str]] = {}
    for cell in code.parsed:
        if cell.tree is None:
            continue
        for node in ast.walk(cell.tree):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value, (ast.Dict, ast.Call)):
                    found.setdefault(target.id, []).extend(_dict_keys(node.value, {}))
                elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    found.setdefault(target.value.id, []).extend(constant_strings(target.slice))
    return found


def _has_logging_callback(code: NotebookCode, fit: ast.Call) -> bool:
    callbacks = keyword(fit, "callbacks")
    if callbacks is None:
        return False
    logger_names = _names_assigned_from(code, _LOG_CALLBACKS)
    for node in ast.walk(callbacks):
        if isinstance(node, ast.Call) and (code.aliases.qualify(node.func) or "").endswith(_LOG_CALLBACKS):
            return True
        if isinstance(node, ast.Name) and node.id in logger_names:
            return True
    return False


def _plot_series(code: NotebookCode, cell: int) -> set[str]:
    """Series kinds named in the plotting calls of one cell (labels and plotted expressions)."""
    kinds: set[str] = set()
    for number, call, _ in all_calls(code.parsed):
        if number != cell or call_attr(call) not in _PLOT_CALLS:
            continue
        label = keyword(call, "label")
        texts = [ast.unparse(label)] if label is not None else [ast.unparse(a) for a in call.args]
        texts += constant_strings(keyword(call, "y")) if keyword(call, "y") is not None else []
        for t in texts:
            kind = series_kind(t)
            if kind:
                kinds.add(kind)
    return kinds


def _figure_series(art: Artifacts, code: NotebookCode) -> list[tuple[str, frozenset[str]]]:
    """(figure id, series kinds) for every captured figure with at least one curve."""
    out = []
    for fig in art.figures:
        # one point per curve is still a curve: instructors may inject EPOCHS = 1 to save time
        lines = [ln for ax in fig.get("axes", []) for ln in ax.get("lines", []) if ln.get("x")]
        if not lines:
            continue
        kinds = {k for k in (series_kind(str(ln.get("label", ""))) for ln in lines) if k}
        if len(kinds) < 2 and fig.get("cell") is not None and len(lines) >= 2:
            kinds |= _plot_series(code, int(fig["cell"]))
        if kinds:
            out.append((str(fig.get("id", "")), frozenset(kinds)))
    return out


def check_curves(art: Artifacts, params: dict[str, Any]) -> Outcome:
    code = notebook_code(art)
    lang = art.lang
    logged = _logging_calls(code)
    figures = _figure_series(art, code)
    done_kinds = frozenset().union(*(lg.kinds for lg in logged if lg.completed), *(k for _, k in figures))
    files = [f["name"] for f in code.probe.get("files", []) or [] if _LOG_FILES.search(str(f.get("path", "")))]
    metrics = {"figures_with_curves": float(len(figures))}
    where = _curves_where(lang, logged, figures, files)
    if {"train", "val"} <= done_kinds:
        return Outcome("ok", msg("notebook.curves.ok", where=where), metrics)
    all_kinds = frozenset().union(*(lg.kinds for lg in logged))
    if {"train", "val"} <= all_kinds | done_kinds:
        cells = ", ".join(str(c) for c in sorted({lg.cell for lg in logged if not lg.completed}))
        return Outcome("not_run", msg("notebook.curves.not_run", cells=cells), metrics)
    if done_kinds or all_kinds:
        return Outcome("train_only", msg("notebook.curves.train_only", where=where), metrics)
    return Outcome("missing", msg("notebook.curves.missing"), metrics)


def _curves_where(lang: str, logged: list[_Logged], figures: list[tuple[str, frozenset[str]]],
                  files: list[str]) -> Text | str:
    parts: list[Message] = []
    tools = sorted({lg.how for lg in logged if lg.completed})
    if tools:
        cells = ", ".join(str(c) for c in sorted({lg.cell for lg in logged if lg.completed}))
        parts.append(msg("notebook.curves.where_logged", tools=", ".join(tools), cells=cells))
    if figures:
        parts.append(msg("notebook.curves.where_figures", figures=", ".join(f for f, _ in figures)))
    if files:
        parts.append(msg("notebook.curves.where_files", files=", ".join(sorted(set(files))[:3])))
    return joined(parts, "; ") if parts else "—"


# -- (d) model saved to a file and loaded back for prediction ------------------------------------

_SAVE_QUALS = {"torch.save", "torch.jit.save", "joblib.dump", "pickle.dump", "keras.models.save_model",
               "keras.saving.save_model", "torch.onnx.export"}
_LOAD_QUALS = {"torch.load", "torch.jit.load", "joblib.load", "pickle.load", "keras.models.load_model",
               "keras.saving.load_model", "onnxruntime.InferenceSession"}
_SAVE_METHODS = {"save", "save_weights", "save_model", "save_checkpoint", "save_pretrained"}
_LOAD_METHODS = {"load_state_dict", "load_weights", "load_from_checkpoint"}
_MODEL_FILE = re.compile(r"\.(pt|pth|h5|hdf5|keras|ckpt|pkl|pickle|joblib|bin|safetensors|onnx|tar|model)$",
                         re.IGNORECASE)


_NOT_MODEL_FILE = re.compile(r"\.(png|jpe?g|gif|bmp|svg|pdf|csv|txt|json|npy|npz|html|md)$", re.IGNORECASE)


def save_load_kind(call: ast.Call, qual: str | None) -> str | None:
    """'save' / 'load' for calls that write or read a model file (not images, tables, arrays)."""
    if any(_NOT_MODEL_FILE.search(t) for t in constant_strings(call)):
        return None
    attr = call_attr(call)
    if qual in _SAVE_QUALS or (qual or "").endswith("ModelCheckpoint"):
        return "save"
    if qual in _LOAD_QUALS:
        return "load"
    if qual is None and isinstance(call.func, ast.Attribute):
        if attr in _SAVE_METHODS:
            return "save"
        if attr in _LOAD_METHODS:
            return "load"
    return None


def _save_paths(code: NotebookCode, saves: list[Source]) -> list[str]:
    """File names the save calls write to (string literals, also through simple variables)."""
    consts = _string_constants(code)
    names: list[str] = []
    for cell, call, _ in all_calls(code.parsed):
        if not any(s.cell == cell and s.line == call.lineno for s in saves):
            continue
        for arg in [*call.args, *(kw.value for kw in call.keywords)]:
            texts = constant_strings(arg) + [consts[n.id] for n in ast.walk(arg)
                                             if isinstance(n, ast.Name) and n.id in consts]
            names += [PurePath(t).name for t in texts if PurePath(t).name and "." in PurePath(t).name]
    return names


def _string_constants(code: NotebookCode) -> dict[str, str]:
    consts: dict[str, str] = {}
    for cell in code.parsed:
        if cell.tree is None:
            continue
        for node in ast.walk(cell.tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                consts.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return consts


def _saved_file(code: NotebookCode, paths: list[str]) -> tuple[bool | None, str]:
    """Whether the probe saw the saved file written during the run (None: no probe data)."""
    if "files" not in code.probe:
        return None, ""
    files = [f for f in code.probe.get("files") or [] if int(f.get("size", 0)) > 0]
    for name in paths:
        for f in files:
            if str(f.get("name")) == name or str(f.get("name", "")).startswith(name):
                return True, str(f["name"])
    models = [f for f in files if _MODEL_FILE.search(str(f.get("name", "")))]
    if models:
        return True, str(models[0]["name"])
    return False, ""


def check_save_load(art: Artifacts, params: dict[str, Any]) -> Outcome:
    code = notebook_code(art)
    flow = _flow(art, "save_load", save_load_kind)
    saves = [s for s in flow.sources if s.kind == "save"]
    if not saves:
        loads = [s for s in flow.sources if s.kind == "load"]
        if loads:
            return Outcome("load_only", msg("notebook.save_load.load_only", code=loads[0].text,
                                           cell=loads[0].cell))
        return Outcome("missing", msg("notebook.save_load.missing"))
    first_save = min((s.cell, s.line) for s in saves)
    loads = [s for s in flow.sources if s.kind == "load" and (s.cell, s.line) > first_save]
    save = min(saves, key=lambda s: (s.cell, s.line))
    if not loads:
        return Outcome("save_only", msg("notebook.save_load.save_only", code=save.text, cell=save.cell))
    save_done = any(_completed(code, s) for s in saves)
    load_done = any(_completed(code, s) for s in loads)
    file_ok, file_name = _saved_file(code, _save_paths(code, saves))
    predict = [u for u in flow.uses if u.kind == "predict" and any(s in u.sources for s in loads)]
    load = min(loads, key=lambda s: (s.cell, s.line))
    if not save_done or not load_done or file_ok is False or (predict and not any(u.completed for u in predict)):
        reason = ("no_file" if save_done and file_ok is False else
                  "save" if not save_done else "load" if not load_done else "predict")
        cell = save.cell if reason in ("no_file", "save") else load.cell if reason == "load" else predict[0].cell
        return Outcome("not_run", msg(f"notebook.save_load.not_run_{reason}", cell=cell, code=save.text))
    if not predict:
        return Outcome("no_prediction", msg("notebook.save_load.no_prediction", code=load.text,
                                           cell=load.cell))
    shown = file_name or ", ".join(_save_paths(code, saves)[:1]) or save.text
    return Outcome("ok", msg("notebook.save_load.ok", file=shown, save_cell=save.cell,
                            load_cell=load.cell, predict_cell=_first(predict).cell))


def _completed(code: NotebookCode, src: Source) -> bool:
    for cell in code.parsed:
        if cell.number == src.cell and cell.tree is not None:
            for stmt in cell.tree.body:
                if stmt.lineno <= src.line <= (stmt.end_lineno or stmt.lineno):
                    return code.run.completed(cell.number, stmt)
    return False
