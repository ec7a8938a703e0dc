#!/usr/bin/env python
"""Generate the HW 3 (AFHQ, transfer learning) sample submissions and their EXPECTED grade table.

Written to ``submissions/hw3/`` (one folder per student) with ``EXPECTED.yaml``: the fraction of
each check's points for a run with rubrics/hw3.yaml on the tiny stand-in data of tools/hw3_data.py
(64x64 shapes in afhq/{train,val}/{cat,dog,wild}) and its stand-in resnet18 checkpoint
(``--weights`` folder), with the test settings of tests/integration/test_hw3_samples.py (images
decoded at 64x64, a few epochs). The data and the checkpoint are made at test time, not shipped.

The code imitates real student work (../shared/REAL_SUBMISSIONS.md): Colab paths, Drive
mounts, `od.download` of the Kaggle dataset, `!kaggle` + `!unzip`, `weights=None` sold as
transfer learning, a custom CNN called transfer learning, an overfitting MLP, a pretrained
model whose file the grader lacks, a data path the grader does not serve.

Usage::

    python tools/make_hw3_samples.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_task2_samples import code, md, notebook  # noqa: E402  (the same notebook-building helpers)
from notebook_sets import write_set  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "submissions" / "hw3"
CHECK_IDS = ("models_found", "accuracy", "transfer_learning", "layers", "augmentation", "curves", "overfitting",
             "save_load")


IMPORTS = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader
    from torchvision import datasets, models, transforms
    import matplotlib.pyplot as plt

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
"""

TRANSFORMS = """
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    train_tf = transforms.Compose([
        transforms.Resize(64),
        transforms.RandomHorizontalFlip(),
        transforms.RandomRotation(10),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ])
    val_tf = transforms.Compose([
        transforms.Resize(64),
        transforms.CenterCrop(64),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ])
"""

PLAIN_TRANSFORMS = """
    tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor()])
    train_tf = val_tf = tf
"""

DATA = """
    data_dir = "{root}"
    train_ds = datasets.ImageFolder(data_dir + "/train", transform=train_tf)
    val_ds = datasets.ImageFolder(data_dir + "/val", transform=val_tf)
    train_loader = DataLoader(train_ds, batch_size=16, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=32)
    print(train_ds.classes, len(train_ds), len(val_ds))
"""

FIT = """
    def run_epoch(model, loader, opt=None):
        model.train(opt is not None)
        total, correct, n = 0.0, 0, 0
        with torch.set_grad_enabled(opt is not None):
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                out = model(x)
                loss = F.cross_entropy(out, y)
                if opt is not None:
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                total += loss.item() * len(y)
                correct += (out.argmax(1) == y).sum().item()
                n += len(y)
        return total / n, correct / n

    def fit(model, opt, epochs):
        train_losses, val_losses = [], []
        for epoch in range(epochs):
            tl, ta = run_epoch(model, train_loader, opt)
            vl, va = run_epoch(model, val_loader)
            train_losses.append(tl)
            val_losses.append(vl)
            print(f"эпоха {epoch + 1}: train loss {tl:.3f} acc {ta:.3f} | val loss {vl:.3f} acc {va:.3f}")
        return train_losses, val_losses
"""

PLOT = """
    plt.plot(train_losses, label="train loss")
    plt.plot(val_losses, label="val loss")
    plt.xlabel("эпоха")
    plt.legend()
    plt.show()
"""

SAVE_LOAD = """
    torch.save(model.state_dict(), "{file}")
    loaded = {build}
    loaded.load_state_dict(torch.load("{file}"))
    loaded.eval()
    x, y = next(iter(val_loader))
    with torch.no_grad():
        pred = loaded(x.to(device)).argmax(1)
    print("совпало:", (pred.cpu() == y).float().mean().item())
"""

ANSWERS = """
    ## Ответы на вопросы
    **Что такое transfer learning и почему он помогает на небольшом наборе данных?**
    Transfer learning — это использование сети, предобученной на большом наборе (ImageNet): её признаки уже
    умеют находить края и текстуры, поэтому на маленьком наборе учится только новая голова.

    **Какие слои вы заморозили и почему?**
    Я заморозила все свёрточные слои (requires_grad = False), потому что их признаки общие, а обучала только
    последний полносвязный слой на три класса.

    **Было ли переобучение и как вы его заметили?**
    Переобучения не было: по графикам loss на валидации падал вместе с loss на обучении до последней эпохи.
"""


def frozen_resnet() -> object:
    return notebook([
        md("# ДЗ 3. AFHQ: transfer learning\nИванов Иван, группа 302"),
        code("EPOCHS = 10", tags=("parameters",)),
        code("from google.colab import drive\ndrive.mount('/content/drive')"),
        code(IMPORTS),
        code(TRANSFORMS),
        code(DATA.format(root="/content/afhq")),
        code(FIT),
        code("""
            model = models.resnet18(weights="IMAGENET1K_V1")
            for p in model.parameters():
                p.requires_grad = False          # замораживаем backbone
            model.fc = nn.Linear(model.fc.in_features, 3)
            model = model.to(device)
            opt = torch.optim.Adam(model.fc.parameters(), lr=1e-2)
            train_losses, val_losses = fit(model, opt, EPOCHS)
        """),
        code(PLOT),
        code(SAVE_LOAD.format(file="resnet_afhq.pth", build="models.resnet18(num_classes=3)")),
        md(ANSWERS),
    ])


def fine_tuned_od() -> object:
    return notebook([
        md("# Домашнее задание 3 — AFHQ\nПетрова Анна"),
        code("!pip install opendatasets --quiet\nimport opendatasets as od\n"
             "od.download(\"https://www.kaggle.com/datasets/andrewmvd/animal-faces\")"),
        code(IMPORTS),
        code(TRANSFORMS),
        code(DATA.format(root="./animal-faces/afhq")),
        code(FIT),
        code("""
            model = models.resnet18(pretrained=True)
            model.fc = nn.Linear(512, 3)
            model = model.to(device)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)   # дообучаем всю сеть
            train_losses, val_losses = fit(model, opt, 3)
        """),
        code(PLOT),
        code(SAVE_LOAD.format(file="model.pth", build="models.resnet18(num_classes=3)")),
    ])


def weights_none() -> object:
    return notebook([
        md("# ДЗ3 transfer learning (ResNet18)\nСидоров Олег"),
        code("from google.colab import drive\ndrive.mount('/content/drive')"),
        code(IMPORTS),
        code(PLAIN_TRANSFORMS),
        code(DATA.format(root="/content/drive/MyDrive/afhq")),
        code(FIT),
        code("""
            # transfer learning: берём готовую архитектуру ResNet18
            model = models.resnet18(weights=None)
            model.fc = nn.Linear(512, 3)
            model = model.to(device)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            train_losses, val_losses = fit(model, opt, 2)
            print("точность 97%")
        """),
        code(PLOT),
    ])


def custom_cnn() -> object:
    return notebook([
        md("# ДЗ 3. Transfer learning на AFHQ\nСмирнова Ольга\n\nИспользуем transfer learning с нашей сетью."),
        code(IMPORTS),
        code(TRANSFORMS),
        code(DATA.format(root="./afhq")),
        code(FIT),
        code("""
            class TransferNet(nn.Module):   # "transfer learning"
                def __init__(self):
                    super().__init__()
                    self.features = nn.Sequential(
                        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.AdaptiveAvgPool2d(1))
                    self.head = nn.Linear(32, 3)

                def forward(self, x):
                    return self.head(self.features(x).flatten(1))

            model = TransferNet().to(device)
            opt = torch.optim.Adam(model.parameters(), lr=3e-3)
            train_losses, val_losses = fit(model, opt, 8)
        """),
        code(PLOT),
        code(SAVE_LOAD.format(file="transfer_net.pt", build="TransferNet()")),
    ])


def overfitting_mlp() -> object:
    return notebook([
        md("# ДЗ 3\nКозлов Дмитрий"),
        code("!kaggle datasets download -d andrewmvd/animal-faces\n!unzip -q animal-faces.zip"),
        code(IMPORTS),
        code("""
            train_tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor(),
                                           transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
            val_tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor()])
        """),
        code(DATA.format(root="./afhq")),
        code("train_loader = DataLoader(torch.utils.data.Subset(train_ds, range(0, len(train_ds), 6)), "
             "batch_size=4, shuffle=True)"),
        code(FIT),
        code("""
            model = nn.Sequential(nn.Flatten(), nn.Linear(64 * 64 * 3, 256), nn.ReLU(), nn.Linear(256, 3)).to(device)
            opt = torch.optim.Adam(model.parameters(), lr=3e-3)
            n_epochs = 25
            train_losses, val_losses = fit(model, opt, n_epochs)
        """),
        code(PLOT),
    ])


def missing_weights() -> object:
    return notebook([
        md("# ДЗ 3 — ResNet50\nВолкова Мария"),
        code(IMPORTS),
        code(TRANSFORMS),
        code(DATA.format(root="/kaggle/input/animal-faces/afhq")),
        code(FIT),
        code("""
            from torchvision.models import ResNet50_Weights
            model = models.resnet50(weights=ResNet50_Weights.DEFAULT)
            for p in model.parameters():
                p.requires_grad = False
            model.fc = nn.Linear(2048, 3)
            model = model.to(device)
        """),
        code("""
            opt = torch.optim.Adam(model.fc.parameters(), lr=1e-3)
            train_losses, val_losses = fit(model, opt, 2)
        """),
        code(PLOT),
    ])


def crash() -> object:
    return notebook([
        md("# ДЗ3\nНовиков Павел"),
        code("from google.colab import drive\ndrive.mount('/content/drive')"),
        code(IMPORTS),
        code(TRANSFORMS),
        code(DATA.format(root="/content/drive/MyDrive/Colab Notebooks/data/animals")),
        code(FIT),
        code("""
            model = models.resnet18(weights=models.ResNet18_Weights.IMAGENET1K_V1)
            model.fc = nn.Linear(512, 3)
            model = model.to(device)
        """),
        code("""
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            train_losses, val_losses = fit(model, opt, 2)
        """),
        code(PLOT),
    ])


def _checks(models_found: float, accuracy: float, transfer: float, layers: float, augmentation: float,
            curves: float, overfitting: float, save_load: float) -> dict[str, float]:
    return dict(zip(CHECK_IDS, (models_found, accuracy, transfer, layers, augmentation, curves, overfitting,
                                save_load)))


SAMPLES = {
    "ivanov_ivan": ("ДЗ3_Иванов.ipynb", frozen_resnet, "graded", "resnet18(weights='IMAGENET1K_V1') with a frozen "
                    "backbone and a new 3-class head; data at /content/afhq after drive.mount; augmentation; "
                    "curves; saved and reloaded", _checks(1, 1, 1, 1, 1, 1, 1, 1)),
    "petrova_anna": ("hw3_afhq.ipynb", fine_tuned_od, "graded", "od.download of the Kaggle dataset (served "
                     "offline), resnet18(pretrained=True) fine-tuned whole", _checks(1, 1, 1, 1, 1, 1, 1, 1)),
    "sidorov_oleg": ("transfer_learning.ipynb", weights_none, "graded", "resnet18(weights=None) sold as transfer "
                     "learning: two epochs from scratch leave it answering one class in eval mode (its own "
                     "transform is used; it prints 97%); no augmentation, no save",
                     _checks(1, 0, 0, 0, 0, 1, 1, 0)),
    "smirnova_olga": ("dz3.ipynb", custom_cnn, "graded", "a custom CNN called TransferNet, data at ./afhq: "
                      "accurate, but no pretrained backbone", _checks(1, 1, 0, 0, 1, 1, 1, 1)),
    "kozlov_dmitry": ("lab3.ipynb", overfitting_mlp, "graded", "!kaggle + !unzip (skipped; ./afhq is served), an "
                      "MLP on 10 images for 25 epochs whose validation images are not normalised like its training "
                      "ones: validation loss rises every epoch while training loss falls (flagged as overfitting)",
                      _checks(1, 0.5, 0, 0, 0, 1, 0.5, 0)),
    "volkova_maria": ("ДЗ3.ipynb", missing_weights, "error", "resnet50(weights=DEFAULT): the grader lacks "
                      "resnet50-11ad3fa6.pth; the report names the file for the instructor, the batch summary too",
                      _checks(0, 0, 0, 0, 0.5, 0, 0, 0)),
    "novikov_pavel": ("hw3.ipynb", crash, "graded", "reads /content/drive/MyDrive/Colab Notebooks/data/animals, "
                      "which the grader does not serve (the note names the path): FileNotFoundError, then NameErrors; "
                      "the pretrained model is never trained", _checks(1, 0, 0.5, 1, 0.5, 0, 0, 0)),
}


def main() -> None:
    header = ("# HW 3 (AFHQ, transfer learning): expected grades of the shipped samples on the stand-in data\n"
              "# (tools/hw3_data.py) with the test settings of tests/integration/test_hw3_samples.py.\n"
              "# Generated by tools/make_hw3_samples.py -- edit the generator, not this file.\n"
              "# Values: fraction of each check's points.\n\n")
    write_set(OUT, {student: (filename, build, note, checks)
                    for student, (filename, build, _, note, checks) in SAMPLES.items()},
              header, statuses={student: entry[2] for student, entry in SAMPLES.items()})


if __name__ == "__main__":
    main()
