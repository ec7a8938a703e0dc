#!/usr/bin/env python
"""Generate the Task 2 (MNIST models) sample submissions and their EXPECTED grade table.

Written to ``submissions/task2/`` (one folder per student) with ``EXPECTED.yaml``: the fraction
of each model check's points a careful instructor gives, for a run on the built-in demo data
with rubrics/task2.yaml (the integration test cuts the students' training part to a few thousand
images: tests/integration/task2_support.py). Training budgets are a few epochs, so the whole
set grades in a few minutes on two CPU cores.

The code imitates real student work on purpose (see ../shared/REAL_SUBMISSIONS.md):
`download=True` with odd roots, `torch.device("cuda:0")` hard-coded, `.cuda()`, printed
accuracies that lie, Russian comments, an MLP sold as a CNN, a model never trained.

Usage::

    python tools/make_task2_samples.py
"""
from __future__ import annotations

import textwrap
from pathlib import Path

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from notebook_sets import write_set

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "submissions" / "task2"
CHECK_IDS = ("models_found", "torch_cnn", "keras_cnn", "torch_accuracy", "keras_accuracy",
             "torch_beats_example", "keras_beats_example")
KS = {"name": "python3", "display_name": "Python 3", "language": "python"}


def d(src: str) -> str:
    return textwrap.dedent(src).strip("\n")


def md(src: str) -> object:
    return new_markdown_cell(d(src))


def code(src: str, tags: tuple[str, ...] = ()) -> object:
    cell = new_code_cell(d(src))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def notebook(cells: list[object]) -> object:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KS
    nb.metadata["colab"] = {"provenance": []}
    return nb


TORCH_DATA = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
    from torchvision import transforms

    device = torch.device("cuda:0")  # в колабе GPU
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_ds = torchvision.datasets.MNIST(root="{root}", train=True, download=True, transform=transform)
    test_ds = torchvision.datasets.MNIST(root="{root}", train=False, download=True, transform=transform)
    train_loader = torch.utils.data.DataLoader(train_ds, batch_size=32, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test_ds, batch_size=256)
    print(len(train_ds), len(test_ds))
"""

TORCH_TRAIN = """
    def train(model, epochs, lr=1e-3):
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for epoch in range(epochs):
            model.train()
            for x, y in train_loader:
                x, y = x.to(device), y.cuda()
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
            print(f"эпоха {epoch + 1}: loss {loss.item():.4f}")

    def test(model):
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in test_loader:
                correct += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
        return correct / len(test_ds)
"""

KERAS_DATA = """
    import os
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import numpy as np
    import keras
    from keras import layers

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    print(x_train.shape, x_test.shape)
"""


def good() -> object:
    return notebook([
        md("# ДЗ 2. Распознавание цифр: MLP и CNN\nИванова Анна, группа 301"),
        code("EPOCHS = 30  # на колабе учила 30 эпох", tags=("parameters",)),
        code(TORCH_DATA.format(root="./data")),
        code(TORCH_TRAIN),
        code("""
            class ConvNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
                    self.bn1 = nn.BatchNorm2d(16)
                    self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
                    self.bn2 = nn.BatchNorm2d(32)
                    self.fc = nn.Linear(32 * 7 * 7, 10)

                def forward(self, x):
                    x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
                    x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
                    return self.fc(x.flatten(1))

            cnn = ConvNet().to(device)
            train(cnn, EPOCHS)
            print("Test accuracy:", test(cnn))
        """),
        md("## Keras"),
        code(KERAS_DATA),
        code("""
            keras_cnn = keras.Sequential([
                keras.Input(shape=(28, 28, 1)),
                layers.Conv2D(16, 3, activation="relu", padding="same"),
                layers.MaxPooling2D(),
                layers.Conv2D(32, 3, activation="relu", padding="same"),
                layers.MaxPooling2D(),
                layers.Flatten(),
                layers.Dense(64, activation="relu"),
                layers.Dense(10, activation="softmax"),
            ])
            keras_cnn.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            history = keras_cnn.fit(x_train[..., None], y_train, epochs=EPOCHS, batch_size=32,
                                    validation_data=(x_test[..., None], y_test), verbose=0)
            print("Accuracy Score is:", history.history["val_accuracy"][-1] * 100)
        """),
        md("## Выводы\nСвёрточные сети лучше полносвязных: точность 99.4%."),
    ])


def mlp_as_cnn() -> object:
    return notebook([
        md("# Лабораторная 2 — CNN для MNIST"),
        code(TORCH_DATA.format(root="data")),
        code(TORCH_TRAIN),
        code("""
            # Свёрточная нейросеть
            class CNN(nn.Module):
                def __init__(self):
                    super(CNN, self).__init__()
                    self.layer1 = nn.Linear(28 * 28, 256)
                    self.layer2 = nn.Linear(256, 128)
                    self.out = nn.Linear(128, 10)

                def forward(self, x):
                    x = x.view(-1, 28 * 28)
                    x = F.relu(self.layer1(x))
                    x = F.relu(self.layer2(x))
                    return self.out(x)

            model = CNN().to(device)
            train(model, 5)
            print("Accuracy: 99.5%")
        """),
        code(KERAS_DATA),
        code("""
            cnn_model = keras.Sequential([
                keras.Input(shape=(28, 28)),
                layers.Flatten(),
                layers.Dense(256, activation="relu"),
                layers.Dense(10, activation="softmax"),
            ])
            cnn_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            cnn_model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
            print("CNN accuracy 0.9936")
        """),
    ])


def untrained() -> object:
    return notebook([
        md("# ДЗ2"),
        code(TORCH_DATA.format(root="./data_dz1")),
        code("""
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv2d(1, 8, 5)
                    self.pool = nn.MaxPool2d(2)
                    self.fc1 = nn.Linear(8 * 12 * 12, 64)
                    self.fc2 = nn.Linear(64, 10)

                def forward(self, x):
                    x = self.pool(F.relu(self.conv(x)))
                    return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))

            net = Net().to(device)
            optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
            # обучение запускала в колабе, тут не стала перезапускать
            print("Точность на тесте: 98.7%")
        """),
        code(KERAS_DATA),
        code("""
            model = keras.Sequential([
                keras.Input(shape=(28, 28, 1)),
                layers.Conv2D(8, 3, activation="relu"),
                layers.Flatten(),
                layers.Dense(10, activation="softmax"),
            ])
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            model.summary()
        """),
    ])


def below_example() -> object:
    return notebook([
        md("# Задание 2\nПопова Е."),
        code(TORCH_DATA.format(root="/content/data")),
        code("""
            mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 10)).to(device)
            opt = torch.optim.SGD(mlp.parameters(), lr=0.1)
            for epoch in range(1):
                for x, y in train_loader:
                    x, y = x.to(device), y.to(device)
                    opt.zero_grad()
                    loss = F.cross_entropy(mlp(x), y)
                    loss.backward()
                    opt.step()
            print("loss", loss.item())
        """),
        code(KERAS_DATA),
        code("""
            from keras.utils import to_categorical
            small = keras.Sequential([
                keras.Input(shape=(784,)),
                layers.Dense(16, activation="sigmoid"),
                layers.Dense(10, activation="softmax"),
            ])
            small.compile(optimizer=keras.optimizers.SGD(learning_rate=0.3), loss="categorical_crossentropy",
                          metrics=["accuracy"])
            small.fit(x_train.reshape(-1, 784), to_categorical(y_train), epochs=1, batch_size=32, verbose=0)
            print("Accuracy: 191.8%")
        """),
    ])


def crash() -> object:
    return notebook([
        md("# HW2 MNIST"),
        code(TORCH_DATA.format(root="../input/mnist")),
        code("""
            class CNN(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv1 = nn.Conv2d(1, 32, 3)
                    self.fc = nn.Linear(32 * 26 * 26, 10)

                def forward(self, x):
                    return self.fc(F.relu(self.conv1(x)).view(x.size(0), -1))

            model = CNN().to(device)
            history = train_model(model, epochs=10)  # функция в ячейке ниже
        """),
        code(TORCH_TRAIN),
        code(KERAS_DATA),
        code("""
            kmodel = keras.Sequential([
                keras.Input(shape=(28, 28, 1)),
                layers.Conv2D(32, 3, activation="relu"),
                layers.Flatten(),
                layers.Dense(10, activation="softmax"),
            ])
            kmodel.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
            kmodel.fit(x_train, y_train, epochs=10)  # метки не one-hot, вход без канала
        """),
    ])


TF_KERAS_DATA = """
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras
    from tensorflow.keras import layers

    tf.random.set_seed(42)
    print("GPU:", tf.config.list_physical_devices("GPU"))
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
"""


def keras_only() -> object:
    return notebook([
        md("# ДЗ 2 (Keras)\nДелал только на Keras, PyTorch не успел."),
        code(TF_KERAS_DATA),
        code("""
            from tensorflow.keras.utils import to_categorical
            y_train_cat = to_categorical(y_train, 10)
            y_test_cat = to_categorical(y_test, 10)
            model = keras.models.Sequential()
            model.add(keras.Input(shape=(28, 28, 1)))
            model.add(layers.Conv2D(32, (3, 3), activation="relu"))
            model.add(layers.MaxPooling2D((2, 2)))
            model.add(layers.Conv2D(64, (3, 3), activation="relu"))
            model.add(layers.MaxPooling2D((2, 2)))
            model.add(layers.Flatten())
            model.add(layers.Dense(64, activation="relu"))
            model.add(layers.Dense(10, activation="softmax"))
            model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
            model.fit(x_train.reshape(-1, 28, 28, 1), y_train_cat, epochs=6, batch_size=32, verbose=2)
        """),
        code("""
            score = model.evaluate(x_test.reshape(-1, 28, 28, 1), y_test_cat, verbose=0)
            print("Test accuracy: 0.995")
        """),
    ])


SAMPLES = {
    "ivanova_anna": ("ДЗ2_Иванова.ipynb", good, "good PyTorch CNN (BatchNorm) and Keras CNN, cuda:0 and .cuda() "
                     "hard-coded, download=True into ./data; EPOCHS in a `parameters` cell (the rubric's 5 "
                     "is injected); both beat the example",
                     {"models_found": 1.0, "torch_cnn": 1.0, "keras_cnn": 1.0, "torch_accuracy": 1.0,
                      "keras_accuracy": 1.0, "torch_beats_example": 1.0, "keras_beats_example": 1.0}),
    "smirnov_oleg": ("lab2_cnn.ipynb", mlp_as_cnn, "class CNN with only Linear layers, a Keras 'cnn_model' of "
                     "Dense layers: no CNN credit; the MLPs themselves are trained and beat the short-trained "
                     "example on the demo data, so accuracy points stay",
                     {"models_found": 1.0, "torch_cnn": 0.0, "keras_cnn": 0.0, "torch_accuracy": 1.0,
                      "keras_accuracy": 1.0, "torch_beats_example": 1.0, "keras_beats_example": 1.0}),
    "kuznetsova_maria": ("dz2.ipynb", untrained, "CNNs defined (PyTorch optimiser made, Keras compiled) but never "
                         "trained; prints 98.7%: no points beyond finding the models",
                         {"models_found": 1.0, "torch_cnn": 0.0, "keras_cnn": 0.0, "torch_accuracy": 0.0,
                          "keras_accuracy": 0.0, "torch_beats_example": 0.0, "keras_beats_example": 0.0}),
    "popova_elena": ("Задание2.ipynb", below_example, "tiny sigmoid MLPs, plain SGD, one epoch: trained (well above "
                     "chance) but far below the example; prints 191.8%",
                     {"models_found": 1.0, "torch_cnn": 0.0, "keras_cnn": 0.0, "torch_accuracy": 0.5,
                      "keras_accuracy": 0.5, "torch_beats_example": 0.0, "keras_beats_example": 0.0}),
    "sokolov_pavel": ("hw2.ipynb", crash, "NameError (train_model called before it is defined) and a Keras "
                      "ValueError in fit: both CNNs stay untrained",
                      {"models_found": 1.0, "torch_cnn": 0.0, "keras_cnn": 0.0, "torch_accuracy": 0.0,
                       "keras_accuracy": 0.0, "torch_beats_example": 0.0, "keras_beats_example": 0.0}),
    "volkov_ilya": ("DZ2_keras.ipynb", keras_only, "Keras CNN only, written as tf.keras (no TensorFlow on the grader: Keras 3 stands in): full Keras "
                    "credit, no PyTorch model",
                    {"models_found": 0.5, "torch_cnn": 0.0, "keras_cnn": 1.0, "torch_accuracy": 0.0,
                     "keras_accuracy": 1.0, "torch_beats_example": 0.0, "keras_beats_example": 1.0}),
}


def main() -> None:
    for student, (_, _, _, checks) in SAMPLES.items():
        assert set(checks) == set(CHECK_IDS), student
    header = ("# Task 2 (MNIST models): expected grades of the shipped samples on the demo data\n"
              "# Generated by tools/make_task2_samples.py -- edit the generator, not this file.\n"
              "# Values: fraction of each model check's points.\n\n")
    write_set(OUT, SAMPLES, header)


if __name__ == "__main__":
    main()
