"""debugpy is not available in the grader's kernels.

ipykernel imports its debugger (debugpy) when a kernel starts, 0.1 s of every kernel's start-up,
and a graded notebook is never debugged. This stand-in comes first on the sandboxed kernel's
import path and refuses, which ipykernel reads as "no debugger".
"""
raise ImportError("debugpy is not available when a notebook is graded")
