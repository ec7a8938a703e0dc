"""Reading a digit out of whatever an app answered: a Label dict, a confidence dict, text, a number,
a probability list, or a JSON object holding one of these. Runs inside the sandbox."""
from __future__ import annotations

import math
import re
from typing import Any

N_CLASSES = 10
# a digit standing alone: not part of a longer number ("98.5%") or a word ("mnist2")
_LONE_DIGIT = re.compile(r"(?<![\w.,])([0-9])(?![\w]|[.,]\d)")
_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ноль": 0, "нуль": 0, "один": 1, "единица": 1, "два": 2, "двойка": 2, "три": 3, "тройка": 3,
    "четыре": 4, "четверка": 4, "четвёрка": 4, "пять": 5, "пятерка": 5, "пятёрка": 5, "шесть": 6,
    "шестерка": 6, "шестёрка": 6, "семь": 7, "семерка": 7, "семёрка": 7, "восемь": 8, "восьмерка": 8,
    "восьмёрка": 8, "девять": 9, "девятка": 9,
}
# keys under which JSON answers carry the class, most specific first
PREFERRED_KEYS = ("prediction", "predicted_class", "predicted_digit", "predicted_label", "predicted",
                  "digit", "class", "class_id", "label", "result", "answer", "number", "pred", "y")
_MAX_DEPTH = 4


def read_digit(value: Any, depth: int = 0) -> int | None:
    """The digit 0..9 an answer names, or None when it names none."""
    if depth > _MAX_DEPTH or value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return _mapping(value, depth)
    if isinstance(value, (list, tuple)):
        return _sequence(list(value), depth)
    return None


def _number(value: float) -> int | None:
    if isinstance(value, float) and (math.isnan(value) or not value.is_integer()):
        return None
    number = int(value)
    return number if 0 <= number < N_CLASSES else None


def _text(value: str) -> int | None:
    stripped = value.strip()
    if not stripped:
        return None
    match = _LONE_DIGIT.search(stripped)
    if match:
        return int(match.group(1))
    for word in re.findall(r"[a-zа-яё]+", stripped.lower()):
        if word in _WORDS:
            return _WORDS[word]
    return None


def _confidences(items: list[Any]) -> int | None:
    """Gradio's Label: [{"label": "7", "confidence": 0.9}, ...] (the first is the top one)."""
    best: tuple[float, int] | None = None
    for item in items:
        if isinstance(item, dict) and "label" in item:
            digit = read_digit(item.get("label"))
            conf = item.get("confidence")
            if digit is not None and isinstance(conf, (int, float)) and (best is None or conf > best[0]):
                best = (float(conf), digit)
    return best[1] if best else None


def _mapping(value: dict[Any, Any], depth: int) -> int | None:
    if "label" in value or "confidences" in value:  # gr.Label's value
        digit = read_digit(value.get("label"), depth + 1)
        if digit is None and isinstance(value.get("confidences"), list):
            digit = _confidences(value["confidences"])
        if digit is not None:
            return digit
    lowered = {str(k).lower(): v for k, v in value.items()}
    for key in PREFERRED_KEYS:
        if key in lowered:
            digit = read_digit(lowered[key], depth + 1)
            if digit is not None:
                return digit
    scores = {k: v for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if len(scores) >= 2 and len(scores) == len(value):  # {"0": 0.01, ..., "7": 0.9}: label -> confidence
        keys = {read_digit(str(k)): v for k, v in scores.items()}
        if None not in keys:
            return max(keys.items(), key=lambda kv: kv[1])[0]
    for item in value.values():  # one level further: {"result": {"digit": 7}}
        if isinstance(item, (dict, list)):
            digit = read_digit(item, depth + 1)
            if digit is not None:
                return digit
    return None


def _sequence(items: list[Any], depth: int) -> int | None:
    if len(items) == N_CLASSES and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in items):
        return max(range(N_CLASSES), key=lambda i: items[i])  # class probabilities or logits
    if items and all(isinstance(x, dict) for x in items):
        digit = _confidences(items)
        if digit is not None:
            return digit
    if len(items) == 1 and isinstance(items[0], (list, tuple)):  # [[p0, ..., p9]]: a batch of one
        return read_digit(items[0], depth + 1)
    for item in items:  # several outputs (Label + image): the first that names a digit
        digit = read_digit(item, depth + 1)
        if digit is not None:
            return digit
    return None
