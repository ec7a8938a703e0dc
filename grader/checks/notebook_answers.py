"""Written answers: every question in the rubric's list has a real answer in a markdown cell.

The rubric lists the questions (`params.questions`), each with words that identify it:
    - id: pooling
      text: "Зачем нужен пулинг?"           # shown to the student when the answer is missing
      keywords: ["пулинг"]                   # all must appear (stems: "переобуч" matches any ending)
      aliases: ["pooling", "подвыборк"]      # any one of these alone identifies the question too
A paragraph of a markdown cell *is* the question when it matches. Its answer is what follows:
the rest of that paragraph after the question mark, the next paragraphs of the cell and the
markdown cells right after it, up to the next question, a heading or a code cell. Students who
answer without repeating the question ("2. Пулинг уменьшает ...") are matched too: the paragraph
names the topic and is itself the answer. An answer counts when it has at least `min_words`
distinct words that are not the question's own; of several places the fullest answer is taken.

Outcome keys: ok (all answered) | most (>= 75 %) | half (>= 50 %) | few (some) | missing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.checks.base import CheckContext, Outcome
from grader.errors import RubricError
from grader.i18n import tr

_WORD = re.compile(r"[^\W\d_]{2,}|\d+(?:[.,]\d+)?%?")
_MARKUP = re.compile(r"[*_`>#|~]+|\$+|<[^>]+>|!\[[^\]]*\]\([^)]*\)|\]\([^)]*\)")
_BREAK = re.compile(r"^\s*(\d+[.)]|[-*+]\s|#{1,6}\s|\*\*\s*(вопрос|question))", re.IGNORECASE)
_HEADING = re.compile(r"^\s*#{1,6}\s")
_TITLE = re.compile(r"^\s*#\s")
_ANSWER_LABEL = re.compile(r"^\s*(ответ|answer|отв)\s*[:.\-—]?\s*", re.IGNORECASE)
STEM = 5  # Russian endings change; the first letters of a word identify it well enough


class QuestionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    keywords: list[str] = []
    aliases: list[str] = []
    min_words: int | None = Field(default=None, ge=1)


class AnswersParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    questions: list[QuestionSpec] = Field(min_length=1)
    min_words: int = Field(default=10, ge=1)


Params = TypeVar("Params", bound=BaseModel)


def validate_params(model: type[Params], params: dict[str, Any], kind: str) -> Params:
    """The check's `params` as `model`; a RubricError naming each bad key otherwise."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise RubricError(f"{kind} params: {problems}") from None


def normalise(text: str) -> str:
    text = _MARKUP.sub(" ", text.lower().replace("ё", "е"))
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def _stems(text: str) -> set[str]:
    return {w[:STEM] for w in words(text) if len(w) >= 3}


@dataclass(frozen=True)
class Paragraph:
    cell: int  # markdown cell number
    block: int  # index of the run of consecutive markdown cells it belongs to
    text: str
    heading: bool


def paragraphs(cells: list[Any]) -> list[Paragraph]:
    """Markdown cells as paragraphs, split at blank lines, list items and headings."""
    out: list[Paragraph] = []
    block = 0
    for cell in cells:
        if cell.kind != "markdown":
            block += 1
            continue
        current: list[str] = []

        def flush() -> None:
            if any(s.strip() for s in current):
                out.append(Paragraph(cell.number, block, "\n".join(current).strip(), bool(_HEADING.match(current[0]))))
            current.clear()

        for line in cell.source.splitlines():
            if not line.strip():
                flush()
                continue
            if _BREAK.match(line) or (current and _HEADING.match(current[0])):
                flush()
            current.append(line)
        flush()
    return out


def matches(q: QuestionSpec, text: str) -> bool:
    norm = normalise(text)
    if any(normalise(a) in norm for a in q.aliases if a.strip()):
        return True
    if q.keywords and all(normalise(k) in norm for k in q.keywords):
        return True
    own = _stems(q.text)
    return len(own) >= 3 and len(own & _stems(text)) >= 0.6 * len(own)


@dataclass(frozen=True)
class Answer:
    question: QuestionSpec
    cell: int | None
    new_words: int


def _answer_text(par: Paragraph) -> str:
    text = par.text
    if "?" in text:
        text = text[text.rfind("?") + 1:]
    return _ANSWER_LABEL.sub("", text.strip())


def find_answers(cells: list[Any], spec: AnswersParams) -> list[Answer]:
    pars = paragraphs(cells)
    # a top-level title (`# ДЗ 2: MLP и CNN`) names the whole notebook, never one question
    matched = [[] if _TITLE.match(p.text) else [q.id for q in spec.questions if matches(q, p.text)]
               for p in pars]
    found: list[Answer] = []
    for q in spec.questions:
        own = _stems(q.text) | {normalise(k)[:STEM] for k in q.keywords}
        best = Answer(q, None, 0)
        for i, par in enumerate(pars):
            if q.id not in matched[i]:
                continue
            texts = [] if par.heading else [_answer_text(par)]  # a title is never the answer
            for j in range(i + 1, len(pars)):
                nxt = pars[j]
                if nxt.block != par.block or matched[j] or (nxt.heading and not _ANSWER_LABEL.match(
                        normalise(nxt.text))):
                    break
                texts.append(nxt.text)
            new = {w[:STEM] for w in words(" ".join(texts))} - own  # distinct: repeating a phrase adds nothing
            if len(new) > best.new_words:
                best = Answer(q, par.cell, len(new))
        found.append(best)
    return found


def check_answers(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    spec = validate_params(AnswersParams, params, "notebook.answers")
    lang = ctx.lang
    answers = find_answers(ctx.cells, spec)
    ok = [a for a in answers if a.new_words >= (a.question.min_words or spec.min_words)]
    total = len(answers)
    metrics = {"answered": float(len(ok)), "questions": float(total)}
    share = len(ok) / total
    key = ("ok" if share >= 1 else "most" if share >= 0.75 else "half" if share >= 0.5
           else "few" if ok else "missing")
    if key == "ok":
        cells = ", ".join(str(c) for c in sorted({a.cell for a in ok if a.cell is not None}))
        return Outcome(key, tr(lang, "notebook.answers.ok", total=total, cells=cells), metrics)
    missing = []
    for a in answers:
        if a in ok:
            continue
        need = a.question.min_words or spec.min_words
        if a.cell is None:
            missing.append(tr(lang, "notebook.answers.not_found", id=a.question.id, text=a.question.text))
        else:
            missing.append(tr(lang, "notebook.answers.too_short", id=a.question.id, text=a.question.text,
                              cell=a.cell, words=a.new_words, need=need))
    return Outcome(key, tr(lang, "notebook.answers.some", answered=len(ok), total=total,
                           missing="; ".join(missing), need=spec.min_words), metrics)
