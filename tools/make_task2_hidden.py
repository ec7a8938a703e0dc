#!/usr/bin/env python
"""Generate the Task 2 (MNIST models) hidden generalisation set, reproducibly.

Written to ``tests/fixtures/task2_hidden/`` (one folder per student) with ``EXPECTED.yaml``: the
fraction of each check's points a careful, demanding instructor gives, judged from the rubric
(rubrics/task2.yaml) and the code BEFORE the grader saw these notebooks. Not shipped as samples:
tests use the set to check that the grader generalises beyond ``submissions/task2``.

The notebooks imitate real student work (see ../shared/REAL_SUBMISSIONS.md, "Task 2"): tf.keras
with history plots, old standalone Keras (`SGD(lr=, decay=)`, `fit_generator` over an
`ImageDataGenerator`, `np_utils`), torchvision downloads into odd roots with a hard-coded
`cuda:0`, `fetch_openml('mnist_784')`, an MLP called `CNN`, one giant cell, lying printed
accuracies, a whole model pickled with `torch.save` and loaded back, a cell that raises midway,
transfer learning that needs a download, WandB and TensorBoard logging. Training budgets are
tiny (a few epochs on the demo data's ~1,350 training images) so the set grades in minutes.

Usage::

    python tools/make_task2_hidden.py
"""
from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "task2_hidden"
CHECK_IDS = ("models_found", "torch_cnn", "keras_cnn", "torch_accuracy", "keras_accuracy",
             "torch_beats_example", "keras_beats_example", "torch_retrained", "augmentation",
             "pretrained", "curves", "save_load", "answers")
KS = {"name": "python3", "display_name": "Python 3", "language": "python"}
KS_VENV = {"name": ".venv", "display_name": ".venv (Python 3.11.5)", "language": "python"}


def d(src: str) -> str:
    return textwrap.dedent(src).strip("\n")


def md(src: str) -> object:
    return new_markdown_cell(d(src))


def code(src: str) -> object:
    return new_code_cell(d(src))


def notebook(cells: list[object], kernelspec: dict[str, str] = KS, colab: bool = True) -> object:
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating changes only what was edited
        cell["id"] = hashlib.sha1(f"{i}:{cell['source']}".encode()).hexdigest()[:8]
    nb.metadata["kernelspec"] = kernelspec
    if colab:
        nb.metadata["colab"] = {"provenance": [], "gpuType": "T4"}
        nb.metadata["accelerator"] = "GPU"
    return nb


# -- written answers (the rubric's five questions, in the ways students answer) ----------------
A_CNN = """
    **1. Чем свёрточная сеть отличается от полносвязной и почему она лучше подходит для изображений?**

    Ответ: в полносвязной сети каждый нейрон связан со всеми пикселями, картинка вытягивается в вектор
    и пространственная структура теряется. Свёрточная сеть применяет небольшие фильтры (ядра) ко всем
    участкам изображения с общими весами, поэтому параметров намного меньше, а найденные признаки
    (края, штрихи, углы) не зависят от положения цифры на картинке.
"""
A_POOL = """
    **2. Зачем нужен пулинг?**

    Пулинг (обычно MaxPooling 2x2) уменьшает размер карт признаков в два раза, за счёт этого
    снижается число вычислений и параметров в следующих слоях, а сеть становится устойчивее к
    небольшим сдвигам цифры на изображении.
"""
A_OVERFIT = """
    **3. Что такое переобучение и как его заметить по кривым обучения?**

    Переобучение — это когда модель запоминает обучающую выборку вместо общих закономерностей. На
    графиках видно так: loss на train продолжает падать, а loss на валидации начинает расти, и
    точность на валидации перестаёт улучшаться.
"""
A_AUG = """
    **4. Как аугментация данных влияет на обучение?**

    Аугментация (повороты, сдвиги, масштаб) искусственно увеличивает обучающую выборку новыми
    вариантами тех же цифр. Обучение идёт чуть медленнее, зато модель меньше переобучается и лучше
    работает на новых данных, написанных другим почерком.
"""
A_TRANSFER = """
    **5. Что такое transfer learning и когда он полезен?**

    Берём сеть, уже обученную на большом датасете (например ResNet на ImageNet), заменяем последний
    слой под свои 10 классов и дообучаем. Это полезно, когда своих данных мало или мало времени на
    обучение: первые слои уже умеют находить простые признаки.
"""


# -- the students ------------------------------------------------------------------------------
def kozlov() -> object:
    """tf.keras Sequential CNN, validation_split, history plots, .h5 saved and loaded back."""
    return notebook([
        md("# Домашнее задание 2\n## Козлов Дмитрий, ПМ-21\nРаспознавание рукописных цифр MNIST (Keras)"),
        code("""
            import numpy as np
            import matplotlib.pyplot as plt
            import tensorflow as tf
            from tensorflow import keras
            from tensorflow.keras import layers
            print(tf.__version__)
        """),
        code("""
            mnist = tf.keras.datasets.mnist
            (x_train, y_train), (x_test, y_test) = mnist.load_data()
            x_train, x_test = x_train / 255.0, x_test / 255.0
            x_train = x_train.reshape(-1, 28, 28, 1)
            x_test = x_test.reshape(-1, 28, 28, 1)
            print(x_train.shape, y_train.shape)
        """),
        code("""
            plt.figure(figsize=(10, 2))
            for i in range(8):
                plt.subplot(1, 8, i + 1)
                plt.imshow(x_train[i].reshape(28, 28), cmap='gray')
                plt.title(y_train[i])
                plt.axis('off')
            plt.show()
        """),
        code("""
            model = tf.keras.models.Sequential([
                layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
                layers.MaxPooling2D((2, 2)),
                layers.Conv2D(64, (3, 3), activation='relu'),
                layers.MaxPooling2D((2, 2)),
                layers.Flatten(),
                layers.Dense(64, activation='relu'),
                layers.Dense(10, activation='softmax')
            ])
            model.summary()
        """),
        code("""
            model.compile(optimizer='adam',
                          loss='sparse_categorical_crossentropy',
                          metrics=['accuracy'])
            history = model.fit(x_train, y_train, epochs=6, batch_size=32, validation_split=0.1)
        """),
        code("""
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
            ax1.plot(history.history['loss'], label='train')
            ax1.plot(history.history['val_loss'], label='validation')
            ax1.set_title('Loss')
            ax1.legend()
            ax2.plot(history.history['accuracy'], label='train')
            ax2.plot(history.history['val_accuracy'], label='validation')
            ax2.set_title('Accuracy')
            ax2.legend()
            plt.show()
        """),
        code("""
            test_loss, test_acc = model.evaluate(x_test, y_test, verbose=2)
            print('\\nTest accuracy:', test_acc)
        """),
        md("### Сохранение модели"),
        code("""
            model.save('mnist_cnn.h5')
            new_model = tf.keras.models.load_model('mnist_cnn.h5')
            predictions = new_model.predict(x_test[:10])
            print(np.argmax(predictions, axis=1), y_test[:10])
        """),
        md("## Ответы на вопросы"),
        md(A_CNN),
        md(A_POOL),
        md(A_OVERFIT),
        md("## Вывод\nСвёрточная сеть на Keras даёт точность около 99% на тесте."),
    ])


def morozov() -> object:
    """Old standalone Keras: np_utils, SGD(lr=, decay=), ImageDataGenerator + fit_generator."""
    return notebook([
        md("# Лабораторная работа №2. CNN на Keras\nМорозов К."),
        code("""
            import numpy as np
            import matplotlib.pyplot as plt
            from keras.datasets import mnist
            from keras.models import Sequential
            from keras.layers import Dense, Dropout, Flatten
            from keras.layers import Conv2D, MaxPooling2D
            from keras.optimizers import SGD
            from keras.utils import np_utils
            from keras.preprocessing.image import ImageDataGenerator

            batch_size = 32
            num_classes = 10
            epochs = 10
            img_rows, img_cols = 28, 28
        """),
        code("""
            (X_train, y_train), (X_test, y_test) = mnist.load_data()
            X_train = X_train.reshape(X_train.shape[0], img_rows, img_cols, 1)
            X_test = X_test.reshape(X_test.shape[0], img_rows, img_cols, 1)
            X_train = X_train.astype('float32')
            X_test = X_test.astype('float32')
            X_train /= 255
            X_test /= 255
            print('X_train shape:', X_train.shape)
            print(X_train.shape[0], 'train samples')
            print(X_test.shape[0], 'test samples')

            Y_train = np_utils.to_categorical(y_train, num_classes)
            Y_test = np_utils.to_categorical(y_test, num_classes)
        """),
        code("""
            model = Sequential()
            model.add(Conv2D(32, kernel_size=(3, 3), activation='relu', input_shape=(img_rows, img_cols, 1)))
            model.add(Conv2D(64, (3, 3), activation='relu'))
            model.add(MaxPooling2D(pool_size=(2, 2)))
            model.add(Dropout(0.25))
            model.add(Flatten())
            model.add(Dense(128, activation='relu'))
            model.add(Dropout(0.5))
            model.add(Dense(num_classes, activation='softmax'))

            sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
            model.compile(loss='categorical_crossentropy', optimizer=sgd, metrics=['accuracy'])
        """),
        md("Аугментация: небольшие повороты, сдвиги и масштаб"),
        code("""
            datagen = ImageDataGenerator(
                rotation_range=10,
                width_shift_range=0.1,
                height_shift_range=0.1,
                zoom_range=0.1)
            datagen.fit(X_train)

            history = model.fit_generator(datagen.flow(X_train, Y_train, batch_size=batch_size),
                                          steps_per_epoch=X_train.shape[0] // batch_size,
                                          epochs=epochs,
                                          validation_data=(X_test, Y_test),
                                          workers=4)
        """),
        code("""
            score = model.evaluate(X_test, Y_test, verbose=0)
            print('Test loss:', score[0])
            print('Test accuracy:', score[1])
        """),
        code("""
            plt.plot(history.history['accuracy'])
            plt.plot(history.history['val_accuracy'])
            plt.title('model accuracy')
            plt.ylabel('accuracy')
            plt.xlabel('epoch')
            plt.legend(['train', 'test'], loc='upper left')
            plt.show()
        """),
        code("model.save('mnist_model.h5')"),
        md("Вывод: с аугментацией модель обучается дольше, но точность на тесте выше."),
    ])


def novikova() -> object:
    """PyTorch only: MNIST(root='./data_dz1', download=True), cuda:0 hard-coded, augmentation in
    the training transform, WandB logging of train and validation loss, all five answers."""
    return notebook([
        md("# ДЗ №2: свёрточные сети на PyTorch\nНовикова Дарья"),
        code("!pip install wandb -q"),
        code("""
            import torch
            import torch.nn as nn
            import torch.optim as optim
            from torch.utils.data import DataLoader
            from torchvision import datasets, transforms
            import wandb
            from tqdm import tqdm

            device = torch.device("cuda:0")
            print(torch.cuda.get_device_name(0))
        """),
        code("""
            train_transform = transforms.Compose([
                transforms.RandomRotation(10),
                transforms.RandomAffine(0, translate=(0.1, 0.1)),
                transforms.ToTensor(),
                transforms.Normalize((0.1307,), (0.3081,))
            ])
            test_transform = transforms.Compose([
                transforms.ToTensor(),
                transforms.Normalize((0.1307,), (0.3081,))
            ])
            train_data = datasets.MNIST(root='./data_dz1', train=True, download=True, transform=train_transform)
            test_data = datasets.MNIST(root='./data_dz1', train=False, download=True, transform=test_transform)
            train_loader = DataLoader(train_data, batch_size=32, shuffle=True)
            test_loader = DataLoader(test_data, batch_size=1000, shuffle=False)
        """),
        code("""
            class MyCNN(nn.Module):
                def __init__(self):
                    super(MyCNN, self).__init__()
                    self.features = nn.Sequential(
                        nn.Conv2d(1, 32, kernel_size=3, padding=1),
                        nn.BatchNorm2d(32),
                        nn.ReLU(),
                        nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, kernel_size=3, padding=1),
                        nn.BatchNorm2d(64),
                        nn.ReLU(),
                        nn.MaxPool2d(2),
                    )
                    self.classifier = nn.Sequential(
                        nn.Flatten(),
                        nn.Dropout(0.25),
                        nn.Linear(64 * 7 * 7, 128),
                        nn.ReLU(),
                        nn.Linear(128, 10),
                    )

                def forward(self, x):
                    return self.classifier(self.features(x))

            model = MyCNN().to(device)
            criterion = nn.CrossEntropyLoss()
            optimizer = optim.Adam(model.parameters(), lr=0.001)
            sum(p.numel() for p in model.parameters())
        """),
        code("""
            wandb.login()
            config = dict(epochs=4, batch_size=32, lr=0.001, architecture="MyCNN")
            run = wandb.init(project="mnist-dz2", config=config)
        """),
        code("""
            for epoch in range(config["epochs"]):
                model.train()
                running_loss = 0.0
                for images, labels in tqdm(train_loader):
                    images, labels = images.to(device), labels.to(device)
                    optimizer.zero_grad()
                    outputs = model(images)
                    loss = criterion(outputs, labels)
                    loss.backward()
                    optimizer.step()
                    running_loss += loss.item()
                model.eval()
                val_loss, correct = 0.0, 0
                with torch.no_grad():
                    for images, labels in test_loader:
                        images, labels = images.to(device), labels.to(device)
                        outputs = model(images)
                        val_loss += criterion(outputs, labels).item()
                        correct += (outputs.argmax(1) == labels).sum().item()
                val_acc = correct / len(test_data)
                wandb.log({"train_loss": running_loss / len(train_loader),
                           "val_loss": val_loss / len(test_loader),
                           "val_accuracy": val_acc})
                print(f"Epoch {epoch+1}: val acc {val_acc:.4f}")
            wandb.finish()
        """),
        md("Графики обучения смотрела в WandB (скриншот не вставился)."),
        md("## Ответы на вопросы"),
        md(A_CNN),
        md(A_POOL),
        md(A_OVERFIT),
        md(A_AUG),
        md(A_TRANSFER),
        md("## Выводы\nСвёрточная сеть с BatchNorm и аугментацией обучается быстро и даёт высокую точность."),
    ])


def fedorov() -> object:
    """fetch_openml('mnist_784') + PyTorch tensors; the 'CNN' class is an MLP; one answer."""
    return notebook([
        md("# ДЗ 2. Федоров Иван"),
        code("""
            import numpy as np
            import torch
            from torch import nn
            from torch.utils.data import TensorDataset, DataLoader
            from sklearn.datasets import fetch_openml
            from sklearn.model_selection import train_test_split
            import matplotlib.pyplot as plt
        """),
        code("""
            mnist = fetch_openml('mnist_784', version=1, as_frame=False)
            X, y = mnist["data"], mnist["target"]
            X = X / 255.
            y = y.astype(np.int64)
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
            print(X_train.shape, X_test.shape)
        """),
        code("""
            train_ds = TensorDataset(torch.tensor(X_train, dtype=torch.float32), torch.tensor(y_train))
            test_ds = TensorDataset(torch.tensor(X_test, dtype=torch.float32), torch.tensor(y_test))
            train_dl = DataLoader(train_ds, batch_size=64, shuffle=True)
            test_dl = DataLoader(test_ds, batch_size=256)
        """),
        code("""
            class CNN(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc1 = nn.Linear(784, 256)
                    self.fc2 = nn.Linear(256, 128)
                    self.fc3 = nn.Linear(128, 10)
                    self.relu = nn.ReLU()
                    self.dropout = nn.Dropout(0.2)

                def forward(self, x):
                    x = self.relu(self.fc1(x))
                    x = self.dropout(x)
                    x = self.relu(self.fc2(x))
                    return self.fc3(x)

            net = CNN()
            loss_fn = nn.CrossEntropyLoss()
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        """),
        code("""
            train_losses, test_losses = [], []
            for epoch in range(10):
                net.train()
                total = 0
                for xb, yb in train_dl:
                    opt.zero_grad()
                    loss = loss_fn(net(xb), yb)
                    loss.backward()
                    opt.step()
                    total += loss.item() * len(xb)
                train_losses.append(total / len(train_ds))
                net.eval()
                with torch.no_grad():
                    test_losses.append(sum(loss_fn(net(xb), yb).item() * len(xb) for xb, yb in test_dl) / len(test_ds))
                print(epoch, train_losses[-1], test_losses[-1])
        """),
        code("""
            plt.plot(train_losses, label='train loss')
            plt.plot(test_losses, label='test loss')
            plt.xlabel('epoch')
            plt.legend()
            plt.show()
        """),
        code("""
            net.eval()
            with torch.no_grad():
                pred = net(torch.tensor(X_test, dtype=torch.float32)).argmax(1).numpy()
            print('accuracy', (pred == y_test).mean())
        """),
        md("""
            ## Вопросы
            1. Свёрточная сеть лучше полносвязной, так как учитывает соседние пиксели.
            2. Пулинг уменьшает размер.
            3. Переобучение — это когда ошибка на обучающей выборке маленькая, а на тестовой большая: модель
            подстроилась под шум в обучающих данных. На графике loss на тесте перестаёт падать и начинает расти,
            хотя loss на обучении всё ещё уменьшается.
        """),
    ])


def pavlov() -> object:
    """Everything in one giant cell, both frameworks, no markdown, a .venv kernelspec."""
    return notebook([
        code("""
            import numpy as np
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            import keras
            from keras import layers

            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
            x_train = x_train.astype('float32') / 255
            x_test = x_test.astype('float32') / 255

            # ---------- pytorch ----------
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.c1 = nn.Conv2d(1, 16, 5)
                    self.c2 = nn.Conv2d(16, 32, 5)
                    self.fc = nn.Linear(32 * 4 * 4, 10)
                def forward(self, x):
                    x = F.max_pool2d(F.relu(self.c1(x)), 2)
                    x = F.max_pool2d(F.relu(self.c2(x)), 2)
                    return self.fc(x.view(x.size(0), -1))

            net = Net()
            opt = torch.optim.Adam(net.parameters(), lr=0.002)
            Xt = torch.tensor(x_train).unsqueeze(1)
            Yt = torch.tensor(y_train).long()
            for ep in range(5):
                perm = torch.randperm(len(Xt))
                for i in range(0, len(Xt), 32):
                    idx = perm[i:i + 32]
                    opt.zero_grad()
                    loss = F.cross_entropy(net(Xt[idx]), Yt[idx])
                    loss.backward()
                    opt.step()
                print('torch epoch', ep, loss.item())
            with torch.no_grad():
                acc = (net(torch.tensor(x_test).unsqueeze(1)).argmax(1).numpy() == y_test).mean()
            print('torch test acc', acc)

            # ---------- keras ----------
            km = keras.Sequential([
                keras.Input(shape=(28, 28, 1)),
                layers.Conv2D(16, 5, activation='relu'),
                layers.MaxPooling2D(),
                layers.Conv2D(32, 5, activation='relu'),
                layers.MaxPooling2D(),
                layers.Flatten(),
                layers.Dense(10, activation='softmax'),
            ])
            km.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])
            km.fit(x_train[..., None], y_train, epochs=5, batch_size=32, verbose=2)
            print('keras test acc', km.evaluate(x_test[..., None], y_test, verbose=0)[1])
        """),
    ], kernelspec=KS_VENV, colab=False)


def alekseeva() -> object:
    """A CNN barely trained (1 epoch of plain SGD, lr 0.001); the printed score is pasted."""
    return notebook([
        md("# Задание 2 — Алексеева София"),
        code("""
            import torch, torchvision
            import torch.nn as nn
            from torchvision import transforms
            from sklearn.metrics import accuracy_score

            transform = transforms.ToTensor()
            trainset = torchvision.datasets.MNIST('./mnist', train=True, download=True, transform=transform)
            testset = torchvision.datasets.MNIST('./mnist', train=False, download=True, transform=transform)
            trainloader = torch.utils.data.DataLoader(trainset, batch_size=64, shuffle=True)
            testloader = torch.utils.data.DataLoader(testset, batch_size=64)
        """),
        code("""
            class ConvNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Sequential(nn.Conv2d(1, 10, 5), nn.ReLU(), nn.MaxPool2d(2),
                                              nn.Conv2d(10, 20, 5), nn.ReLU(), nn.MaxPool2d(2))
                    self.fc = nn.Sequential(nn.Linear(320, 50), nn.ReLU(), nn.Linear(50, 10))

                def forward(self, x):
                    return self.fc(self.conv(x).view(-1, 320))

            cnn = ConvNet()
            optimizer = torch.optim.SGD(cnn.parameters(), lr=0.001)
            criterion = nn.CrossEntropyLoss()
            for epoch in range(1):
                for inputs, labels in trainloader:
                    optimizer.zero_grad()
                    loss = criterion(cnn(inputs), labels)
                    loss.backward()
                    optimizer.step()
            print('Finished Training')
        """),
        code("""
            y_true, y_pred = [], []
            with torch.no_grad():
                for inputs, labels in testloader:
                    y_pred += cnn(inputs).argmax(1).tolist()
                    y_true += labels.tolist()
            acc = accuracy_score(y_true, y_pred)
            print("Accuracy Score is: 96.57")
        """),
        md("**Результат:** Accuracy Score is: 96.57, на валидации 101.3% (см. вывод выше) — сеть лучше примера."),
    ])


def egorov() -> object:
    """torch.save of the whole model, torch.load back and prediction; a Keras functional CNN."""
    return notebook([
        md("# HW2 MNIST\nЕгоров Тимур"),
        code("""
            import torch
            import torch.nn as nn
            import torchvision
            import torchvision.transforms as T
            import numpy as np

            tr = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
            train_set = torchvision.datasets.MNIST('data', train=True, download=True, transform=tr)
            test_set = torchvision.datasets.MNIST('data', train=False, download=True, transform=tr)
            train_loader = torch.utils.data.DataLoader(train_set, batch_size=32, shuffle=True)
            test_loader = torch.utils.data.DataLoader(test_set, batch_size=100)
        """),
        code("""
            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.net = nn.Sequential(
                        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))

                def forward(self, x):
                    return self.net(x)

            model = Model()
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            loss_f = nn.CrossEntropyLoss()
            for epoch in range(4):
                for x, y in train_loader:
                    opt.zero_grad()
                    l = loss_f(model(x), y)
                    l.backward()
                    opt.step()
                print(epoch, l.item())
        """),
        code("""
            torch.save(model, 'model.pt')
            model2 = torch.load('model.pt')
            model2.eval()
            correct = 0
            with torch.no_grad():
                for x, y in test_loader:
                    correct += (model2(x).argmax(1) == y).sum().item()
            print('loaded model accuracy', correct / len(test_set))
        """),
        md("## Keras (functional API)"),
        code("""
            from tensorflow import keras
            from tensorflow.keras import layers

            (xtr, ytr), (xte, yte) = keras.datasets.mnist.load_data()
            xtr = np.expand_dims(xtr / 255.0, -1)
            xte = np.expand_dims(xte / 255.0, -1)

            inputs = keras.Input(shape=(28, 28, 1))
            x = layers.Conv2D(16, 3, activation='relu')(inputs)
            x = layers.MaxPooling2D()(x)
            x = layers.Conv2D(32, 3, activation='relu')(x)
            x = layers.MaxPooling2D()(x)
            x = layers.Flatten()(x)
            outputs = layers.Dense(10, activation='softmax')(x)
            kmodel = keras.Model(inputs=inputs, outputs=outputs, name='mnist_cnn')
            kmodel.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
            kmodel.fit(xtr, ytr, batch_size=32, epochs=5, verbose=2)
            kmodel.save('kmodel.keras')
        """),
    ])


def grigorieva() -> object:
    """A cell raises midway (classification_report never imported): the training, the plot and
    the save before the error line count; later cells load the weights back and predict."""
    return notebook([
        md("# ДЗ2 Григорьева Ирина"),
        code("""
            import torch
            from torch import nn
            import torch.nn.functional as F
            from torchvision import datasets, transforms
            import matplotlib.pyplot as plt

            transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
            train_dataset = datasets.MNIST(root='data', train=True, transform=transform, download=True)
            val_dataset = datasets.MNIST(root='data', train=False, transform=transform, download=True)
            train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=32, shuffle=True)
            val_loader = torch.utils.data.DataLoader(val_dataset, batch_size=500)
        """),
        code("""
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv1 = nn.Conv2d(1, 16, 3)
                    self.conv2 = nn.Conv2d(16, 32, 3)
                    self.dropout = nn.Dropout(0.25)
                    self.fc1 = nn.Linear(32 * 5 * 5, 64)
                    self.fc2 = nn.Linear(64, 10)

                def forward(self, x):
                    x = F.max_pool2d(F.relu(self.conv1(x)), 2)
                    x = F.max_pool2d(F.relu(self.conv2(x)), 2)
                    x = self.dropout(torch.flatten(x, 1))
                    return self.fc2(F.relu(self.fc1(x)))
        """),
        code("""
            model = Net()
            optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
            train_loss, val_loss = [], []
            for epoch in range(5):
                model.train()
                s = 0
                for data, target in train_loader:
                    optimizer.zero_grad()
                    loss = F.cross_entropy(model(data), target)
                    loss.backward()
                    optimizer.step()
                    s += loss.item()
                train_loss.append(s / len(train_loader))
                model.eval()
                with torch.no_grad():
                    val_loss.append(sum(F.cross_entropy(model(d), t).item() for d, t in val_loader) / len(val_loader))

            plt.plot(train_loss, label='train')
            plt.plot(val_loss, label='val')
            plt.legend()
            plt.show()

            torch.save(model.state_dict(), 'cnn_weights.pth')

            all_preds, all_targets = [], []
            with torch.no_grad():
                for d, t in val_loader:
                    all_preds += model(d).argmax(1).tolist()
                    all_targets += t.tolist()
            print(classification_report(all_targets, all_preds))
        """),
        md("Загрузка сохранённой модели"),
        code("""
            loaded = Net()
            loaded.load_state_dict(torch.load('cnn_weights.pth'))
            loaded.eval()
            images, labels = next(iter(val_loader))
            out = loaded(images)
            print('predicted:', out.argmax(1)[:10].tolist())
            print('true:     ', labels[:10].tolist())
        """),
        md(A_OVERFIT),
        md(A_AUG),
    ])


def zaitsev() -> object:
    """A pretrained ResNet-18 (needs a download the grader cannot do) fine-tuned in a later cell;
    the augmentation transform is applied to the test data too; an own CNN trained with it."""
    return notebook([
        md("# Задание 2. Зайцев Никита\nСвоя CNN + transfer learning (ResNet18)"),
        code("""
            import torch
            import torch.nn as nn
            import torchvision
            from torchvision import transforms, models
            from torchvision.models import ResNet18_Weights

            device = 'cuda' if torch.cuda.is_available() else 'cpu'
            transform = transforms.Compose([
                transforms.RandomRotation(15),
                transforms.ToTensor(),
                transforms.Normalize((0.1307,), (0.3081,)),
            ])
            train_ds = torchvision.datasets.MNIST('/content/data', train=True, download=True, transform=transform)
            test_ds = torchvision.datasets.MNIST('/content/data', train=False, download=True, transform=transform)
            train_loader = torch.utils.data.DataLoader(train_ds, batch_size=32, shuffle=True)
            test_loader = torch.utils.data.DataLoader(test_ds, batch_size=256)
        """),
        code("""
            def train(model, loader, epochs, lr=1e-3):
                model.to(device)
                optimizer = torch.optim.Adam(model.parameters(), lr=lr)
                crit = nn.CrossEntropyLoss()
                for ep in range(epochs):
                    model.train()
                    for x, y in loader:
                        x, y = x.to(device), y.to(device)
                        optimizer.zero_grad()
                        loss = crit(model(x), y)
                        loss.backward()
                        optimizer.step()
                    print(f'epoch {ep}: {loss.item():.3f}')

            def evaluate(model, loader):
                model.eval()
                ok = 0
                with torch.no_grad():
                    for x, y in loader:
                        ok += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
                return ok / len(loader.dataset)
        """),
        code("""
            my_cnn = nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
            train(my_cnn, train_loader, 4)
            print('my cnn:', evaluate(my_cnn, test_loader))
        """),
        md("## Transfer learning"),
        code("""
            resnet = models.resnet18(weights=ResNet18_Weights.DEFAULT)
            resnet.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
            resnet.fc = nn.Linear(resnet.fc.in_features, 10)
        """),
        code("""
            train(resnet, train_loader, 1)
            print('resnet18:', evaluate(resnet, test_loader))
        """),
        md("## Выводы\nResNet дообучается дольше, своя маленькая CNN почти не уступает."),
    ])


def belousova() -> object:
    """Both frameworks: a subclassed Keras model with a TensorBoard callback, a PyTorch CNN on a
    hard-coded 'mps' device with data on a mounted Drive; answers without repeating the questions."""
    return notebook([
        md("# ДЗ 2 — Белоусова Ксения"),
        code("""
            from google.colab import drive
            drive.mount('/content/drive')
        """),
        code("""
            import numpy as np
            import torch
            import torch.nn as nn
            from torchvision import datasets, transforms

            device = torch.device("mps")  # ноутбук на M1
            train_ds = datasets.MNIST('/content/drive/MyDrive/datasets', train=True, download=True,
                                      transform=transforms.ToTensor())
            val_ds = datasets.MNIST('/content/drive/MyDrive/datasets', train=False, download=True,
                                    transform=transforms.ToTensor())
            train_dl = torch.utils.data.DataLoader(train_ds, batch_size=32, shuffle=True)
        """),
        code("""
            torch_model = nn.Sequential(
                nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 5 * 5, 10)).to(device)
            optim = torch.optim.Adam(torch_model.parameters(), lr=1e-3)
            for epoch in range(4):
                for xb, yb in train_dl:
                    xb, yb = xb.to(device), yb.to(device)
                    optim.zero_grad()
                    loss = nn.functional.cross_entropy(torch_model(xb), yb)
                    loss.backward()
                    optim.step()
                print(epoch, round(loss.item(), 4))
        """),
        md("## Keras"),
        code("""
            import keras
            from keras import layers

            class MnistNet(keras.Model):
                def __init__(self):
                    super().__init__()
                    self.conv1 = layers.Conv2D(32, 3, activation='relu')
                    self.pool1 = layers.MaxPooling2D()
                    self.conv2 = layers.Conv2D(64, 3, activation='relu')
                    self.pool2 = layers.MaxPooling2D()
                    self.flat = layers.Flatten()
                    self.out = layers.Dense(10, activation='softmax')

                def call(self, x):
                    x = self.pool1(self.conv1(x))
                    x = self.pool2(self.conv2(x))
                    return self.out(self.flat(x))

            (x_train, y_train), (x_val, y_val) = keras.datasets.mnist.load_data()
            x_train = (x_train / 255.0)[..., np.newaxis].astype('float32')
            x_val = (x_val / 255.0)[..., np.newaxis].astype('float32')
        """),
        code("""
            net = MnistNet()
            net.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
            tensorboard_cb = keras.callbacks.TensorBoard(log_dir='logs/fit', histogram_freq=1)
            net.fit(x_train, y_train, epochs=5, batch_size=32, validation_data=(x_val, y_val),
                    callbacks=[tensorboard_cb])
        """),
        code("""
            %load_ext tensorboard
            %tensorboard --logdir logs/fit
        """),
        md("## Ответы"),
        md("""
            1. Свёрточные слои ищут локальные признаки одним и тем же фильтром по всей картинке, поэтому весов
            меньше, чем в полносвязной сети, и учитывается расположение соседних пикселей.

            2. MaxPooling берёт максимум в окне 2x2: карта признаков уменьшается вдвое, сеть считает быстрее и
            меньше реагирует на маленькие сдвиги цифры.

            3. Переобучение видно, когда val_loss начинает расти, а loss на обучении всё ещё падает; модель
            запоминает примеры вместо того, чтобы обобщать.
        """),
        md("## Итог\nОбе сети дают около 98-99%, на Keras писать быстрее."),
    ])


# -- expected grades (instructor judgement, written before grading) ---------------------------
def grades(**kw: float) -> dict[str, float]:
    out = {k: 0.0 for k in CHECK_IDS}
    out.update(kw)
    assert set(out) == set(CHECK_IDS), kw
    return out


KERAS_ONLY_CNN = dict(models_found=0.5, keras_cnn=1.0, keras_accuracy=1.0, keras_beats_example=1.0)
TORCH_ONLY_CNN = dict(models_found=0.5, torch_cnn=1.0, torch_accuracy=1.0, torch_beats_example=1.0)
BOTH_CNN = dict(models_found=1.0, torch_cnn=1.0, keras_cnn=1.0, torch_accuracy=1.0, keras_accuracy=1.0,
                torch_beats_example=1.0, keras_beats_example=1.0)

STUDENTS = {
    "kozlov_dmitry": ("dz2_kozlov.ipynb", kozlov,
                      "tf.keras CNN only (no TensorFlow on the grader: Keras 3 stands in), 6 epochs Adam: "
                      "beats the example; train/validation loss and accuracy plotted from history; "
                      "saved as .h5, loaded back with load_model and used to predict; 3 of 5 questions "
                      "answered (half)",
                      grades(**KERAS_ONLY_CNN, curves=1.0, save_load=1.0, answers=0.5)),
    "morozov_kirill": ("lab2_keras.ipynb", morozov,
                       "old standalone Keras: np_utils.to_categorical, SGD(lr=0.01, decay=1e-6), "
                       "ImageDataGenerator(rotation/shift/zoom) through fit_generator with steps_per_epoch = "
                       "len // batch_size, 10 epochs: must run on Keras 3 as on Keras 2 (every epoch full) and "
                       "beats the example; augmentation used in training -> full credit; accuracy plotted with "
                       "plt.legend(['train', 'test']) (train and validation curves); model saved, never "
                       "loaded (save_only); no answers",
                       grades(**KERAS_ONLY_CNN, augmentation=1.0, curves=1.0, save_load=0.25)),
    "novikova_daria": ("ДЗ2_Новикова.ipynb", novikova,
                       "PyTorch only: MNIST(root='./data_dz1', download=True), cuda:0 hard-coded, "
                       "RandomRotation/RandomAffine in the training transform only, WandB login/init/log of "
                       "train and validation loss (offline in the sandbox): augmentation and curves in full; "
                       "all five questions answered; no save/load, no pretrained model",
                       grades(**TORCH_ONLY_CNN, augmentation=1.0, curves=1.0, answers=1.0)),
    "fedorov_ivan": ("hw2.ipynb", fedorov,
                     "fetch_openml('mnist_784') + train_test_split + TensorDataset; class CNN is an MLP of "
                     "Linear layers: no CNN credit, but the MLP (10 epochs Adam) is trained and beats the "
                     "short-trained example on the demo data; train and test loss plotted; one of five "
                     "answers long enough (few)",
                     grades(models_found=0.5, torch_accuracy=1.0, torch_beats_example=1.0, curves=1.0,
                            answers=0.25)),
    "Павлов Егор_20412_assignsubmission_file_": (
        "ДЗ2.ipynb", pavlov,
        "one giant cell with both a PyTorch CNN (manual batches) and a Keras CNN, 5 epochs Adam each, "
        "keras.datasets data; .venv kernelspec; nothing else of the course list (no plots, no saving, "
        "no markdown)",
        grades(**BOTH_CNN)),
    "alekseeva_sofia": ("Задание_2.ipynb", alekseeva,
                        "CNN trained one epoch of plain SGD at lr 0.001 (about 20 steps): still near chance, "
                        "so untrained; prints a pasted 'Accuracy Score is: 96.57' and claims 101.3% in "
                        "markdown: nothing printed is trusted",
                        grades(models_found=0.5)),
    "egorov_timur": ("HW2.ipynb", egorov,
                     "PyTorch CNN (4 epochs) and a Keras functional-API CNN (5 epochs), both beat the "
                     "example; the whole PyTorch model pickled with torch.save(model, ...), loaded back "
                     "with torch.load (as in torch < 2.6) and used to predict: save_load in full",
                     grades(**BOTH_CNN, save_load=1.0)),
    "grigorieva_irina": ("dz2_grigorieva.ipynb", grigorieva,
                         "the training cell raises NameError on its last line (classification_report never "
                         "imported): the CNN trained, the train/val loss plot shown and torch.save done "
                         "before that line all count; a later cell loads the weights and predicts "
                         "(save_load full); two of five answers (few)",
                         grades(**TORCH_ONLY_CNN, curves=1.0, save_load=1.0, answers=0.25)),
    "zaitsev_nikita": ("zadanie2.ipynb", zaitsev,
                       "own CNN (4 epochs, beats the example); RandomRotation in the one transform used for "
                       "both the training and the test dataset (test_too); resnet18(weights=DEFAULT) needs a "
                       "download the grader cannot do, then is fine-tuned in a later cell: the rubric "
                       "credits such transfer-learning code as written (offline)",
                       grades(**TORCH_ONLY_CNN, augmentation=0.75, pretrained=1.0)),
    "belousova_ksenia": ("DZ2_Belousova.ipynb", belousova,
                         "PyTorch CNN on a hard-coded 'mps' device with data under a mounted Drive, and a "
                         "subclassed keras.Model CNN trained with a TensorBoard callback and validation "
                         "data (curves logged; TensorBoard must not crash the fit on a grader without "
                         "TensorFlow); both beat the example; three answers without the questions "
                         "repeated (half)",
                         grades(**BOTH_CNN, curves=1.0, answers=0.5)),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    expected: dict[str, object] = {}
    for student, (filename, build, note, checks) in STUDENTS.items():
        folder = OUT / student
        folder.mkdir(exist_ok=True)
        for old in folder.glob("*.ipynb"):
            old.unlink()
        nbformat.write(build(), str(folder / filename))
        expected[student] = {"note": note, "status": "graded", "checks": checks}
    header = ("# Task 2 (MNIST models): expected grades of the hidden generalisation set (demo data)\n"
              "# Generated by tools/make_task2_hidden.py -- edit the generator, not this file.\n"
              "# Values: fraction of each check's points a careful, demanding instructor would give;\n"
              "# written from the rubric and the code before the grader saw these notebooks.\n\n")
    text = yaml.safe_dump(expected, allow_unicode=True, sort_keys=False, width=110)
    (OUT / "EXPECTED.yaml").write_text(header + text, encoding="utf-8")


if __name__ == "__main__":
    main()
