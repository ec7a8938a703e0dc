"""The Ray executor's planning, without a cluster: a run moved onto a worker's paths sees inside
the sandbox what a local run sees, and a batch asks of the nodes what its rubric needs."""
from __future__ import annotations

import dataclasses
import socket
import time
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("ray")

from grader.errors import ExecutorError  # noqa: E402
from grader.executors.ray import Demand, RayExecutor, _answers, _fits, for_worker  # noqa: E402
from grader.grading import BatchPlan, GradeOptions, PlannedRun  # noqa: E402
from grader.intake import discover  # noqa: E402
from grader.families.models.setup import ModelsSetup  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402
from grader.sandbox import GIB, Mount  # noqa: E402


def _planned(tmp_path: Path) -> PlannedRun:
    root = tmp_path / "class" / "anna"
    (root / "data").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), str(root / "hw.ipynb"))
    (root / "data" / "x.csv").write_text("1", encoding="utf-8")
    rubric = load_rubric("task1")
    sub = discover(tmp_path / "class", patterns=tuple(rubric.entry.patterns), unpack_dir=tmp_path / "u", lang="en",
                   entry_hints=tuple(rubric.entry.hints))[0]
    plan = BatchPlan(rubric, GradeOptions(out_dir=tmp_path / "out"), tmp_path / "out", "en", {}, None)
    planned = plan.plan(sub, "test")
    assert isinstance(planned, PlannedRun)
    return planned


def test_a_plan_moved_to_a_worker_keeps_what_the_sandbox_sees(tmp_path: Path) -> None:
    planned = _planned(tmp_path)
    data, weights = tmp_path / "out" / ".data" / "student", tmp_path / "weights"
    mounts = (Mount(data, str(data)), Mount(data, "./afhq"), Mount(weights, "/root/.cache/torch/hub/checkpoints"))
    planned = dataclasses.replace(planned, request=dataclasses.replace(planned.request, mounts=mounts))
    here = tmp_path / "worker" / "submission"
    local = {data: tmp_path / "worker" / "cache" / "a" / "data", weights: tmp_path / "worker" / "cache" / "b" / "data"}

    moved = for_worker(planned, here, local)
    req = moved.request
    assert req.entry == here / "hw.ipynb" and req.files_root == here
    assert sorted(str(f.relative_to(here)) for f in req.files) == ["data/x.csv", "hw.ipynb"]
    assert [m.source for m in req.mounts] == [local[data], local[data], local[weights]]
    assert [m.target for m in req.mounts] == [m.target for m in mounts]  # the same paths inside the sandbox
    assert (req.parameters, req.env, req.limits, req.probes) == (planned.request.parameters, planned.request.env,
                                                                  planned.request.limits, planned.request.probes)
    assert moved.sub == planned.sub and moved.student_dir == planned.student_dir  # the driver's, for the checks


class _Nodes(RayExecutor):
    """The executor's arithmetic over canned nodes (no cluster)."""

    def __init__(self, *nodes: dict[str, float]) -> None:  # noqa: D107 (no connection on purpose)
        self.nodes = [{"Alive": True, "Resources": n} for n in nodes]
        self.gpu = any(n.get("GPU") for n in nodes)
        self.sandbox_kind = "auto"


def test_capacity_is_what_the_nodes_hold_of_the_rubrics_demand(tmp_path: Path) -> None:
    two_cpu = {"CPU": 2.0, "memory": 16 * GIB}
    gpu_node = {"CPU": 8.0, "memory": 64 * GIB, "GPU": 2.0}
    task1 = Demand(1.0, 0, 2 * GIB)
    assert _Nodes(two_cpu).capacity(task1) == 2
    assert _Nodes(two_cpu, gpu_node).capacity(Demand(1.0, 1, 8 * GIB)) == 2  # only the GPU node, 2 GPUs
    assert _fits({"CPU": 16.0, "memory": 20 * GIB}, Demand(1.0, 0, 8 * GIB)) == 2  # memory binds first
    with pytest.raises(ExecutorError, match="no node of the Ray cluster can take one run: each needs 1 CPU, 32 GiB"):
        _Nodes(two_cpu).capacity(Demand(1.0, 0, 32 * GIB))
    plan = BatchPlan(load_rubric("task1"), GradeOptions(out_dir=tmp_path), tmp_path, "en", {}, None)
    assert _Nodes(gpu_node).demand(plan) == Demand(1.0, 0, 2 * GIB)  # Task 1 has no models: no GPU asked
    hw3 = load_rubric("hw3")
    for device, gpus in (("auto", 1), ("cuda", 1), ("cpu", 0)):
        setup = ModelsSetup(None, None, device, evaluate=True, gpu_present=device != "cpu")  # type: ignore[arg-type]
        plan = BatchPlan(hw3, GradeOptions(out_dir=tmp_path), tmp_path, "en", {}, setup)
        assert _Nodes(gpu_node).demand(plan) == Demand(1.0, gpus, int(hw3.limits.memory_gb * GIB)), device


def test_an_address_where_nothing_listens_is_said_at_once() -> None:
    with socket.socket() as s:  # a port that was free a moment ago, and is closed now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ExecutorError, match=f"nothing answers at 127.0.0.1:{port}"):
        _answers(f"127.0.0.1:{port}")
    assert time.monotonic() - started < 10
