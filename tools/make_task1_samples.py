#!/usr/bin/env python
"""Generate the Task 1 (gradient descent) sample submissions, reproducibly.

Two sets are written:

* ``submissions/task1/``          -- shipped samples (one folder per student);
* ``tests/fixtures/task1_hidden/`` -- a second, larger set of realistic variants that are
  NOT shipped as samples; tests use it to check that the grader generalises.

Each set also gets an ``EXPECTED.yaml`` grade table (fractions of each check's points that a
careful, demanding instructor would give), written from the ``EXPECTED`` dicts below.

Notebooks are written WITHOUT outputs (execution_count null, outputs []) so the files stay
small and diff-friendly.  The student code imitates real student work (Russian comments,
top-level loops, odd names, Colab-isms, bugs) on purpose: see ``../shared/REAL_SUBMISSIONS.md``.

Usage::

    python tools/make_task1_samples.py            # (re)write both sets
    python tools/make_task1_samples.py --check    # also execute every notebook/script with the
                                                  # local python3 kernel and report what happened
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "submissions" / "task1"
HIDDEN = ROOT / "tests" / "fixtures" / "task1_hidden"

CHECK_IDS = ("function", "gradient", "steps", "plot", "stop_rule", "momentum", "nesterov")

KS_PY3 = {"name": "python3", "display_name": "Python 3", "language": "python"}
KS_VENV = {"name": "venv-kernel", "display_name": "Python 3 (.venv)", "language": "python"}
LANG_INFO = {"name": "python", "version": "3.10.12", "mimetype": "text/x-python",
             "file_extension": ".py"}
COLAB_META = {"colab": {"provenance": [], "collapsed_sections": []}}


def d(src: str) -> str:
    return textwrap.dedent(src).strip("\n")


def md(src: str):
    return new_markdown_cell(d(src))


def code(src: str):
    return new_code_cell(d(src))


def notebook(cells, kernelspec=KS_PY3, colab=False):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = dict(kernelspec)
    nb.metadata["language_info"] = dict(LANG_INFO)
    if colab:
        nb.metadata.update(json.loads(json.dumps(COLAB_META)))
    # deterministic cell ids (nbformat generates random ones)
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i:02d}"
        if c.cell_type == "code":
            c.outputs = []
            c.execution_count = None
    return nb


def nb_text(nb) -> str:
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


# ---------------------------------------------------------------------------------------------
# Shared snippets
# ---------------------------------------------------------------------------------------------
IMPORTS = """
import numpy as np
import matplotlib.pyplot as plt
"""

# =============================================================================================
# SHIPPED SET
# =============================================================================================
SHIPPED_FILES: dict[str, dict[str, str | bytes]] = {}
SHIPPED_EXPECTED: dict[str, dict] = {}


def full(**over):
    checks = {k: 1.0 for k in CHECK_IDS}
    checks.update(over)
    return checks


def add(files, expected, student, fname, content, note, checks, status="graded", **extra):
    files.setdefault(student, {})[fname] = content
    entry = {"note": note, "status": status, "checks": checks}
    entry.update(extra)
    expected[student] = entry


# --- 1. ivanov_ivan: fully correct ------------------------------------------------------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "ivanov_ivan", "ДЗ1_градиентный_спуск.ipynb", nb_text(notebook([
    md("""
    # Домашнее задание №1. Градиентный спуск
    Выполнил: Иванов Иван, группа НТ-21

    Функция: $L(x) = 3x^2 - \\sin(x) + e^x - 5$
    """),
    code(IMPORTS),
    md("## 1. Функция, производная и первые шаги"),
    code("""
    def L(x):
        return 3*x**2 - np.sin(x) + np.exp(x) - 5

    # производная, посчитана вручную
    def dL(x):
        return 6*x - np.cos(x) + np.exp(x)
    """),
    code("""
    eta = 0.05   # шаг обучения
    x = 1.5      # начальная точка
    steps = [x]
    for i in range(3):
        x = x - eta * dL(x)
        steps.append(x)
    print(steps)
    """),
    code("""
    xs = np.linspace(-2, 2, 200)
    plt.figure(figsize=(8, 5))
    plt.plot(xs, L(xs), label='L(x)')
    steps = np.array(steps)
    plt.scatter(steps, L(steps), color='red', zorder=3, label='шаги ГС')
    plt.title('Три шага градиентного спуска')
    plt.legend()
    plt.grid()
    plt.show()
    """),
    md("""
    ## 2. Программа для минимизации
    Критерий остановки: $|L(x_{k+1}) - L(x_k)| < \\varepsilon$
    """),
    code("""
    def gradient_descent(f, df, x0, eta=0.05, eps=1e-6, max_iter=10000):
        x = x0
        history = [x]
        for k in range(max_iter):
            x_new = x - eta * df(x)
            history.append(x_new)
            if abs(f(x_new) - f(x)) < eps:
                x = x_new
                break
            x = x_new
        return x, history

    x_min, hist = gradient_descent(L, dL, 1.5)
    print('минимум в точке x =', x_min, ', L(x) =', L(x_min), ', итераций:', len(hist) - 1)
    """),
    code("""
    hist = np.array(hist)
    plt.figure(figsize=(8, 5))
    plt.plot(xs, L(xs), label='L(x)')
    plt.plot(hist, L(hist), 'o--', color='orange', label='градиентный спуск')
    plt.legend()
    plt.show()
    """),
    md("## 3. Бонус: метод моментов и метод Нестерова"),
    code("""
    def momentum_gd(f, df, x0, eta=0.05, gamma=0.9, eps=1e-6, max_iter=10000):
        x = x0
        v = 0
        history = [x]
        for k in range(max_iter):
            v = gamma * v + eta * df(x)
            x_new = x - v
            history.append(x_new)
            if abs(f(x_new) - f(x)) < eps:
                x = x_new
                break
            x = x_new
        return x, history


    def nesterov_gd(f, df, x0, eta=0.05, gamma=0.9, eps=1e-6, max_iter=10000):
        x = x0
        v = 0
        history = [x]
        for k in range(max_iter):
            # градиент в точке "заглядывания вперёд"
            v = gamma * v + eta * df(x - gamma * v)
            x_new = x - v
            history.append(x_new)
            if abs(f(x_new) - f(x)) < eps:
                x = x_new
                break
            x = x_new
        return x, history


    x_m, hist_m = momentum_gd(L, dL, 1.5)
    x_n, hist_n = nesterov_gd(L, dL, 1.5)
    print('моменты:', x_m, len(hist_m) - 1)
    print('Нестеров:', x_n, len(hist_n) - 1)
    """),
    code("""
    plt.figure(figsize=(8, 5))
    plt.plot(xs, L(xs), 'k', label='L(x)')
    plt.plot(hist_m, L(np.array(hist_m)), 'o-', label='momentum')
    plt.plot(hist_n, L(np.array(hist_n)), 's-', label='Nesterov')
    plt.legend()
    plt.show()
    """),
])), "fully correct: L(x)=3x^2-sin x+e^x-5, analytic dL, 3 steps scattered on the curve, "
    "|L(x_k+1)-L(x_k)|<eps, momentum v=g*v+eta*g, Nesterov with the gradient at x-g*v",
    full())

# --- 2. Petrov (Moodle folder): class with history, averaged momentum, w+mu*v Nesterov -------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "Петров Пётр_10234_assignsubmission_file_", "ДЗ1_Петров.ipynb",
    nb_text(notebook([
        md("""
        # ДЗ 1: градиентный спуск (Петров П.)
        Функция $f(x) = e^{0.5x} + x^2 - 2\\cos x$
        """),
        code("""
        import numpy as np
        import matplotlib.pyplot as plt
        %matplotlib inline
        """),
        code("""
        def cost(x):
            return np.exp(0.5 * x) + x**2 - 2 * np.cos(x)

        def grad(x):
            return 0.5 * np.exp(0.5 * x) + 2 * x + 2 * np.sin(x)
        """),
        code("""
        class GradientDescent:
            \"\"\"Градиентный спуск + моменты + Нестеров. История точек хранится в self.history\"\"\"

            def __init__(self, func, grad, lr=0.1, eps=1e-7, max_iter=5000):
                self.func = func
                self.grad = grad
                self.lr = lr
                self.eps = eps
                self.max_iter = max_iter
                self.history = []

            def steps(self, x0, n):
                # n шагов обычного ГС
                self.history = [x0]
                x = x0
                for _ in range(n):
                    x = x - self.lr * self.grad(x)
                    self.history.append(x)
                return x

            def minimize(self, x0):
                self.history = [x0]
                x = x0
                for _ in range(self.max_iter):
                    x_new = x - self.lr * self.grad(x)
                    self.history.append(x_new)
                    if abs(self.func(x_new) - self.func(x)) < self.eps:
                        return x_new
                    x = x_new
                return x

            def minimize_momentum(self, x0, beta=0.9):
                # экспоненциальное сглаживание градиента
                self.history = [x0]
                x, v = x0, 0.0
                for _ in range(self.max_iter):
                    v = beta * v + (1 - beta) * self.grad(x)
                    x_new = x - self.lr * v
                    self.history.append(x_new)
                    if abs(self.func(x_new) - self.func(x)) < self.eps:
                        return x_new
                    x = x_new
                return x

            def minimize_nesterov(self, w0, mu=0.9):
                self.history = [w0]
                w, v = w0, 0.0
                for _ in range(self.max_iter):
                    v = mu * v - self.lr * self.grad(w + mu * v)
                    w_new = w + v
                    self.history.append(w_new)
                    if abs(self.func(w_new) - self.func(w)) < self.eps:
                        return w_new
                    w = w_new
                return w
        """),
        md("### Часть 1: три шага"),
        code("""
        gd = GradientDescent(cost, grad, lr=0.1)
        gd.steps(2.5, 3)
        pts = np.array(gd.history)
        X = np.linspace(-3, 3, 300)
        plt.plot(X, cost(X))
        plt.scatter(pts, cost(pts), c='r')
        for i, p in enumerate(pts):
            plt.annotate(f'x{i}', (p, cost(p)))
        plt.show()
        """),
        md("### Часть 2: минимизация с критерием $|f(x_{k+1}) - f(x_k)| < \\varepsilon$"),
        code("""
        x_star = gd.minimize(2.5)
        print('x* =', x_star, 'f(x*) =', cost(x_star), 'шагов:', len(gd.history) - 1)
        pts = np.array(gd.history)
        plt.plot(X, cost(X))
        plt.plot(pts, cost(pts), 'ro-', markersize=4)
        plt.show()
        """),
        md("### Бонус"),
        code("""
        x_mom = gd.minimize_momentum(2.5, beta=0.9)
        hist_mom = np.array(gd.history)
        x_nes = gd.minimize_nesterov(2.5, mu=0.9)
        hist_nes = np.array(gd.history)
        print(x_mom, len(hist_mom), x_nes, len(hist_nes))
        plt.plot(X, cost(X), 'k')
        plt.plot(hist_mom, cost(hist_mom), 'o-', label='momentum')
        plt.plot(hist_nes, cost(hist_nes), 'x-', label='Нестеров')
        plt.legend()
        plt.show()
        """),
    ])),
    "correct; class GradientDescent keeps points in self.history (overwritten by each method); "
    "momentum in the averaged form v=b*v+(1-b)*g, x-=lr*v; Nesterov v=mu*v-lr*grad(w+mu*v), w+=v",
    full())

# --- 3. task1-smirnova: |f'| < eps, gamma is the learning rate, no bonus -----------------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "task1-smirnova", "task1.ipynb", nb_text(notebook([
    md("# Задание 1\nГрадиентный спуск для функции $f(x) = x^2 + e^{-x} - \\sin x$"),
    code(IMPORTS),
    code("""
    def func(x):
        return x**2 + np.exp(-x) - np.sin(x)

    def grad_func(x):
        return 2*x - np.exp(-x) - np.cos(x)

    gamma = 0.2   # скорость обучения
    x0 = -1.5
    """),
    code("""
    # несколько шагов
    x = x0
    xs_hist = [x]
    for i in range(4):
        x = x - gamma * grad_func(x)
        xs_hist.append(x)
    ys = [func(t) for t in xs_hist]
    t = np.linspace(-2, 2, 100)
    plt.plot(t, func(t))
    plt.plot(xs_hist, ys, 'o-r')
    plt.show()
    """),
    code("""
    # минимизация, останавливаемся когда производная маленькая
    eps = 1e-5
    x = x0
    path = [x]
    while abs(grad_func(x)) > eps:
        x = x - gamma * grad_func(x)
        path.append(x)
    print('Минимум:', x, func(x), 'итераций', len(path) - 1)
    plt.plot(t, func(t))
    plt.plot(path, [func(p) for p in path], 'o-r')
    plt.show()
    """),
])), "correct GD (gamma is the LEARNING RATE here), stop rule |f'(x)|<eps -> partial; no bonus parts",
    full(stop_rule=0.5, momentum=0.0, nesterov=0.0))

# --- 4. sidorov_alexey: |dx| < eps, momentum only, results overwritten by the loop -----------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "sidorov_alexey", "gradient_descent.ipynb", nb_text(notebook([
    md("## Градиентный спуск\n$f(x) = x^4 - 3x^2 + \\sin(x) + 2$"),
    code("""
    import numpy as np
    import matplotlib.pyplot as plt

    f = lambda x: x**4 - 3*x**2 + np.sin(x) + 2
    df = lambda x: 4*x**3 - 6*x + np.cos(x)
    alpha = 0.01
    """),
    code("""
    # три шага руками
    x0 = 2.0
    x1 = x0 - alpha*df(x0)
    x2 = x1 - alpha*df(x1)
    x3 = x2 - alpha*df(x2)
    print(x0, x1, x2, x3)

    x = np.linspace(-2.2, 2.2, 400)
    plt.plot(x, f(x))
    plt.scatter([x0, x1, x2, x3], [f(x0), f(x1), f(x2), f(x3)], color='red')
    plt.show()
    """),
    code("""
    # программа: останавливаемся, когда шаг по x меньше eps
    eps = 1e-6
    x = 2.0
    while True:
        x_new = x - alpha*df(x)
        if abs(x_new - x) < eps:
            break
        x = x_new
    print('x_min =', x, 'f(x_min) =', f(x))
    """),
    md("### Метод моментов (gamma - коэффициент инерции)"),
    code("""
    gamma = 0.8
    x = 2.0
    v = 0
    path_m = [x]
    while True:
        v = gamma*v - alpha*df(x)
        x_new = x + v
        path_m.append(x_new)
        if abs(x_new - x) < eps:
            break
        x = x_new
    print('momentum:', x, len(path_m))
    xx = np.linspace(-2.2, 2.2, 400)
    plt.plot(xx, f(xx))
    plt.plot(path_m, [f(p) for p in path_m], 'go-', ms=3)
    plt.show()
    """),
])), "3 manual steps scattered on the curve; the program keeps only the last x (overwritten by "
    "the loop); stop rule |x_new-x|<eps -> partial; momentum (gamma is the momentum here, alpha "
    "the lr) -> full; no Nesterov",
    full(stop_rule=0.5, nesterov=0.0))

# --- 5. kuznetsova_maria: fixed iterations, plotly, h as lr -----------------------------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "kuznetsova_maria", "Кузнецова_ДЗ1.ipynb", nb_text(notebook([
    md("# ДЗ1 Кузнецова Мария\nФункция потерь $loss(x) = x^2 + 3\\sin x$"),
    code("""
    import numpy as np
    import plotly.graph_objects as go
    """),
    code("""
    def loss(x):
        return x**2 + 3*np.sin(x)

    def dloss(x):
        return 2*x + 3*np.cos(x)

    h = 0.1   # шаг
    n_iter = 50
    """),
    code("""
    x = 3.0
    xs = [x]
    for i in range(n_iter):
        x = x - h*dloss(x)
        xs.append(x)
    xs = np.array(xs)
    print('после', n_iter, 'итераций x =', x, 'loss =', loss(x))
    """),
    code("""
    grid = np.linspace(-4, 4, 200)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=grid, y=loss(grid), mode='lines', name='loss(x)'))
    fig.add_trace(go.Scatter(x=xs, y=loss(xs), mode='markers+lines', name='шаги'))
    fig.update_layout(title='Градиентный спуск')
    fig.show()
    """),
    md("## Бонус"),
    code("""
    beta = 0.7
    x, v = 3.0, 0.0
    xs_mom = [x]
    for i in range(n_iter):
        v = beta*v - h*dloss(x)
        x = x + v
        xs_mom.append(x)

    x, v = 3.0, 0.0
    xs_nest = [x]
    for i in range(n_iter):
        v = beta*v - h*dloss(x + beta*v)   # градиент в точке x + beta*v
        x = x + v
        xs_nest.append(x)
    print(xs_mom[-1], xs_nest[-1])
    """),
    code("""
    fig2 = go.Figure()
    fig2.add_trace(go.Scatter(x=grid, y=loss(grid), mode='lines', name='loss'))
    fig2.add_trace(go.Scatter(x=xs_mom, y=loss(np.array(xs_mom)), mode='markers', name='momentum'))
    fig2.add_trace(go.Scatter(x=xs_nest, y=loss(np.array(xs_nest)), mode='markers', name='Nesterov'))
    fig2.show()
    """),
])), "correct GD, momentum and Nesterov (look-ahead x+beta*v), plots in plotly (curve + marker "
    "trace), but a fixed number of iterations (50) and no stop rule -> stop_rule 0",
    full(stop_rule=0.0))

# --- 6. popov_dmitry: wrong derivative --------------------------------------------------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "popov_dmitry", "hw1.ipynb", nb_text(notebook([
    md("Градиентный спуск, функция $f(x) = x^2 + 5\\sin(x)$"),
    code(IMPORTS),
    code("""
    def f(x):
        return x**2 + 5*np.sin(x)

    def df(x):
        return 2*x - 5*np.cos(x)   # производная
    """),
    code("""
    lr = 0.1
    eps = 1e-6
    x = -3.0
    points = [x]
    while True:
        x_new = x - lr*df(x)
        points.append(x_new)
        if abs(f(x_new) - f(x)) < eps:
            break
        x = x_new
    print('минимум', x_new, f(x_new))
    """),
    code("""
    X = np.linspace(-4, 4, 200)
    plt.plot(X, f(X))
    points = np.array(points)
    plt.scatter(points, f(points), c='red')
    plt.show()
    """),
])), "derivative of 5*sin(x) written as -5*cos(x): gradient 0. The update has the GD form but "
    "follows the wrong gradient (passes the true minimum near -1.11 and climbs to x~1.11, the mirror image): not "
    "true GD steps of f -> steps 0.5 (form right, values wrong). Stop rule is the change of f but "
    "the point where it stops is not a minimum of f -> 0.5. Plot is fine (curve + points). No bonus.",
    full(gradient=0.0, steps=0.5, stop_rule=0.5, momentum=0.0, nesterov=0.0))

# --- 7. morozov_egor: only 2 steps, plot commented out, nothing else ---------------------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "morozov_egor", "Morozov_task1.ipynb", nb_text(notebook([
    code("""
    import numpy as np
    import matplotlib.pyplot as plt
    """),
    code("""
    # функция
    def cost(x):
        return 2*x**2 + np.exp(-x) + np.cos(x)

    def dcost(x):
        return 4*x - np.exp(-x) - np.sin(x)
    """),
    code("""
    lr = 0.1
    x0 = 2
    x1 = x0 - lr*dcost(x0)
    x2 = x1 - lr*dcost(x1)
    print(x0, x1, x2)
    print(cost(x0), cost(x1), cost(x2))
    """),
    code("""
    # x = np.linspace(-3, 3, 100)
    # plt.plot(x, cost(x))
    # plt.show()
    """),
    md("Вторую часть не успел"),
])), "non-trivial function and correct derivative, but only 2 GD steps (task asks for >=3) -> "
    "steps 0.5; the only plot is commented out -> plot 0; no program, no stop rule, no bonus",
    full(steps=0.5, plot=0.0, stop_rule=0.0, momentum=0.0, nesterov=0.0))

# --- 8. volkova_anna: numeric derivative, learn_r, curve without step points ---------------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "volkova_anna", "Волкова_задание1.ipynb", nb_text(notebook([
    md("# Задание 1. Градиентный спуск\n$f(x) = \\sqrt{x^2+1} + \\sin x$"),
    code(IMPORTS),
    code("""
    def f(x):
        return np.sqrt(x**2 + 1) + np.sin(x)

    # производную считаем численно (центральная разность)
    def derivative(func, x, delta=1e-6):
        return (func(x + delta) - func(x - delta)) / (2*delta)
    """),
    code("""
    learn_r = 0.3
    eps = 1e-8
    x = 1.0
    history = [x]
    for i in range(10000):
        x_next = x - learn_r * derivative(f, x)
        history.append(x_next)
        if abs(f(x_next) - f(x)) < eps:
            break
        x = x_next
    print('первые шаги:', history[:4])
    print('минимум:', x_next, f(x_next), 'итераций', i + 1)
    """),
    code("""
    grid = np.linspace(-4, 3, 300)
    plt.plot(grid, f(grid))
    plt.title('f(x)')
    plt.xlabel('x')
    plt.show()
    """),
])), "correct GD with a central-difference numeric derivative, change-of-f stop rule; the plot "
    "shows only the curve, the steps are printed but not marked -> plot 0.5; no bonus",
    full(plot=0.5, momentum=0.0, nesterov=0.0))

# --- 9. sokolov_pavel: f(x)=x**2, otherwise correct -----------------------------------------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "sokolov_pavel", "sokolov.ipynb", nb_text(notebook([
    md("## Градиентный спуск для $f(x)=x^2$"),
    code(IMPORTS),
    code("""
    def f(x):
        return x**2

    def df(x):
        return 2*x

    def gd(x0, lr=0.1, eps=1e-8):
        hist = [x0]
        x = x0
        while True:
            x_new = x - lr*df(x)
            hist.append(x_new)
            if abs(f(x_new) - f(x)) < eps:
                return hist
            x = x_new

    def gd_momentum(x0, lr=0.1, momentum=0.5, eps=1e-8):
        hist = [x0]
        x, v = x0, 0
        while True:
            v = momentum*v + lr*df(x)
            x_new = x - v
            hist.append(x_new)
            if abs(f(x_new) - f(x)) < eps:
                return hist
            x = x_new

    def gd_nesterov(x0, lr=0.1, momentum=0.5, eps=1e-8):
        hist = [x0]
        x, v = x0, 0
        while True:
            v = momentum*v + lr*df(x - momentum*v)
            x_new = x - v
            hist.append(x_new)
            if abs(f(x_new) - f(x)) < eps:
                return hist
            x = x_new
    """),
    code("""
    hist = gd(4.0)
    hist_m = gd_momentum(4.0)
    hist_n = gd_nesterov(4.0)
    print(len(hist), len(hist_m), len(hist_n))
    t = np.linspace(-5, 5, 100)
    plt.plot(t, f(t))
    plt.plot(hist, [f(p) for p in hist], 'ro', label='GD')
    plt.plot(hist_m, [f(p) for p in hist_m], 'g^', label='momentum')
    plt.plot(hist_n, [f(p) for p in hist_n], 'bs', label='Nesterov')
    plt.legend()
    plt.show()
    """),
])), "everything correct, but f(x)=x**2 is far simpler than the example -> function 0.5",
    full(function=0.5))

# --- 10. lebedev_ilya: "Nesterov" with gradient at the current point; rounding; odd kernel -------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "lebedev_ilya", "lab1.ipynb", nb_text(notebook([
    md("# Лабораторная 1\n$f(x) = \\frac{x^2}{2} - 2\\cos x + 0.5x$"),
    code(IMPORTS),
    code("""
    def f(x):
        return x**2 / 2 - 2*np.cos(x) + 0.5*x

    def grad_f(x):
        return x + 2*np.sin(x) + 0.5
    """),
    code("""
    def grad_descent(x0, lr=0.1, eps=1e-7):
        points = [round(x0, 3)]
        x = x0
        while True:
            x_new = x - lr * grad_f(x)
            points.append(round(x_new, 3))
            if abs(f(x_new) - f(x)) < eps:
                break
            x = x_new
        return x_new, points

    x_min, points = grad_descent(2.5)
    print(x_min, points[:5])
    X = np.linspace(-3, 3, 200)
    plt.plot(X, f(X), label='f')
    plt.scatter(points, [f(p) for p in points], color='red', label='шаги')
    plt.legend()
    plt.show()
    """),
    md("## Моменты и Нестеров"),
    code("""
    def momentum(x0, lr=0.1, mu=0.8, eps=1e-7):
        x, v = x0, 0
        pts = [round(x0, 3)]
        while True:
            v = mu*v - lr*grad_f(x)
            x_new = x + v
            pts.append(round(x_new, 3))
            if abs(f(x_new) - f(x)) < eps:
                return x_new, pts
            x = x_new

    def nesterov(x0, lr=0.1, mu=0.8, eps=1e-7):
        # метод Нестерова
        x, v = x0, 0
        pts = [round(x0, 3)]
        while True:
            g = grad_f(x)
            v = mu*v - lr*g
            x_new = x + v
            pts.append(round(x_new, 3))
            if abs(f(x_new) - f(x)) < eps:
                return x_new, pts
            x = x_new

    x_m, pts_m = momentum(2.5)
    x_n, pts_n = nesterov(2.5)
    print(x_m, len(pts_m), x_n, len(pts_n))
    """),
], kernelspec=KS_VENV)),
    "GD/stop rule correct (stored points rounded to 3 decimals); momentum correct; the "
    "'nesterov' function takes the gradient at the current point x: identical to momentum -> "
    "nesterov 0. Notebook has an unknown kernelspec 'venv-kernel' (must still run as python3)",
    full(nesterov=0.0))

# --- 11. kozlov_nikita: NameError in the momentum cell ----------------------------------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "kozlov_nikita", "HW1_Kozlov.ipynb", nb_text(notebook([
    md("# ДЗ 1 Козлов Никита"),
    code(IMPORTS),
    code("""
    def L(x):
        return 2*x**2 - np.sin(2*x) + np.exp(0.3*x)

    def dL(x):
        return 4*x - 2*np.cos(2*x) + 0.3*np.exp(0.3*x)
    """),
    code("""
    def gradient_descent(x0, eta=0.05, eps=1e-6):
        xs = [x0]
        while True:
            xs.append(xs[-1] - eta*dL(xs[-1]))
            if abs(L(xs[-1]) - L(xs[-2])) < eps:
                return np.array(xs)

    xs = gradient_descent(2.0)
    print('x* =', xs[-1], 'шагов', len(xs) - 1)
    grid = np.linspace(-2, 2.5, 200)
    plt.plot(grid, L(grid))
    plt.plot(xs, L(xs), 'o', color='red')
    plt.show()
    """),
    md("## Бонус"),
    code("""
    gamma = 0.9
    xs_m = [2.0]
    v = 0
    for i in range(1000):
        v = gama*v + 0.05*dL(xs_m[-1])
        xs_m.append(xs_m[-1] - v)
        if abs(L(xs_m[-1]) - L(xs_m[-2])) < 1e-6:
            break

    def nesterov(x0, eta=0.05, gamma=0.9, eps=1e-6):
        xs = [x0]
        v = 0
        while True:
            v = gamma*v + eta*dL(xs[-1] - gamma*v)
            xs.append(xs[-1] - v)
            if abs(L(xs[-1]) - L(xs[-2])) < eps:
                return xs

    xs_n = nesterov(2.0)
    """),
    code("""
    plt.plot(grid, L(grid))
    plt.plot(xs_m, L(np.array(xs_m)), 'o-', label='momentum')
    plt.plot(xs_n, L(np.array(xs_n)), 's-', label='Нестеров')
    plt.legend()
    plt.show()
    """),
])), "parts 1-2 correct and run; the bonus cell raises NameError ('gama') on its first loop "
    "iteration, before nesterov() is defined -> momentum 0 and nesterov 0, with the error as reason",
    full(momentum=0.0, nesterov=0.0))

# --- 12. novikov_artem: endless loop in the last (Nesterov) cell ---------------------------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "novikov_artem", "Новиков_ГС.ipynb", nb_text(notebook([
    md("# Градиентный спуск\n$f(x) = x^2 - 4\\sin(x) + e^{0.2x}$"),
    code(IMPORTS),
    code("""
    def f(x):
        return x**2 - 4*np.sin(x) + np.exp(0.2*x)

    def df(x):
        return 2*x - 4*np.cos(x) + 0.2*np.exp(0.2*x)

    lr = 0.1
    eps = 1e-6
    """),
    code("""
    # 1-2 часть
    x = -2.0
    steps = [x]
    while True:
        x_new = x - lr*df(x)
        steps.append(x_new)
        if abs(f(x_new) - f(x)) < eps:
            break
        x = x_new
    print(x_new, f(x_new), len(steps))
    X = np.linspace(-3, 3, 200)
    plt.plot(X, f(X))
    plt.plot(steps, f(np.array(steps)), 'ro--')
    plt.show()
    """),
    code("""
    # моменты
    beta = 0.8
    x, v = -2.0, 0
    steps_m = [x]
    while True:
        v = beta*v + lr*df(x)
        x_new = x - v
        steps_m.append(x_new)
        if abs(f(x_new) - f(x)) < eps:
            break
        x = x_new
    print('momentum', x_new, len(steps_m))
    """),
    code("""
    # Нестеров
    x, v = -2.0, 0
    steps_n = [x]
    while True:
        v = beta*v + lr*df(x - beta*v)
        x_next = x - v
        # steps_n.append(x_next)
        if abs(f(x_new) - f(x)) < eps:
            break
    print('nesterov', x_new, len(steps_n))
    """),
], colab=False)), "parts 1-2 and momentum correct; the last (Nesterov) cell never ends (the break "
    "test uses x_new/x, which the loop never updates; x_new still holds the momentum result) -> the cell is killed by the timeout; "
    "earlier points are kept, nesterov 0 (the look-ahead formula is right but the code never "
    "finishes)",
    full(nesterov=0.0), timed_out_cell=True)

# --- 13. orlova_ekaterina: broken (truncated) notebook JSON -------------------------------------
_orlova_full = nb_text(notebook([
    md("# ДЗ 1 Орлова"),
    code(IMPORTS),
    code("""
    def f(x):
        return 3*x**2 - np.sin(x) + np.exp(x) - 5

    def df(x):
        return 6*x - np.cos(x) + np.exp(x)
    """),
    code("""
    x = 1.0
    for i in range(3):
        x = x - 0.1*df(x)
        print(x)
    """),
]))
add(SHIPPED_FILES, SHIPPED_EXPECTED, "orlova_ekaterina", "ДЗ1.ipynb",
    _orlova_full[: int(len(_orlova_full) * 0.55)],
    "the .ipynb is truncated (invalid JSON, upload interrupted): nothing can be run -> status error, "
    "every check 0 with the parse error as reason",
    {k: 0.0 for k in CHECK_IDS}, status="error")

# --- 14. task1-fedorov-k: .py script, nbconvert export with # In[ ]: markers, tabs ---------------
_fedorov_py = """#!/usr/bin/env python
# coding: utf-8

# # Градиентный спуск
# Федоров К., функция $L(x) = 3x^2 - sin(x) + e^x - 5$

# In[1]:


import numpy as np
import matplotlib.pyplot as plt


# In[2]:


def L(x):
\treturn 3*x**2 - np.sin(x) + np.exp(x) - 5

def dL(x):
\treturn 6*x - np.cos(x) + np.exp(x)


# In[3]:


# три шага
alpha = 0.05
x = -1.5
pts = [x]
for k in range(3):
\tx = x - alpha*dL(x)
\tpts.append(x)
print(pts)
t = np.linspace(-2, 2, 100)
plt.plot(t, L(t))
plt.plot(pts, [L(p) for p in pts], 'o', color='r')
plt.show()


# In[4]:


def gd(x0, alpha=0.05, eps=1e-6, max_iter=10000):
\tx = x0
\ttraj = [x0]
\tfor k in range(max_iter):
\t\tx_new = x - alpha*dL(x)
\t\ttraj.append(x_new)
\t\tif abs(L(x_new) - L(x)) < eps:
\t\t\treturn x_new, traj
\t\tx = x_new
\treturn x, traj


x_min, traj = gd(-1.5)
print('min:', x_min, L(x_min))
plt.plot(t, L(t))
plt.plot(traj, [L(p) for p in traj], 'o-', color='r')
plt.show()


# In[5]:


def gd_momentum(x0, alpha=0.05, gamma=0.9, eps=1e-6, max_iter=10000):
\tx, v = x0, 0.0
\ttraj = [x0]
\tfor k in range(max_iter):
\t\tv = gamma*v + alpha*dL(x)
\t\tx_new = x - v
\t\ttraj.append(x_new)
\t\tif abs(L(x_new) - L(x)) < eps:
\t\t\treturn x_new, traj
\t\tx = x_new
\treturn x, traj


def gd_nesterov(x0, alpha=0.05, gamma=0.9, eps=1e-6, max_iter=10000):
\tx, v = x0, 0.0
\ttraj = [x0]
\tfor k in range(max_iter):
\t\tv = gamma*v + alpha*dL(x - gamma*v)
\t\tx_new = x - v
\t\ttraj.append(x_new)
\t\tif abs(L(x_new) - L(x)) < eps:
\t\t\treturn x_new, traj
\t\tx = x_new
\treturn x, traj


xm, traj_m = gd_momentum(-1.5)
xn, traj_n = gd_nesterov(-1.5)
print(xm, len(traj_m), xn, len(traj_n))


# In[ ]:




"""
add(SHIPPED_FILES, SHIPPED_EXPECTED, "task1-fedorov-k", "gradient_descent.py", _fedorov_py,
    "fully correct .py script (jupyter 'Download as .py' export with '# In[n]:' markers, tab "
    "indentation); must be run as a script",
    full())

# --- 15. Grigorieva (Moodle): Colab-isms, otherwise correct ---------------------------------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "Григорьева Дарья_10240_assignsubmission_file_",
    "Копия блокнота \"ДЗ1\".ipynb", nb_text(notebook([
        code("""
        from google.colab import drive
        drive.mount('/content/drive')
        """),
        code("!pip install numpy matplotlib"),
        code("""
        %matplotlib inline
        import numpy as np
        import matplotlib.pyplot as plt
        """),
        md("## Функция\n$f(x) = x^2 + 2\\sin(3x)/3 + e^{-x}$"),
        code("""
        def f(x):
            return x**2 + 2*np.sin(3*x)/3 + np.exp(-x)

        def df(x):
            return 2*x + 2*np.cos(3*x) - np.exp(-x)
        """),
        code("""
        lr = 0.05
        x = 2.0
        x_steps = [x]
        for _ in range(3):
            x = x - lr*df(x)
            x_steps.append(x)
        x_plot = np.linspace(-1.5, 2.5, 300)
        plt.plot(x_plot, f(x_plot), label='f(x)')
        plt.scatter(x_steps, f(np.array(x_steps)), color='red', label='шаги')
        plt.legend()
        plt.show()
        """),
        code("""
        def gradient_descent(x0, lr=0.05, eps=1e-7, max_iter=10000):
            x = x0
            xs = [x]
            for i in range(max_iter):
                x_new = x - lr*df(x)
                xs.append(x_new)
                if np.abs(f(x_new) - f(x)) < eps:
                    break
                x = x_new
            return xs

        xs = gradient_descent(2.0)
        print('x_min =', xs[-1], 'f =', f(xs[-1]))
        plt.plot(x_plot, f(x_plot))
        plt.plot(xs, f(np.array(xs)), 'o-r')
        plt.show()
        """),
        code("""
        def momentum_gd(x0, lr=0.05, m=0.8, eps=1e-7, max_iter=10000):
            x, v = x0, 0
            xs = [x]
            for i in range(max_iter):
                v = m*v - lr*df(x)
                x_new = x + v
                xs.append(x_new)
                if np.abs(f(x_new) - f(x)) < eps:
                    break
                x = x_new
            return xs

        def nesterov_gd(x0, lr=0.05, m=0.8, eps=1e-7, max_iter=10000):
            x, v = x0, 0
            xs = [x]
            for i in range(max_iter):
                v = m*v - lr*df(x + m*v)
                x_new = x + v
                xs.append(x_new)
                if np.abs(f(x_new) - f(x)) < eps:
                    break
                x = x_new
            return xs

        xs_m = momentum_gd(2.0)
        xs_n = nesterov_gd(2.0)
        print(xs_m[-1], xs_n[-1])
        """),
    ], colab=True)),
    "Colab notebook (drive.mount, !pip install, %matplotlib inline) that is otherwise fully "
    "correct: the Colab-isms must be neutralised, not failed on -> full marks",
    full())

# --- 16. zaitsev_oleg: sympy + lambdify, top-level loops, f only inline in the plot -------------
add(SHIPPED_FILES, SHIPPED_EXPECTED, "zaitsev_oleg", "Zaitsev_DZ1.ipynb", nb_text(notebook([
    code("""
    import sympy as sp
    import math
    import matplotlib.pyplot as plt
    """),
    code("""
    x = sp.symbols('x')
    function = 3*x**2 - sp.sin(x) + sp.exp(x) - 5
    diff_function = sp.diff(function, x)
    print(diff_function)
    f = sp.lambdify(x, function)
    df = sp.lambdify(x, diff_function)
    """),
    code("""
    lr = 0.05
    eps = 0.000001
    x_k = 1.8
    X_steps = [x_k]
    while True:
        x_k1 = x_k - lr*df(x_k)
        X_steps.append(x_k1)
        if abs(f(x_k1) - f(x_k)) < eps:
            break
        x_k = x_k1
    print('Минимум', x_k1, 'за', len(X_steps) - 1, 'шагов')
    """),
    code("""
    X = [i/100 for i in range(-200, 201)]
    plt.plot(X, [3*t**2 - math.sin(t) + math.exp(t) - 5 for t in X])
    plt.scatter(X_steps, [3*t**2 - math.sin(t) + math.exp(t) - 5 for t in X_steps], c='r')
    plt.show()
    """),
    md("Бонус: моменты"),
    code("""
    gamma = 0.85
    x_k = 1.8
    v = 0
    X_mom = [x_k]
    while True:
        v = gamma*v + lr*df(x_k)
        x_k1 = x_k - v
        X_mom.append(x_k1)
        if abs(f(x_k1) - f(x_k)) < eps:
            break
        x_k = x_k1
    print(x_k1, len(X_mom))
    """),
    md("Нестеров"),
    code("""
    x_k = 1.8
    v = 0
    X_nes = [x_k]
    while True:
        v = gamma*v + lr*df(x_k - gamma*v)
        x_k1 = x_k - v
        X_nes.append(x_k1)
        if abs(f(x_k1) - f(x_k)) < eps:
            break
        x_k = x_k1
    print(x_k1, len(X_nes))
    """),
])), "sympy expression `function` + diff + lambdify; all loops at top level; the curve in the "
    "plot is written inline with math.* (no function object used there); everything correct",
    full())


# =============================================================================================
# HIDDEN SET
# =============================================================================================
HIDDEN_FILES: dict[str, dict[str, str | bytes]] = {}
HIDDEN_EXPECTED: dict[str, dict] = {}

# --- h01 kovalenko_igor: class with a history list + momentum method; no Nesterov -------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "kovalenko_igor", "task_1.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    class GD:
        def __init__(self, f, df, lr=0.05, eps=1e-6):
            self.f = f
            self.df = df
            self.lr = lr
            self.eps = eps
            self.history = []

        def step(self, x):
            return x - self.lr * self.df(x)

        def run(self, x0, max_iter=10000):
            self.history = [x0]
            x = x0
            for _ in range(max_iter):
                x_new = self.step(x)
                self.history.append(x_new)
                if abs(self.f(x_new) - self.f(x)) < self.eps:
                    break
                x = x_new
            return self.history[-1]


    class MomentumGD(GD):
        def __init__(self, f, df, lr=0.05, eps=1e-6, gamma=0.9):
            super().__init__(f, df, lr, eps)
            self.gamma = gamma
            self.v = 0

        def step(self, x):
            self.v = self.gamma * self.v + self.lr * self.df(x)
            return x - self.v
    """),
    code("""
    f = lambda x: 3*x**2 - np.sin(x) + np.exp(x) - 5
    df = lambda x: 6*x - np.cos(x) + np.exp(x)

    opt = GD(f, df)
    opt.run(-1.7)
    mom = MomentumGD(f, df)
    mom.run(-1.7)
    print(len(opt.history), len(mom.history))

    xx = np.linspace(-2, 2, 200)
    plt.plot(xx, f(xx))
    h = np.array(opt.history)
    plt.plot(h, f(h), 'o', label='GD')
    hm = np.array(mom.history)
    plt.plot(hm, f(hm), 'x', label='momentum')
    plt.legend()
    plt.show()
    """),
])), "classes GD/MomentumGD with a history list; GD, stop rule on the change of f, momentum "
    "(v=g*v+lr*g) correct; the plot marks the GD steps; no Nesterov",
    full(nesterov=0.0))

# --- h02 Belova (Moodle): num_diff, learn_r, momentum + Nesterov ------------------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "Белова Алиса_20311_assignsubmission_file_", "dz1.ipynb",
    nb_text(notebook([
        md("# ДЗ1\nФункция $f(x) = x^2 - 3\\cos(x) + 0.5x$, производную берём численно"),
        code("""
        import math
        import matplotlib.pyplot as plt
        import numpy as np

        def f(x):
            return x**2 - 3*math.cos(x) + 0.5*x

        def num_diff(func, x, h=1e-5):
            return (func(x + h) - func(x)) / h
        """),
        code("""
        learn_r = 0.1
        eps = 1e-7

        def descent(x0):
            xs = [x0]
            x = x0
            while True:
                x_new = x - learn_r*num_diff(f, x)
                xs.append(x_new)
                if abs(f(x_new) - f(x)) < eps:
                    return xs
                x = x_new

        def descent_momentum(x0, gamma=0.8):
            xs = [x0]
            x, v = x0, 0
            while True:
                v = gamma*v + learn_r*num_diff(f, x)
                x_new = x - v
                xs.append(x_new)
                if abs(f(x_new) - f(x)) < eps:
                    return xs
                x = x_new

        def descent_nesterov(x0, gamma=0.8):
            xs = [x0]
            x, v = x0, 0
            while True:
                v = gamma*v + learn_r*num_diff(f, x - gamma*v)
                x_new = x - v
                xs.append(x_new)
                if abs(f(x_new) - f(x)) < eps:
                    return xs
                x = x_new
        """),
        code("""
        res = descent(3.0)
        res_m = descent_momentum(3.0)
        res_n = descent_nesterov(3.0)
        print(res[-1], res_m[-1], res_n[-1])

        grid = np.linspace(-3, 3.5, 200)
        plt.plot(grid, [f(t) for t in grid])
        plt.scatter(res, [f(t) for t in res], s=15, c='r')
        plt.show()
        """),
    ])), "forward-difference num_diff derivative (h=1e-5: accurate to ~1e-5, acceptable), "
    "learn_r, change-of-f stop rule, momentum and Nesterov (gradient at x-gamma*v): full marks",
    full())

# --- h03 task1-tarasov: heavy ball x-eta*g+b*(x-x_prev), Nesterov (k-1)/(k+2) -----------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "task1-tarasov", "main.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    def L(x):
        return np.log(1 + x**2) + 0.5*(x - 1)**2 + np.sin(x)

    def dL(x):
        return 2*x/(1 + x**2) + (x - 1) + np.cos(x)

    eta = 0.1
    eps = 1e-8
    """),
    code("""
    # обычный ГД
    x_prev, x = None, 4.0
    gd_path = [x]
    while x_prev is None or abs(L(x) - L(x_prev)) >= eps:
        x_prev, x = x, x - eta*dL(x)
        gd_path.append(x)
    print('GD:', x, len(gd_path))
    """),
    code("""
    # тяжёлый шарик (метод Поляка)
    b = 0.7
    x_prev, x = 4.0, 4.0
    hb_path = [x]
    for k in range(10000):
        x_new = x - eta*dL(x) + b*(x - x_prev)
        hb_path.append(x_new)
        x_prev, x = x, x_new
        if abs(L(x) - L(x_prev)) < eps:
            break
    print('heavy ball:', x, len(hb_path))

    # Нестеров в форме с экстраполяцией (k-1)/(k+2)
    x_prev, x = 4.0, 4.0
    nag_path = [x]
    for k in range(1, 10000):
        y = x + (k - 1)/(k + 2)*(x - x_prev)
        x_new = y - eta*dL(y)
        nag_path.append(x_new)
        x_prev, x = x, x_new
        if abs(L(x) - L(x_prev)) < eps:
            break
    print('Nesterov:', x, len(nag_path))
    """),
    code("""
    grid = np.linspace(-3, 4.5, 300)
    plt.plot(grid, L(grid), 'k')
    for path, lab in [(gd_path, 'GD'), (hb_path, 'heavy ball'), (nag_path, 'Nesterov')]:
        p = np.array(path)
        plt.plot(p, L(p), 'o-', ms=3, label=lab)
    plt.legend()
    plt.show()
    """),
])), "heavy-ball momentum written as x - eta*g + b*(x - x_prev) and Nesterov as the (k-1)/(k+2) "
    "extrapolation with the gradient at y: both textbook forms -> full marks",
    full())

# --- h04 gusev_maxim: gamma = momentum, eta = lr, (1-g)*eta*grad form; |dx| rule -------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "gusev_maxim", "Гусев_ДЗ_1.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    def loss_func(x):
        return 0.5*x**4 - x**3 + np.cos(2*x) + x**2

    def grad(x):
        return 2*x**3 - 3*x**2 - 2*np.sin(2*x) + 2*x
    """),
    code("""
    eta = 0.05
    gamma = 0.9
    eps = 1e-6

    def gd(x):
        path = [x]
        while True:
            dx = eta*grad(x)
            x = x - dx
            path.append(x)
            if abs(dx) < eps:
                return path

    def gd_momentum(x):
        path = [x]
        v = 0
        while True:
            v = gamma*v + (1 - gamma)*eta*grad(x)
            x = x - v
            path.append(x)
            if abs(v) < eps:
                return path

    def gd_nesterov(x):
        path = [x]
        v = 0
        while True:
            v = gamma*v + eta*grad(x - gamma*v)
            x = x - v
            path.append(x)
            if abs(v) < eps:
                return path
    """),
    code("""
    p = np.array(gd(2.0))
    pm = np.array(gd_momentum(2.0))
    pn = np.array(gd_nesterov(2.0))
    print(p[-1], pm[-1], pn[-1])
    X = np.linspace(-1.5, 2.5, 300)
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    for a, path, t in zip(ax, [p, pm, pn], ['GD', 'Momentum', 'Nesterov']):
        a.plot(X, loss_func(X))
        a.plot(path, loss_func(path), 'r.')
        a.set_title(t)
    plt.show()
    """),
])), "gamma is the MOMENTUM and eta the lr here; momentum v=g*v+(1-g)*eta*grad, x-=v; Nesterov "
    "at x-gamma*v; stop rule |dx|<eps (|v|<eps for the variants) -> stop_rule 0.5",
    full(stop_rule=0.5))

# --- h05 Antonova (Moodle): f_1..f_3, f_2 used; a stale .ipynb_checkpoints copy ---------------
_antonova_cells = [
    md("Несколько функций, для спуска выбрала $f_2$"),
    code("""
    import numpy as np
    import matplotlib.pyplot as plt

    def f_1(x):
        return x**2

    def f_2(x):
        return x**2 + 2*np.sin(2*x) - 0.5*x

    def f_3(x):
        return np.abs(x) + np.cos(x)

    def df_2(x):
        return 2*x + 4*np.cos(2*x) - 0.5
    """),
    code("""
    x = np.linspace(-3, 3, 300)
    fig, axs = plt.subplots(1, 3, figsize=(12, 3))
    for a, fn, name in zip(axs, [f_1, f_2, f_3], ['f_1', 'f_2', 'f_3']):
        a.plot(x, fn(x))
        a.set_title(name)
    plt.show()
    """),
]
_antonova_full = _antonova_cells + [
    code("""
    lr = 0.05
    eps = 1e-6
    x0 = 2.5
    xk = [x0]
    while True:
        xk.append(xk[-1] - lr*df_2(xk[-1]))
        if abs(f_2(xk[-1]) - f_2(xk[-2])) < eps:
            break
    print('минимум', xk[-1], f_2(xk[-1]), len(xk))
    plt.plot(x, f_2(x))
    plt.plot(xk, [f_2(t) for t in xk], 'or')
    plt.show()
    """),
]
add(HIDDEN_FILES, HIDDEN_EXPECTED, "Антонова Вера_20315_assignsubmission_file_", "ДЗ1.ipynb",
    nb_text(notebook(_antonova_full)),
    "three functions f_1..f_3 are defined and plotted; GD runs on f_2 (non-trivial), change-of-f "
    "stop rule, f_2 steps plotted on f_2's curve; a stale .ipynb_checkpoints copy must be ignored; "
    "no bonus. f_1=x**2 must not be taken as 'the' function",
    full(momentum=0.0, nesterov=0.0))
HIDDEN_FILES["Антонова Вера_20315_assignsubmission_file_"][".ipynb_checkpoints/ДЗ1-checkpoint.ipynb"] = \
    nb_text(notebook(_antonova_cells))

# --- h06 task1-makarov: the function exists only inline ------------------------------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "task1-makarov", "Untitled.ipynb", nb_text(notebook([
    code("""
    import math
    import matplotlib.pyplot as plt
    """),
    code("""
    X = []
    F = []
    x = -6
    while x <= 6:
        X.append(x)
        F.append(x**2 + 10*math.sin(x))
        x += 0.05
    """),
    code("""
    lr = 0.05
    eps = 0.0001
    x_cur = 4
    xs = [x_cur]
    ys = [x_cur**2 + 10*math.sin(x_cur)]
    while True:
        x_cur = x_cur - lr*(2*x_cur + 10*math.cos(x_cur))
        xs.append(x_cur)
        ys.append(x_cur**2 + 10*math.sin(x_cur))
        if abs(ys[-1] - ys[-2]) < eps:
            break
    print(xs[-1], ys[-1], len(xs))
    plt.plot(X, F)
    plt.plot(xs, ys, 'ro')
    plt.show()
    """),
])), "no function object at all: the curve is built inline (F.append(x**2 + 10*math.sin(x))) and "
    "the derivative is written inline in the update; x**2+10 sin x is non-trivial; change-of-f "
    "stop rule; steps marked. Reaches the local minimum near x~3.84 (start 4): a local minimum "
    "counts. No bonus",
    full(momentum=0.0, nesterov=0.0))

# --- h07 nikitina_olga: steps only printed, nothing stored; |f'| rule; final point only ---------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "nikitina_olga", "Никитина.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    def func(x):
        return 2*x**2 + np.exp(-x) + np.sin(3*x)

    def dfunc(x):
        return 4*x - np.exp(-x) + 3*np.cos(3*x)
    """),
    code("""
    alpha = 0.05
    eps = 1e-4
    x = 1.5
    k = 0
    while abs(dfunc(x)) > eps:
        x = x - alpha*dfunc(x)
        k += 1
        print(f'шаг {k}: x = {x:.6f}, f(x) = {func(x):.6f}')
    """),
    code("""
    t = np.linspace(-1.5, 2, 200)
    plt.plot(t, func(t))
    plt.plot(x, func(x), 'r*', markersize=15)
    plt.title('минимум')
    plt.show()
    """),
])), "steps are only printed inside the loop (6 decimals) and never stored: they are true GD "
    "steps -> steps 1.0 (the grader has to read them from the output/trace); stop rule |f'|<eps "
    "-> 0.5; the plot marks only the final point, not the steps -> plot 0.5; no bonus",
    full(plot=0.5, stop_rule=0.5, momentum=0.0, nesterov=0.0))

# --- h08 zakharov_roman: lr too large, diverges ---------------------------------------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "zakharov_roman", "zakharov_hw1.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    def f(x):
        return x**2 + 5*np.sin(x)

    def df(x):
        return 2*x + 5*np.cos(x)
    """),
    code("""
    lr = 1.1
    eps = 1e-6
    x = 1.0
    hist = [x]
    for i in range(30):
        x_new = x - lr*df(x)
        hist.append(x_new)
        if abs(f(x_new) - f(x)) < eps:
            break
        x = x_new
    print('результат:', hist[-1], f(hist[-1]))
    """),
    code("""
    hist = np.array(hist)
    xx = np.linspace(-10, 10, 300)
    plt.plot(xx, f(xx))
    plt.plot(hist, f(hist), 'o')
    plt.show()
    """),
])), "lr=1.1 is too large: the iterates oscillate with growing amplitude and the loop ends after "
    "30 iterations far from any minimum. Each step IS x-lr*f'(x) with a constant lr -> steps 1.0; "
    "the stop rule has the right form but never fires and the run does not stop near a minimum -> "
    "stop_rule 0; the plot does show the curve with the (diverging) steps -> plot 1.0; no bonus",
    full(stop_rule=0.0, momentum=0.0, nesterov=0.0))

# --- h09 task1-pavlova: steps on x^2 drawn over the curve of x^3 - x ------------------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "task1-pavlova", "Task1.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    f = lambda x: x**2
    df = lambda x: 2*x
    lr = 0.2
    x = 3
    x_list = [x]
    for i in range(30):
        x = x - lr*df(x)
        x_list.append(x)
    print(x)
    """),
    code("""
    x_axis = np.linspace(-3, 3, 100)
    plt.plot(x_axis, x_axis**3 - x_axis)
    plt.scatter(x_list, [f(p) for p in x_list], color='red')
    plt.show()
    """),
])), "GD on f(x)=x**2 (too simple -> 0.5) with a fixed 30 iterations (stop_rule 0); the plot "
    "draws the curve of x**3 - x, not f, so the step points are not on the function's curve -> plot 0",
    full(function=0.5, plot=0.0, stop_rule=0.0, momentum=0.0, nesterov=0.0))

# --- h10 semenov_kirill: sum(|grad|) < eps, momentum with m/beta, no Nesterov ------------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "semenov_kirill", "semenov_gd.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    def cost(w):
        return (w - 1)**2 + np.exp(0.5*w) - np.cos(w)

    def grad_cost(w):
        return 2*(w - 1) + 0.5*np.exp(0.5*w) + np.sin(w)
    """),
    code("""
    lr = 0.1
    eps = 1e-6
    w = np.array([-2.0])
    ws = [w.copy()]
    g = grad_cost(w)
    while np.sum(np.abs(g)) > eps:
        w = w - lr*g
        ws.append(w.copy())
        g = grad_cost(w)
    ws = np.concatenate(ws)
    print('w* =', w, 'итераций', len(ws) - 1)
    """),
    code("""
    beta = 0.9
    w = np.array([-2.0])
    m = np.zeros(1)
    ws_m = [w.copy()]
    g = grad_cost(w)
    while np.sum(np.abs(g)) > eps:
        m = beta*m + lr*g
        w = w - m
        ws_m.append(w.copy())
        g = grad_cost(w)
    ws_m = np.concatenate(ws_m)
    print('momentum w* =', w)
    """),
    code("""
    W = np.linspace(-2.5, 2.5, 200)
    plt.plot(W, cost(W))
    plt.scatter(ws, cost(ws), marker='o', label='GD')
    plt.scatter(ws_m, cost(ws_m), marker='x', label='momentum')
    plt.legend()
    plt.show()
    """),
])), "1-element numpy arrays; stop rule sum(|grad|)<eps is a gradient-norm rule -> 0.5; "
    "momentum (m=beta*m+lr*g) correct; no Nesterov",
    full(stop_rule=0.5, nesterov=0.0))

# --- h11 Egorova (Moodle): change of f, stored values rounded, full ------------------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "Егорова Ксения_20320_assignsubmission_file_", "hw_1_egorova.ipynb",
    nb_text(notebook([
        md("# Градиентный спуск\n$L(x) = 3x^2 - \\sin x + e^x - 5$"),
        code(IMPORTS),
        code("""
        L = lambda x: 3*x**2 - np.sin(x) + np.exp(x) - 5
        dL = lambda x: 6*x - np.cos(x) + np.exp(x)
        """),
        code("""
        def GD(x, lr=0.03, eps=1e-5):
            res = [round(x, 3)]
            while True:
                x_new = x - lr*dL(x)
                res.append(round(x_new, 3))
                if abs(L(x_new) - L(x)) < eps:
                    return res
                x = x_new

        def GD_momentum(x, lr=0.03, beta=0.9, eps=1e-5):
            res = [round(x, 3)]
            v = 0
            while True:
                v = beta*v - lr*dL(x)
                x_new = x + v
                res.append(round(x_new, 3))
                if abs(L(x_new) - L(x)) < eps:
                    return res
                x = x_new

        def GD_nesterov(x, lr=0.03, beta=0.9, eps=1e-5):
            res = [round(x, 3)]
            v = 0
            while True:
                v = beta*v - lr*dL(x + beta*v)
                x_new = x + v
                res.append(round(x_new, 3))
                if abs(L(x_new) - L(x)) < eps:
                    return res
                x = x_new

        r = GD(1.9)
        r_m = GD_momentum(1.9)
        r_n = GD_nesterov(1.9)
        print(r[:5], r[-1], r_m[-1], r_n[-1])
        """),
        code("""
        x = np.linspace(-2, 2, 200)
        plt.plot(x, L(x))
        plt.plot(r, [L(p) for p in r], 'o')
        plt.show()
        """),
    ])), "everything correct; stored step values rounded with round(x, 3) (step checks need a "
    "~1e-3 tolerance); change-of-f stop rule; momentum and Nesterov (gradient at x+beta*v)",
    full())

# --- h12 task1-stepanov: decaying learning rate lr/(k+1) ---------------------------------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "task1-stepanov", "gd.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    def f(x):
        return x**2 + np.exp(x) - 2*np.sin(x)

    def df(x):
        return 2*x + np.exp(x) - 2*np.cos(x)
    """),
    code("""
    lr0 = 0.4
    eps = 1e-8
    x = 2.0
    X = [x]
    k = 0
    while True:
        lr = lr0 / (k + 1)     # уменьшаем шаг
        x_new = x - lr*df(x)
        X.append(x_new)
        k += 1
        if abs(f(x_new) - f(x)) < eps:
            break
        x = x_new
    print(x_new, f(x_new), k)
    """),
    code("""
    t = np.linspace(-1.5, 2.5, 200)
    plt.plot(t, f(t))
    plt.plot(X, f(np.array(X)), 'o-r', ms=3)
    plt.show()
    """),
])), "decaying step lr0/(k+1): every step is x - lr_k*f'(x), but the rubric asks for the plain "
    "constant-lr method and here the first three steps use 0.4, 0.2, 0.133 -> steps 0.5 (a valid GD "
    "variant, not the one asked for). Stop rule is the change of f and it does stop near the "
    "minimum -> 1.0. Plot fine. No bonus",
    full(steps=0.5, momentum=0.0, nesterov=0.0))

# --- h13 frolov_denis: names lie (gradient_des_momentum is Nesterov) ------------------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "frolov_denis", "Nesterov.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    def f(x):
        return x**2 - 2*np.cos(x) + np.exp(-x/2)

    def df(x):
        return 2*x + 2*np.sin(x) - 0.5*np.exp(-x/2)
    """),
    code("""
    def gradient_des(x0, lr=0.1, eps=1e-7):
        x = x0
        xs = [x]
        while True:
            x1 = x - lr*df(x)
            xs.append(x1)
            if abs(f(x1) - f(x)) < eps:
                return xs
            x = x1

    def inertia_gd(x0, lr=0.1, mu=0.8, eps=1e-7):
        x, v = x0, 0
        xs = [x]
        while True:
            v = mu*v + lr*df(x)
            x1 = x - v
            xs.append(x1)
            if abs(f(x1) - f(x)) < eps:
                return xs
            x = x1

    def gradient_des_momentum(x0, lr=0.1, mu=0.8, eps=1e-7):
        x, v = x0, 0
        xs = [x]
        while True:
            look = x - mu*v
            v = mu*v + lr*df(look)
            x1 = x - v
            xs.append(x1)
            if abs(f(x1) - f(x)) < eps:
                return xs
            x = x1
    """),
    code("""
    a = gradient_des(-2.5)
    b = inertia_gd(-2.5)
    c = gradient_des_momentum(-2.5)
    print(len(a), len(b), len(c))
    xx = np.linspace(-3, 3, 200)
    plt.plot(xx, f(xx))
    plt.scatter(a, f(np.array(a)), label='GD')
    plt.scatter(b, f(np.array(b)), label='inertia')
    plt.scatter(c, f(np.array(c)), label='c')
    plt.legend()
    plt.show()
    """),
])), "file is named Nesterov.ipynb and the look-ahead method is called gradient_des_momentum, "
    "while heavy-ball momentum is inertia_gd: classify by behaviour, not names -> full marks",
    full())

# --- h14 task1-orlov: sympy with subs/evalf, no lambdify ---------------------------------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "task1-orlov", "hw1.ipynb", nb_text(notebook([
    code("""
    import sympy as sp
    import matplotlib.pyplot as plt
    import numpy as np
    """),
    code("""
    x = sp.Symbol('x')
    function = x**2 + sp.cos(2*x) + x/2
    diff_function = sp.diff(function, x)
    diff_function
    """),
    code("""
    eta = 0.1
    eps = 1e-6
    xk = 2.0
    path = [xk]
    while True:
        xk_new = xk - eta*float(diff_function.subs(x, xk))
        path.append(xk_new)
        if abs(float(function.subs(x, xk_new)) - float(function.subs(x, xk))) < eps:
            break
        xk = xk_new
    print(path[-1], len(path))
    """),
    code("""
    grid = np.linspace(-2, 2.5, 100)
    vals = [float(function.subs(x, g)) for g in grid]
    plt.plot(grid, vals)
    plt.plot(path, [float(function.subs(x, p)) for p in path], 'ro')
    plt.show()
    """),
])), "sympy expression with diff and .subs (no lambdify), change-of-f stop rule, steps on the "
    "curve; no bonus",
    full(momentum=0.0, nesterov=0.0))

# --- h15 belyaev_stepan: endless `while abs(grad) > eps` in the last (Nesterov) cell ----------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "belyaev_stepan", "Беляев_1.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    def f(x):
        return 3*x**2 - np.sin(x) + np.exp(x) - 5

    def grad_f(x):
        return 6*x - np.cos(x) + np.exp(x)

    lr = 0.05
    eps = 1e-6
    """),
    code("""
    x = 1.2
    xs = [x]
    for _ in range(10000):
        x_new = x - lr*grad_f(x)
        xs.append(x_new)
        if abs(f(x_new) - f(x)) < eps:
            break
        x = x_new
    xs = np.array(xs)
    g = np.linspace(-2, 2, 200)
    plt.plot(g, f(g))
    plt.plot(xs, f(xs), 'o')
    plt.show()
    """),
    code("""
    momentum = 0.9
    x, v = 1.2, 0
    xs_m = [x]
    for _ in range(10000):
        v = momentum*v + lr*grad_f(x)
        x_new = x - v
        xs_m.append(x_new)
        if abs(f(x_new) - f(x)) < eps:
            break
        x = x_new
    print('momentum', xs_m[-1])
    """),
    code("""
    # Нестеров
    x, v = 1.2, 0
    xs_n = [x]
    grad = grad_f(x)
    while abs(grad) > eps:
        v = momentum*v + lr*grad_f(x - momentum*v)
        x = x - v
        xs_n.append(x)
    print('nesterov', x)
    """),
])), "GD, change-of-f stop rule, plot and momentum fine; the Nesterov loop tests `grad`, computed "
    "once before the loop, so it never ends -> killed by the timeout (xs_n grows without bound: "
    "memory limit may hit first); earlier points kept, nesterov 0",
    full(nesterov=0.0), timed_out_cell=True)

# --- h16 Ershova (Moodle): all plotting commented out ---------------------------------------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "Ершова Полина_20327_assignsubmission_file_", "ershova.ipynb",
    nb_text(notebook([
        code(IMPORTS),
        code("""
        def f(x):
            return x**2 + np.exp(-2*x) + np.sin(x)

        def df(x):
            return 2*x - 2*np.exp(-2*x) + np.cos(x)

        def gd(x, lr, eps=1e-7):
            pts = [x]
            while True:
                nx = x - lr*df(x)
                pts.append(nx)
                if abs(f(nx) - f(x)) < eps:
                    return pts
                x = nx

        def gd_m(x, lr, g=0.8, eps=1e-7):
            pts = [x]
            v = 0
            while True:
                v = g*v + lr*df(x)
                nx = x - v
                pts.append(nx)
                if abs(f(nx) - f(x)) < eps:
                    return pts
                x = nx

        def gd_n(x, lr, g=0.8, eps=1e-7):
            pts = [x]
            v = 0
            while True:
                v = g*v + lr*df(x - g*v)
                nx = x - v
                pts.append(nx)
                if abs(f(nx) - f(x)) < eps:
                    return pts
                x = nx
        """),
        code("""
        p = gd(2.0, 0.1)
        pm = gd_m(2.0, 0.1)
        pn = gd_n(2.0, 0.1)
        print(p[:4])
        print(p[-1], pm[-1], pn[-1])
        """),
        code("""
        #xx = np.linspace(-1, 2.5, 100)
        #plt.plot(xx, f(xx))
        #plt.plot(p, f(np.array(p)), 'o')
        #plt.show()
        """),
    ])), "all methods correct (change-of-f rule, momentum, Nesterov at x-g*v) but every plotting "
    "line is commented out -> plot 0",
    full(plot=0.0))

# --- h17 task1-kiselev: .py export with get_ipython() magics left in -----------------------------------
_kiselev_py = """#!/usr/bin/env python
# coding: utf-8

# In[1]:


get_ipython().system('pip install numpy matplotlib')


# In[2]:


get_ipython().run_line_magic('matplotlib', 'inline')
import numpy as np
import matplotlib.pyplot as plt


# In[3]:


def L(x):
    return x**2 - np.sin(2*x) + 0.3*np.exp(x)

def dL(x):
    return 2*x - 2*np.cos(2*x) + 0.3*np.exp(x)


# In[4]:


def descent(x0, lr=0.1, eps=1e-6):
    xs = [x0]
    while True:
        xs.append(xs[-1] - lr*dL(xs[-1]))
        if abs(L(xs[-1]) - L(xs[-2])) < eps:
            return np.array(xs)

def momentum_descent(x0, lr=0.1, beta=0.8, eps=1e-6):
    xs = [x0]
    v = 0.0
    while True:
        v = beta*v + lr*dL(xs[-1])
        xs.append(xs[-1] - v)
        if abs(L(xs[-1]) - L(xs[-2])) < eps:
            return np.array(xs)

def nesterov_descent(x0, lr=0.1, beta=0.8, eps=1e-6):
    xs = [x0]
    v = 0.0
    while True:
        v = beta*v + lr*dL(xs[-1] - beta*v)
        xs.append(xs[-1] - v)
        if abs(L(xs[-1]) - L(xs[-2])) < eps:
            return np.array(xs)


# In[5]:


xs = descent(-2.0)
xs_m = momentum_descent(-2.0)
xs_n = nesterov_descent(-2.0)
print(xs[-1], xs_m[-1], xs_n[-1])
X = np.linspace(-2.5, 2.5, 200)
plt.plot(X, L(X))
plt.plot(xs, L(xs), 'ro-')
plt.show()

"""
add(HIDDEN_FILES, HIDDEN_EXPECTED, "task1-kiselev", "dz1.py", _kiselev_py,
    "fully correct .py export whose magics survived as get_ipython().system(...) / "
    "run_line_magic(...): plain `python dz1.py` dies with NameError; the grader must neutralise "
    "these (run under IPython or strip them) -> full marks",
    full())


# --- h18 Sokolova (Moodle): Task 1.1's steps computed by hand in LaTeX, with a slip ------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "Соколова Анна_20331_assignsubmission_file_", "ДЗ1.ipynb",
    nb_text(notebook([
        md("# ДЗ 1. Градиентный спуск\nФункция $f(x) = x^2 + 3\\sin x$, $f'(x) = 2x + 3\\cos x$"),
        code(IMPORTS),
        code("""
        def f(x):
            return x**2 + 3*np.sin(x)

        def df(x):
            return 2*x + 3*np.cos(x)
        """),
        md("""
        ## 1.1. Три шага вручную
        Начальная точка $x_0 = 1$, шаг обучения $\\eta = 0,1$.

        $x_1 = x_0 - \\eta f'(x_0) = 1 - 0,1 \\cdot 3,6209 = 0,6379$

        $x_2 = x_1 - \\eta f'(x_1) = 0,6379 - 0,1 \\cdot 3,6858 = 0,3193$

        $x_3 = x_2 - \\eta f'(x_2) = 0,3193 - 0,1 \\cdot 3,4870 = -0,0294$

        $x_4 = x_3 - \\eta f'(x_3) = -0,0294 - 0,1 \\cdot 2,9399 = -0,3234$
        """),
        code("""
        xs_hand = [1, 0.6379, 0.3193, -0.0294, -0.3234]
        grid = np.linspace(-2, 2, 200)
        plt.plot(grid, f(grid))
        plt.scatter(xs_hand, [f(v) for v in xs_hand], color='red')
        plt.show()
        """),
    ])),
    "steps of Task 1.1 written by hand in LaTeX (decimal commas); step 2 has an arithmetic slip "
    "(0.3193 written, 0.2693 right), steps 3 and 4 follow correctly from the written value: three "
    "correct steps -> steps 1.0 with the slip named; the hand values are plotted on the curve; no "
    "loop, so no stop rule; no bonus",
    full(stop_rule=0.0, momentum=0.0, nesterov=0.0))

# --- h19 task1-kuzmin: torch.optim.SGD(momentum, nesterov=True) instead of hand-written steps --
add(HIDDEN_FILES, HIDDEN_EXPECTED, "task1-kuzmin", "gd_torch.ipynb", nb_text(notebook([
    code(IMPORTS + "import torch\n"),
    code("""
    def f(x):
        return x**2 + 3*torch.sin(x)

    x = torch.tensor(2.5, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.05, momentum=0.9, nesterov=True)
    xs = [x.item()]
    for i in range(60):
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        opt.step()
        xs.append(x.item())
    print(xs[-1])
    """),
    code("""
    grid = np.linspace(-3, 3, 200)
    plt.plot(grid, [f(torch.tensor(g)).item() for g in grid])
    plt.scatter(xs, [f(torch.tensor(v)).item() for v in xs], color='red')
    plt.show()
    """),
])), "the steps, the momentum and Nesterov's look-ahead are all torch.optim.SGD's (nesterov=True): "
    "library work earns part of steps, momentum and Nesterov (0.5 each); autograd's derivative is "
    "shown right by the steps; the trajectory is plotted on the curve; a fixed 60 steps",
    full(steps=0.5, stop_rule=0.0, momentum=0.5, nesterov=0.5))

# --- h20 zhukov_pavel: the momentum file of a "one file per method" hand-in -------------------
add(HIDDEN_FILES, HIDDEN_EXPECTED, "zhukov_pavel", "momentum.ipynb", nb_text(notebook([
    code(IMPORTS),
    code("""
    def f(x):
        return 0.5*x**2 - 2*np.cos(x)

    def df(x):
        return x + 2*np.sin(x)

    x, v = 3.0, 0.0
    beta, lr, eps = 0.8, 0.05, 1e-8
    path = [x]
    while True:
        v = beta*v + lr*df(x)
        x_new = x - v
        path.append(x_new)
        if abs(f(x_new) - f(x)) < eps:
            break
        x = x_new
    t = np.linspace(-4, 4, 200)
    plt.plot(t, f(t))
    plt.plot(path, f(np.array(path)), 'o-')
    plt.show()
    """),
])), "only the momentum method (the student handed in one file per method): no plain GD steps -> "
    "steps 0.5 (momentum_only); momentum correct; the momentum loop stops on the change of f and "
    "reaches the minimum -> stop_rule 1.0; steps plotted; no Nesterov",
    full(steps=0.5, nesterov=0.0))

# --- h21 Lebedeva (Moodle): animated plot whose last frame shows one point; a plotting grid -----
add(HIDDEN_FILES, HIDDEN_EXPECTED, "Лебедева Ольга_20333_assignsubmission_file_", "spusk.ipynb",
    nb_text(notebook([
        code(IMPORTS + "import time\n"),
        code("""
        def f(x):
            return x**2/4 + np.sin(x)

        def df(x):
            return x/2 + np.cos(x)

        x_plt = np.arange(-6, 6, 0.1)
        f_plt = f(x_plt)
        """),
        code("""
        xx, lmd = 3.0, 0.4
        fig, ax = plt.subplots()
        ax.plot(x_plt, f_plt)
        point = ax.scatter(xx, f(xx), color='red')
        for i in range(25):
            xx = xx - lmd*df(xx)
            point.set_offsets([xx, f(xx)])
            fig.canvas.draw()
        plt.show()
        print(xx)
        """),
    ])),
    "25 GD steps, but the animation (set_offsets) leaves only the last point in the figure -> plot "
    "0.5; x_plt = np.arange(-6, 6, 0.1) is a plotting grid, not Nesterov steps; a fixed 25 steps",
    full(plot=0.5, stop_rule=0.0, momentum=0.0, nesterov=0.0))


# =============================================================================================
# Writing
# =============================================================================================
def yaml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def expected_yaml(title: str, expected: dict) -> str:
    out = [f"# {title}",
           "# Generated by tools/make_task1_samples.py -- edit the generator, not this file.",
           "# Values: fraction of each check's points a careful, demanding instructor would give.",
           ""]
    for student, e in expected.items():
        out.append(f"{yaml_str(student)}:")
        out.append(f"  note: {yaml_str(e['note'])}")
        out.append(f"  status: {e['status']}")
        if e.get("timed_out_cell"):
            out.append("  timed_out_cell: true")
        checks = ", ".join(f"{k}: {float(e['checks'][k])}" for k in CHECK_IDS)
        out.append(f"  checks: {{{checks}}}")
    return "\n".join(out) + "\n"


def write_set(root: Path, files: dict, expected: dict, title: str) -> None:
    if root.exists():
        for child in root.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    root.mkdir(parents=True, exist_ok=True)
    for student, fs in files.items():
        for rel, content in fs.items():
            p = root / student / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content, encoding="utf-8")
    (root / "EXPECTED.yaml").write_text(expected_yaml(title, expected), encoding="utf-8")


# =============================================================================================
# --check: execute everything locally and report
# =============================================================================================
def _strip_colab(nb):
    """For the local check only: drop Colab-only lines that need network/Colab."""
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        lines = [ln for ln in c.source.splitlines()
                 if not ln.lstrip().startswith(("!", "from google.colab", "drive.mount"))]
        c.source = "\n".join(lines)
    return nb


def check_set(root: Path, timeout: int = 20) -> None:
    import subprocess
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    for student_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(student_dir.iterdir()):
            if f.is_dir():
                continue
            tag = f"{student_dir.name}/{f.name}"
            if f.suffix == ".py":
                src = f.read_text(encoding="utf-8")
                src = src.replace("get_ipython()", "(lambda: type('I', (), {'system': lambda *a: None, "
                                  "'run_line_magic': lambda *a: None})())()")
                r = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True,
                                   timeout=timeout, env={"MPLBACKEND": "Agg", "PATH": "/usr/bin"})
                print(f"{'OK ' if r.returncode == 0 else 'ERR'} {tag}: "
                      f"{(r.stdout.strip().splitlines() or [''])[-1][:100]} {r.stderr.strip()[-200:]}")
                continue
            try:
                nb = nbformat.read(f, as_version=4)
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(f"BAD {tag}: {type(exc).__name__}: {str(exc)[:80]}")
                continue
            nb = _strip_colab(nb)
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(student_dir)}})
            try:
                client.execute()
                status = "OK "
                msg = ""
            except CellTimeoutError:
                status, msg = "TMO", "cell timed out"
            except CellExecutionError as exc:
                status, msg = "ERR", str(exc).strip().splitlines()[-1][:120]
            last = ""
            for c in nb.cells:
                for o in c.get("outputs", []):
                    if o.get("output_type") == "stream":
                        last = o["text"].strip().splitlines()[-1][:110] if o["text"].strip() else last
            print(f"{status} {tag}: {msg} | last print: {last}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="execute every sample and report")
    args = ap.parse_args(argv)
    write_set(SHIPPED, SHIPPED_FILES, SHIPPED_EXPECTED,
              "Task 1 (gradient descent): expected grades of the shipped samples")
    write_set(HIDDEN, HIDDEN_FILES, HIDDEN_EXPECTED,
              "Task 1 (gradient descent): expected grades of the hidden generalisation set")
    print(f"wrote {len(SHIPPED_FILES)} shipped and {len(HIDDEN_FILES)} hidden task1 submissions")
    if args.check:
        check_set(SHIPPED)
        check_set(HIDDEN)
    return 0


if __name__ == "__main__":
    sys.exit(main())
