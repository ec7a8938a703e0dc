"""Probe data as strict JSON: what every probe hands back (the probe cell's output, models.json).

A module of its own because both the kernel's wrap-up (`kernel.finish`) and the models probes
(`models`, `images`) write it, and the models probes are imported by the kernel only when run.
"""
from __future__ import annotations

import math
from typing import Any


def clean_json(obj: Any) -> Any:
    """The same structure with NaN/inf floats as None, so the JSON is strict."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    return obj
