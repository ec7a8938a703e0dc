"""The parts of the grader that run INSIDE the sandbox, beside the student's code.

This package, and nothing else of the grader, is mounted into the sandbox (read-only, at
/opt/grader-pkg/grader_inside): the harness that drives the kernel (`boot`, `harness`), the probes
that run in the student's kernel after their cells (`probes`), the offline stand-ins for Colab,
Kaggle, datasets and removed APIs (`shims`, put first on the kernel's import path), and the client
that talks to a student's web app (`apps`). Checks, reference solutions, rubrics and hidden data
stay outside.

Rules of the boundary:
- nothing here imports `grader` (the grader-side package is not there inside the sandbox);
- the grader side may import the pure modules that only read files (`notebook`, `idx`), never
  run the rest in its own process;
- whatever this code hands back is produced in a process the student's code shares or could
  have influenced, so the grader validates it and treats it as evidence, not truth.
"""
