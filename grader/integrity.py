"""Whether a run's evidence can be trusted: tampering found in the source, by the tripwires, or in
the seals of the probes' data.

Two sources, both outside the student's control once the run is over:
- the notebook's **source** (read here, never run): code that names the grader's in-kernel modules
  or their objects, and files in the submission that would shadow them;
- the harness's **integrity record** (run.json, written after every other process of the run was
  killed): what the tripwires in the kernel reported (grader_inside.probes.tripwire), and whether
  the probe cell's data and the files the probes wrote still match the seals the probes sent.

Tampering means no automatic points for the submission: every check is left to the instructor,
with the reason, and the student is flagged for review. Merely suspicious use of low-level tools
(ctypes, the garbage collector's object lists) is flagged and graded as usual.
"""
from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.i18n import Text, catalogue, joined, msg
from grader.results import Flag
from grader_inside.notebook import Cell

# Names of the grader's in-kernel code: its packages, and the names its cells bind in the kernel.
GRADER_NAMES = ("grader_inside", "grader_offline", "_grader_kernel", "_grader_offline", "_grader_models")
_NAME_RE = re.compile("|".join(re.escape(n) for n in GRADER_NAMES))
_INSIDE_PATH = "/opt/grader-pkg"
MAX_FINDINGS = 10


@dataclass(frozen=True)
class Finding:
    """One piece of evidence: what was done, where (cell, or file), and how sure we are."""

    what: str  # import_grader | read_grader_files | patch_grader | wire | probe_unsealed | ...
    detail: str
    cell: int | None = None
    suspicious: bool = False  # True: only odd (ctypes, gc); False: tampering


@dataclass(frozen=True)
class Integrity:
    """A run's integrity record as the harness wrote it, typed; `checked` is False where the run
    had no wire (outside the harness), so nothing can be said either way."""

    checked: bool = False
    events: tuple[Finding, ...] = ()
    probe: str = "none"  # sealed | unsealed | missing | none
    files: Mapping[str, str] = field(default_factory=dict)  # path -> sealed | changed | missing

    @classmethod
    def from_report(cls, report: Any) -> Integrity:
        if not isinstance(report, dict):
            return cls()
        events = []
        raw_events = report.get("events")
        for raw in raw_events[:MAX_FINDINGS * 4] if isinstance(raw_events, list) else []:
            if not isinstance(raw, dict):
                continue
            cell = raw.get("cell")
            events.append(Finding(str(raw.get("what", ""))[:40], str(raw.get("detail", ""))[:300],
                                  cell if isinstance(cell, int) else None, bool(raw.get("suspicious"))))
        files = report.get("files")
        return cls(checked=report.get("wire") is True, events=tuple(events),
                   probe=str(report.get("probe", "none")),
                   files={str(k)[:300]: str(v) for k, v in list(files.items())[:1000]} if isinstance(files, dict) else {})

    def sealed(self, path: str) -> bool:
        """Whether the file at `path` (relative to the outbox) is the one a probe wrote."""
        return not self.checked or self.files.get(path) == "sealed"

    def findings(self) -> list[Finding]:
        found = list(self.events)
        if self.checked and self.probe in ("unsealed", "missing"):
            found.append(Finding(f"probe_{self.probe}", ""))
        found += [Finding("file_changed", path) for path, state in self.files.items() if state == "changed"]
        return found


def scan_source(cells: Sequence[Cell], files: Iterable[Path] = (), root: Path | None = None) -> list[Finding]:
    """Tampering visible in the submission itself: code naming the grader's in-kernel modules or
    objects (comments and prose do not count), and files that would shadow them in the kernel."""
    found: list[Finding] = []
    for cell in cells:
        if cell.kind != "code":
            continue
        for token in _tokens(cell.source):
            if _NAME_RE.search(token) or _INSIDE_PATH in token:
                found.append(Finding("names_grader", token.strip()[:120], cell.number))
                break
    for path in files:
        rel = path.relative_to(root) if root is not None and path.is_relative_to(root) else Path(path.name)
        if any(part.split(".")[0] in GRADER_NAMES for part in rel.parts):
            found.append(Finding("shadows_grader", str(rel)[:200]))
    return found[:MAX_FINDINGS]


def _tokens(source: str) -> list[str]:
    """Names and string literals of a cell; IPython's magics and shell lines are read as text."""
    out = [line.lstrip() for line in source.splitlines() if line.lstrip().startswith(("!", "%"))]
    try:
        for tok in tokenize.generate_tokens(io.StringIO(_without_magics(source)).readline):
            if tok.type in (tokenize.NAME, tokenize.STRING) or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                out.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out += [line for line in source.splitlines() if not line.lstrip().startswith("#")]
    return out


def _without_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("!", "%")) else line for line in source.splitlines())


def describe(findings: Sequence[Finding]) -> Text:
    """The findings as one message, the first few only."""
    parts: list[Text] = []
    for finding in findings[:3]:
        family = finding.what.split(".")[0] if finding.what.startswith(("ctypes.", "gc.")) else finding.what
        key = f"integrity.what.{family}"
        what = msg(key, detail=finding.detail) if key in catalogue() else msg("integrity.what.other",
                                                                                detail=finding.what)
        parts.append(msg("integrity.in_cell", what=what, cell=finding.cell) if finding.cell else what)
    more = len(findings) - len(parts)
    return joined([*parts, *([f"… (+{more})"] if more > 0 else [])], "; ")


def verdict(findings: Sequence[Finding], lang: str) -> tuple[Text | None, tuple[Flag, ...]]:
    """(why every check is withheld, or None; the flags for the instructor's review)."""
    tampered = [f for f in findings if not f.suspicious]
    odd = [f for f in findings if f.suspicious]
    flags: list[Flag] = []
    withheld = None
    if tampered:
        withheld = describe(tampered)
        flags.append(_flag("tampering", msg("integrity.flag_tampering", what=withheld), lang))
    if odd:
        flags.append(_flag("suspicious", msg("integrity.flag_suspicious", what=describe(odd)), lang))
    return withheld, tuple(flags)


def _flag(kind: str, message: Text, lang: str) -> Flag:
    return Flag(kind, message.render(lang), msg=message)
