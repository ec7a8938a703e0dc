"""Reports and exports rendered from result records (never from grading internals).

- grader.report.html: ``render_student_report`` (``<student_dir>/report.html``, self-contained,
  figures embedded) and ``render_index`` (``<out_dir>/index.html``, the class summary)
- grader.report.gradebook: ``write_gradebook_csv`` (UTF-8 with BOM)
- grader.report.figures: the checks' figure data drawn into the student's folder
- grader.report.batch, exports: everything for a graded batch; Gradescope, Moodle, Classroom

This package imports nothing on its own: the check processes draw figures through
grader.report.figures without loading jinja2 and the HTML templates.
"""
