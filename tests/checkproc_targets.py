"""Stand-ins for `check_one`, run in grader.checkproc's workers by tests/test_checkproc.py.

Each takes the object the test sends (a namespace with `sub.student` and `what`) and does what
`what` says: return a value, allocate that many megabytes, raise, or end the worker's process.
"""
from __future__ import annotations

import os
from typing import Any


def act(ran: Any) -> object:
    what = ran.what
    if what.startswith("allocate:"):
        block = bytearray(int(what.split(":")[1]) * 1024 * 1024)  # touched: counted by RLIMIT_DATA
        return len(block)
    if what == "raise":
        raise ValueError("a check of ours went wrong")
    if what == "die":
        os._exit(3)
    if what == "pid":
        return os.getpid()
    return f"checked {ran.sub.student}"


def hog_or_check(ran: Any) -> object:
    """The real checks, except for a student named `hog*`, whose checks allocate 3 GB."""
    from grader.grading import check_one

    if ran.sub.student.startswith("hog"):
        return len(bytearray(3 * 1024 * 1024 * 1024))
    return check_one(ran)
