"""The toy family's probe: runs in the student's kernel (its source is handed to the kernel; it may
import the standard library and grader_inside, never grader). Returns plain JSON."""
from __future__ import annotations

from typing import Any


def collect(namespace: dict[str, Any], session: Any) -> dict[str, Any]:
    value = namespace.get("answer")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return {"found": False}
    return {"found": True, "value": float(value)}
