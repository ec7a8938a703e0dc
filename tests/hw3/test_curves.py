"""Overfitting read from training and validation series (numbers, not pictures)."""
from __future__ import annotations

from grader.families.models.weights import unserved_paths
from grader.families.transfer.evidence import Curves, overfitting


def test_rising_validation_loss_is_flagged() -> None:
    over = overfitting(Curves("x", "loss", (1.0, 0.6, 0.4, 0.3, 0.2), (1.0, 0.7, 0.75, 0.8, 0.9)))
    assert over.flagged and over.epochs == (3, 4, 5) and over.best_epoch == 2
    assert round(over.worse_by, 3) == round(0.9 / 0.7 - 1, 3)


def test_noise_and_recovery_are_not_flagged() -> None:
    assert not overfitting(Curves("x", "loss", (1.0, 0.8, 0.6, 0.5), (1.0, 1.02, 0.7, 0.6))).flagged
    assert not overfitting(Curves("x", "loss", (1.0, 0.5), (0.9, 1.5))).flagged  # one epoch is not a trend


def test_accuracy_curves_go_the_other_way() -> None:
    over = overfitting(Curves("x", "accuracy", (0.5, 0.7, 0.9, 0.99), (0.6, 0.8, 0.7, 0.6)))
    assert over.flagged and over.best_epoch == 2 and over.epochs == (3, 4)


def test_unserved_paths_are_data_paths_only() -> None:
    errors = ["FileNotFoundError: [Errno 2] No such file or directory: '/afhq/train'",
              "RuntimeError: Couldn't find any class folder in /content/data/animals/val.",
              "FileNotFoundError: [Errno 2] No such file or directory: 'best_model.pth'",
              "FileNotFoundError: [Errno 2] No such file or directory: '/content/report.csv'"]
    assert unserved_paths(errors, ("afhq", "train", "val")) == ["/afhq/train", "/content/data/animals/val"]
