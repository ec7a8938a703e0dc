"""Transfer learning judged against chance: the probe measures how far a model's early weights
are from what unrelated weights give, the grader decides. Fine-tuned (also with a learning rate
that moves the first convolution far below the old fixed cosine of 0.9), partly frozen and frozen
backbones are each recognised and named; weights=None and a network of one's own are not
transfer learning; `layers` reads what was frozen from the flags and from the weights."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from hw3_data import CLASSES, resnet18_file_name, shape_image, write_fake_weights  # noqa: E402

from grader.i18n import text_of
from grader.artifacts import CheckContext  # noqa: E402
from grader.families.models.checks import Evaluation, Scored  # noqa: E402
from grader.families.transfer.checks import DEFAULT_MIN_Z, check_layers, check_transfer_learning, stem_evidence, stem_z  # noqa: E402
from grader.families.models.artifacts import ModelRecord, ProbeReport  # noqa: E402
from grader.families.models.evaluate import score_predictions  # noqa: E402
from grader_inside.probes.transfer import inspect, similarity  # noqa: E402

pytestmark = [pytest.mark.torch]
SIDE = 24  # small pictures: a few real training steps of resnet18 take a second or two


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_weights(tmp_path_factory.mktemp("weights"), pretrain=False).parent


def resnet(weights: Path | None, head: int = 3) -> torch.nn.Module:
    model = torchvision.models.resnet18()
    if weights is not None:
        model.load_state_dict(torch.load(weights / resnet18_file_name(), weights_only=True))
    model.fc = torch.nn.Linear(512, head)
    return model


def fine_tune(model: torch.nn.Module, lr: float, steps: int = 4) -> torch.nn.Module:
    """A few real Adam steps on small shapes with a large learning rate (what hard fine-tuning
    does to the early layers: they move a long way from the file)."""
    rng = np.random.default_rng(3)
    labels = torch.arange(8 * steps) % len(CLASSES)
    x = torch.from_numpy(np.stack([shape_image(int(k), rng, SIDE) for k in labels])).permute(0, 3, 1, 2).float() / 255
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    for idx in torch.arange(len(labels)).split(8):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[idx]), labels[idx]).backward()
        opt.step()
    return model


def verdicts(tmp_path: Path, model: torch.nn.Module, weights: Path, lang: str = "en") -> tuple[dict, object, object]:
    """The probe's record for `model`, and the grader's transfer_learning and layers outcomes on it
    (as a well-trained model: 95% of a 100-image hidden split)."""
    torch.manual_seed(0)
    info = json.loads(json.dumps(inspect(model, str(weights), [])))  # plain data, as models.json holds it
    run = tmp_path / "run" / "models"
    run.mkdir(parents=True, exist_ok=True)
    (run / "models.json").write_text(json.dumps({"models": [{"name": "model", "transfer": info}]}))
    labels = np.arange(100) % 3
    preds = labels.copy()
    preds[:5] = (preds[:5] + 1) % 3
    record = ModelRecord("model", "torch", "ResNet", 1, 1, 20, ("Conv2d",), "N,3,32,32", "student", 0.95)
    ctx = CheckContext(lang=lang, cells=[], run_cells=(), probe={}, figures=[], out_dir=tmp_path)
    ctx.memo["models"] = Evaluation(ProbeReport((record,)), (Scored(record, score_predictions(preds, labels, n_classes=3)),),
                                    None)  # type: ignore[arg-type]
    return info, check_transfer_learning(ctx, {}), check_layers(ctx, {})


def test_chance_is_zero_plus_minus_one_for_unrelated_weights(weights: Path) -> None:
    """The permutation mean and spread are exact: over many unrelated initialisations the z of the
    first convolution has mean about 0 and spread about 1."""
    file = torch.load(weights / resnet18_file_name(), weights_only=True)["conv1.weight"]
    zs = []
    for seed in range(40):
        torch.manual_seed(1000 + seed)
        fresh = torch.nn.Conv2d(3, 64, 7, bias=False).weight
        zs.append(similarity(fresh, file)["z"])
    assert abs(np.mean(zs)) < 0.5 and 0.6 < np.std(zs) < 1.5
    same = similarity(file, file)
    assert same["cosine"] == pytest.approx(1.0) and same["z"] > 20


def test_fine_tuned_with_a_large_learning_rate_is_transfer_learning(weights: Path, tmp_path: Path) -> None:
    model = fine_tune(resnet(weights), lr=0.05)
    info, transfer, layers = verdicts(tmp_path, model, weights)
    stem = stem_evidence(info)
    assert stem[0].name == "conv1.weight" and stem[0].cosine < 0.9  # the old fixed threshold failed this
    assert not any(t.equal for t in stem)
    assert stem_z(stem) > 3 * DEFAULT_MIN_Z
    assert transfer.key == "ok", text_of(transfer.message, "en")
    assert "fine-tuned throughout" in text_of(transfer.message, "en") and "z = " in text_of(transfer.message, "en")
    assert transfer.metrics["first_conv_cosine"] < 0.9 and transfer.metrics["stem_z"] > 15
    assert layers.key == "fine_tuned", text_of(layers.message, "en")


def test_frozen_backbone(weights: Path, tmp_path: Path) -> None:
    model = resnet(weights)
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith("fc.")
    fine_tune(model, lr=0.03, steps=1)
    info, transfer, layers = verdicts(tmp_path, model, weights)
    assert all(t.equal for t in stem_evidence(info))
    assert transfer.key == "ok" and "frozen (its weights are exactly the file's)" in text_of(transfer.message, "en")
    assert layers.key == "frozen", text_of(layers.message, "en")
    assert "Frozen by the flag" in text_of(layers.message, "en") and "layer4" in text_of(layers.message, "en")


def test_partly_frozen_backbone(weights: Path, tmp_path: Path) -> None:
    """conv1, bn1 and layer1 frozen by requires_grad; layer2 never given to the optimiser (frozen
    in effect: its weights never change); layer3, layer4 and the head fine-tuned."""
    model = resnet(weights)
    for name, p in model.named_parameters():
        p.requires_grad = not name.startswith(("conv1", "bn1", "layer1."))
    opt_params = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("layer2.")]
    rng = np.random.default_rng(4)
    labels = torch.arange(16) % 3
    x = torch.from_numpy(np.stack([shape_image(int(k), rng, SIDE) for k in labels])).permute(0, 3, 1, 2).float() / 255
    opt = torch.optim.Adam(opt_params, lr=0.01)
    for idx in torch.arange(16).split(8):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[idx]), labels[idx]).backward()
        opt.step()
    info, transfer, layers = verdicts(tmp_path, model, weights)
    assert transfer.key == "ok" and "partly frozen" in text_of(transfer.message, "en"), text_of(transfer.message, "en")
    assert layers.key == "partial", text_of(layers.message, "en")
    assert "Frozen by the flag (requires_grad=False / trainable=False): conv1, bn1, layer1." in text_of(layers.message, "en")
    assert "yet their weights never changed (left out of the optimiser: frozen in effect): layer2." in text_of(layers.message, "en")
    assert "fine-tuned: layer3, layer4" in text_of(layers.message, "en")
    assert layers.metrics["frozen_groups"] == 4 and layers.metrics["fine_tuned_groups"] == 2


def test_weights_none_is_not_transfer_learning(weights: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)  # the kernel's seed: not the stand-in file's
    model = resnet(None)
    info, transfer, layers = verdicts(tmp_path, model, weights)
    stem = stem_evidence(info)
    assert len(stem) == 8 and abs(stem_z(stem)) < DEFAULT_MIN_Z
    assert all(abs(t.cosine) < 0.1 for t in stem)
    assert transfer.key == "not_pretrained", text_of(transfer.message, "en")
    assert "unrelated weights give" in text_of(transfer.message, "en") and "weights=None" in text_of(transfer.message, "en")
    assert layers.key == "no_backbone"


def test_weights_none_in_russian_writes_its_figures_with_decimal_commas(weights: Path, tmp_path: Path) -> None:
    """The cosines per tensor are numbers in the message, so Russian writes 0,03 and separates
    them by semicolons (a comma between decimal commas would not read)."""
    torch.manual_seed(0)
    _, transfer, _ = verdicts(tmp_path, resnet(None), weights, lang="ru")
    message = text_of(transfer.message, "ru")
    assert message.startswith("Это не transfer learning") and "нужно не меньше 5;" in message, message
    assert re.search(r"z = -?\d+(,\d)?, ", message) and re.search(r"сходство -?0,\d{3}, ", message), message
    listed = re.search(r"косинусы по тензорам: ([^)]*)\)", message)
    assert listed and len(listed.group(1).split("; ")) == 8, message
    assert all(re.fullmatch(r"-?0(,\d\d?)?", c) for c in listed.group(1).split("; ")), message


def test_a_custom_cnn_is_not_transfer_learning(weights: Path, tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                                torch.nn.Flatten(), torch.nn.Linear(16, 3))
    info, transfer, layers = verdicts(tmp_path, model, weights)
    assert info["backbone"] is None and not stem_evidence(info)
    assert transfer.key == "custom", text_of(transfer.message, "en")
    assert layers.key == "no_backbone"


def test_backbone_inside_a_wrapper(weights: Path, tmp_path: Path) -> None:
    base = resnet(weights)
    wrapped = torch.nn.Sequential(torch.nn.Sequential(*list(base.children())[:-1]), torch.nn.Flatten(),
                                  torch.nn.Linear(512, 3))
    info, transfer, _ = verdicts(tmp_path, wrapped, weights)
    assert info["backbone"] is None and stem_z(stem_evidence(info)) > DEFAULT_MIN_Z  # matched by position
    assert transfer.key == "ok", text_of(transfer.message, "en")


def test_forged_or_broken_similarity_records_are_left_out() -> None:
    info = {"similarity": [{"name": "a", "cosine": 5.0, "chance_mean": 0, "chance_sd": 0.01, "z": 500},
                           {"name": "b", "cosine": 0.5, "chance_mean": 0, "chance_sd": -1, "z": 50},
                           {"name": "c", "cosine": "x"}, "junk",
                           {"name": "d", "cosine": 0.01, "chance_mean": 0.0, "chance_sd": 0.01, "z": 1.0}]}
    assert [t.name for t in stem_evidence(info)] == ["d"]


@pytest.mark.parametrize(("frozen_layers", "key"), [(3, "frozen"), (2, "partial"), (0, "fine_tuned")])
def test_keras_layers_read_from_the_trainable_flags(tmp_path: Path, frozen_layers: int, key: str) -> None:
    """A Keras backbone nested as one layer (as keras.applications models are): frozen, partly
    frozen (`for layer in base.layers[:k]: layer.trainable = False`) or fine-tuned."""
    keras = pytest.importorskip("keras")
    from grader_inside.probes.transfer import keras_groups

    base = keras.Sequential([keras.layers.Input((16, 16, 3)), keras.layers.Conv2D(4, 3), keras.layers.Conv2D(4, 3),
                             keras.layers.Conv2D(4, 3)], name="backbone")
    for layer in base.layers[:frozen_layers]:
        layer.trainable = False
    model = keras.Sequential([keras.layers.Input((16, 16, 3)), base, keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3)])
    info = json.loads(json.dumps(keras_groups(model, ["/x/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"])))
    run = tmp_path / "run" / "models"
    run.mkdir(parents=True)
    (run / "models.json").write_text(json.dumps({"models": [{"name": "model", "keras_transfer": info}]}))
    record = ModelRecord("model", "keras", "Sequential", 1, 1, 3, ("Conv2D",), "N,16,16,3", "standard", 0.9)
    labels = np.arange(30) % 3
    ctx = CheckContext(lang="en", cells=[], run_cells=(), probe={}, figures=[], out_dir=tmp_path)
    ctx.memo["models"] = Evaluation(ProbeReport((record,)), (Scored(record, score_predictions(labels, labels, n_classes=3)),),
                                    None)  # type: ignore[arg-type]
    out = check_layers(ctx, {})
    assert out.key == key, text_of(out.message, "en")
    assert "trainable flags" in text_of(out.message, "en") and "backbone" in text_of(out.message, "en")
    if key == "partial":
        assert "1 of its 3 layers with weights are trainable" in text_of(out.message, "en")
