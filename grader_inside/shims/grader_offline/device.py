"""'cuda' and 'mps' fall back to the CPU when the grader has no such device.

Student code hard-codes `torch.device("cuda:0")`, `.cuda()`, `.to("mps")`, `torch.load` of a
GPU checkpoint. On a grader without that device these would all raise; here they land on the
CPU instead (once noted in the report). Nothing changes where the device exists.
"""
from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

from grader_offline.log import used

FACTORIES = ("tensor", "as_tensor", "zeros", "ones", "empty", "full", "rand", "randn", "randint",
             "randperm", "arange", "linspace", "logspace", "eye", "zeros_like", "ones_like",
             "empty_like", "full_like", "rand_like", "randn_like", "randint_like", "normal")


def _missing(torch: ModuleType, kind: str) -> bool:
    if kind == "cuda":
        return not torch.cuda.is_available()
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    return not (mps is not None and mps.is_available())


def _is_missing_device(torch: ModuleType, value: Any) -> bool:
    if isinstance(value, str):
        kind = value.split(":", 1)[0].strip().lower()
    elif isinstance(value, torch.device):
        kind = value.type
    else:
        return False
    return kind in ("cuda", "mps") and _missing(torch, kind)


def _cpu_for(torch: ModuleType, value: Any) -> Any:
    if _is_missing_device(torch, value):
        used(f"device {str(value)!r} is not available on the grader: the CPU was used instead")
        return torch.device("cpu")
    return value


def _map_args(torch: ModuleType, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    args = tuple(_cpu_for(torch, a) for a in args)
    for key in ("device", "map_location"):
        if key in kwargs:
            kwargs[key] = _cpu_for(torch, kwargs[key])
    return args, kwargs


def _wrap(torch: ModuleType, fn: Any) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = _map_args(torch, args, kwargs)
        return fn(*args, **kwargs)

    wrapper._grader_shim = True  # type: ignore[attr-defined]
    return wrapper


def patch_torch(torch: ModuleType) -> None:
    if not (_missing(torch, "cuda") or _missing(torch, "mps")) or getattr(torch.Tensor.to, "_grader_shim", False):
        return
    torch.Tensor.to = _wrap(torch, torch.Tensor.to)
    torch.nn.Module.to = _wrap(torch, torch.nn.Module.to)
    for name in FACTORIES:
        if hasattr(torch, name):
            setattr(torch, name, _wrap(torch, getattr(torch, name)))
    if _missing(torch, "cuda"):
        _patch_cuda(torch)
    original_load = torch.load

    @functools.wraps(original_load)
    def load(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("map_location") is None and len(args) < 2:
            kwargs["map_location"] = "cpu"
        args, kwargs = _map_args(torch, args, kwargs)
        return original_load(*args, **kwargs)

    torch.load = load
    if hasattr(torch, "set_default_device"):
        torch.set_default_device = _wrap(torch, torch.set_default_device)


def _patch_cuda(torch: ModuleType) -> None:
    def tensor_cuda(self: Any, *args: Any, **kwargs: Any) -> Any:
        used("'.cuda()' called without a GPU on the grader: the tensor stayed on the CPU")
        return self

    def module_cuda(self: Any, *args: Any, **kwargs: Any) -> Any:
        used("'.cuda()' called without a GPU on the grader: the model stayed on the CPU")
        return self

    torch.Tensor.cuda = tensor_cuda
    torch.nn.Module.cuda = module_cuda
    cuda = torch.cuda
    cuda.synchronize = lambda *a, **k: None
    cuda.get_device_name = lambda *a, **k: "CPU (the grader has no GPU)"
    cuda.empty_cache = lambda *a, **k: None
