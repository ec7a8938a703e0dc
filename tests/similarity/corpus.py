"""Notebooks for the similarity tests, written for them: independent solutions of the course's
tasks in different styles, one shared "public tutorial", one starter notebook, and copies made
from them the ways students make copies (exact, renamed, reordered, tutorial-based)."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

# -- the instructor's starter notebook (Task 2): every Task 2 student keeps it ------------------

STARTER = [
    "import numpy as np\nimport matplotlib.pyplot as plt\nimport torch\nfrom torch import nn\n"
    "from torchvision import datasets, transforms\n",
    "DATA_DIR = './data'\nEPOCHS = 2\nSEED = 0\ntorch.manual_seed(SEED)\n",
    "transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])\n"
    "train_set = datasets.MNIST(DATA_DIR, train=True, download=True, transform=transform)\n"
    "test_set = datasets.MNIST(DATA_DIR, train=False, download=True, transform=transform)\n"
    "train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)\n"
    "test_loader = torch.utils.data.DataLoader(test_set, batch_size=1000)\n",
    "def show_examples(dataset, count=8):\n"
    "    fig, axes = plt.subplots(1, count, figsize=(2 * count, 2))\n"
    "    for ax, index in zip(axes, range(count)):\n"
    "        image, label = dataset[index]\n"
    "        ax.imshow(image.squeeze(), cmap='gray')\n"
    "        ax.set_title(str(label))\n"
    "        ax.axis('off')\n"
    "    plt.show()\n\n"
    "def plot_history(history, title):\n"
    "    plt.figure(figsize=(6, 4))\n"
    "    for name, values in history.items():\n"
    "        plt.plot(range(1, len(values) + 1), values, marker='o', label=name)\n"
    "    plt.xlabel('epoch')\n"
    "    plt.title(title)\n"
    "    plt.legend()\n"
    "    plt.show()\n",
    "show_examples(train_set)\n",
]

# -- Task 1: three independent solutions -----------------------------------------------------

T1_LOOPS = [
    "import numpy as np\nimport matplotlib.pyplot as plt\n",
    "def f(x):\n    return x ** 4 - 3 * x ** 2 + x\n\n\ndef grad(x):\n    return 4 * x ** 3 - 6 * x + 1\n",
    "lr = 0.01\nx = 2.0\npath = [x]\nwhile abs(grad(x)) > 1e-5 and len(path) < 5000:\n"
    "    x -= lr * grad(x)\n    path.append(x)\nprint(f'GD stopped at {x:.5f} after {len(path) - 1} steps')\n",
    "velocity = 0.0\nbeta = 0.85\ny = 2.0\ntrace = [y]\nfor step in range(3000):\n"
    "    velocity = beta * velocity - lr * grad(y)\n    y += velocity\n    trace.append(y)\n"
    "    if abs(velocity) < 1e-7:\n        break\nprint('momentum:', y, len(trace))\n",
    "grid = np.linspace(-2.2, 2.2, 400)\nplt.plot(grid, f(grid), color='gray')\n"
    "plt.plot(path, [f(p) for p in path], 'b.-', label='plain')\nplt.plot(trace, [f(p) for p in trace], 'r.-', "
    "label='momentum')\nplt.legend()\nplt.title('Descent on a quartic')\nplt.show()\n",
]

T1_CLASS = [
    "import math\nfrom dataclasses import dataclass, field\n",
    "@dataclass\nclass Optimiser:\n    rate: float\n    mu: float = 0.0\n    nesterov: bool = False\n"
    "    speed: float = 0.0\n    visited: list = field(default_factory=list)\n\n"
    "    def step(self, point, derivative):\n        ahead = point + self.mu * self.speed if self.nesterov else point\n"
    "        self.speed = self.mu * self.speed - self.rate * derivative(ahead)\n        point = point + self.speed\n"
    "        self.visited.append(point)\n        return point\n",
    "def loss(t):\n    return math.exp(t) + t * t - 4 * math.cos(t)\n\n\ndef dloss(t):\n"
    "    return math.exp(t) + 2 * t + 4 * math.sin(t)\n",
    "results = {}\nfor name, opt in {'sgd': Optimiser(0.05), 'heavy ball': Optimiser(0.05, 0.9),\n"
    "                  'nesterov': Optimiser(0.05, 0.9, True)}.items():\n    point = -3.0\n"
    "    for _ in range(10_000):\n        new = opt.step(point, dloss)\n        done = abs(loss(new) - loss(point)) < 1e-9\n"
    "        point = new\n        if done:\n            break\n    results[name] = (point, len(opt.visited))\n"
    "results\n",
    "for name, (where, count) in sorted(results.items(), key=lambda kv: kv[1][1]):\n"
    "    print(f'{name:>12}: minimum near {where:+.4f}, {count} iterations')\n",
]

T1_SYMPY = [
    "import sympy as sp\nimport numpy as np\nimport matplotlib.pyplot as plt\n",
    "s = sp.symbols('s')\nexpr = (s - 1) ** 2 * (s + 2) + sp.sin(3 * s)\nderivative = sp.diff(expr, s)\n"
    "F = sp.lambdify(s, expr, 'numpy')\ndF = sp.lambdify(s, derivative, 'numpy')\nderivative\n",
    "def run(start, eta, gamma=0.0, n_iter=200, look_ahead=False):\n    xs, v = np.empty(n_iter + 1), 0.0\n"
    "    xs[0] = start\n    for i in range(n_iter):\n        g = dF(xs[i] - gamma * v) if look_ahead else dF(xs[i])\n"
    "        v = gamma * v + eta * g\n        xs[i + 1] = xs[i] - v\n    return xs\n",
    "runs = {label: run(1.8, 0.02, *extra) for label, extra in [('GD', ()), ('Momentum', (0.8,)),\n"
    "                                                        ('NAG', (0.8, 200, True))]}\n"
    "fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))\nmesh = np.linspace(-2.5, 2.5, 300)\n"
    "left.plot(mesh, F(mesh), 'k-')\nfor label, xs in runs.items():\n    left.plot(xs, F(xs), 'o', ms=3, label=label)\n"
    "    right.semilogy(np.abs(dF(xs)) + 1e-16, label=label)\nleft.legend(); right.legend()\nplt.show()\n",
]

# -- Task 2: three independent solutions, each on top of the starter ---------------------------

T2_SEQUENTIAL = [
    "model = nn.Sequential(\n    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),\n"
    "    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),\n    nn.Flatten(), nn.Linear(32 * 7 * 7, 10))\n"
    "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\nloss_fn = nn.CrossEntropyLoss()\n",
    "history = {'train loss': [], 'test accuracy': []}\nfor epoch in range(EPOCHS):\n    model.train()\n"
    "    running = 0.0\n    for images, labels in train_loader:\n        optimizer.zero_grad()\n"
    "        loss = loss_fn(model(images), labels)\n        loss.backward()\n        optimizer.step()\n"
    "        running += loss.item() * len(labels)\n    history['train loss'].append(running / len(train_set))\n"
    "    model.eval()\n    correct = 0\n    with torch.no_grad():\n        for images, labels in test_loader:\n"
    "            correct += (model(images).argmax(1) == labels).sum().item()\n"
    "    history['test accuracy'].append(correct / len(test_set))\n    print(epoch, history['test accuracy'][-1])\n",
    "plot_history(history, 'Sequential CNN')\n",
]

T2_MODULE = [
    "class Net(nn.Module):\n    def __init__(self, width=24, dropout=0.25):\n        super().__init__()\n"
    "        self.features = nn.ModuleList([nn.Conv2d(1, width, 5), nn.Conv2d(width, 2 * width, 5)])\n"
    "        self.bn = nn.BatchNorm2d(2 * width)\n        self.drop = nn.Dropout(dropout)\n"
    "        self.head = nn.Linear(2 * width * 4 * 4, 10)\n\n    def forward(self, x):\n"
    "        x = torch.max_pool2d(torch.relu(self.features[0](x)), 2)\n"
    "        x = torch.max_pool2d(torch.relu(self.bn(self.features[1](x))), 2)\n"
    "        return self.head(self.drop(torch.flatten(x, 1)))\n",
    "def evaluate(net, loader):\n    net.eval()\n    hits = total = 0\n    with torch.no_grad():\n"
    "        for xb, yb in loader:\n            hits += int((net(xb).argmax(dim=1) == yb).sum())\n"
    "            total += yb.numel()\n    return hits / total\n\n\n"
    "def fit(net, epochs, lr=0.05):\n    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)\n"
    "    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)\n    log = {'accuracy': []}\n"
    "    for _ in range(epochs):\n        net.train()\n        for xb, yb in train_loader:\n"
    "            opt.zero_grad()\n            nn.functional.cross_entropy(net(xb), yb).backward()\n"
    "            opt.step()\n        sched.step()\n        log['accuracy'].append(evaluate(net, test_loader))\n"
    "    return log\n",
    "net = Net()\nlog = fit(net, EPOCHS)\nplot_history(log, 'Net with batch norm')\n"
    "print('parameters:', sum(p.numel() for p in net.parameters()))\n",
]

T2_KERAS = [
    "import keras\nfrom keras import layers\n",
    "x_train = train_set.data.numpy()[..., None] / 255.0\ny_train = train_set.targets.numpy()\n"
    "x_test = test_set.data.numpy()[..., None] / 255.0\ny_test = test_set.targets.numpy()\n",
    "inputs = keras.Input(shape=(28, 28, 1))\nh = layers.Conv2D(32, 3, activation='relu')(inputs)\n"
    "h = layers.Conv2D(64, 3, activation='relu')(h)\nh = layers.MaxPooling2D()(h)\nh = layers.Dropout(0.3)(h)\n"
    "h = layers.GlobalAveragePooling2D()(h)\noutputs = layers.Dense(10, activation='softmax')(h)\n"
    "cnn = keras.Model(inputs, outputs)\ncnn.compile(optimizer=keras.optimizers.RMSprop(2e-3),\n"
    "            loss='sparse_categorical_crossentropy', metrics=['accuracy'])\ncnn.summary()\n",
    "fit_log = cnn.fit(x_train, y_train, validation_split=0.1, epochs=EPOCHS, batch_size=128, verbose=2)\n"
    "plot_history({k: v for k, v in fit_log.history.items() if 'acc' in k}, 'Keras functional CNN')\n"
    "print(cnn.evaluate(x_test, y_test, verbose=0))\n",
]

# -- a public tutorial two students built on, each with their own additions --------------------

TUTORIAL = [
    "class TutorialCNN(nn.Module):\n    def __init__(self):\n        super(TutorialCNN, self).__init__()\n"
    "        self.conv1 = nn.Conv2d(1, 32, 3, 1)\n        self.conv2 = nn.Conv2d(32, 64, 3, 1)\n"
    "        self.dropout1 = nn.Dropout(0.25)\n        self.dropout2 = nn.Dropout(0.5)\n"
    "        self.fc1 = nn.Linear(9216, 128)\n        self.fc2 = nn.Linear(128, 10)\n\n"
    "    def forward(self, x):\n        x = self.conv1(x)\n        x = nn.functional.relu(x)\n"
    "        x = self.conv2(x)\n        x = nn.functional.relu(x)\n        x = nn.functional.max_pool2d(x, 2)\n"
    "        x = self.dropout1(x)\n        x = torch.flatten(x, 1)\n        x = self.fc1(x)\n"
    "        x = nn.functional.relu(x)\n        x = self.dropout2(x)\n        output = self.fc2(x)\n"
    "        return nn.functional.log_softmax(output, dim=1)\n",
    "def train(model, device, train_loader, optimizer, epoch, log_interval=100):\n    model.train()\n"
    "    for batch_idx, (data, target) in enumerate(train_loader):\n"
    "        data, target = data.to(device), target.to(device)\n        optimizer.zero_grad()\n"
    "        output = model(data)\n        loss = nn.functional.nll_loss(output, target)\n        loss.backward()\n"
    "        optimizer.step()\n        if batch_idx % log_interval == 0:\n"
    "            print('Train Epoch: {} [{}/{}]\\tLoss: {:.6f}'.format(\n"
    "                epoch, batch_idx * len(data), len(train_loader.dataset), loss.item()))\n\n\n"
    "def test(model, device, test_loader):\n    model.eval()\n    test_loss = 0\n    correct = 0\n"
    "    with torch.no_grad():\n        for data, target in test_loader:\n"
    "            data, target = data.to(device), target.to(device)\n            output = model(data)\n"
    "            test_loss += nn.functional.nll_loss(output, target, reduction='sum').item()\n"
    "            pred = output.argmax(dim=1, keepdim=True)\n"
    "            correct += pred.eq(target.view_as(pred)).sum().item()\n"
    "    test_loss /= len(test_loader.dataset)\n"
    "    print('Test set: Average loss: {:.4f}, Accuracy: {}/{}'.format(test_loss, correct, len(test_loader.dataset)))\n"
    "    return correct / len(test_loader.dataset)\n",
    "device = torch.device('cpu')\nmodel = TutorialCNN().to(device)\n"
    "optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)\n"
    "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)\n",
]

TUTORIAL_A_OWN = [
    "accuracies = []\nfor epoch in range(1, EPOCHS + 1):\n    train(model, device, train_loader, optimizer, epoch)\n"
    "    accuracies.append(test(model, device, test_loader))\n    scheduler.step()\n"
    "plot_history({'accuracy': accuracies}, 'Tutorial CNN')\n",
]

TUTORIAL_B_OWN = [
    "scores = [test(model, device, test_loader)]\nepoch = 1\nwhile epoch <= EPOCHS:\n"
    "    train(model, device, train_loader, optimizer, epoch, log_interval=500)\n"
    "    scores.append(test(model, device, test_loader))\n    scheduler.step()\n    epoch += 1\n"
    "confusion = np.zeros((10, 10), dtype=int)\nwith torch.no_grad():\n    for data, target in test_loader:\n"
    "        for t, p in zip(target.tolist(), model(data).argmax(1).tolist()):\n            confusion[t, p] += 1\n"
    "plt.imshow(confusion, cmap='Blues')\nplt.colorbar()\nplt.show()\n",
]

# -- copies --------------------------------------------------------------------------------------

RENAMES = {"model": "my_network", "optimizer": "opt_adam", "loss_fn": "criterion", "history": "stats",
           "epoch": "ep", "running": "total_loss", "images": "batch_x", "labels": "batch_y",
           "correct": "n_right", "loss": "value"}


def renamed(cells: list[str]) -> list[str]:
    """The cells with every variable renamed, comments and messages reworded, spacing changed."""
    out = []
    for source in cells:
        for old, new in RENAMES.items():
            source = re.sub(rf"\b{old}\b", new, source)
        source = source.replace("'Sequential CNN'", "'Моя свёрточная сеть'").replace("    ", "  ")
        out.append("# решение\n" + source.replace(" = ", "=") + "\n\n")
    return out


def notebook(cells: list[str], markdown: str = "# Домашнее задание") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


# student -> code cells. Planted pairs: copy_exact ~ t1_loops, copy_renamed ~ t2_sequential,
# copy_reordered ~ t1_class, tutorial_a ~ tutorial_b.
CLASS = {
    "t1_loops": T1_LOOPS,
    "t1_class": T1_CLASS,
    "t1_sympy": T1_SYMPY,
    "t2_sequential": STARTER + T2_SEQUENTIAL,
    "t2_module": STARTER + T2_MODULE,
    "t2_keras": STARTER + T2_KERAS,
    "copy_exact": list(T1_LOOPS),
    "copy_renamed": STARTER + renamed(T2_SEQUENTIAL),
    "copy_reordered": [T1_CLASS[i] for i in (2, 0, 4, 1, 3)],
    "tutorial_a": STARTER + TUTORIAL + TUTORIAL_A_OWN,
    "tutorial_b": STARTER + TUTORIAL[:2] + [TUTORIAL[2].replace("Adadelta", "Adam").replace("lr=1.0", "lr=0.001")]
                  + TUTORIAL_B_OWN,
}
PLANTED = {frozenset(p) for p in [("t1_loops", "copy_exact"), ("t2_sequential", "copy_renamed"),
                                   ("t1_class", "copy_reordered"), ("tutorial_a", "tutorial_b")]}


def write_class(root: Path, students: dict[str, list[str]] = CLASS) -> dict[str, Path]:
    """One folder per student with `hw.ipynb`; student -> notebook path."""
    paths = {}
    for student, cells in students.items():
        path = root / student / "hw.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook(cells), str(path))
        paths[student] = path
    return paths
