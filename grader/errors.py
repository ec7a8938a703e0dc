"""The grader's one error tree.

    GraderError                  anything the grader reports instead of a traceback
    ├── RubricError              a rubric YAML is missing, malformed or invalid (names file, key, line)
    ├── OverridesError           the instructor's overrides file is invalid (names file, line)
    ├── IntakeError              a submission cannot be found, unpacked or read
    │   └── UnsafeArchiveError   an archive tries path traversal or is a zip bomb
    ├── SandboxError             the sandbox could not be set up or started
    ├── ExecutionError           running a submission failed in a way the grader must report
    ├── DataError                a dataset or data directory is missing or malformed
    └── ExecutorError            the runs' executor cannot start (Ray missing, no cluster, nodes too small)

This module imports nothing from the grader.
"""
from __future__ import annotations


class GraderError(Exception):
    """Base class: every error the grader expects and explains in plain words.

    `said` is the catalogue message behind the text (a ``grader.i18n.Message``), when the error
    was made with ``grader.i18n.error``: a result keeps it, and a report renders it in its own
    language."""

    def __init__(self, *args: object, said: object = None) -> None:
        super().__init__(*args)
        self.said = said


class RubricError(GraderError):
    """A rubric file is invalid. The message names the file, the key and the line."""


class OverridesError(GraderError):
    """The overrides file (instructor's grades) is invalid. The message names the file and line."""


class IntakeError(GraderError):
    """A submission could not be found, unpacked or read."""


class UnsafeArchiveError(IntakeError):
    """An archive tried to write outside its folder or is too large (zip bomb)."""


class SandboxError(GraderError):
    """The sandbox could not be prepared or started."""


class ExecutionError(GraderError):
    """Running a submission failed in a way the grader reports to the student."""


class DataError(GraderError):
    """A dataset is missing or malformed."""


class ExecutorError(GraderError):
    """The executor of a batch's runs cannot start or reach its machines."""
