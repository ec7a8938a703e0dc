"""Reading the digit out of what an app answers (Label, text, numbers, JSON)."""
from __future__ import annotations

import pytest

from grader_inside.apps.answers import read_digit


@pytest.mark.parametrize("value, digit", [
    ({"label": "7", "confidences": [{"label": "7", "confidence": 0.9}]}, 7),
    ({"label": None, "confidences": [{"label": "1", "confidence": 0.2}, {"label": "4", "confidence": 0.8}]}, 4),
    ({"0": 0.1, "3": 0.7, "8": 0.2}, 3),
    ("Это цифра 5", 5),
    ("Predicted: 2 (98.5%)", 2),
    ("Accuracy 98.5%, digit: 9", 9),
    ("семь", 7),
    (6, 6),
    (6.0, 6),
    ([0.0, 0.1, 0.05, 0.05, 0.0, 0.0, 0.0, 0.8, 0.0, 0.0], 7),
    ([[0.0, 0.9, 0.1, 0, 0, 0, 0, 0, 0, 0]], 1),
    ({"digit": 3, "probabilities": [0.1] * 10}, 3),
    ({"prediction": "8"}, 8),
    ({"result": {"class": 2}}, 2),
    ([None, {"label": "0", "confidences": []}], 0),
])
def test_reads_the_digit(value: object, digit: int) -> None:
    assert read_digit(value) == digit


@pytest.mark.parametrize("value", [None, "", "no idea", 12, 3.5, True, {"status": "ok"}, "mnist2 model", [], {}])
def test_names_no_digit(value: object) -> None:
    assert read_digit(value) is None
