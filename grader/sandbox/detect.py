"""Choosing a backend: bubblewrap where it exists and starts, otherwise the plain fallback."""
from __future__ import annotations

import logging
import shutil
from typing import Literal

from grader.errors import SandboxError
from grader.sandbox.base import Sandbox
from grader.sandbox.bwrap import BwrapSandbox, probe_bwrap
from grader.sandbox.plain import PlainSandbox

logger = logging.getLogger(__name__)

SandboxKind = Literal["auto", "bwrap", "plain"]


def bwrap_unavailable_reason() -> str | None:
    """None when bubblewrap is installed and a trial sandbox starts; otherwise why not."""
    path = shutil.which("bwrap")
    if path is None:
        return "bwrap not found"
    failure = probe_bwrap(path)
    if failure is not None:
        return f"bwrap could not start: {failure}"
    return None


def get_sandbox(kind: SandboxKind = "auto", *, fallback: bool = False) -> Sandbox:
    """The sandbox to run untrusted code in.

    "auto": bubblewrap when it works here. Otherwise, with `fallback` (a student checking their own
    work, or their own repository's CI), the plain process, whose description says why; without it
    (grading other people's work) a SandboxError that says how to install bubblewrap: students'
    code is never run unisolated unless someone asked for exactly that.
    "bwrap": bubblewrap or SandboxError. "plain": no isolation, limits only (trusted code only).
    """
    if kind == "plain":
        return PlainSandbox(reason="requested explicitly")
    if kind not in ("auto", "bwrap"):
        raise SandboxError(f"unknown sandbox kind {kind!r}: use auto, bwrap or plain")
    reason = bwrap_unavailable_reason()
    if reason is None:
        return BwrapSandbox()
    if kind == "bwrap" or not fallback:
        raise SandboxError(
            f"the bubblewrap sandbox is not usable here ({reason}), and without it students' code could "
            "read and change everything the grader can. Install bubblewrap (apt-get install bubblewrap; "
            "as an ordinary user, unprivileged user namespaces must be allowed) and grade again. "
            "For trusted code only (the shipped samples, your own solutions) pass --sandbox plain."
        )
    logger.warning("running without file/network isolation: %s", reason)
    return PlainSandbox(reason=reason)
