"""Process isolation for untrusted student code."""
from __future__ import annotations

from grader.sandbox.base import GIB, MIB, Limits, Mount, Sandbox, SandboxResult, SandboxSpec
from grader.sandbox.bwrap import BwrapSandbox
from grader.sandbox.detect import SandboxKind, bwrap_unavailable_reason, get_sandbox
from grader.sandbox.limits import CgroupSupport, detect_cgroups, make_scratch, remove_scratch
from grader.sandbox.plain import PlainSandbox

__all__ = [
    "GIB",
    "MIB",
    "BwrapSandbox",
    "CgroupSupport",
    "Limits",
    "Mount",
    "PlainSandbox",
    "Sandbox",
    "SandboxKind",
    "SandboxResult",
    "SandboxSpec",
    "bwrap_unavailable_reason",
    "detect_cgroups",
    "get_sandbox",
    "make_scratch",
    "remove_scratch",
]
