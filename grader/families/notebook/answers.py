"""Written answers: every question in the rubric's list has a real answer in a markdown cell.

The rubric lists the questions (`params.questions`), each with words that identify it:
    - id: pooling
      text: {ru: "Зачем нужен пулинг?", en: "What is pooling for?"}  # a string, or ru/en versions
      keywords: ["пулинг"]                   # all must appear (stems: "переобуч" matches any ending)
      aliases: ["pooling", "подвыборк"]      # any one of these alone names the topic too
Credit goes only to text that answers a listed question, never to text that only mentions its
topic (tutorial or narrative prose: "next we add a convolutional layer and max pooling"). A
paragraph of a markdown cell is taken
    as the question  when it is shaped as one (a question mark, a heading, a numbered, labelled or
                     bold line) and restates the question (half or more of the question's own
                     words, in either of its languages); when it is a question written as one
                     (numbered, labelled "Вопрос 3", or bold) that names the topic; or when it
                     names the topic in a section about the questions (under a heading with
                     вопрос/ответ/question/answer);
    as an answer     when it names the topic in such a section ("2. Пулинг уменьшает ..."), after
                     an answer label ("Ответ: ..."), or with the topic as its opening label
                     ("Overfitting: the model ...", "Аугментация — ...").
The answer is the rest of that paragraph after the question mark, the next paragraphs of the cell
and the markdown cells right after it, up to the next question, a heading or a code cell. It
counts when it has at least `min_words` distinct words that are not the question's own; of
several places the fullest answer is taken. English and Russian notebooks are read alike.

Outcome keys: ok (all answered) | most (>= 75 %) | half (>= 50 %) | few (some) | missing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from grader.artifacts import CheckContext, Outcome
from grader.families.notebook.params import AnswersParams, QuestionSpec
from grader.errors import RubricError
from grader.i18n import joined, msg
from grader.rubric.schema import text

_WORD = re.compile(r"[^\W\d_]{2,}|\d+(?:[.,]\d+)?%?")
_MARKUP = re.compile(r"[*_`>#|~]+|\$+|<[^>]+>|!\[[^\]]*\]\([^)]*\)|\]\([^)]*\)")
_BREAK = re.compile(r"^\s*(\d+[.)]|[-*+]\s|#{1,6}\s|\*\*\s*(вопрос|question))", re.IGNORECASE)
_HEADING = re.compile(r"^\s*#{1,6}\s")
_TITLE = re.compile(r"^\s*#\s")
_HEADING_LEVEL = re.compile(r"^\s*(#{1,6})\s")
_ANSWER_LABEL = re.compile(r"^\s*(ответ|answer|отв)\s*[:.\-—]?\s*", re.IGNORECASE)
_SECTION = re.compile(r"вопрос|ответ|question|answer|\bq\s*&\s*a\b|\bfaq\b", re.IGNORECASE)
_LABELLED = re.compile(r"^\s*(?:[*_]{1,2}\s*)?(?:(?:вопрос|question|задание|task|q)\s*№?\s*\d+|\d{1,2}\s*[.)])",
                       re.IGNORECASE)
_BOLD = re.compile(r"^\s*(\*\*|__)(?P<body>[^\n]+?)\1\s*[:.]?\s*$")
_NUMBER = re.compile(r"^\s*(?:(?:вопрос|question|q)\s*№?\s*)?\d{1,2}\s*[.):]\s*", re.IGNORECASE)
_TOPIC_END = re.compile(r"\s*(?::|—|–|\s-\s|\.\s)")
TOPIC_LABEL_WORDS = 3  # "Transfer learning — ...": the topic and a label mark within the first words
BOLD_HEADING_WORDS = 8
RESTATED = 0.5  # share of the question's own words a paragraph repeats when it restates the question
STEM = 5  # Russian endings change; the first letters of a word identify it well enough


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
    section: bool = False  # inside a section about the questions (an open heading above names them)


def _heading_level(par_text: str) -> int | None:
    """1..6 for a markdown heading; 7 for a short paragraph bold as a whole that names the
    questions or answers ("**Ответы на вопросы:**"); None otherwise."""
    m = _HEADING_LEVEL.match(par_text)
    if m:
        return len(m.group(1))
    bold = _BOLD.match(par_text)
    if bold and len(bold.group("body").split()) <= BOLD_HEADING_WORDS and _SECTION.search(bold.group("body")):
        return 7
    return None


def paragraphs(cells: list[Any]) -> list[Paragraph]:
    """Markdown cells as paragraphs, split at blank lines, list items and headings; each knows
    whether a heading above it that is still open (not closed by one of its level or higher)
    names the questions or the answers."""
    out: list[Paragraph] = []
    block = 0
    above: list[tuple[int, bool]] = []  # (level, names the questions) of the open headings
    for cell in cells:
        if cell.kind != "markdown":
            block += 1
            continue
        current: list[str] = []

        def flush() -> None:
            if any(s.strip() for s in current):
                par_text = "\n".join(current).strip()
                level = _heading_level(par_text)
                while level is not None and above and above[-1][0] >= level:
                    above.pop()
                section = any(names for _, names in above)
                out.append(Paragraph(cell.number, block, par_text, bool(_HEADING.match(current[0])), section))
                if level is not None:
                    above.append((level, bool(_SECTION.search(par_text))))
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


def _versions(q: QuestionSpec) -> list[str]:
    return [q.text] if isinstance(q.text, str) else [t for t in q.text.values() if t]


def restates(q: QuestionSpec, par_text: str) -> bool:
    """At least half of the question's own words (of one of its language versions) are in the paragraph."""
    have = _stems(par_text)
    for version in _versions(q):
        own = _stems(version)
        if len(own) >= 3 and len(own & have) >= RESTATED * len(own):
            return True
    return False


def names_topic(q: QuestionSpec, par_text: str) -> bool:
    """The paragraph names the question's topic: one of its aliases, or all of its keywords."""
    norm = normalise(par_text)
    if any(normalise(a) in norm for a in q.aliases if a.strip()):
        return True
    return bool(q.keywords) and all(normalise(k) in norm for k in q.keywords)


def _topic_label(q: QuestionSpec, par_text: str) -> bool:
    """The paragraph opens with the topic as its label and goes on to say something about it:
    "Overfitting: the model ...", "4. Transfer learning — ..." (not a caption such as "A
    convolutional layer in PyTorch:" before a code cell)."""
    head = _NUMBER.sub("", normalise(par_text), count=1)
    end = _TOPIC_END.search(head)
    return (end is not None and len(head[:end.start()].split()) <= TOPIC_LABEL_WORDS
            and len(head[end.end():].split()) >= TOPIC_LABEL_WORDS and names_topic(q, head[:end.start()]))


def _labelled_question(par_text: str) -> bool:
    """A question written as one: numbered or labelled ("2.", "Вопрос 3", "Q1") or in bold."""
    asked = par_text.split("?", 1)[0]
    return bool(_LABELLED.match(asked) or re.match(r"^\s*(\*\*|__)", asked))


def _asked(par: Paragraph) -> str | None:
    """What the paragraph asks, if it is shaped as a question: the text up to its last question
    mark, or the whole of a heading or of a numbered, labelled or bold line; None for prose."""
    if "?" in par.text:
        return par.text[:par.text.rfind("?") + 1]
    if par.heading or _LABELLED.match(par.text) or _BOLD.match(par.text):
        return par.text
    return None


def role(q: QuestionSpec, par: Paragraph) -> str | None:
    """How the paragraph addresses the question: "question" (its answer follows), "answer" (it
    answers without repeating the question), or None (it does not: narrative or tutorial prose
    that mentions the topic, a title naming the whole notebook)."""
    if _TITLE.match(par.text):
        return None
    asked = _asked(par)
    if asked is not None and restates(q, asked):
        return "question"
    if not names_topic(q, par.text):
        return None
    asks = "?" in par.text
    if par.section or (asks and _labelled_question(par.text)):
        return "question" if asks or par.heading else "answer"
    if _ANSWER_LABEL.match(normalise(par.text)) or _topic_label(q, par.text):
        return "answer"
    return None


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
    roles = [{q.id for q in spec.questions if role(q, p) is not None} for p in pars]
    found: list[Answer] = []
    for q in spec.questions:
        own = set().union(*(_stems(v) for v in _versions(q))) | {normalise(k)[:STEM] for k in q.keywords}
        best = Answer(q, None, 0)
        for i, par in enumerate(pars):
            if q.id not in roles[i]:
                continue
            texts = [] if par.heading else [_answer_text(par)]  # a heading is never the answer
            for j in range(i + 1, len(pars)):
                nxt = pars[j]
                if nxt.block != par.block or roles[j] or (nxt.heading and not _ANSWER_LABEL.match(
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
        return Outcome(key, msg("notebook.answers.ok", total=total, cells=cells), metrics)
    missing = []
    for a in answers:
        if a in ok:
            continue
        need = a.question.min_words or spec.min_words
        if a.cell is None:
            missing.append(msg("notebook.answers.not_found", id=a.question.id, text=text(a.question.text, lang)))
        else:
            missing.append(msg("notebook.answers.too_short", id=a.question.id, text=text(a.question.text, lang),
                              cell=a.cell, words=a.new_words, need=need))
    return Outcome(key, msg("notebook.answers.some", answered=len(ok), total=total,
                           missing=joined(missing, "; "), need=spec.min_words), metrics)
