"""Code similarity across a batch: winnowed fingerprints of normalised code (copydetect).

Each student's code cells become one text (shell and magic lines dropped). copydetect's
tokeniser normalises it: every identifier becomes one letter, strings and comments go, so a
renamed-variable copy reads the same as the original. Its k-grams are hashed and winnowed
(Schleimer, Wilkerson, Aiken, SIGMOD 2003): any common run of `guarantee` normalised characters
is found, shorter noise is not. Reordered cells keep all their inner k-grams, so they are
found too.

Subtracted before comparing: the instructor's starter notebook, and fingerprints that more than
half of a large class shares (course material everyone copied is not copying; MOSS does the
same). A pair is reported when the common code is at least `threshold` of either student's code
and at least `min_overlap` normalised characters long.

k-gram hashes are our own (blake2b), not copydetect's Python `hash()`, which changes from one
process to the next: the same batch gives the same pairs and percentages on every run.
"""
from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from copydetect import compare_files
from copydetect.utils import filter_code, get_token_coverage, winnow

from grader_inside.notebook import Cell
from grader.similarity.model import Pair, SimilarityReport

logger = logging.getLogger(__name__)

_SHELL_OR_MAGIC = re.compile(r"^\s*[!%]")
PARALLEL_FROM = 40  # notebooks: below this, starting workers costs more than it saves


@dataclass(frozen=True)
class Settings:
    threshold: float = 0.5  # share of either student's code found in the other's
    noise: int = 35  # k: common runs shorter than this (normalised characters) are ignored
    guarantee: int = 40  # common runs at least this long are always found (window = guarantee - noise + 1)
    min_overlap: int = 150  # normalised characters in common, at least (a few lines of code)
    common_share: float = 0.5  # fingerprints in more than this share of the class are course material ...
    common_min: int = 10  # ... when that is also more than this many students

    @property
    def window(self) -> int:
        return self.guarantee - self.noise + 1

    def as_dict(self) -> dict[str, float]:
        return {"noise": self.noise, "guarantee": self.guarantee, "min_overlap": self.min_overlap,
                "common_share": self.common_share, "common_min": self.common_min}


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """One student's code as copydetect's `compare_files` reads it (the attribute names are its own)."""

    raw_code: str
    filtered_code: str
    offsets: np.ndarray  # filtered index -> characters removed before it (copydetect's format)
    k: int
    hash_idx: Mapping[int, list[int]]  # fingerprint -> where it starts in the filtered code
    hashes: frozenset[int]
    token_coverage: float

    def without(self, drop: frozenset[int] | set[int]) -> Fingerprint:
        """The same code with the fingerprints in `drop` (starter, course material) removed."""
        if not drop or not (self.hashes & drop):
            return self
        kept = {h: idx for h, idx in self.hash_idx.items() if h not in drop}
        return Fingerprint(self.raw_code, self.filtered_code, self.offsets, self.k, kept, frozenset(kept),
                           float(get_token_coverage(kept, self.k, len(self.filtered_code))))


def code_text(cells: Sequence[Cell]) -> str:
    """The code cells as one text, each under a `# cell N` line; shell and magic lines dropped."""
    parts = []
    for cell in cells:
        if cell.kind != "code":
            continue
        lines = [line for line in cell.source.replace("\r\n", "\n").split("\n") if not _SHELL_OR_MAGIC.match(line)]
        body = "\n".join(lines).strip("\n")
        if body.strip():
            parts.append(f"# cell {cell.number}\n{body}\n")
    return "\n".join(parts)


def _kgram_hashes(text: str, k: int) -> np.ndarray:
    return np.array([int.from_bytes(hashlib.blake2b(text[i:i + k].encode("utf-8"), digest_size=8).digest(),
                                    "little", signed=True) for i in range(len(text) - k + 1)], dtype=np.int64)


def fingerprint(code: str, settings: Settings = Settings()) -> Fingerprint:
    """Normalise, hash and winnow one student's code."""
    filtered, offsets = filter_code(code, "code.py", "python")
    k = settings.noise
    hashes = _kgram_hashes(filtered, k)
    hash_idx: dict[int, list[int]] = {}
    if len(hashes):
        selected, idx = winnow(hashes, settings.window, remove_duplicates=False)
        for value, at in zip(selected.tolist(), idx.tolist()):
            hash_idx.setdefault(value, []).append(at)
    coverage = float(get_token_coverage(hash_idx, k, len(filtered)))
    return Fingerprint(code, filtered, offsets, k, hash_idx, frozenset(hash_idx), coverage)


def _fingerprint_chunk(chunk: list[str], settings: Settings) -> list[Fingerprint]:
    return [fingerprint(code, settings) for code in chunk]


def fingerprint_all(codes: Sequence[str], settings: Settings, workers: int | None = None) -> list[Fingerprint]:
    """Fingerprints of many students' code, in order. Tokenising is most of the cost of a batch,
    so a large class is split over the machine's cores (forked workers: nothing is re-imported)."""
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(codes) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return _fingerprint_chunk(list(codes), settings)
    size = -(-len(codes) // (workers * 4))  # a few chunks per worker evens out uneven notebooks
    chunks = [list(codes[i:i + size]) for i in range(0, len(codes), size)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        done = pool.map(_fingerprint_chunk, chunks, [settings] * len(chunks))
        return [fp for chunk in done for fp in chunk]


def common_fingerprints(prints: Sequence[Fingerprint], settings: Settings) -> set[int]:
    """Fingerprints shared by more than `common_share` of the class and more than `common_min` students."""
    limit = max(settings.common_share * len(prints), settings.common_min)
    counts = Counter(h for fp in prints for h in fp.hashes)
    return {h for h, n in counts.items() if n > limit}


def compare(a: Fingerprint, b: Fingerprint, names: tuple[str, str], settings: Settings) -> Pair | None:
    """The pair (a, b) when their common code passes the threshold, else None."""
    shared = len(a.hashes & b.hashes)
    smaller = min(len(a.hashes), len(b.hashes))
    # cheap bound first: copydetect's share is close to the share of common fingerprints, and
    # most pairs in a class have almost none in common
    if not shared or shared < 0.5 * settings.threshold * smaller:
        return None
    overlap, (share_a, share_b), (slices_a, slices_b) = compare_files(a, b)
    if overlap < settings.min_overlap or max(share_a, share_b) < settings.threshold:
        return None
    return Pair(names[0], names[1], float(share_a), float(share_b), int(overlap),
                _as_spans(slices_a), _as_spans(slices_b))


def _as_spans(slices: np.ndarray) -> tuple[tuple[int, int], ...]:
    if len(slices) == 0 or len(slices[0]) == 0:
        return ()
    return tuple((int(s), int(e)) for s, e in zip(slices[0], slices[1]))


def find_similar(codes: Mapping[str, str], *, starter: str | None = None, starter_name: str | None = None,
                 sha256: Mapping[str, str] | None = None, settings: Settings = Settings()) -> SimilarityReport:
    """Every pair of students whose code overlaps past the threshold, most similar first.

    `codes` maps each student to their code (see `code_text`); `starter` is the instructor's
    starter code, subtracted from everyone's.
    """
    skipped = tuple(sorted(s for s, c in codes.items() if not c.strip()))
    names = sorted(s for s, c in codes.items() if c.strip())
    prints = fingerprint_all([codes[s] for s in names], settings)
    drop = common_fingerprints(prints, settings)
    if starter:
        drop |= fingerprint(starter, settings).hashes
    if drop:
        logger.info("similarity: %d fingerprints subtracted (starter and course material)", len(drop))
    prints = [fp.without(drop) for fp in prints]
    pairs = []
    for i, a in enumerate(prints):
        for j in range(i + 1, len(prints)):
            pair = compare(a, prints[j], (names[i], names[j]), settings)
            if pair is not None:
                pairs.append(pair)
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    shown = {s for p in pairs for s in (p.a, p.b)}
    return SimilarityReport(
        computed_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), threshold=settings.threshold,
        starter=starter_name, compared=len(names), sha256=dict(sha256 or {}),
        code={s: codes[s] for s in sorted(shown)}, pairs=tuple(pairs), skipped=skipped,
        settings=settings.as_dict())
