"""Task 2 notebook checks on canned notebooks (cells + run records + probe data; no kernel).

Each variant is one seen in real student work (../shared/REAL_SUBMISSIONS.md): aliases
(`import torchvision.transforms as T`, `tf.keras`, old standalone `keras`), Colab magics, custom
datasets, Keras generators, transforms defined but never used, and cells that failed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader.artifacts import CheckContext
from grader.families.manual.checks import check_manual
from grader.families.notebook.checks import check_augmentation, check_curves, check_pretrained, check_save_load
from grader.families.notebook.answers import AnswersParams, check_answers, find_answers
from grader.families.notebook.source import RunInfo, parse_cell
from grader.errors import RubricError
from grader.i18n import text_of
from grader_inside.notebook import Cell
from grader.run.runner import CellRecord


def ctx(*cells: str, status: dict[int, str] | None = None, tracebacks: dict[int, str] | None = None,
        probe: dict[str, Any] | None = None, figures: list[dict[str, Any]] | None = None,
        lang: str = "en") -> CheckContext:
    """Cells as strings; a string starting with 'md:' is a markdown cell. Every code cell ran
    ("ok") unless `status` says otherwise."""
    out: list[Cell] = []
    counts = {"code": 0, "markdown": 0}
    for src in cells:
        kind = "markdown" if src.startswith("md:") else "code"
        counts[kind] += 1
        out.append(Cell(kind, src[3:] if kind == "markdown" else src, counts[kind]))  # type: ignore[arg-type]
    status = status or {}
    tracebacks = tracebacks or {}
    records = tuple(CellRecord(c.number, status.get(c.number, "ok"), traceback=tracebacks.get(c.number, ""))
                    for c in out if c.kind == "code" and status.get(c.number) != "absent")
    return CheckContext(lang=lang, cells=out, run_cells=records,
                        probe={"notebook": probe} if probe is not None else {},
                        figures=figures or [], out_dir=Path("."))


TORCH_TRAIN_LOOP = """
model = Net()
optimizer = torch.optim.Adam(model.parameters())
for epoch in range(EPOCHS):
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
"""
TORCH_TRAIN_FN = """
def train(model, loader, epochs=1):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
"""


# -- parsing --------------------------------------------------------------------------------------


def test_colab_magics_and_shell_lines_do_not_stop_parsing() -> None:
    tree = parse_cell("!pip install wandb\n%matplotlib inline\nimport torch\nfiles = !ls\nx = 1")
    assert tree is not None and len(tree.body) == 5
    assert parse_cell("%%time\nfor i in range(3):\n    y = i") is not None
    assert parse_cell("%%bash\nls -la") is None  # not Python
    assert parse_cell("def f(:\n  pass") is None


def test_error_line_comes_from_the_traceback() -> None:
    tb = "Traceback...\nCell In[7], line 3\n      1 a = 1\n----> 3 boom()\nNameError: boom"
    run = RunInfo.of([CellRecord(2, "error", traceback=tb)])
    tree = parse_cell("a = 1\nb = 2\nboom()\nc = 3")
    assert tree is not None
    assert [run.completed(2, s) for s in tree.body] == [True, True, False, False]


# -- (a) augmentation -----------------------------------------------------------------------------


def test_torchvision_alias_inline_in_training_dataset() -> None:
    c = ctx("import torch\nimport torchvision.transforms as T\nfrom torchvision import datasets\n"
            "from torch.utils.data import DataLoader",
            "train_ds = datasets.MNIST('./data', train=True, download=True,\n"
            "    transform=T.Compose([T.RandomRotation(10), T.ToTensor()]))\n"
            "test_ds = datasets.MNIST('./data', train=False, transform=T.ToTensor())\n"
            "train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)",
            TORCH_TRAIN_LOOP)
    out = check_augmentation(c, {})
    assert out.key == "ok", text_of(out.message, "en")
    assert "RandomRotation" in text_of(out.message, "en") and "cell 3" in text_of(out.message, "en")


def test_from_import_variable_transform_and_a_training_function() -> None:
    c = ctx("from torchvision import transforms, datasets\nimport torch",
            "train_transform = transforms.Compose([\n    transforms.RandomAffine(degrees=10, translate=(0.1, 0.1)),\n"
            "    transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])\n"
            "test_transform = transforms.Compose([transforms.ToTensor()])",
            "trainset = datasets.MNIST(root='./data_dz1', train=True, download=True, transform=train_transform)\n"
            "testset = datasets.MNIST(root='./data_dz1', train=False, download=True, transform=test_transform)\n"
            "trainloader = torch.utils.data.DataLoader(trainset, batch_size=128)",
            TORCH_TRAIN_FN,
            "train(Net(), trainloader, epochs=3)")
    out = check_augmentation(c, {})
    assert out.key == "ok", text_of(out.message, "en")
    assert "RandomAffine" in text_of(out.message, "en")


def test_one_transform_for_train_and_test_is_test_too() -> None:
    c = ctx("import torchvision\nfrom torchvision import transforms as tr",
            "transform = tr.Compose([tr.RandomRotation(15), tr.ToTensor()])\n"
            "train_data = torchvision.datasets.MNIST('data', train=True, transform=transform)\n"
            "test_data = torchvision.datasets.MNIST('data', train=False, transform=transform)\n"
            "train_loader = torch.utils.data.DataLoader(train_data)",
            TORCH_TRAIN_LOOP)
    out = check_augmentation(c, {})
    assert out.key == "test_too", text_of(out.message, "en")
    assert "cell 2" in text_of(out.message, "en")


def test_random_split_of_an_augmented_dataset_leaks_into_validation() -> None:
    c = ctx("import torchvision.transforms.v2 as T\nfrom torch.utils.data import random_split, DataLoader",
            "full = MNIST('.', train=True, transform=T.Compose([T.RandomCrop(28, padding=2), T.ToTensor()]))\n"
            "train_ds, val_ds = random_split(full, [50000, 10000])\n"
            "train_loader = DataLoader(train_ds)",
            TORCH_TRAIN_LOOP)
    assert check_augmentation(c, {}).key == "test_too"


def test_transform_defined_but_never_used_is_unused() -> None:
    c = ctx("import torchvision.transforms as T\nimport matplotlib.pyplot as plt",
            "aug = T.Compose([T.RandomRotation(20), T.RandomErasing()])\n"
            "plt.imshow(aug(sample_image)[0])",  # shown, not trained on
            "train_ds = MNIST('data', train=True, transform=T.ToTensor())\n"
            "train_loader = DataLoader(train_ds)",
            TORCH_TRAIN_LOOP)
    out = check_augmentation(c, {})
    assert out.key == "unused", text_of(out.message, "en")
    assert "RandomErasing" in text_of(out.message, "en") and "RandomRotation" in text_of(out.message, "en")


def test_augmentation_applied_only_to_test_data() -> None:
    c = ctx("from torchvision import transforms",
            "test_ds = MNIST('data', train=False, transform=transforms.RandomRotation(10))\n"
            "train_ds = MNIST('data', train=True, transform=transforms.ToTensor())\n"
            "train_loader = DataLoader(train_ds)",
            TORCH_TRAIN_LOOP)
    assert check_augmentation(c, {}).key == "test_only"


def test_star_import_and_custom_dataset_class() -> None:
    c = ctx("from torchvision.transforms import *\nfrom torch.utils.data import Dataset, DataLoader",
            "class DigitsDataset(Dataset):\n    def __init__(self, x, y, transform=None):\n"
            "        self.x, self.y, self.transform = x, y, transform\n"
            "    def __getitem__(self, i):\n        img = self.x[i]\n"
            "        return (self.transform(img) if self.transform else img), self.y[i]",
            "aug = Compose([ToPILImage(), RandomRotation(10), ToTensor()])\n"
            "train_loader = DataLoader(DigitsDataset(X_train, y_train, transform=aug), batch_size=32)",
            TORCH_TRAIN_LOOP)
    assert check_augmentation(c, {}).key == "ok"


def test_transform_assigned_to_an_existing_dataset() -> None:
    c = ctx("import torchvision.transforms as T",
            "train_ds = MNIST('data', train=True, transform=T.ToTensor())\n"
            "train_ds.transform = T.Compose([T.RandomAffine(5), T.ToTensor()])\n"
            "train_loader = DataLoader(train_ds)",
            TORCH_TRAIN_LOOP)
    assert check_augmentation(c, {}).key == "ok"


def test_keras_preprocessing_layers_in_a_fitted_model_tf_keras() -> None:
    c = ctx("import tensorflow as tf",
            "model = tf.keras.Sequential([\n"
            "    tf.keras.layers.experimental.preprocessing.RandomRotation(0.1),\n"
            "    tf.keras.layers.Conv2D(32, 3, activation='relu'),\n    tf.keras.layers.Flatten(),\n"
            "    tf.keras.layers.Dense(10)])",
            "history = model.fit(x_train, y_train, epochs=EPOCHS, validation_split=0.1)")
    out = check_augmentation(c, {})
    assert out.key == "ok", text_of(out.message, "en")


def test_keras3_augmentation_block_added_with_add() -> None:
    c = ctx("import keras\nfrom keras import layers",
            "data_augmentation = keras.Sequential([layers.RandomTranslation(0.1, 0.1), layers.RandomZoom(0.1)])",
            "model = keras.Sequential()\nmodel.add(keras.Input((28, 28, 1)))\nmodel.add(data_augmentation)\n"
            "model.add(layers.Flatten())\nmodel.add(layers.Dense(10, activation='softmax'))",
            "model.compile('adam', 'sparse_categorical_crossentropy')\nmodel.fit(x_train, y_train, epochs=1)")
    assert check_augmentation(c, {}).key == "ok"


def test_image_data_generator_flow_in_old_fit_generator() -> None:
    c = ctx("from keras.preprocessing.image import ImageDataGenerator",
            "datagen = ImageDataGenerator(rotation_range=10, zoom_range=0.1, width_shift_range=0.1)\n"
            "datagen.fit(x_train)",
            "model.fit_generator(datagen.flow(x_train, y_train, batch_size=86), epochs=3)")
    assert check_augmentation(c, {}).key == "ok"


def test_image_data_generator_fitted_but_model_trained_on_raw_arrays() -> None:
    c = ctx("from tensorflow.keras.preprocessing.image import ImageDataGenerator",
            "datagen = ImageDataGenerator(rotation_range=10)\ndatagen.fit(x_train)",
            "model.fit(x_train, y_train, epochs=3)")
    assert check_augmentation(c, {}).key == "unused"


def test_rescale_only_generator_is_not_augmentation() -> None:
    c = ctx("from tensorflow.keras.preprocessing.image import ImageDataGenerator",
            "gen = ImageDataGenerator(rescale=1./255, rotation_range=0)",
            "model.fit(gen.flow(x_train, y_train))")
    assert check_augmentation(c, {}).key == "missing"


def test_training_cell_that_crashed_before_training_is_not_run() -> None:
    tb = "Cell In[4], line 2\n----> 2 for epoch in range(EPOCHS):\nRuntimeError: CUDA error"
    c = ctx("import torchvision.transforms as T",
            "train_loader = DataLoader(MNIST('d', train=True, transform=T.RandomRotation(10)))",
            "model = Net().to('cuda:0')\n" + TORCH_TRAIN_LOOP.strip(),
            status={3: "error"}, tracebacks={3: tb})
    out = check_augmentation(c, {})
    assert out.key == "not_run", text_of(out.message, "en")


def test_training_cell_that_failed_after_training_still_counts() -> None:
    source = TORCH_TRAIN_LOOP.strip() + "\nprint(accuracy_of(model))"
    tb = f"Cell In[4], line {source.count(chr(10)) + 1}\nNameError: name 'accuracy_of' is not defined"
    c = ctx("import torchvision.transforms as T",
            "train_loader = DataLoader(MNIST('d', train=True, transform=T.RandomRotation(10)))",
            source, status={3: "error"}, tracebacks={3: tb})
    assert check_augmentation(c, {}).key == "ok"


def test_training_in_a_cell_that_never_ran_is_not_run() -> None:
    c = ctx("import torchvision.transforms as T",
            "train_loader = DataLoader(MNIST('d', train=True, transform=T.RandomRotation(10)))",
            TORCH_TRAIN_LOOP, status={3: "skipped_deadline"})
    assert check_augmentation(c, {}).key == "not_run"


def test_augmentation_inside_the_training_loop_on_batches() -> None:
    c = ctx("import torchvision.transforms.functional as TF\nimport random",
            "for epoch in range(3):\n    for x, y in train_loader:\n"
            "        x = TF.rotate(x, random.uniform(-10, 10))\n"
            "        loss = criterion(model(x), y)\n        loss.backward()\n        opt.step()")
    assert check_augmentation(c, {}).key == "ok"


def test_runtime_probe_rescues_a_flow_the_reader_cannot_follow() -> None:
    c = ctx("import torchvision.transforms as T",
            "setattr(train_ds, 'transform', T.RandomRotation(10))",
            TORCH_TRAIN_LOOP,
            probe={"loaders": [{"name": "train_loader", "kind": "DataLoader", "dataset": "MNIST",
                                "transforms": ["RandomRotation"], "train": True}]})
    assert check_augmentation(c, {}).key == "ok"


def test_names_like_value_are_not_test_data() -> None:
    c = ctx("import torchvision.transforms as T",
            "value = T.Compose([T.RandomRotation(10), T.ToTensor()])\n"
            "train_loader = DataLoader(MNIST('d', train=True, transform=value))", TORCH_TRAIN_LOOP)
    assert check_augmentation(c, {}).key == "ok"


def test_a_trainer_class_whose_method_trains() -> None:
    c = ctx("import torchvision.transforms as T",
            "class Trainer:\n    def __init__(self, model):\n        self.model = model\n"
            "    def train(self, loader):\n        for x, y in loader:\n"
            "            self.model.loss(x, y).backward()",
            "train_loader = DataLoader(MNIST('d', train=True, transform=T.RandomRotation(10)))\n"
            "trainer = Trainer(Net())",
            "trainer.train(train_loader)")
    out = check_augmentation(c, {})
    assert out.key == "ok" and "cell 4" in text_of(out.message, "en"), text_of(out.message, "en")
    c_unused = ctx(*[cell.source if cell.kind == "code" else "md:" + cell.source for cell in c.cells][:3])
    assert check_augmentation(c_unused, {}).key == "unused"  # building the Trainer trains nothing


def test_augmentation_inside_the_models_forward() -> None:
    c = ctx("import torch.nn as nn\nimport torchvision.transforms as T",
            "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.aug = T.RandomAffine(degrees=10, translate=(0.1, 0.1))\n        self.fc = nn.Linear(784, 10)\n"
            "    def forward(self, x):\n        if self.training:\n            x = self.aug(x)\n"
            "        return self.fc(x.flatten(1))",
            TORCH_TRAIN_LOOP)
    assert check_augmentation(c, {}).key == "ok"


def test_one_giant_cell_with_everything() -> None:
    giant = ("import torch\nimport torchvision.transforms as T\nfrom torchvision import datasets\n"
             "train_loader = torch.utils.data.DataLoader(datasets.MNIST('.', train=True, download=True,"
             " transform=T.Compose([T.RandomRotation(5), T.ToTensor()])))\n" + TORCH_TRAIN_LOOP.strip() + "\n"
             "torch.save(model.state_dict(), 'm.pt')\nm = Net()\nm.load_state_dict(torch.load('m.pt'))\n"
             "print(m(next(iter(train_loader))[0]).argmax(1))\nprint(undefined_name)")
    last = giant.count("\n") + 1
    c = ctx(giant, status={1: "error"}, tracebacks={1: f"Cell In[2], line {last}\nNameError: undefined_name"},
            probe={"files": [{"name": "m.pt", "path": "/s/m.pt", "size": 5000}]})
    assert check_augmentation(c, {}).key == "ok"
    assert check_save_load(c, {}).key == "ok"


def test_no_augmentation_at_all() -> None:
    c = ctx("import torchvision.transforms as T",
            "train_ds = MNIST('data', train=True, transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]))",
            TORCH_TRAIN_LOOP, lang="ru")
    out = check_augmentation(c, {})
    assert out.key == "missing" and "Аугментация" in text_of(out.message, "ru")


# -- (b) pretrained model -------------------------------------------------------------------------


def test_torchvision_pretrained_true_fine_tuned_in_a_loop() -> None:
    c = ctx("import torchvision.models as models\nimport torch.nn as nn",
            "model = models.resnet18(pretrained=True)\nmodel.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)\n"
            "model.fc = nn.Linear(512, 10)",
            "optimizer = torch.optim.Adam(model.fc.parameters())\nfor x, y in train_loader:\n"
            "    loss = criterion(model(x), y)\n    loss.backward()\n    optimizer.step()")
    out = check_pretrained(c, {})
    assert out.key == "ok", text_of(out.message, "en")
    assert "cell 3" in text_of(out.message, "en")


def test_weights_enum_and_a_training_function() -> None:
    c = ctx("from torchvision.models import resnet18, ResNet18_Weights",
            "weights = ResNet18_Weights.DEFAULT\npreprocess = weights.transforms()\nnet = resnet18(weights=weights)",
            TORCH_TRAIN_FN, "train(net, train_loader)")
    assert check_pretrained(c, {}).key == "ok"


@pytest.mark.parametrize("call", ["models.resnet18(weights=None)", "models.resnet18(pretrained=False)",
                                  "models.resnet18()"])
def test_torchvision_without_weights_is_not_pretrained(call: str) -> None:
    c = ctx("from torchvision import models", f"model = {call}", TORCH_TRAIN_FN, "train(model, train_loader)")
    out = check_pretrained(c, {})
    assert out.key == "not_pretrained", text_of(out.message, "en")


def test_keras_applications_default_weights_are_imagenet() -> None:
    c = ctx("from tensorflow import keras",
            "base = keras.applications.MobileNetV2(include_top=False, input_shape=(32, 32, 3))\n"
            "base.trainable = False\nmodel = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(),"
            " keras.layers.Dense(10)])",
            "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"
            "model.fit(x_train_rgb, y_train, epochs=1)")
    assert check_pretrained(c, {}).key == "ok"


def test_keras_weights_none_is_not_pretrained() -> None:
    c = ctx("import tensorflow as tf",
            "base = tf.keras.applications.ResNet50(weights=None, include_top=False)\nbase.fit(x, y)")
    assert check_pretrained(c, {}).key == "not_pretrained"


def test_download_failure_offline_is_credited_from_the_code() -> None:
    tb = ("Cell In[2], line 1\n----> 1 model = models.resnet18(weights='IMAGENET1K_V1')\n"
          "URLError: <urlopen error [Errno -3] Temporary failure in name resolution>")
    c = ctx("from torchvision import models",
            "model = models.resnet18(weights='IMAGENET1K_V1')\nmodel.fc = nn.Linear(512, 10)",
            TORCH_TRAIN_FN, "train(model, train_loader)",
            status={2: "error", 4: "error"}, tracebacks={2: tb, 4: "Cell In[9], line 1\nNameError: model"})
    out = check_pretrained(c, {})
    assert out.key == "offline", text_of(out.message, "en")


def test_weights_missing_from_the_graders_folder_is_offline_too() -> None:
    """Inside the sandbox the download is answered by the weights shim, which raises its own
    PretrainedWeightsMissing (the file is not in --weights): the same case as a network error."""
    tb = ("Cell In[4], line 1\n----> 1 resnet = models.resnet18(weights=ResNet18_Weights.DEFAULT)\n"
          "PretrainedWeightsMissing: Pretrained weights 'resnet18-f37072fd.pth' (https://download.pytorch.org"
          "/models/resnet18-f37072fd.pth) are not on the grader, which has no network.")
    c = ctx("from torchvision import models\nfrom torchvision.models import ResNet18_Weights", TORCH_TRAIN_FN,
            "resnet = models.resnet18(weights=ResNet18_Weights.DEFAULT)\nresnet.fc = nn.Linear(512, 10)",
            "train(resnet, train_loader)",
            status={3: "error", 4: "error"}, tracebacks={3: tb, 4: "Cell In[9], line 1\nNameError: resnet"})
    out = check_pretrained(c, {})
    assert out.key == "offline", text_of(out.message, "en")


def test_pretrained_model_only_built_is_untrained() -> None:
    c = ctx("import tensorflow as tf",
            "vgg = tf.keras.applications.VGG16(weights='imagenet')\npreds = vgg.predict(images)")
    assert check_pretrained(c, {}).key == "untrained"


def test_no_pretrained_model() -> None:
    assert check_pretrained(ctx("import torch", TORCH_TRAIN_LOOP), {}).key == "missing"


# -- (c) curves -----------------------------------------------------------------------------------


def _fig(cell: int, *labels: str, fid: str = "fig1") -> dict[str, Any]:
    lines = [{"x": [0, 1, 2], "y": [1.0, 0.5, 0.3], "label": lab} for lab in labels]
    return {"id": fid, "png": f"{fid}.png", "cell": cell, "axes": [{"title": "", "lines": lines, "points": []}]}


def test_wandb_log_with_train_and_val_keys() -> None:
    c = ctx("import wandb\nwandb.init(project='mnist')",
            "for epoch in range(3):\n    wandb.log({'train_loss': tl, 'val_loss': vl, 'epoch': epoch})")
    out = check_curves(c, {})
    assert out.key == "ok", text_of(out.message, "en")


def test_wandb_run_object_logging_split_across_calls() -> None:
    c = ctx("import wandb as wb\nrun = wb.init(project='x', mode='offline')",
            "run.log({'loss/train': a})\nrun.log({'loss/validation': b})")
    assert check_curves(c, {}).key == "ok"


def test_wandb_log_of_a_dict_variable() -> None:
    c = ctx("import wandb",
            "logs = {'train_loss': tl}\nlogs['val_accuracy'] = va\nwandb.log(logs)")
    assert check_curves(c, {}).key == "ok"


def test_one_epoch_curves_are_still_curves() -> None:
    one = {"id": "fig1", "png": "", "cell": 2,
           "axes": [{"title": "", "points": [], "lines": [{"x": [0], "y": [0.3], "label": "train"},
                                                          {"x": [0], "y": [0.4], "label": "val"}]}]}
    c = ctx("import matplotlib.pyplot as plt", "plt.plot(tr, label='train')\nplt.plot(va, label='val')",
            figures=[one])
    assert check_curves(c, {}).key == "ok"


def test_wandb_training_loss_only() -> None:
    c = ctx("import wandb", "wandb.log({'loss': loss.item()})")
    assert check_curves(c, {}).key == "train_only"


def test_matplotlib_labels_train_and_val() -> None:
    c = ctx("import matplotlib.pyplot as plt",
            "plt.plot(train_losses, label='train')\nplt.plot(val_losses, label='validation')\nplt.legend()",
            figures=[_fig(2, "train", "validation")])
    out = check_curves(c, {})
    assert out.key == "ok" and "fig1" in text_of(out.message, "en")


def test_keras_history_plot_without_labels_is_read_from_the_code() -> None:
    c = ctx("import matplotlib.pyplot as plt",
            "plt.plot(history.history['accuracy'])\nplt.plot(history.history['val_accuracy'])\nplt.show()",
            figures=[_fig(2, "_child0", "_child1")])
    assert check_curves(c, {}).key == "ok"


def test_pandas_history_plot_labels() -> None:
    c = ctx("import pandas as pd", "pd.DataFrame(history.history).plot()",
            figures=[_fig(2, "loss", "accuracy", "val_loss", "val_accuracy")])
    assert check_curves(c, {}).key == "ok"


def test_test_curve_counts_as_validation_in_russian_labels() -> None:
    c = ctx("import matplotlib.pyplot as plt", "plt.plot(a, label='Обучающая выборка')\nplt.plot(b, label='Тест')",
            figures=[_fig(2, "Обучающая выборка", "Тест")])
    assert check_curves(c, {}).key == "ok"


def test_only_a_training_loss_plot() -> None:
    c = ctx("import matplotlib.pyplot as plt", "plt.plot(losses)\nplt.title('Loss')",
            figures=[_fig(2, "_child0")])
    c2 = ctx("import matplotlib.pyplot as plt", "plt.plot(train_loss_history)", figures=[_fig(2, "_child0")])
    assert check_curves(c, {}).key == "missing"
    assert check_curves(c2, {}).key == "missing"  # one unlabelled line: nothing to tell it is training


def test_two_unlabelled_lines_with_train_names() -> None:
    c = ctx("import matplotlib.pyplot as plt", "plt.plot(train_acc)\nplt.plot(train_loss)",
            figures=[_fig(2, "_child0", "_child1")])
    assert check_curves(c, {}).key == "train_only"


def test_tensorboard_add_scalar_and_add_scalars() -> None:
    c = ctx("from torch.utils.tensorboard import SummaryWriter\nwriter = SummaryWriter()",
            "writer.add_scalar('Loss/train', a, epoch)\nwriter.add_scalar('Loss/val', b, epoch)",
            probe={"files": [{"path": "/s/runs/x/events.out.tfevents.1", "name": "events.out.tfevents.1",
                              "size": 100}]})
    out = check_curves(c, {})
    assert out.key == "ok" and "events.out.tfevents" in text_of(out.message, "en")
    c2 = ctx("from torch.utils.tensorboard import SummaryWriter\nw = SummaryWriter()",
             "w.add_scalars('loss', {'train': a, 'test': b}, epoch)")
    assert check_curves(c2, {}).key == "ok"


def test_keras_callbacks_need_validation_data() -> None:
    with_val = ctx("import tensorflow as tf\ntb = tf.keras.callbacks.TensorBoard(log_dir='logs')",
                   "model.fit(x, y, validation_split=0.2, callbacks=[tb])")
    no_val = ctx("from wandb.integration.keras import WandbMetricsLogger",
                 "model.fit(x, y, epochs=2, callbacks=[WandbMetricsLogger()])")
    assert check_curves(with_val, {}).key == "ok"
    assert check_curves(no_val, {}).key == "train_only"


def test_plot_code_that_never_ran() -> None:
    c = ctx("import wandb", "wandb.log({'train_acc': a, 'val_acc': b})", status={2: "error"},
            tracebacks={2: "Cell In[3], line 1\nError: wandb.init() was not called"})
    assert check_curves(c, {}).key == "not_run"


def test_printed_numbers_are_not_curves() -> None:
    c = ctx("for e in range(3):\n    print(f'epoch {e} train loss {tl:.3f} val acc {va:.3f}')")
    assert check_curves(c, {}).key == "missing"


# -- (d) save and load ----------------------------------------------------------------------------

MODEL_FILE = {"files": [{"path": "/scratch/model.pth", "name": "model.pth", "size": 140000, "mtime": 1.0}]}


def test_torch_state_dict_saved_loaded_and_used() -> None:
    c = ctx("import torch",
            "torch.save(model.state_dict(), 'model.pth')",
            "loaded = Net()\nloaded.load_state_dict(torch.load('model.pth'))\nloaded.eval()",
            "with torch.no_grad():\n    preds = loaded(x_test).argmax(1)",
            probe=MODEL_FILE)
    out = check_save_load(c, {})
    assert out.key == "ok", text_of(out.message, "en")
    assert "model.pth" in text_of(out.message, "en") and "cell 4" in text_of(out.message, "en")


def test_path_through_a_variable_and_an_evaluate_function() -> None:
    c = ctx("import torch as th\nPATH = './checkpoints/model.pth'",
            "th.save(net.state_dict(), PATH)",
            "net2 = CNN()\nnet2.load_state_dict(th.load(PATH, map_location='cpu'))",
            "def evaluate(m, loader):\n    return sum((m(x).argmax(1) == y).sum() for x, y in loader)",
            "print(evaluate(net2, test_loader))", probe=MODEL_FILE)
    assert check_save_load(c, {}).key == "ok"


def test_keras_save_and_load_model() -> None:
    c = ctx("import tensorflow as tf",
            "model.save('mnist_cnn.h5')",
            "new_model = tf.keras.models.load_model('mnist_cnn.h5')\nnew_model.predict(x_test[:10])",
            probe={"files": [{"path": "/s/mnist_cnn.h5", "name": "mnist_cnn.h5", "size": 400000}]})
    assert check_save_load(c, {}).key == "ok"


def test_whole_model_torch_save_and_load_without_probe_data() -> None:
    c = ctx("import torch", "torch.save(model, 'full.pt')",
            "m = torch.load('full.pt', weights_only=False)\nfor x, y in test_loader:\n    out = m(x)")
    assert check_save_load(c, {}).key == "ok"  # no probe: the completed statements are the evidence


def test_saved_but_never_loaded() -> None:
    c = ctx("import torch", "torch.save(model.state_dict(), 'model.pth')", probe=MODEL_FILE)
    assert check_save_load(c, {}).key == "save_only"


def test_loaded_but_no_prediction() -> None:
    c = ctx("from keras.models import load_model", "model.save('m.keras')", "m2 = load_model('m.keras')\nm2.summary()",
            probe={"files": [{"path": "/s/m.keras", "name": "m.keras", "size": 10}]})
    assert check_save_load(c, {}).key == "no_prediction"


def test_save_ran_but_no_file_appeared() -> None:
    c = ctx("import torch", "torch.save(model.state_dict(), '/content/drive/MyDrive/model.pth')",
            "m = Net()\nm.load_state_dict(torch.load('/content/drive/MyDrive/model.pth'))\nm(x)",
            probe={"files": []})
    out = check_save_load(c, {})
    assert out.key == "not_run" and "Cell 2" in text_of(out.message, "en")


def test_load_cell_failed() -> None:
    c = ctx("import torch", "torch.save(model.state_dict(), 'model.pth')",
            "m = Net()\nm.load_state_dict(torch.load('model.pt'))\nm(x)",
            status={3: "error"}, tracebacks={3: "Cell In[5], line 2\nFileNotFoundError: model.pt"}, probe=MODEL_FILE)
    assert check_save_load(c, {}).key == "not_run"


def test_only_loading_a_shipped_file() -> None:
    c = ctx("import torch", "m = Net()\nm.load_state_dict(torch.load('weights.pth'))\nm(x)")
    assert check_save_load(c, {}).key == "load_only"


def test_nothing_saved() -> None:
    c = ctx("import numpy as np\nfrom PIL import Image", "np.save('preds.npy', preds)\nplt.savefig('loss.png')\n"
            "img.save('digit.png')\nimg2 = Image.open('digit.png')\nmodel.predict(img2)")
    assert check_save_load(c, {}).key == "missing"


# -- (e) written answers --------------------------------------------------------------------------

QUESTIONS = {
    "min_words": 8,
    "questions": [
        {"id": "q_pool", "text": {"ru": "Зачем нужен пулинг (pooling) в свёрточной сети?",
                                  "en": "What is pooling for in a convolutional network?"},
         "keywords": ["пулинг"], "aliases": ["pooling", "подвыборк"]},
        {"id": "q_overfit", "text": "Что такое переобучение и как его заметить по графикам?",
         "keywords": ["переобуч"], "aliases": ["overfitting"]},
        {"id": "q_aug", "text": "Как аугментация помогает обучению?", "keywords": ["аугментац"],
         "aliases": ["augmentation"]},
        {"id": "q_transfer", "text": "Что такое transfer learning?", "keywords": ["transfer"],
         "aliases": ["перенос обучения", "предобучен"]},
    ],
}
POOL_ANSWER = ("Пулинг уменьшает пространственный размер карт признаков, снижает число параметров "
               "следующих слоёв и делает признаки устойчивее к небольшим сдвигам изображения.")
OVERFIT_ANSWER = ("Модель запоминает обучающую выборку вместо общих закономерностей: ошибка на обучении "
                  "падает, а на валидации начинает расти, кривые расходятся.")
AUG_ANSWER = ("Случайные повороты и сдвиги создают новые варианты изображений, модель видит больше "
              "разнообразных примеров и меньше запоминает конкретные картинки.")
TRANSFER_ANSWER = ("Берём сеть, уже обученную на большом наборе ImageNet, заменяем последний слой "
                   "и дообучаем на своих данных, используя готовые признаки.")


def test_questions_and_answers_in_the_same_cell_and_the_next_cell() -> None:
    c = ctx("md:# ДЗ 1",
            f"md:**Вопрос 1.** Зачем нужен пулинг в свёрточной сети? {POOL_ANSWER}",
            "md:**Вопрос 2.** Что такое переобучение и как его заметить по графикам?",
            f"md:Ответ: {OVERFIT_ANSWER}",
            "x = 1",
            f"md:### Как аугментация помогает обучению?\n\n{AUG_ANSWER}",
            f"md:Что такое transfer learning?\n{TRANSFER_ANSWER}")
    out = check_answers(c, QUESTIONS)
    assert out.key == "ok", text_of(out.message, "en")
    assert out.metrics == {"answered": 4.0, "questions": 4.0}


def test_template_question_list_then_numbered_answers_without_the_questions() -> None:
    c = ctx("md:## Вопросы\n1. Зачем нужен пулинг (pooling) в свёрточной сети?\n"
            "2. Что такое переобучение и как его заметить по графикам?\n3. Как аугментация помогает обучению?\n"
            "4. Что такое transfer learning?",
            "import torch",
            f"md:## Ответы\n1. {POOL_ANSWER}\n2. Переобучение: {OVERFIT_ANSWER}\n"
            f"3. Аугментация: {AUG_ANSWER}\n4. Transfer learning — {TRANSFER_ANSWER}")
    out = check_answers(c, QUESTIONS)
    assert out.key == "ok", text_of(out.message, "en")


def test_the_question_list_alone_earns_nothing() -> None:
    c = ctx("md:## Вопросы\n1. Зачем нужен пулинг (pooling) в свёрточной сети?\n"
            "2. Что такое переобучение и как его заметить по графикам?\n3. Как аугментация помогает обучению?\n"
            "4. Что такое transfer learning?\n\n## Данные", "import torch", "md:Ответ:")
    out = check_answers(c, QUESTIONS)
    assert out.key == "missing", text_of(out.message, "en")


def test_an_answer_that_repeats_the_question_is_too_short() -> None:
    c = ctx(f"md:Зачем нужен пулинг? {POOL_ANSWER}",
            "md:Что такое переобучение? Переобучение — это когда модель переобучается, и это видно по графикам.",
            f"md:Как аугментация помогает обучению? {AUG_ANSWER}",
            "md:Что такое transfer learning?\n\nОтвет: TODO", lang="ru")
    out = check_answers(c, QUESTIONS)
    assert out.key == "half", text_of(out.message, "en")
    assert "q_overfit" in text_of(out.message, "en") and "q_transfer" in text_of(out.message, "en")
    assert "слишком короткий" in text_of(out.message, "ru")


def test_repeating_a_phrase_does_not_make_an_answer_longer() -> None:
    spec = {"min_words": 8, "questions": [{"id": "q1", "text": "Зачем нужен пулинг?", "keywords": ["пулинг"]}]}
    padded = ctx("md:Зачем нужен пулинг? " + "Пулинг нужен для сети. " * 12)
    assert check_answers(padded, spec).key == "missing"
    assert check_answers(ctx(f"md:Зачем нужен пулинг? {POOL_ANSWER}"), spec).key == "ok"


def test_three_of_four_is_most_and_english_aliases_match() -> None:
    c = ctx(f"md:What is pooling for? {POOL_ANSWER}", f"md:Overfitting: {OVERFIT_ANSWER}",
            f"md:Аугментация. {AUG_ANSWER}")
    out = check_answers(c, QUESTIONS)
    assert out.key == "most" and "q_transfer" in text_of(out.message, "en")


def test_a_title_naming_the_topic_is_not_an_answer() -> None:
    spec = {"min_words": 8, "questions": [{"id": "q1", "text": "Чем CNN отличается от MLP?", "aliases": ["mlp и cnn"]}]}
    c = ctx("md:# ДЗ 2. Распознавание цифр: MLP и CNN\nИванова Анна, группа 301, вариант 7, весенний семестр")
    out = check_answers(c, spec)
    assert out.key == "missing", text_of(out.message, "en")
    topic = ctx("md:## MLP и CNN\nСвёртки делят веса между позициями, поэтому параметров меньше и сеть "
                "учитывает соседство пикселей.")
    assert check_answers(topic, spec).key == "ok"  # a section heading may name the question


TUTORIAL_EN = (
    "md:# Handwritten digits with a CNN",
    "md:In this notebook we build a small convolutional network for MNIST. Convolutional layers slide small "
    "filters over the image and share their weights, so the network needs far fewer parameters than a fully "
    "connected one.",
    "import torch",
    "md:## Pooling layers\nAfter each convolution we add a max pooling layer, which halves the height and width "
    "of the feature maps and makes the features tolerant to small shifts of the digit.",
    "model = Net()",
    "md:We train for five epochs. Watch the validation loss: if it starts to grow while the training loss keeps "
    "falling, the model is overfitting, and data augmentation with random rotations and shifts usually helps.",
    "md:Transfer learning would be the next step: a network pretrained on ImageNet can be fine-tuned instead of "
    "being trained from scratch, which saves time when the dataset is small.",
)
TUTORIAL_RU = (
    "md:# Распознавание цифр свёрточной сетью",
    "md:В этом ноутбуке строим небольшую свёрточную сеть. После каждой свёртки идёт пулинг, который уменьшает "
    "карты признаков вдвое и делает признаки устойчивее к сдвигам.",
    "import torch",
    "md:Обучаем пять эпох и смотрим на кривые: когда ошибка на валидации начинает расти, начинается переобучение; "
    "аугментация поворотами и сдвигами помогает с ним бороться.",
)


@pytest.mark.parametrize("cells", [TUTORIAL_EN, TUTORIAL_RU], ids=["en", "ru"])
def test_tutorial_prose_that_mentions_the_topics_is_no_answer(cells: tuple[str, ...]) -> None:
    """Narrative text naming convolution, pooling, overfitting, augmentation and transfer learning
    answers none of the questions: nothing in it is placed after a question or labelled as an answer."""
    out = check_answers(ctx(*cells), QUESTIONS)
    assert out.key == "missing", text_of(out.message, "en")
    assert out.metrics["answered"] == 0.0


def test_english_answers_under_an_answers_heading_and_labelled_questions() -> None:
    c = ctx(*TUTORIAL_EN,
            f"md:## Answers to the questions\n1. {POOL_ANSWER}\n2. Overfitting shows in the curves: {OVERFIT_ANSWER}",
            f"md:**3. How does augmentation help?** {AUG_ANSWER}",
            f"md:Transfer learning: {TRANSFER_ANSWER}")
    out = check_answers(c, QUESTIONS)
    assert out.key == "ok", text_of(out.message, "en")


def test_an_answer_section_ends_at_the_next_heading_of_its_level() -> None:
    c = ctx(f"md:## Ответы\n### Пулинг\n{POOL_ANSWER}",
            f"md:## Обучение\nПереобучение мы видели на пятой эпохе. {OVERFIT_ANSWER}")
    answered = {a.question.id for a in find_answers(c.cells, AnswersParams.model_validate(QUESTIONS))
                if a.new_words >= 8}
    assert answered == {"q_pool"}


def test_the_shipped_task2_rubric_has_valid_question_and_manual_params() -> None:
    from grader.rubric import load_rubric

    rubric = load_rubric("task2")
    kinds = {c.kind for c in rubric.checks}
    assert {"notebook.answers", "manual", "notebook.augmentation"} <= kinds
    for spec in rubric.checks:
        if spec.kind in ("notebook.answers", "manual"):
            fn = check_answers if spec.kind == "notebook.answers" else check_manual
            assert fn(ctx("md:nothing here"), dict(spec.params)).key in ("missing", "manual")
    assert "notebook" in rubric.probes


def test_answers_in_a_script_without_markdown() -> None:
    assert check_answers(ctx("print('no answers')"), QUESTIONS).key == "missing"


def test_bad_question_params_are_a_rubric_error() -> None:
    with pytest.raises(RubricError, match="questions.0.text"):
        check_answers(ctx("md:x"), {"questions": [{"id": "q1", "keywords": ["a"]}]})
    with pytest.raises(RubricError, match="questions"):
        check_answers(ctx("md:x"), {"questions": []})


# -- manual ---------------------------------------------------------------------------------------


def test_manual_check_awaits_review_and_points_at_the_conclusions() -> None:
    c = ctx("import torch", "md:## Выводы", "md:CNN лучше MLP на 1.5%, аугментация помогла меньше, чем ожидалось.",
            "x = 1", "md:Заключение: всё работает.")
    out = check_manual(c, {"look_for": ["вывод", "заключен"]})
    assert out.key == "manual"
    assert "markdown cell 1" in text_of(text_of(out.message, "en"), "en") and "markdown cell 3" in text_of(text_of(out.message, "en"), "en")
    assert out.metrics["words"] >= 10
    assert text_of(check_manual(ctx("x = 1"), {"look_for": ["вывод"]}).message, "en").startswith("Awaiting review")
    assert text_of(check_manual(ctx("x = 1"), {}).message, "en") == "Awaiting review by the instructor."
    with pytest.raises(RubricError):
        check_manual(ctx("x = 1"), {"lookfor": ["x"]})


# -- the probe in a real kernel -------------------------------------------------------------------


@pytest.mark.kernel
@pytest.mark.torch
@pytest.mark.slow
def test_probe_and_checks_on_an_executed_notebook(tmp_path: Path) -> None:
    """The notebook probe runs in the sandboxed kernel: it lists the file the student saved
    (not the one shipped with the submission) and the transforms of the data loaders."""
    nbformat = pytest.importorskip("nbformat")
    from grader_inside.notebook import read_cells
    from grader.run.runner import RunRequest, run_submission
    from grader.sandbox.detect import get_sandbox

    code = [
        "!pip install wandb\n%matplotlib inline\nimport torch\nfrom torch import nn\n"
        "import torchvision.transforms as T\nimport matplotlib.pyplot as plt\n"
        "from torch.utils.data import DataLoader, Dataset",
        "class DS(Dataset):\n    def __init__(self, x, y, transform=None):\n"
        "        self.x, self.y, self.transform = x, y, transform\n    def __len__(self):\n"
        "        return len(self.y)\n    def __getitem__(self, i):\n"
        "        return (self.transform(self.x[i]) if self.transform else self.x[i]), self.y[i]\n"
        "x = torch.rand(32, 1, 28, 28)\ny = torch.randint(0, 10, (32,))\n"
        "train_loader = DataLoader(DS(x, y, transform=T.RandomRotation(10)), batch_size=16)",
        "model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "train_losses, val_losses = [], []\nfor epoch in range(2):\n    for xb, yb in train_loader:\n"
        "        opt.zero_grad()\n        loss = nn.functional.cross_entropy(model(xb), yb)\n"
        "        loss.backward()\n        opt.step()\n"
        "    train_losses.append(loss.item())\n    val_losses.append(loss.item() * 1.1)",
        "plt.plot(train_losses, label='train')\nplt.plot(val_losses, label='val')\nplt.legend()\nplt.show()",
        "torch.save(model.state_dict(), 'model.pth')\nm2 = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))\n"
        "m2.load_state_dict(torch.load('model.pth'))\nprint(m2(x[:4]).argmax(1))",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in code]
    entry = tmp_path / "sub" / "hw2.ipynb"
    entry.parent.mkdir()
    nbformat.write(nb, str(entry))
    shipped = entry.parent / "shipped.pth"
    shipped.write_bytes(b"x" * 100)
    run = run_submission(RunRequest(entry=entry, files=(entry, shipped), files_root=entry.parent,
                                    probes=("notebook",), timeout_s=120),
                         get_sandbox("auto", fallback=True), tmp_path / "out")
    assert [c.status for c in run.cells] == ["ok"] * 5, run.cells
    probe = run.probe["notebook"]
    names = [f["name"] for f in probe["files"]]
    assert names.count("model.pth") == 1 and "shipped.pth" not in names
    loader = next(item for item in probe["loaders"] if item["name"] == "train_loader")
    assert loader["transforms"] == ["RandomRotation"]
    c = CheckContext("en", read_cells(entry), run.cells, run.probe, list(run.figures), tmp_path)
    assert check_augmentation(c, {}).key == "ok"
    assert check_curves(c, {}).key == "ok"
    assert check_save_load(c, {}).key == "ok"
    assert check_pretrained(c, {}).key == "missing"
