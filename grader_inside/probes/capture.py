"""Figure capture inside the kernel: matplotlib and plotly figures become plain data + PNG.

The backend is Agg (set by the harness). Like the inline backend, every figure is "shown" and
closed at `plt.show()` and at the end of each cell; before that we record what it draws.
"""
from __future__ import annotations

import logging
import math
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MAX_POINTS = 4000
MAX_FIGURES = 60


def _floats(values: Any) -> list[float] | None:
    import numpy as np

    try:
        arr = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return None
    if arr.size > MAX_POINTS:
        idx = np.linspace(0, arr.size - 1, MAX_POINTS).astype(int)
        arr = arr[idx]
    return [float(v) if math.isfinite(v) else None for v in arr.tolist()]  # type: ignore[misc]


class FigureCapture:
    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        self.figures: list[dict[str, Any]] = []
        self.cell: int | None = None
        self._seen: set[tuple[int, int]] = set()

    # -- matplotlib -----------------------------------------------------------------------
    def install(self) -> None:
        try:
            import matplotlib

            matplotlib.use("Agg", force=True)
            import matplotlib.pyplot as plt
        except Exception:  # matplotlib missing: nothing to capture
            logger.debug("matplotlib not available", exc_info=True)
        else:
            plt.switch_backend("Agg")
            capture_ref = self

            def show(*args: Any, **kwargs: Any) -> None:
                try:
                    capture_ref.flush()
                except Exception:  # capturing must never break the student's cell
                    logger.debug("figure capture failed", exc_info=True)

            plt.show = show  # type: ignore[assignment]
            from matplotlib.figure import Figure

            orig_savefig = Figure.savefig
            capture = self

            def savefig(fig: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    capture.snapshot_matplotlib(fig)
                except Exception:
                    logger.debug("figure capture failed", exc_info=True)
                return orig_savefig(fig, *args, **kwargs)

            Figure.savefig = savefig  # type: ignore[method-assign]
        self._install_plotly()

    def flush(self) -> None:
        """Record and close every open matplotlib figure (what `plt.show()` does inline)."""
        try:
            import matplotlib.pyplot as plt
        except Exception:
            return
        for num in list(plt.get_fignums()):
            fig = plt.figure(num)
            self.snapshot_matplotlib(fig)
        plt.close("all")

    def snapshot_matplotlib(self, fig: Any) -> None:
        if len(self.figures) >= MAX_FIGURES:
            return
        axes_data = []
        n_artists = 0
        for ax in fig.get_axes():
            lines = []
            for line in ax.get_lines():
                xs, ys = _floats(line.get_xdata()), _floats(line.get_ydata())
                if xs is None or ys is None or len(xs) != len(ys):
                    continue
                marker = line.get_marker()
                has_marker = marker not in (None, "None", "", " ", "none")
                has_line = line.get_linestyle() not in ("None", "", " ", "none")
                lines.append({"x": xs, "y": ys, "marker": has_marker, "line": has_line,
                              "label": str(line.get_label())[:80]})
            points = []
            for coll in ax.collections:
                try:
                    offs = coll.get_offsets()
                except Exception:
                    continue
                if offs is None or len(offs) == 0:
                    continue
                xy = _floats(offs)
                if xy is None or len(xy) % 2:
                    continue
                points.append({"x": xy[0::2], "y": xy[1::2]})
            for text in ax.texts:
                xy = getattr(text, "xy", None)
                if xy is not None:
                    pt = _floats(xy)
                    if pt and len(pt) == 2:
                        points.append({"x": [pt[0]], "y": [pt[1]], "annotation": True})
            n_artists += len(lines) + len(points)
            axes_data.append({"title": str(ax.get_title())[:120], "lines": lines, "points": points})
        if not n_artists:
            return
        key = (id(fig), n_artists)
        if key in self._seen:
            return
        self._seen.add(key)
        fig_id = f"fig{len(self.figures) + 1}"
        png = f"{fig_id}.png"
        try:
            fig.canvas.print_figure(str(self.outbox / png), dpi=72)
        except Exception:
            logger.debug("could not render figure", exc_info=True)
            png = ""
        self.figures.append({"id": fig_id, "png": png, "cell": self.cell, "library": "matplotlib",
                             "axes": axes_data})

    # -- plotly ---------------------------------------------------------------------------
    def _install_plotly(self) -> None:
        """Capture plotly's fig.show() / pio.show(). Importing plotly costs 0.1-0.15 s, so unless
        the student's kernel has it already, the patch waits until the student imports it (a
        post-import hook of the offline shims; without them, plotly is imported now)."""
        capture = self

        def show(fig: Any, *args: Any, **kwargs: Any) -> None:
            try:
                capture.snapshot_plotly(fig)
            except Exception:  # capturing must never break the student's cell
                logger.debug("plotly capture failed", exc_info=True)

        def patch_figure(bdt: Any) -> None:
            bdt.BaseFigure.show = show

        def patch_io(pio: Any) -> None:
            pio.show = show

        patches = {"plotly.basedatatypes": patch_figure, "plotly.io": patch_io}
        try:
            from grader_offline.hooks import PostImportFinder
        except ImportError:
            PostImportFinder = None  # noqa: N806
        if PostImportFinder is not None and "plotly" not in sys.modules:
            sys.meta_path.insert(0, PostImportFinder(patches))
            return
        try:
            import plotly.basedatatypes as bdt
            import plotly.io as pio
        except Exception:
            return
        patch_figure(bdt)
        patch_io(pio)

    def snapshot_plotly(self, fig: Any) -> None:
        if len(self.figures) >= MAX_FIGURES:
            return
        try:
            traces = list(fig.data)
        except Exception:
            return
        lines, points = [], []
        for trace in traces:
            kind = getattr(trace, "type", None)
            if kind not in (None, "scatter", "scattergl"):
                continue
            raw_x, raw_y = getattr(trace, "x", None), getattr(trace, "y", None)
            if raw_x is None or raw_y is None:
                continue
            xs, ys = _floats(raw_x), _floats(raw_y)
            if not xs or ys is None or len(xs) != len(ys):
                continue
            mode = str(getattr(trace, "mode", None) or ("lines" if len(xs) > 20 else "lines+markers"))
            if "lines" in mode:
                lines.append({"x": xs, "y": ys, "marker": "markers" in mode, "line": True, "label": ""})
            else:
                points.append({"x": xs, "y": ys})
        if not lines and not points:
            return
        fig_id = f"fig{len(self.figures) + 1}"
        png = self._render_plotly(fig_id, lines, points)
        self.figures.append({"id": fig_id, "png": png, "cell": self.cell, "library": "plotly",
                             "axes": [{"title": "", "lines": lines, "points": points}]})

    def _render_plotly(self, fig_id: str, lines: list[dict], points: list[dict]) -> str:
        """Redraw a plotly figure with matplotlib for the report (kaleido is not assumed)."""
        try:
            from matplotlib.figure import Figure
        except Exception:
            return ""
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        for ln in lines:
            ax.plot(ln["x"], ln["y"], marker="o" if ln["marker"] else None)
        for pt in points:
            ax.scatter(pt["x"], pt["y"], color="red")
        ax.set_title("plotly")
        png = f"{fig_id}.png"
        # print_figure, not savefig: our own savefig patch would capture the redraw as a figure
        fig.canvas.print_figure(str(self.outbox / png), dpi=72)
        return png
