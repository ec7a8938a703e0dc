"""One line per shim that the student's code actually used, for the report's notes."""
from __future__ import annotations

from pathlib import Path

_OUTBOX: Path | None = None
_SEEN: set[str] = set()


def set_outbox(outbox: str | None) -> None:
    global _OUTBOX
    _OUTBOX = Path(outbox) if outbox else None


def outbox() -> Path | None:
    """The run's outbox (where shims may write their own plain-text records), if set."""
    return _OUTBOX


def used(line: str) -> None:
    """Record `line` once (plain text: what the student's code asked for, what it got)."""
    if line in _SEEN or _OUTBOX is None:
        return
    _SEEN.add(line)
    try:
        with (_OUTBOX / "shims.log").open("a", encoding="utf-8") as fh:
            fh.write(line.replace("\n", " ")[:300] + "\n")
    except OSError:
        pass
