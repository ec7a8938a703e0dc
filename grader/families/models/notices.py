"""The models family's notices for the instructor (a hook of its own module: reports of every
batch ask for it, and it must not load the models' set-up, numpy and the datasets' code)."""
from __future__ import annotations

from pathlib import Path

from grader.families.models.weights import batch_missing_weights
from grader.i18n import tr

NAMED_STUDENTS = 10  # a notice names at most this many students, then "..."


def notices(out_dir: Path, folders: dict[str, str], lang: str) -> list[str]:
    """The pretrained weights files (HW 3) that students' code asked for and the --weights folder
    lacks, each file named once with the students who need it."""
    missing = batch_missing_weights(out_dir, folders)
    if not missing:
        return []
    students = sorted({s for names in missing.values() for s in names})
    shown = ", ".join(students[:NAMED_STUDENTS]) + (" ..." if len(students) > NAMED_STUDENTS else "")
    return [tr(lang, "hw3.batch_weights_missing", files=", ".join(sorted(missing)), count=len(students),
               students=shown)]
