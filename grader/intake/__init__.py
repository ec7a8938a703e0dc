"""Intake: find the students in a submissions folder, unpack safely, pick each entry file.

Public API: `discover`, `Submission`, `ArchiveCaps`, `safe_extract`.
"""
from __future__ import annotations

from grader.intake.archive import ArchiveCaps, safe_extract
from grader.intake.discover import DEFAULT_PATTERNS, Submission, discover, submission_sha256

__all__ = [
    "DEFAULT_PATTERNS",
    "ArchiveCaps",
    "Submission",
    "discover",
    "safe_extract",
    "submission_sha256",
]
