"""Process isolation for untrusted student code."""
from __future__ import annotations

from grader.sandbox.base import GIB, MIB, Limits, Mount, Sandbox, SandboxResult, SandboxSpec

__all__ = ["GIB", "MIB", "Limits", "Mount", "Sandbox", "SandboxResult", "SandboxSpec"]
