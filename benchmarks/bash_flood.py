"""200 MB of short lines through the `bash` tool, next to the same command without it.

    uv run python benchmarks/bash_flood.py

The tool runs in-process as it does in a session: through the ToolRouter, with the
session's ToolContext, every `tool_log` event going to the headless stream-json
writer (into /dev/null). The floor is `yes | head -c 200000000 > /dev/null`, run in
turn with the tool in the same run; a bare Python loop reading the same pipeline shows
what any reader pays. Printed: the median wall of each, the tool's ratio to the floor
(budget < 3x), the `tool_log` events of a run, whether the model's result kept the
end, and how much the peak RSS of this process grew over a small warm-up run, after
20 MB and after 200 MB (budget: flat, the same for both).
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = 200_000_000
RUNS = 5
COMMAND = "yes | head -c {size}"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def floor() -> float:
    started = time.perf_counter()
    subprocess.run(["bash", "-c", COMMAND.format(size=SIZE) + " > /dev/null"], check=True)
    return time.perf_counter() - started


def bare_reader() -> float:
    """The least any reader of the pipe pays: Python reading it in a loop, nothing else."""
    from agent.tools.local.output import widen_pipe

    read_fd, write_fd = os.pipe()
    widen_pipe(read_fd)
    started = time.perf_counter()
    proc = subprocess.Popen(["bash", "-c", COMMAND.format(size=SIZE)], stdout=write_fd)
    os.close(write_fd)
    while os.read(read_fd, 1 << 20):
        pass
    proc.wait()
    os.close(read_fd)
    return time.perf_counter() - started


class Flood:
    """One session's worth of tool plumbing, with a stream-json writer subscribed."""

    def __init__(self) -> None:
        from agent.cli.headless import StreamJsonWriter
        from agent.config import Settings
        from agent.core.session import Session
        from agent.tools.local.local_tools import local_tools
        from agent.tools.router import ToolRouter

        self.session = Session(Settings(), ToolRouter(local_tools()), cwd=Path.cwd())
        self.sink = Path(os.devnull).open("w")  # lives as long as the benchmark
        self.session.subscribe(StreamJsonWriter(self.sink))
        self.events = 0
        self.session.subscribe(self._count)
        self.calls = 0

    def _count(self, event: object) -> None:
        self.events += getattr(event, "type", "") == "tool_log"

    def run(self, size: int) -> tuple[float, int, str]:
        """Wall seconds, tool_log events and the model's result of one call."""
        self.calls += 1
        self.events = 0
        ctx = self.session.tool_context(f"call{self.calls}", "bash")
        args = {"command": COMMAND.format(size=size) + "; echo END"}
        started = time.perf_counter()
        result = asyncio.run(self.session.router.call("bash", args, ctx))
        wall = time.perf_counter() - started
        if result.is_error:
            raise SystemExit(f"the flood failed: {result.content[-500:]}")
        return wall, self.events, result.content


def main() -> None:
    os.chdir(tempfile.mkdtemp())
    flood = Flood()
    flood.run(2_000_000)
    baseline = peak_rss_mib()
    flood.run(20_000_000)
    after_20 = peak_rss_mib() - baseline
    tool_walls, floor_walls, reader_walls = [], [], []
    for _ in range(RUNS):
        wall, events, content = flood.run(SIZE)
        tool_walls.append(wall)
        floor_walls.append(floor())
        reader_walls.append(bare_reader())
    after_200 = peak_rss_mib() - baseline
    tool_wall, floor_wall = statistics.median(tool_walls), statistics.median(floor_walls)
    reader_wall = statistics.median(reader_walls)
    print(f"{'yes | head -c 200000000 > /dev/null':<44} {floor_wall:>8.3f} s  (floor)")
    print(f"{'the same into a bare Python read loop':<44} {reader_wall:>8.3f} s")
    print(f"{'the same through bash, streamed as events':<44} {tool_wall:>8.3f} s")
    print(
        f"{'ratio (median of ' + str(RUNS) + ')':<44} {tool_wall / floor_wall:>8.2f} x  (budget < 3x)"
    )
    print(f"{'tool_log events per run':<44} {events:>8}    (100,000,001 lines)")
    print(f"{'result ends with END':<44} {content.endswith(chr(10) + 'END')!s:>8}")
    print(f"{'peak RSS growth after 20 MB':<44} {after_20:>8.1f} MiB")
    print(
        f"{'peak RSS growth after 200 MB x ' + str(RUNS):<44} {after_200:>8.1f} MiB  (budget: flat)"
    )


if __name__ == "__main__":
    main()
