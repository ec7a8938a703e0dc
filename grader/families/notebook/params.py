"""The parameters of the notebook-content checks (written answers)."""
from __future__ import annotations

from pydantic import Field

from grader.rubric.params import StrictParams
from grader.rubric.schema import Text


class QuestionSpec(StrictParams):
    id: str = Field(min_length=1)
    text: Text  # as the course words it: one string, or {ru: ..., en: ...}
    keywords: list[str] = []
    aliases: list[str] = []
    min_words: int | None = Field(default=None, ge=1)


class AnswersParams(StrictParams):
    questions: list[QuestionSpec] = Field(min_length=1)
    min_words: int = Field(default=10, ge=1)
