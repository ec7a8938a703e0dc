"""Student names from submission folder and file names, and filesystem-safe ids.

Understands Moodle "download all" names (``Full Name_12345_assignsubmission_file_`` folders, and
``Full Name_12345_assignsubmission_file_work.ipynb`` files when Moodle was asked not to make
folders) and GitHub Classroom clones (``<assignment>-<login>``).
"""
from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

_MOODLE = re.compile(
    r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<rest>.*))?$", re.DOTALL
)
_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)
_RESERVED = {
    "con", "prn", "aux", "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}
MAX_ID_LENGTH = 80


@dataclass(frozen=True)
class MoodleName:
    """The parts of a Moodle "download all" name."""

    student: str
    moodle_id: str
    plugin: str  # "file" or "onlinetext" (other plugins exist; kept as written)
    rest: str  # the student's own file name in a flat download; "" for a folder


def nfc(text: str) -> str:
    """`text` in NFC: macOS writes names decomposed (й as и + combining breve)."""
    return unicodedata.normalize("NFC", text)


def parse_moodle(name: str) -> MoodleName | None:
    """The Moodle parts of a folder or file name, or None when it is not a Moodle name."""
    match = _MOODLE.match(nfc(name))
    if match is None:
        return None
    return MoodleName(
        student=match["name"].strip(),
        moodle_id=match["id"],
        plugin=match["plugin"],
        rest=match["rest"] or "",
    )


def detect_classroom_prefix(names: Sequence[str]) -> str | None:
    """The ``<assignment>`` part shared by all GitHub Classroom clone names, if any.

    Needs at least two names; the shared part must end at a ``-`` and every name must have
    something after it (``hw1-gd-ivanov``, ``hw1-gd-petrov`` -> ``hw1-gd``).
    """
    if len(names) < 2:
        return None
    common = os.path.commonprefix([nfc(n) for n in names])
    cut = common.rfind("-")
    if cut <= 0:
        return None
    prefix = common[:cut]
    if any(len(nfc(n)) <= cut + 1 for n in names):
        return None
    return prefix


def strip_classroom_prefix(name: str, prefix: str) -> str | None:
    """The login in ``<prefix>-<login>`` (case-insensitive prefix), or None."""
    name = nfc(name)
    head = prefix.rstrip("-") + "-"
    if len(name) > len(head) and name.casefold().startswith(head.casefold()):
        return name[len(head):]
    return None


def slugify(text: str) -> str:
    """A filesystem-safe form of `text`: letters of any script, digits, ``.``, ``-``, ``_``."""
    slug = _UNSAFE.sub("_", nfc(text))
    slug = re.sub(r"_+", "_", slug).strip("._-")[:MAX_ID_LENGTH].rstrip("._-")
    if not slug:
        return "student"
    if slug.casefold().split(".")[0] in _RESERVED:
        slug += "_"
    return slug


def unique_ids(names: Iterable[str]) -> list[str]:
    """A slug per name, made unique (case-insensitively, for macOS and Windows) by ``_2``, ``_3``."""
    taken: set[str] = set()
    ids: list[str] = []
    for name in names:
        base = slugify(name)
        candidate, n = base, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate.casefold())
        ids.append(candidate)
    return ids
