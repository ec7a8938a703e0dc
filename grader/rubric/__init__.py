"""Rubrics: the validated description of an assignment and its graded checks.

    load_rubric("task1")              -> Rubric from rubrics/task1.yaml (errors name file, key, line)
    validate_rubric_file(path)        -> list of problems, empty when the file is valid
    text(value, lang)                 -> a localised Text in one language
"""
from __future__ import annotations

from grader.rubric.loader import (
    available_rubrics,
    default_rubrics_dir,
    load_rubric,
    resolve_rubric_path,
    validate_rubric_file,
)
from grader.rubric.schema import (
    CheckSpec,
    EntrySpec,
    Lang,
    LimitsSpec,
    Rubric,
    Text,
    text,
)

__all__ = [
    "CheckSpec",
    "EntrySpec",
    "Lang",
    "LimitsSpec",
    "Rubric",
    "Text",
    "available_rubrics",
    "default_rubrics_dir",
    "load_rubric",
    "resolve_rubric_path",
    "text",
    "validate_rubric_file",
]
