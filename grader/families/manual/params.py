"""The parameters of a check left to the instructor."""
from __future__ import annotations

from grader.rubric.params import StrictParams


class ManualParams(StrictParams):
    look_for: list[str] = []
    """Word stems that find the markdown cells on the topic for the reviewer."""
