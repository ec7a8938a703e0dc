"""One message catalogue for students and instructors, in Russian and English.

Messages live in YAML files under ``grader/messages/`` (one file per owner module, listed
explicitly in ``CATALOGUE_FILES``); each key maps to ``{ru: ..., en: ...}`` templates written
with ``str.format`` fields.
"""
from __future__ import annotations

import functools
from importlib import resources
from typing import Any, Literal

import yaml

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")
CATALOGUE_FILES = ("common.yaml", "run.yaml", "intake.yaml", "gd.yaml", "report.yaml", "selfcheck.yaml",
                   "models.yaml", "notebook.yaml", "manual.yaml", "hw3.yaml", "apps.yaml", "integrity.yaml",
                   "review.yaml", "cluster.yaml")


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    base = resources.files("grader") / "messages"
    for name in CATALOGUE_FILES:
        res = base / name
        if not res.is_file():
            continue
        data = yaml.load(res.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        for key, texts in data.items():
            if key in merged:
                raise ValueError(f"message key {key!r} is defined twice (second time in {name})")
            if not isinstance(texts, dict) or set(texts) != set(LANGS):
                raise ValueError(f"message {key!r} in {name} must have exactly the keys ru and en")
            merged[key] = {lang: str(texts[lang]) for lang in LANGS}
    return merged


def tr(lang: str, key: str, **params: Any) -> str:
    """The message `key` in `lang`, with `params` filled in."""
    texts = catalogue().get(key)
    if texts is None:
        raise KeyError(f"no message {key!r} in the catalogue")
    template = texts.get(lang) or texts["en"]
    return template.format(**params)
