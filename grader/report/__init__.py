"""Reports and exports rendered from result records (never from grading internals).

- :func:`render_student_report`: ``<student_dir>/report.html``, self-contained (figures embedded)
- :func:`render_index`: ``<out_dir>/index.html``, the class summary
- :func:`write_gradebook_csv`: the gradebook CSV (UTF-8 with BOM)
"""
from __future__ import annotations

from grader.report.gradebook import write_gradebook_csv
from grader.report.html import render_index, render_student_report

__all__ = ["render_index", "render_student_report", "write_gradebook_csv"]
