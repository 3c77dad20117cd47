"""Which GPUs a Slurm GRES names and how much memory the estimate gives them."""

from __future__ import annotations

import pytest

from agent.compute.estimate import PEAK_TFLOPS
from agent.compute.gpus import GpuMemory, GpuRequest, gpu_memory, gres_gpus
from agent.tools.slurm.script import limit_seconds


@pytest.mark.parametrize(
    ("spec", "request_"),
    [
        ("gpu:a100:2", GpuRequest(2, "a100")),
        ("a100:2", GpuRequest(2, "a100")),
        ("h100", GpuRequest(1, "h100")),
        ("gpu:4", GpuRequest(4, None)),
        ("gpu", GpuRequest(1, None)),
        ("4", GpuRequest(4, None)),
        ("shard:2,gpu:l40s:8", GpuRequest(8, "l40s")),
        ("gpu:a100:4(S:0-1)", GpuRequest(4, "a100")),  # as sinfo -o %G lists a node's GPUs
        ("(null)", None),
        ("shard:2", None),
    ],
)
def test_the_gpus_a_gres_asks_for(spec, request_):
    assert gres_gpus(spec) == request_


def test_a_gpu_sold_in_several_sizes_is_taken_at_the_size_its_name_spells_else_the_smallest():
    assert gpu_memory("a100-80g") == GpuMemory("A100", 80, False)
    assert gpu_memory("a100_80gb") == GpuMemory("A100", 80, False)
    assert gpu_memory("nvidia_a100-sxm4-80gb") == GpuMemory("A100", 80, False)
    assert gpu_memory("a100") == GpuMemory("A100", 40, True)
    assert gpu_memory("a10") == GpuMemory("A10", 24, False)  # not read as an A100
    assert gpu_memory("l40s") == GpuMemory("L40S", 48, False)
    assert gpu_memory("rtx9000") is None


def test_the_throughput_table_is_the_gpu_tables():
    assert PEAK_TFLOPS["A10G"] == 70.0 and PEAK_TFLOPS["A100"] == 312.0


@pytest.mark.parametrize(
    ("limit", "seconds"),
    [("90", 5400), ("90:30", 5430), ("4:00:00", 14400), ("1-12", 129600), ("2h", 7200)],
)
def test_a_time_limit_in_any_of_slurms_spellings(limit, seconds):
    assert limit_seconds(limit) == seconds
