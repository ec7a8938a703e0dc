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


def get_sandbox(kind: SandboxKind = "auto") -> Sandbox:
    """The sandbox to run untrusted code in.

    "auto": bubblewrap when it works here, else the plain fallback, whose description says why.
    "bwrap": bubblewrap or SandboxError. "plain": no isolation, limits only (trusted code only).
    """
    if kind == "plain":
        return PlainSandbox(reason="requested explicitly")
    if kind not in ("auto", "bwrap"):
        raise SandboxError(f"unknown sandbox kind {kind!r}: use auto, bwrap or plain")
    reason = bwrap_unavailable_reason()
    if reason is None:
        return BwrapSandbox()
    if kind == "bwrap":
        raise SandboxError(
            f"the bubblewrap sandbox was requested but is not usable ({reason}); "
            "install the 'bubblewrap' package or allow unprivileged user namespaces"
        )
    logger.warning("running without file/network isolation: %s", reason)
    return PlainSandbox(reason=reason)
