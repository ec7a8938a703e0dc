"""Reference gradient descent for Task 1: plain GD, GD with a stop rule, momentum, Nesterov.

Single steps are written in the canonical "heavy-ball" form on positions, which every textbook
form reduces to (with v the velocity, b the momentum, lr the step size):

    v = b*v + lr*g;  x -= v          ->  d_k = b*d_{k-1} - lr*g(x_k)
    v = b*v - lr*g;  x += v          ->  the same
    v = b*v + (1-b)*g;  x -= lr*v    ->  the same with a = lr*(1-b)
    x - lr*g + b*(x - x_prev)        ->  the same

where d_k = x_{k+1} - x_k. Nesterov evaluates the gradient at the look-ahead point
x_k + b*d_{k-1} (that is x - b*v, or w + mu*v, depending on the sign convention). PyTorch's
`nesterov=True` tracks the look-ahead point itself: buf = b*buf + g; x -= lr*(g + b*buf).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

Grad = Callable[[float], float]
StopRule = Literal["delta_f", "delta_x", "grad_norm", "fixed_steps"]


def gd_step(x: float, grad: Grad, lr: float) -> float:
    return x - lr * grad(x)


def momentum_step(x: float, d_prev: float, grad: Grad, a: float, b: float) -> float:
    """Heavy-ball step: d = b*d_prev - a*g(x)."""
    return x + b * d_prev - a * grad(x)


def nesterov_step(x: float, d_prev: float, grad: Grad, a: float, b: float) -> float:
    """Nesterov step: the gradient at the look-ahead point x + b*d_prev."""
    return x + b * d_prev - a * grad(x + b * d_prev)


def torch_nesterov_step(x: float, buf: float, grad: Grad, lr: float, b: float,
                        first: bool) -> tuple[float, float]:
    """PyTorch SGD(nesterov=True): returns the new point and the new momentum buffer."""
    g = grad(x)
    buf = g if first else b * buf + g
    return x - lr * (g + b * buf), buf


def run_gd(grad: Grad, x0: float, lr: float, steps: int) -> list[float]:
    xs = [x0]
    for _ in range(steps):
        xs.append(gd_step(xs[-1], grad, lr))
    return xs


def run_momentum(grad: Grad, x0: float, a: float, b: float, steps: int,
                 nesterov: bool = False) -> list[float]:
    xs, d = [x0], 0.0
    step = nesterov_step if nesterov else momentum_step
    for _ in range(steps):
        x_new = step(xs[-1], d, grad, a, b)
        d = x_new - xs[-1]
        xs.append(x_new)
    return xs


def run_until(f: Callable[[float], float], grad: Grad, x0: float, lr: float, eps: float,
              rule: StopRule = "delta_f", max_steps: int = 100_000) -> list[float]:
    """GD from x0 until the stop rule holds: |f(x_k+1) - f(x_k)| < eps (the course's rule),
    |x_k+1 - x_k| < eps, or |f'(x_k+1)| < eps; `fixed_steps` runs max_steps steps."""
    xs = [x0]
    for _ in range(max_steps):
        x_new = gd_step(xs[-1], grad, lr)
        xs.append(x_new)
        if rule == "delta_f" and abs(f(x_new) - f(xs[-2])) < eps:
            break
        if rule == "delta_x" and abs(x_new - xs[-2]) < eps:
            break
        if rule == "grad_norm" and abs(grad(x_new)) < eps:
            break
    return xs
