"""`grader grade --data NAME=FOLDER`: bad values are refused with a plain message."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.errors import DataError
from grader.families.models.setup import prepare_setup
from grader.rubric import load_rubric


@pytest.mark.parametrize("value", ["mnist", "mnist=", "=/tmp", "mnist=/no/such/folder"])
def test_bad_data_option(tmp_path: Path, value: str) -> None:
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "-a", "task2", "--data", value])
    assert result.exit_code != 0
    assert "--data" in result.output and "Traceback" not in result.output


def test_unknown_dataset_name(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown dataset name"):
        prepare_setup(load_rubric("task2"), {"cifar": tmp_path}, "cpu", tmp_path / "cache", with_baseline=False)


def test_setup_fills_parameters_and_env(demo_cache: Path) -> None:
    setup = prepare_setup(load_rubric("task2"), {}, "cpu", demo_cache, with_baseline=False)
    assert setup is not None and setup.mnist.demo
    params = setup.parameters({"DATA_DIR": "{data.mnist}", "DEVICE": "{device}", "EPOCHS": 3})
    assert params == {"DATA_DIR": str(setup.mnist.student_dir), "DEVICE": "cpu", "EPOCHS": 3}
    env = setup.env()
    assert env["WANDB_MODE"] == "offline" and env["GRADER_DATA_MNIST"] == str(setup.mnist.student_dir)
    assert setup.probe_config()["hidden_images"] == str(setup.mnist.hidden_images)
    assert "retrain" not in setup.probe_config()
