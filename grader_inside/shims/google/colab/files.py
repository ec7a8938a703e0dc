"""`files.upload()` cannot ask anyone for a file during grading: it returns nothing."""
from __future__ import annotations


def upload(*_: object, **__: object) -> dict[str, bytes]:
    return {}


def download(*_: object, **__: object) -> None:
    return None
