"""Figures the checks leave as data, drawn by the report in the report's language.

A check that shows a line chart (Task 1: the student's steps beside the reference steps) writes
a :class:`Chart` as ``<name>.chart.json`` into the student's report folder and names that file
among its figures; the report draws it with :mod:`grader.report.svgplot` when it renders, so
the title and legend are catalogue messages in whatever language the report is rendered in.
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.numbers import get_decimal_symbol

from grader.i18n import Text, localized, text_from_json
from grader.report.svgplot import Series, line_chart

logger = logging.getLogger(__name__)

CHART_SUFFIX = ".chart.json"
MAX_CHART_BYTES = 8 * 2**20  # our own files, but a report never reads without a bound


@dataclass(frozen=True)
class ChartSeries:
    x: tuple[float, ...]
    y: tuple[float, ...]
    label: Text | str  # a catalogue message, or a name from the student's code (their function's)
    color: str
    line: str | None = "solid"  # see svgplot.LINE_STYLES
    marker: str | None = None  # see svgplot.MARKERS

    def to_json(self) -> dict[str, Any]:
        return {"x": [_number(v) for v in self.x], "y": [_number(v) for v in self.y], "label": _text_json(self.label),
                "color": self.color, "line": self.line, "marker": self.marker}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChartSeries:
        return cls(tuple(_float(v) for v in data["x"]), tuple(_float(v) for v in data["y"]),
                   _text(data.get("label")), str(data.get("color", "#444")), data.get("line"), data.get("marker"))


@dataclass(frozen=True)
class Chart:
    series: tuple[ChartSeries, ...]
    title: Text | str = ""

    def to_json(self) -> dict[str, Any]:
        return {"title": _text_json(self.title), "series": [s.to_json() for s in self.series]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chart:
        return cls(tuple(ChartSeries.from_json(s) for s in data.get("series") or ()), _text(data.get("title")))


def write_chart(folder: Path, name: str, chart: Chart) -> str:
    """Write `chart` as ``folder/name`` (a name ending in ``.chart.json``) and return the name,
    for the check's figures."""
    if not name.endswith(CHART_SUFFIX):
        raise ValueError(f"a chart's file name ends in {CHART_SUFFIX}, not {name!r}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(chart.to_json(), ensure_ascii=False), encoding="utf-8")
    return name


def draw_chart(chart: Chart, lang: str) -> str:
    """The chart as an SVG document, its title and legend in `lang`."""
    series = [Series(s.x, s.y, localized("", s.label, lang) if not isinstance(s.label, str) else s.label,
                     s.color, s.line, s.marker) for s in chart.series]
    title = chart.title if isinstance(chart.title, str) else localized("", chart.title, lang)
    return line_chart(series, title, decimal=get_decimal_symbol(lang))


def draw_chart_file(path: Path, lang: str) -> str | None:
    """The chart stored at `path` drawn in `lang`; None when it is missing or unreadable."""
    try:
        if path.stat().st_size > MAX_CHART_BYTES:
            raise ValueError(f"{path.stat().st_size} bytes")
        return draw_chart(Chart.from_json(json.loads(path.read_text(encoding="utf-8"))), lang)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.warning("chart %s not drawn: %s", path, exc)
        return None


def _text_json(value: Text | str) -> Any:
    return value if isinstance(value, str) else value.to_json()


def _text(data: Any) -> Text | str:
    return text_from_json(data) or (data if isinstance(data, str) else "")


def _number(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None  # strict JSON: a gap in the line


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)
