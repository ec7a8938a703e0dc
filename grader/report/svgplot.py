"""Small line charts as SVG text, for the figures a report draws itself (not the students' plots).

The Task 1 report shows the student's steps beside the reference steps on the student's function.
Drawing that with matplotlib cost the grader's process a 0.3 s import and about 40 ms per figure,
on the path of every batch; an SVG of three series is a few hundred lines of text, stays sharp at
any zoom, and embeds in the self-contained report like any image.

Only what those figures need: axes with round tick values, solid or dashed lines, hollow-circle
and cross markers, a legend and a title. Non-finite points are left out (a line breaks there).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

LINE_STYLES = ("solid", "dashed")
MARKERS = ("o", "x")
FONT = "font-family=\"DejaVu Sans, Arial, sans-serif\""
# values beyond this are drawn as missing: a diverged run reaches 1e300, which no axis can show
# beside the function's own scale, and whose differences overflow
LIMIT = 1e100
Scale = Callable[[float], float]


@dataclass(frozen=True)
class Series:
    x: Sequence[float]
    y: Sequence[float]
    label: str
    color: str
    line: str | None = "solid"  # one of LINE_STYLES, or None for markers only
    marker: str | None = None  # one of MARKERS, or None for a line only

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(f"series {self.label!r}: {len(self.x)} x values, {len(self.y)} y values")
        if self.line not in (None, *LINE_STYLES) or self.marker not in (None, *MARKERS):
            raise ValueError(f"series {self.label!r}: unknown line {self.line!r} or marker {self.marker!r}")

    def points(self) -> list[tuple[float, float] | None]:
        """(x, y) pairs, None where either is missing (not finite, or beyond LIMIT)."""
        return [(float(a), float(b)) if _drawable(a) and _drawable(b) else None
                for a, b in zip(self.x, self.y)]


def _drawable(value: float) -> bool:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(v) and abs(v) <= LIMIT


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    k = first
    while k * step <= hi + step * 1e-9:
        ticks.append(0.0 if abs(k * step) < step * 1e-9 else k * step)
        k += 1
    return ticks


def format_tick(value: float, step: float, decimal: str = ".") -> str:
    """A tick label with as many decimals as the step needs: 0.5 not 0.5000000001, 1e+06 for big;
    `decimal` is the language's decimal sign (a comma in Russian)."""
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or (abs(value) < 1e-3 and step < 1e-3):
        return f"{value:.3g}".replace("-", "−").replace(".", decimal)
    exp = math.floor(math.log10(step) + 1e-9)
    decimals = max(0, -exp + (1 if abs(step / 10.0 ** exp - 2.5) < 1e-6 else 0))  # 0.25, not 0.2
    return f"{value:.{decimals}f}".replace("-", "−").replace(".", decimal)


def _span(values: Iterable[float]) -> tuple[float, float]:
    vals = list(values)
    if not vals:
        return 0.0, 1.0
    lo, hi = min(vals), max(vals)
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        half = max(abs(lo) * 0.1, 0.5)
        return lo - half, hi + half
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def line_chart(series: Sequence[Series], title: str = "", *, width: int = 480, height: int = 288,
               decimal: str = ".") -> str:
    """An SVG document (text) with `series` drawn on shared axes, scaled to fit all their points;
    tick labels use `decimal` as the decimal sign."""
    left, right, top, bottom = 58, width - 12, 30 if title else 12, height - 26
    pts = [s.points() for s in series]
    xs = [p[0] for ps in pts for p in ps if p is not None]
    ys = [p[1] for ps in pts for p in ps if p is not None]
    x_lo, x_hi = _span(xs)
    y_lo, y_hi = _span(ys)

    def px(x: float) -> float:
        return left + (x - x_lo) / (x_hi - x_lo) * (right - left)

    def py(y: float) -> float:
        return bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">',
           f"<title>{escape(title)}</title>" if title else "",
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<defs><clipPath id="plot"><rect x="{left}" y="{top}" width="{right - left}" '
           f'height="{bottom - top}"/></clipPath></defs>']
    out += _axes(x_lo, x_hi, y_lo, y_hi, px, py, (left, right, top, bottom), decimal)
    pixels = [[None if p is None else (px(p[0]), py(p[1])) for p in ps] for ps in pts]
    out.append('<g clip-path="url(#plot)">')
    for s, ps in zip(series, pixels):
        out += _series(s, ps)
    out.append("</g>")
    if title:
        out.append(f'<text x="{(left + right) / 2:.1f}" y="18" text-anchor="middle" font-size="13" '
                   f'{FONT}>{escape(title)}</text>')
    out += _legend([s for s in series if s.label], (left, right, top, bottom),
                   [p for ps in pixels for p in ps if p is not None])
    out.append("</svg>")
    return "\n".join(line for line in out if line) + "\n"


def _axes(x_lo: float, x_hi: float, y_lo: float, y_hi: float, px: Scale, py: Scale,
          box: tuple[float, float, float, float], decimal: str) -> list[str]:
    left, right, top, bottom = box
    out = [f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
           f'fill="none" stroke="#444" stroke-width="1"/>']
    xt, yt = nice_ticks(x_lo, x_hi, 6), nice_ticks(y_lo, y_hi, 5)
    x_step = xt[1] - xt[0] if len(xt) > 1 else 1.0
    y_step = yt[1] - yt[0] if len(yt) > 1 else 1.0
    for t in xt:
        x = px(t)
        out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#444"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="10" '
                   f'{FONT}>{format_tick(t, x_step, decimal)}</text>')
    for t in yt:
        y = py(t)
        out.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="#444"/>')
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 3.5:.1f}" text-anchor="end" font-size="10" '
                   f'{FONT}>{format_tick(t, y_step, decimal)}</text>')
    return out


def _series(s: Series, points: list[tuple[float, float] | None]) -> list[str]:
    out = []
    if s.line is not None:
        dash = _dash(s)
        for run in _runs(points):
            if len(run) > 1:
                coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in _thinned(run))
                out.append(f'<polyline points="{coords}" fill="none" stroke="{s.color}" '
                           f'stroke-width="1.5"{dash}/>')
    if s.marker is not None:
        # one marker per half pixel: the thousands of steps a long run piles up at its end
        # would repeat the same mark (and make a report of megabytes)
        seen: set[tuple[int, int]] = set()
        for p in points:
            if p is not None and (cell := (round(p[0] * 2), round(p[1] * 2))) not in seen:
                seen.add(cell)
                out.append(_marker(s.marker, p[0], p[1], s.color))
    return out


def _dash(s: Series) -> str:
    return ' stroke-dasharray="5,3"' if s.line == "dashed" else ""


def _thinned(run: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The line's points less those within half a pixel of the previous one kept (ends kept)."""
    kept = [run[0]]
    for x, y in run[1:-1]:
        if abs(x - kept[-1][0]) >= 0.5 or abs(y - kept[-1][1]) >= 0.5:
            kept.append((x, y))
    kept.append(run[-1])
    return kept


def _runs(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """The stretches of consecutive drawable points (a line is broken where one is missing)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for p in points:
        if p is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(p)
    return [r for r in runs if r]


def _marker(kind: str, x: float, y: float, color: str) -> str:
    if kind == "o":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="none" stroke="{color}" stroke-width="1.3"/>'
    d = 4.5
    return (f'<path d="M{x - d:.1f},{y - d:.1f}L{x + d:.1f},{y + d:.1f}M{x - d:.1f},{y + d:.1f}'
            f'L{x + d:.1f},{y - d:.1f}" stroke="{color}" stroke-width="1.5"/>')


def _legend(series: Sequence[Series], box: tuple[float, float, float, float],
            drawn: Sequence[tuple[float, float]]) -> list[str]:
    """The legend in the plot's corner that hides the fewest drawn points (top right on a tie)."""
    if not series:
        return []
    left, right, top, bottom = box
    width, height = 34 + 6.5 * max(len(s.label) for s in series), 8 + 16 * len(series)
    corners = [(right - width - 6, top + 6), (left + 6, top + 6),
               (right - width - 6, bottom - height - 6), (left + 6, bottom - height - 6)]

    def hidden(corner: tuple[float, float]) -> int:
        cx, cy = corner
        return sum(1 for x, y in drawn if cx - 5 <= x <= cx + width + 5 and cy - 5 <= y <= cy + height + 5)

    x0, y0 = min(corners, key=hidden)
    out = [f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{width:.1f}" height="{height}" '
           f'fill="white" fill-opacity="0.85" stroke="#bbb"/>']
    for i, s in enumerate(series):
        y = y0 + 12 + 16 * i
        if s.line is not None:
            dash = _dash(s)
            out.append(f'<line x1="{x0 + 6:.1f}" y1="{y:.1f}" x2="{x0 + 26:.1f}" y2="{y:.1f}" '
                       f'stroke="{s.color}" stroke-width="1.5"{dash}/>')
        if s.marker is not None:
            out.append(_marker(s.marker, x0 + 16, y, s.color))
        out.append(f'<text x="{x0 + 32:.1f}" y="{y + 3.5:.1f}" font-size="11" {FONT}>{escape(s.label)}</text>')
    return out
