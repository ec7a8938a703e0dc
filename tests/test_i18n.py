"""The message catalogue: CLDR plural forms, numbers the language's way, messages as data."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from grader.errors import IntakeError
from grader.i18n import (
    LANGS,
    LEGACY_FILES,
    Joined,
    Message,
    catalogue,
    catalogue_problems,
    error,
    error_text,
    format_number,
    is_legacy,
    joined,
    localized,
    msg,
    plural_category,
    said,
    text_from_json,
    tr,
)

# Russian nouns agree with the number: 1 and 21 балл, 2-4 and 22 балла, 0, 5-20 and 11-14 баллов,
# 0,5 балла (a fraction takes the genitive singular).
RU_POINTS = [
    (0, "0 баллов"), (1, "1 балл"), (2, "2 балла"), (4, "4 балла"), (5, "5 баллов"), (11, "11 баллов"),
    (12, "12 баллов"), (13, "13 баллов"), (14, "14 баллов"), (21, "21 балл"), (22, "22 балла"),
    (25, "25 баллов"), (111, "111 баллов"), (0.5, "0,5 балла"), (1.5, "1,5 балла"), (9.5, "9,5 балла"),
    (8.0, "8 баллов"),
]
EN_POINTS = [(0, "0 points"), (1, "1 point"), (2, "2 points"), (5, "5 points"), (11, "11 points"),
             (21, "21 points"), (0.5, "0.5 points"), (1.0, "1 point")]


@pytest.mark.parametrize(("n", "shown"), RU_POINTS)
def test_russian_points_agree_with_the_number(n: float, shown: str) -> None:
    assert tr("ru", "selfcheck.hidden", count=1, points=n).startswith(f"Скрытых проверок: 1 (ещё {shown}).")


@pytest.mark.parametrize(("n", "shown"), EN_POINTS)
def test_english_points_agree_with_the_number(n: float, shown: str) -> None:
    assert tr("en", "selfcheck.hidden", count=1, points=n).startswith(f"Hidden checks: 1 (another {shown})")


@pytest.mark.parametrize(("n", "ru", "en"), [
    (1, "1 слово", "1 word"), (2, "2 слова", "2 words"), (5, "5 слов", "5 words"), (11, "11 слов", "11 words"),
    (12, "12 слов", "12 words"), (14, "14 слов", "14 words"), (21, "21 слово", "21 words"),
    (0.5, "0,5 слова", "0.5 words"),
])
def test_nouns_after_a_number_in_both_languages(n: float, ru: str, en: str) -> None:
    assert tr("ru", "manual.pointer_cell", cell=3, words=n) == f"markdown-ячейка 3 ({ru})"
    assert tr("en", "manual.pointer_cell", cell=3, words=n) == f"markdown cell 3 ({en})"


def test_out_of_takes_the_genitive_and_verbs_agree_too() -> None:
    assert tr("ru", "export.total", points=9.5, max=8) == "Итого: 9,5 из 8 баллов."
    assert tr("ru", "export.total", points=1, max=1) == "Итого: 1 из 1 балла."
    assert tr("ru", "export.total", points=0.5, max=21) == "Итого: 0,5 из 21 балла."
    assert tr("en", "export.total", points=9.5, max=8) == "Total: 9.5 of 8 points."
    assert tr("ru", "apps.errors", errors=1, detail="x") == " 1 запрос завершился ошибкой (первая: x)."
    assert tr("ru", "apps.errors", errors=3, detail="x") == " 3 запроса завершились ошибкой (первая: x)."
    assert tr("ru", "apps.errors", errors=12, detail="x") == " 12 запросов завершились ошибкой (первая: x)."
    assert tr("en", "apps.errors", errors=1, detail="x") == " 1 request failed (first: x)."


@pytest.mark.parametrize(("value", "ru", "en"), [
    (9.5, "9,5", "9.5"), (3.0, "3", "3"), (0.98765432, "0,9877", "0.9877"), (-2.25, "-2,25", "-2.25"),
    (0.8999999999999999, "0,9", "0.9"), (1.2345e-7, "1,234E-7", "1.234E-7"), (float("nan"), "NaN", "NaN"),
    (float("inf"), "∞", "∞"), (60000, "60000", "60000"),
])
def test_numbers_are_written_the_languages_way(value: float, ru: str, en: str) -> None:
    assert format_number(value, "ru") == ru and format_number(value, "en") == en


def test_plain_fields_and_styled_numbers() -> None:
    assert tr("ru", "report.seconds", value=12.5) == "12,5 с"
    answered = tr("ru", "apps.answered", app="app.py", endpoint="/predict", input="image", accuracy=97.456, n=21,
                  start=1.25, first=0.5, p50=12.3, p95=40.7, form="png")
    assert "верно 97,5% из 21 скрытой цифры" in answered and "p50 12 мс" in answered and "запуск 1,2 с" in answered
    assert tr("ru", "intake.entry_too_big", name="a.ipynb", size_mb=120, limit_mb=50).startswith(
        "Файл a.ipynb занимает 120 МБ при пределе 50 МБ.")


@pytest.mark.parametrize(("n", "category"), [
    (1, "one"), (21, "one"), (2, "few"), (4, "few"), (22, "few"), (0, "many"), (5, "many"), (11, "many"),
    (12, "many"), (13, "many"), (14, "many"), (0.5, "other"), (Decimal("1.5"), "other"), (7.0, "many"),
])
def test_russian_plural_categories_come_from_cldr(n: float, category: str) -> None:
    assert plural_category(n, "ru") == category


def test_dates_in_messages() -> None:
    assert tr("ru", "late.on_time", time="2026-03-05T14:30+03:00", source="git") == \
        "Сдано 5 марта 2026, 14:30 UTC+03:00 (git): в срок."
    assert tr("en", "late.on_time", time="2026-03-05T14:30+00:00", source="git") == \
        "Handed in 5 March 2026, 14:30 UTC (git): on time."


def test_the_catalogue_is_sound() -> None:
    """Every MessageFormat template parses, every plural has each category of its language, and
    both languages name the same fields."""
    assert catalogue_problems() == []
    assert all(set(texts) == set(LANGS) and all(texts.values()) for texts in catalogue().values())


def test_a_plural_missing_a_category_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = dict(catalogue())
    broken["t.bad"] = {"ru": "{n, plural, one {# шаг} other {# шагов}}", "en": "{m} steps"}
    monkeypatch.setattr("grader.i18n.catalogue", lambda: broken)
    problems = " ".join(catalogue_problems())
    assert "t.bad" in problems and "lacks ['few', 'many']" in problems and "fields differ" in problems


def test_every_catalogue_file_is_icu_message_format() -> None:
    """No family file keeps str.format templates (models, notebook and HW 3 were the last): every
    message is parsed as MessageFormat, so catalogue_problems() leaves none out, and a message
    renders the same as text and as data."""
    assert LEGACY_FILES == frozenset() and not any(is_legacy(key) for key in catalogue())
    assert catalogue_problems() == []
    backstop = msg("hw3.retrain.backstop", model="net", wall=12.5)
    assert backstop.render("en") == tr("en", "hw3.retrain.backstop", model="net", wall=12.5)
    assert "(12 с)" in backstop.render("ru")  # {wall, number, integer}


@pytest.mark.parametrize(("n", "ru", "en"), [
    (1, "Сделан 1 шаг градиентного спуска", "1 gradient-descent step made"),
    (3, "Сделано 3 шага градиентного спуска", "3 gradient-descent steps made"),
    (33, "Сделано 33 шага градиентного спуска", "33 gradient-descent steps made"),
    (11, "Сделано 11 шагов градиентного спуска", "11 gradient-descent steps made"),
    (21, "Сделан 21 шаг градиентного спуска", "21 gradient-descent steps made"),
])
def test_task1_counts_agree_with_their_nouns(n: int, ru: str, en: str) -> None:
    """Task 1's messages (gd.yaml, ICU MessageFormat): "Сделано 33 шагов" was the issue's example."""
    assert tr("ru", "gd.steps.ok", steps=n, label="xs", lr=0.1).startswith(ru)
    assert tr("en", "gd.steps.ok", steps=n, label="xs", lr=0.1).startswith(en)
    assert ", шаг обучения 0,1;" in tr("ru", "gd.steps.ok", steps=n, label="xs", lr=0.1)  # a decimal comma


def test_task1_marked_points_and_all_steps_read_as_russian() -> None:
    assert "и 4 отмеченных шага на ней" in tr("ru", "gd.plot.ok", fig="рис. 1", points=4)
    assert "все 72 шага совпадают с эталоном" in tr("ru", "gd.momentum.ok", label="v", lr=0.05, beta=0.9, steps=72)
    assert "после 5 шагов" in tr("ru", "gd.stop_rule.ending_ok", x=1.25, steps=5)
    assert "после 1 шага" in tr("ru", "gd.stop_rule.ending_ok", x=1.25, steps=1)
    assert "Найден только 1 шаг" in tr("ru", "gd.steps.too_few", steps=1, min_steps=3)
    assert "at least 3 steps x" in tr("en", "gd.steps.missing", min_steps=3)


# Task 2 and HW 3 counts before their nouns, for 1, 2, 5 and 21: (key, the counted field, the
# other fields, Russian for each count, English for each count).
COUNTS = [1, 2, 5, 21]
FAMILY_COUNTS = [
    ("models.retrain.overfit", "epochs", {},
     ["в 1 эпохе,", "в 2 эпохах,", "в 5 эпохах,", "в 21 эпохе,"],
     ["in 1 epoch;", "in 2 epochs;", "in 5 epochs;", "in 21 epochs;"]),
    ("models.retrain.beats", "seeds", dict(model="net", accuracy=97.5, spread=0.1, example=97.0, example_name="CNN",
                                           gap=0.5, margin=0.2),
     ["(1 запуск)", "(2 запуска)", "(5 запусков)", "(21 запуск)"],
     ["(1 seed)", "(2 seeds)", "(5 seeds)", "(21 seeds)"]),
    ("models.implausible", "n", dict(model="net", accuracy=100.0, ceiling=99.5),
     ["из 1 скрытого тестового изображения", "из 2 скрытых тестовых изображений",
      "из 5 скрытых тестовых изображений", "из 21 скрытого тестового изображения"],
     ["of the 1 hidden test image right", "of the 2 hidden test images", "of the 5 hidden",
      "of the 21 hidden test images"]),
    ("models.inventory.skipped", "count", {},
     ["Ещё 1 модель не проверялась", "Ещё 2 модели не проверялись", "Ещё 5 моделей не проверялись",
      "Ещё 21 модель не проверялась"],
     ["1 more model was not", "2 more models were not", "5 more models were", "21 more models were"]),
    ("models.inventory.line", "params", dict(model="net", kind="k", shape="N,784", scale="0..1", accuracy=97.5,
                                             speed=100),
     ["net: 1 параметр,", "net: 2 параметра,", "net: 5 параметров,", "net: 21 параметр,"],
     ["net: 1 parameter,", "net: 2 parameters,", "net: 5 parameters,", "net: 21 parameters,"]),
    ("models.data_files", "n_train", dict(source="MNIST", n_val=10000, n_hidden=10000),
     ["получил 1 обучающее изображение и", "получил 2 обучающих изображения и",
      "получил 5 обучающих изображений и", "получил 21 обучающее изображение и"],
     ["got 1 training image and", "got 2 training images and", "got 5 training images", "got 21 training images"]),
    ("models.data_files", "n_hidden", dict(source="MNIST", n_val=10000, n_train=50000),
     ["на 1 скрытом тестовом изображении,", "на 2 скрытых тестовых изображениях,",
      "на 5 скрытых тестовых изображениях,", "на 21 скрытом тестовом изображении,"],
     ["on 1 hidden test image whose label never enters", "on 2 hidden test images whose labels never enter",
      "on 5 hidden test images", "on 21 hidden test images"]),
    ("hw3.overfitting.ok", "epochs", dict(source="history", metric="loss", best=1),
     ["loss, 1 эпоха)", "loss, 2 эпохи)", "loss, 5 эпох)", "loss, 21 эпоха)"],
     ["loss, 1 epoch)", "loss, 2 epochs)", "loss, 5 epochs)", "loss, 21 epochs)"]),
    ("hw3.retrain.good", "epochs", dict(model="net", accuracy=91.25, good=90, seconds=59.6, budget=600, device="cpu"),
     ["(1 эпоха, 60 с процессорного времени из 600 с, cpu)", "(2 эпохи,", "(5 эпох,", "(21 эпоха,"],
     ["(1 epoch, 60 s of CPU time out of 600 s, cpu)", "(2 epochs,", "(5 epochs,", "(21 epochs,"]),
    ("hw3.batch_weights_missing", "count", dict(files="resnet18.pth", students="ivanov"),
     ["(нужны 1 студенту:", "(нужны 2 студентам:", "(нужны 5 студентам:", "(нужны 21 студенту:"],
     ["(needed by 1 student:", "(needed by 2 students:", "(needed by 5 students:", "(needed by 21 students:"]),
    ("notebook.answers.some", "total", dict(answered=0, missing="Q1", need=30),
     ["на 0 из 1 вопроса.", "на 0 из 2 вопросов.", "на 0 из 5 вопросов.", "на 0 из 21 вопроса."],
     ["to 0 of 1 question.", "to 0 of 2 questions.", "to 0 of 5 questions.", "to 0 of 21 questions."]),
    ("notebook.answers.some", "need", dict(answered=1, total=2, missing="Q1"),
     ["не короче 1 слова.", "не короче 2 слов.", "не короче 5 слов.", "не короче 21 слова."],
     ["at least 1 word.", "at least 2 words.", "at least 5 words.", "at least 21 words."]),
    ("notebook.answers.too_short", "words", dict(id="Q1", text="Зачем пулинг?", cell=4, need=30),
     ["(1 слово сверх", "(2 слова сверх", "(5 слов сверх", "(21 слово сверх"],
     ["(1 word beyond", "(2 words beyond", "(5 words beyond", "(21 words beyond"]),
]


@pytest.mark.parametrize(("key", "field", "fields", "ru", "en"), FAMILY_COUNTS,
                         ids=[f"{row[0]}.{row[1]}" for row in FAMILY_COUNTS])
def test_task2_and_hw3_counts_agree_with_their_nouns(key: str, field: str, fields: dict, ru: list[str],
                                                     en: list[str]) -> None:
    """The models, notebook and HW 3 messages: "Ещё 3 моделей", "(3 запуск(а))" and "5 epoch(s)" were
    what str.format wrote; each count now takes its noun's form (and case: "из 21 скрытого ...")."""
    for n, ru_text, en_text in zip(COUNTS, ru, en):
        assert ru_text in tr("ru", key, **fields, **{field: n}), n
        assert en_text in tr("en", key, **fields, **{field: n}), n


def test_task2_and_hw3_numbers_are_written_the_language_s_way() -> None:
    """A decimal comma and a spaced percent sign in Russian, a point in English; the decimals each
    message fixes (accuracy 97,5; a difference of two accuracies -0,35; a cosine 0,988); big counts
    grouped."""
    good = dict(model="net", accuracy=97.46, reference="ref", shape="N,784", scale="0..1")
    assert "точность на скрытом тесте 97,5\xa0% (ref)" in tr("ru", "models.accuracy.good", **good)
    assert "hidden-test accuracy 97.5% (ref)" in tr("en", "models.accuracy.good", **good)
    tie = dict(model="net", accuracy=97.5, example=97.846, example_name="CNN", gap=-0.346, margin=0.5)
    assert "97,50\xa0% против 97,85\xa0% у CNN; разница -0,35 п.п. в пределах разброса 0,50 п.п." in \
        tr("ru", "models.beats.tie", **tie)
    assert "97.50% vs 97.85% for its CNN; the difference of -0.35 points" in tr("en", "models.beats.tie", **tie)
    assert "разница +0,35 п.п." in tr("ru", "models.beats.tie", **{**tie, "gap": 0.346})
    transfer = dict(model="net", backbone="resnet18", file="r.pth", state="s", accuracy=91.0, tensors=4, z=12.6,
                    min_z=5.0, layer="conv1.weight", cosine=0.98765, chance_mean=0.0012, chance_sd=0.0234)
    assert "z = 13; у независимых весов z около 0 ± 1, нужно не меньше 5; первая свёртка conv1.weight: " \
           "косинусное сходство 0,988 при +0,001 ± 0,023" in tr("ru", "hw3.transfer.ok", **transfer)
    assert "cosine similarity 0.988 against +0.001 ± 0.023" in tr("en", "hw3.transfer.ok", **transfer)
    line = dict(model="net", kind="k", shape="N,784", scale="0..1", accuracy=97.5, speed=123456.7)
    assert tr("ru", "models.inventory.line", params=1234567, **line) == \
        "net: 1\xa0234\xa0567 параметров, k; вход N,784, значения 0..1; точность на скрытом тесте 97,5\xa0%, " \
        "123\xa0457 изобр./с"
    assert tr("en", "models.inventory.line", params=1234567, **line).endswith(
        "1,234,567 parameters, k; input N,784, values 0..1; hidden-test accuracy 97.5%, 123,457 images/s")
    assert tr("ru", "models.inventory.line", params=10, **{**line, "speed": "unknown"}).endswith(", ? изобр./с")


def test_a_message_keeps_its_key_and_fields_through_json() -> None:
    note = msg("manual.pointers", cells=joined([msg("manual.pointer_cell", cell=n, words=w) for n, w in [(2, 1), (5, 12)]]))
    back = text_from_json(json.loads(json.dumps(note.to_json())))
    assert back == note
    assert back.render("ru") == ("Ждёт проверки преподавателем. Где смотреть: markdown-ячейка 2 (1 слово), "
                                 "markdown-ячейка 5 (12 слов).")
    assert back.render("en").endswith("markdown cell 2 (1 word), markdown cell 5 (12 words).")


def test_fields_are_plain_values() -> None:
    import numpy as np
    from pathlib import Path

    m = msg("run.cell_timeout", cell=np.int64(3), seconds=np.float32(2.5))
    assert m.fields == {"cell": 3, "seconds": 2.5} and type(m.fields["cell"]) is int
    assert msg("run.unreadable", file=Path("a/b.ipynb"), detail=ValueError("x")).fields == \
        {"file": "a/b.ipynb", "detail": "x"}
    with pytest.raises(KeyError):
        msg("no.such.key")


def test_stored_text_stands_when_the_key_is_gone_or_absent() -> None:
    assert localized("как было", None, "en") == "как было"
    assert localized("как было", Message("removed.key", {}), "en") == "как было"
    assert localized("x", Message("run.cell_skipped", {}), "en") == "x"  # a field missing
    assert text_from_json({"unexpected": 1}) is None and text_from_json("text") is None


def test_errors_carry_their_message() -> None:
    exc = error(IntakeError, "ru", "intake.zip_encrypted", name="work.zip")
    assert str(exc) == "Архив work.zip защищён паролем. Сдайте архив без пароля."
    assert error_text(exc, "en") == "The archive work.zip is password-protected. Submit it without a password."
    assert error_text(IntakeError("plain"), "en") == "plain"


def test_said_gives_text_and_message() -> None:
    m = msg("run.restarted")
    assert said(m, "en") == ("The Python kernel was restarted once.", m)
    assert said("already text", "en") == ("already text", None)
    assert Joined((m, " x"), "").render("en") == "The Python kernel was restarted once. x"
