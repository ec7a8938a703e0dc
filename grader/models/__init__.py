"""Task 2 on the grader's side: read what the models probe wrote, score it on the hidden labels,
draw confusion matrices, and train the course example's baselines for comparison."""
from __future__ import annotations

from grader.models.artifacts import ModelRecord, ProbeReport, read_probe_report
from grader.models.evaluate import ModelScore, score_predictions

__all__ = ["ModelRecord", "ModelScore", "ProbeReport", "read_probe_report", "score_predictions"]
