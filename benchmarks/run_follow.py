"""Following a run that prints 10,000 metric lines a second: the share of one core it costs.

    uv run python benchmarks/run_follow.py

A background job's log grows by the lines a Trainer prints (dict lines, a tqdm bar now
and then) at 10,000 lines per second of the run's time; between two reads of the
follower (every `TICK_S`) the lines of one tick are appended to the log. Only the
follower's reads are timed (thread CPU time): reading the new part of the log, the
metrics, the watched conditions, the live view's update. Printed: CPU seconds per second
of run time (budget: at most 0.05, 5% of one core), the live view's updates per second of
wall time (budget: at most 2), and the series kept.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.runs.model import Run  # noqa: E402
from agent.runs.registry import TICK_S, RunRegistry  # noqa: E402
from agent.tools.local.job_run import JobSource  # noqa: E402

LINES_PER_S = 10_000
SECONDS = 30  # of run time


class FakeJob:
    """What JobSource reads of a background job: a log that grows, a job that runs."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path

    def running(self) -> bool:
        return True


def tick_lines(start: int, count: int) -> str:
    lines = []
    for step in range(start, start + count):
        loss = 3.0 / (1 + step / 5000)
        lines.append(
            f"{{'loss': {loss:.4f}, 'grad_norm': 1.23, 'learning_rate': 5e-05, "
            f"'epoch': {step / 100000:.4f}}}"
        )
        if step % 500 == 0:
            lines.append(f" {step // 3000}%|##   | {step}/300000 [00:10<10:00, 44.4it/s]")
    return "\n".join(lines) + "\n"


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "bg1.log"
        log.write_text("")
        updates: list[float] = []
        registry = RunRegistry("bench", Path(folder), emit=lambda event: updates.append(1))
        registry.save = lambda: None  # type: ignore[method-assign]  # the ledger is not timed
        run = Run("bg1", "local", "python train.py --lr 5e-5")
        registry.runs[run.id] = registry._followed[run.id] = run
        registry._sources[run.id] = JobSource(FakeJob(log))  # type: ignore[arg-type]
        per_tick = int(LINES_PER_S * TICK_S)
        ticks = int(SECONDS / TICK_S)
        cpu = 0.0
        await registry.tick()  # warm-up: the first live update builds its event type
        updates.clear()
        wall = time.monotonic()
        with log.open("a") as out:
            for number in range(ticks):
                out.write(tick_lines(number * per_tick, per_tick))
                out.flush()
                started = time.thread_time()
                await registry.tick()
                cpu += time.thread_time() - started
                await asyncio.sleep(TICK_S)  # the follower's pace
        wall = time.monotonic() - wall
    share = cpu / SECONDS
    loss = run.metrics.series["loss"]
    print(f"lines followed: {run.metrics.lines:,} in {SECONDS} s of run time")
    print(f"follower CPU: {cpu:.3f} s = {share:.2%} of one core (budget: 5%)")
    print(f"live-view updates: {len(updates) / wall:.2f} per second (budget: at most 2)")
    print(f"loss series: {len(loss.ys)} points kept of {loss.seen:,} read, last {loss.last}")


if __name__ == "__main__":
    asyncio.run(main())
