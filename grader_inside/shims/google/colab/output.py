"""No-op stand-ins for `google.colab.output` helpers."""
from __future__ import annotations


def enable_custom_widget_manager(*_: object, **__: object) -> None:
    return None


def clear(*_: object, **__: object) -> None:
    return None
