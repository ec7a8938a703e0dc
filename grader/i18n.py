"""One message catalogue for students and instructors, in Russian and English.

Messages live in YAML files: the pipeline's under ``grader/messages/`` (listed in ``CATALOGUE_FILES``), each
assignment family's in its folder (``grader/families/<name>/messages.yaml``); each key maps to
``{ru: ..., en: ...}`` templates.

Templates are ICU MessageFormat (parsed by pyicumessageformat; plural rules, numbers and dates
from CLDR through Babel):

- ``{name}``: a field. A number is written the language's way (``9,5`` in Russian, ``9.5`` in
  English; at most four decimals, no grouping); a nested :class:`Message` in the language asked.
- ``{n, plural, one {# шаг} few {# шага} many {# шагов} other {# шага}}``: the branch CLDR picks
  for the number as shown (1, 21 -> one; 2-4, 22 -> few; 0, 5-20, 11-14 -> many; 0,5 -> other
  in Russian); ``#`` is the number itself; ``=0 {...}`` matches an exact value. Every category
  of the language must be there (checked by :func:`catalogue_problems`).
- ``{x, number}`` (grouped digits), ``{x, number, 0.0}`` (a CLDR decimal pattern),
  ``{x, number, integer}``, ``{x, number, percent}`` (0.975 -> 98 %).
- ``{kind, select, web {...} other {...}}``: a branch by a word.
- ``{at, datetime}``: an ISO 8601 time as "5 марта 2026, 14:30 UTC+03:00".
- A quote doubles to write a literal brace: ``'{'``; a lone apostrophe is text (``grader's``).

A file listed in ``LEGACY_FILES`` holds ``str.format`` templates (none is left: every file is
ICU); its messages render with ``str.format``, and :class:`Message` works with both. Converting one:
rewrite its templates (``{x:.4g}`` -> ``{x}`` or ``{x, number, 0.###}``; a number before a noun ->
a plural; a time -> ``{at, datetime}``), drop it from ``LEGACY_FILES`` until
:func:`catalogue_problems` is empty; in its checks return ``msg(...)`` instead of
``tr(lang, ...)``, pass numbers as numbers, nested pieces as messages, lists and concatenations
as :func:`joined`, raise with :func:`error`; charts as data (``grader.report.charts``).

A :class:`Message` is a catalogue key with its plain fields. Results keep it next to the text
rendered at grading time, so a report re-rendered in the other language says everything in that
language (see ``grader/results.py``).
"""
from __future__ import annotations

import functools
import logging
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from typing import Any, Literal, TypeVar, Union

import yaml
from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent, format_scientific
from pyicumessageformat import Parser

from grader.errors import GraderError
from grader.families import message_files

logger = logging.getLogger(__name__)
E = TypeVar("E", bound=GraderError)

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")
CATALOGUE_FILES = ("common.yaml", "run.yaml", "intake.yaml", "report.yaml", "selfcheck.yaml", "integrity.yaml",
                   "review.yaml", "cluster.yaml")
"""The pipeline's own catalogue files in grader/messages; each assignment family's messages are in its
folder (grader/families/<name>/messages.yaml) and are read with these."""
# Catalogue files still holding str.format templates; none is left (every file is ICU MessageFormat).
LEGACY_FILES: frozenset[str] = frozenset()

DECIMALS = 4  # a plain number shows at most this many decimals (0.9876, not 0.98765432)
_QUANTUM = Decimal(1).scaleb(-DECIMALS)
DATETIME_PATTERN = "d MMMM y, HH:mm"  # CLDR pattern: 5 марта 2026, 14:30 / 5 March 2026, 14:30
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
_PARSER = Parser({"require_other": True})


# ---------------------------------------------------------------------------------------------
# Messages as data


@dataclass(frozen=True)
class Joined:
    """Parts written one after another with `sep` between them (a list of cells, sentences)."""

    parts: tuple[Field, ...]
    sep: str = ""

    def render(self, lang: str) -> str:
        return self.sep.join(_plain_text(part, lang) for part in self.parts)

    def to_json(self) -> dict[str, Any]:
        return {"join": [_field_to_json(p) for p in self.parts], "sep": self.sep}


@dataclass(frozen=True)
class Message:
    """A catalogue key and its fields (plain values, or messages that render in the same language)."""

    key: str
    fields: Mapping[str, Field] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        """The message in `lang` (KeyError: the catalogue has no such key)."""
        return _render(lang, self.key, self.fields)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "fields": {k: _field_to_json(v) for k, v in self.fields.items()}}

    @classmethod
    def from_json(cls, data: Any) -> Message | None:
        """The message stored by :meth:`to_json`; None for anything else (results of older graders)."""
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            return None
        fields = data.get("fields")
        return cls(data["key"], {str(k): _field_from_json(v) for k, v in fields.items()}
                   if isinstance(fields, dict) else {})


Field = Union[str, int, float, None, Message, Joined]
Text = Union[Message, Joined]  # what results keep of a text for people


def text_from_json(data: Any) -> Text | None:
    """A stored :data:`Text` (None for anything else: results of older graders)."""
    value = _field_from_json(data) if isinstance(data, dict) else None
    return value if isinstance(value, (Message, Joined)) else None


def msg(key: str, **fields: Any) -> Message:
    """The message `key` with `fields` (KeyError at once for a key the catalogue lacks)."""
    if key not in catalogue():
        raise KeyError(f"no message {key!r} in the catalogue")
    return Message(key, {name: _plain_field(value) for name, value in fields.items()})


def joined(parts: Sequence[Any], sep: str = ", ") -> Joined:
    """`parts` (messages or plain values) as one field, `sep` between them."""
    return Joined(tuple(_plain_field(p) for p in parts), sep)


def tr(lang: str, key: str, **params: Any) -> str:
    """The message `key` in `lang`, with `params` filled in (as they are for a str.format
    template of a family file not converted yet)."""
    if is_legacy(key):
        return _render(lang, key, params)
    return _render(lang, key, {name: _plain_field(value) for name, value in params.items()})


def said(value: str | Text, lang: str) -> tuple[str, Text | None]:
    """(text in `lang`, message) of a value that is a message or, from code not converted yet, text."""
    if isinstance(value, (Message, Joined)):
        return value.render(lang), value
    return value, None


def text_of(value: str | Text, lang: str) -> str:
    """A message (or text) as text in `lang`."""
    return said(value, lang)[0]


def error(cls: type[E], lang: str, key: str, **fields: Any) -> E:
    """An exception of the grader's error tree whose text is message `key` in `lang`; the message
    rides along as ``said`` so a result keeps it (see :class:`grader.errors.GraderError`)."""
    message = msg(key, **fields)
    return cls(message.render(lang), said=message)


def error_text(exc: BaseException, lang: str) -> str:
    """An error's message in `lang` when it kept its catalogue message (see :func:`error`),
    else its text."""
    return localized(str(exc), kept_message(exc), lang)


def kept_message(exc: BaseException) -> Text | None:
    """The catalogue message an error of the grader's tree was made from, if any."""
    said_ = getattr(exc, "said", None)
    return said_ if isinstance(said_, (Message, Joined)) else None


def localized(text: str | None, message: Text | None, lang: str) -> str:
    """A stored message in `lang`: rendered from its key when the result kept one and the catalogue
    still knows it, else the text written at grading time (results of older graders)."""
    if message is not None:
        try:
            return message.render(lang)
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            logger.warning("message %s could not be rendered in %s (%s); its stored text is shown",
                           message, lang, exc)
    return text or ""


def _plain_field(value: Any) -> Field:
    """A field as the results store it: numbers as int/float (numpy's too), paths as text."""
    if value is None or isinstance(value, (str, Message, Joined)):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)  # type: ignore[return-value]
    return str(value)


def _field_to_json(value: Field) -> Any:
    if isinstance(value, (Message, Joined)):
        return value.to_json()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN; the text reads "nan" / "inf"
    return value


def _field_from_json(data: Any) -> Field:
    if isinstance(data, dict):
        if "join" in data and isinstance(data["join"], list):
            return Joined(tuple(_field_from_json(p) for p in data["join"]), str(data.get("sep", "")))
        return Message.from_json(data)
    if data is None or isinstance(data, (str, int, float)) and not isinstance(data, bool):
        return data
    return str(data)


# ---------------------------------------------------------------------------------------------
# The catalogue


@functools.lru_cache(maxsize=1)
def _load() -> tuple[dict[str, dict[str, str]], frozenset[str]]:
    merged: dict[str, dict[str, str]] = {}
    legacy: set[str] = set()
    base = resources.files("grader") / "messages"
    sources: list[tuple[str, str]] = []
    for name in CATALOGUE_FILES:
        res = base / name
        if not res.is_file():  # a listed file that is not there is our bug, not a message less
            raise FileNotFoundError(f"message catalogue {name} is missing from grader/messages")
        sources.append((name, res.read_text(encoding="utf-8")))
    sources += [(str(path), path.read_text(encoding="utf-8")) for path in message_files()]
    for name, content in sources:
        data = yaml.load(content, Loader=_LOADER) or {}
        for key, texts in data.items():
            if key in merged:
                raise ValueError(f"message key {key!r} is defined twice (second time in {name})")
            if not isinstance(texts, dict) or set(texts) != set(LANGS):
                raise ValueError(f"message {key!r} in {name} must have exactly the keys ru and en")
            merged[key] = {lang: str(texts[lang]) for lang in LANGS}
            if name in LEGACY_FILES:
                legacy.add(key)
    return merged, frozenset(legacy)


def catalogue() -> dict[str, dict[str, str]]:
    """Every message: key -> {language: template}."""
    return _load()[0]


def is_legacy(key: str) -> bool:
    """Whether `key`'s templates are ``str.format`` ones (a family file not converted yet)."""
    return key in _load()[1]


@functools.lru_cache(maxsize=None)
def _parsed(key: str, lang: str) -> list[Any]:
    try:
        return _PARSER.parse(catalogue()[key][lang])
    except SyntaxError as exc:
        raise ValueError(f"message {key!r} ({lang}) is not valid MessageFormat: {exc}") from exc


@functools.lru_cache(maxsize=None)
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def _render(lang: str, key: str, fields: Mapping[str, Field]) -> str:
    texts = catalogue().get(key)
    if texts is None:
        raise KeyError(f"no message {key!r} in the catalogue")
    lang = lang if lang in texts else "en"
    if is_legacy(key):
        return texts[lang].format(**{k: _plain_text(v, lang) if isinstance(v, (Message, Joined)) else v
                                     for k, v in fields.items()})
    return _Renderer(lang, fields, key).nodes(_parsed(key, lang), None)


def _plain_text(value: Field, lang: str) -> str:
    """A field written out in `lang` (numbers the language's way)."""
    if isinstance(value, (Message, Joined)):
        return value.render(lang)
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return format_number(value, lang)
    return str(value)


@dataclass(frozen=True)
class _Renderer:
    lang: str
    fields: Mapping[str, Field]
    key: str

    def nodes(self, ast: list[Any], number: Decimal | float | None) -> str:
        return "".join(n if isinstance(n, str) else self.node(n, number) for n in ast)

    def value(self, name: str) -> Field:
        if name not in self.fields:
            raise KeyError(f"message {self.key!r} needs the field {name!r}")
        return self.fields[name]

    def node(self, node: dict[str, Any], number: Decimal | float | None) -> str:
        kind = node.get("type")
        if node.get("hash"):
            return format_number(number if number is not None else 0, self.lang)
        value = self.value(node["name"])
        if kind is None:
            return _plain_text(value, self.lang)
        if kind == "number":
            return _number_styled(_as_number(value), node.get("format"), self.lang)
        if kind == "plural":
            shown = shown_number(_as_number(value)) - int(node.get("offset") or 0)
            return self.nodes(_plural_branch(node["options"], shown, self.lang), shown)
        if kind == "select":
            options = node["options"]
            return self.nodes(options.get(str(value), options["other"]), number)
        if kind == "datetime":
            return format_when(str(value or ""), self.lang)
        raise ValueError(f"message {self.key!r}: unknown argument type {kind!r}")


def _as_number(value: Field) -> float:
    if isinstance(value, (int, float)):
        return value
    try:
        return float(str(value))
    except ValueError:
        return math.nan


# ---------------------------------------------------------------------------------------------
# Numbers, plural forms and times (CLDR through Babel)


def shown_number(value: float) -> Decimal | float:
    """The number as a plain field shows it: at most DECIMALS decimals, trailing zeros dropped
    (so 8.0 is the integer 8 and 0.49999999 is 0.5); the plural form is chosen for this value."""
    if isinstance(value, bool) or not math.isfinite(value):
        return float(value)
    if isinstance(value, int):
        return Decimal(value)
    d = Decimal(repr(float(value))).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def format_number(value: float | Decimal, lang: str) -> str:
    """A number as a person reads it in `lang`: 3 not 3.0, 9,5 in Russian, 0.9876 not
    0.98765432, 1,2E-5 for tiny values and huge floats."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if isinstance(value, float) and value != 0 and (abs(value) >= 1e6 or abs(value) < 10 ** -DECIMALS):
        return format_scientific(value, "0.###E0", locale=_locale(lang))
    return format_decimal(shown_number(value) if not isinstance(value, Decimal) else value,
                          "0." + "#" * DECIMALS, locale=_locale(lang))


def _number_styled(value: float, style: str | None, lang: str) -> str:
    if not math.isfinite(value):
        return format_number(value, lang)
    if style is None:
        return format_decimal(shown_number(value), locale=_locale(lang))
    if style == "integer":
        return format_decimal(round(value), "#,##0", locale=_locale(lang))
    if style == "percent":
        return format_percent(value, locale=_locale(lang))
    return format_decimal(value, style.strip(), locale=_locale(lang))


def format_share(share: float, lang: str) -> str:
    """A share in 0..1 as a whole percentage the language's way (67 % in Russian, 67% in English)."""
    return format_percent(share, locale=_locale(lang))


def plural_category(value: float | Decimal, lang: str) -> str:
    """CLDR's plural category ("one", "few", "many", "other") of `value` as shown in `lang`."""
    shown = shown_number(value) if not isinstance(value, Decimal) else value
    if isinstance(shown, float):  # NaN, infinities
        return "other"
    return _locale(lang).plural_form(shown)


def plural_categories(lang: str) -> frozenset[str]:
    """The categories a plural message in `lang` must give (always with "other")."""
    return frozenset(_locale(lang).plural_form.tags) | {"other"}


def _plural_branch(options: Mapping[str, list[Any]], shown: Decimal | float, lang: str) -> list[Any]:
    for selector, branch in options.items():
        if selector.startswith("=") and not isinstance(shown, float) and Decimal(selector[1:]) == shown:
            return branch
    category = plural_category(shown, lang)
    return options.get(category, options["other"])


def format_when(iso: str | None, lang: str) -> str:
    """An ISO 8601 time as a person reads it, in the zone it was written with (no seconds, the
    month as a word, the zone as ``UTC`` or ``UTC+03:00``); text that is not such a time comes
    back as is."""
    if not iso:
        return ""
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    text = format_datetime(at, DATETIME_PATTERN, tzinfo=at.tzinfo, locale=_locale(lang))
    offset = at.utcoffset()
    if offset is None:
        return text
    if offset == timedelta(0):
        return f"{text} UTC"
    sign, offset = ("+", offset) if offset > timedelta(0) else ("−", -offset)
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    return f"{text} UTC{sign}{hours:02d}:{minutes:02d}"


# ---------------------------------------------------------------------------------------------
# Checking the catalogue (tests, and `grader validate-messages` style tools)


def catalogue_problems() -> list[str]:
    """Every MessageFormat template that does not parse, a plural without one of its language's
    categories or with one it does not have, and fields named in one language but not the other."""
    problems = []
    for key in catalogue():
        if is_legacy(key):
            continue
        names: dict[str, set[str]] = {}
        for lang in LANGS:
            try:
                ast = _parsed(key, lang)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            names[lang] = set()
            problems += [f"message {key!r} ({lang}): {p}" for p in _ast_problems(ast, lang, names[lang])]
        if len(names) == len(LANGS) and len({frozenset(n) for n in names.values()}) > 1:
            problems.append(f"message {key!r}: fields differ between languages: "
                            + "; ".join(f"{lang}: {sorted(n)}" for lang, n in names.items()))
    return problems


def _ast_problems(ast: list[Any], lang: str, names: set[str]) -> list[str]:
    problems = []
    for node in ast:
        if isinstance(node, str) or node.get("hash"):
            continue
        names.add(node["name"])
        if not node["name"].isidentifier():
            problems.append(f"field {node['name']!r} is not a name (a str.format spec? use {{x, number, 0.0}})")
        kind = node.get("type")
        if kind == "plural":
            chosen = {s for s in node["options"] if not s.startswith("=")}
            wanted = plural_categories(lang)
            if chosen - wanted:
                problems.append(f"plural {node['name']!r} has categories {sorted(chosen - wanted)} "
                                f"that {lang} does not use")
            if wanted - chosen:
                problems.append(f"plural {node['name']!r} lacks {sorted(wanted - chosen)}")
        elif kind not in (None, "number", "select", "datetime"):
            problems.append(f"unknown argument type {kind!r}")
        for branch in (node.get("options") or {}).values():
            problems += _ast_problems(branch, lang, names)
    return problems
