"""What confinement costs a command: start-up, and creating files (`--sandbox workspace-write`).

    uv run python benchmarks/sandbox.py

Start-up: the median wall of `true` run bare, in bubblewrap with the seccomp filter
alone (the launch without a supervisor), and confined as bash runs it (bubblewrap,
then the launcher that installs the creation filter and hands its listener to the
supervisor thread). Creating files: a Python loop that opens 2,000 new files with
`open(..., "w")` and writes a line to each, unconfined and confined (every O_CREAT open
goes through the supervisor), and the same loop writing to 2,000 files that exist
(opened without O_CREAT: no supervisor involved).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 15
FILES = 2_000
CREATE = (
    "import sys, time\n"
    "t = time.perf_counter()\n"
    f"for i in range({FILES}):\n"
    "    with open(f'f{i}', sys.argv[1]) as f: f.write('x')\n"
    "print(time.perf_counter() - t)\n"
)


def wall(argv: list[str], pass_fds: tuple[int, ...] = (), cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, pass_fds=pass_fds, cwd=cwd)
    return time.perf_counter() - started


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.1f} ms"


def main() -> None:
    from agent.tools.local import sandbox as confine

    with tempfile.TemporaryDirectory(prefix="ml-intern-bench-") as folder:
        workspace = Path(folder)
        bare = [wall(["true"]) for _ in range(RUNS)]
        filter_only = []
        for _ in range(RUNS):
            options = confine._bwrap_options(workspace, allow_network=False)
            fd = confine._filter_pipe()
            argv = [confine._bwrap(), "--seccomp", str(fd), *options, "--", "true"]
            filter_only.append(wall(argv, (fd,)))
            os.close(fd)
        supervised = []
        for _ in range(RUNS):
            with confine.confined(["true"], workspace, allow_network=False) as launch:
                supervised.append(wall(launch.argv, launch.pass_fds))
        print(f"true, bare                              {median_ms(bare)}")
        print(f"true, bubblewrap + seccomp filter       {median_ms(filter_only)}")
        print(f"true, confined (launcher + supervisor)  {median_ms(supervised)}")

        for mode in ("w", "r+"):
            loops = {}
            for name, sandboxed in (("unconfined", False), ("confined", True)):
                argv = [sys.executable, "-c", CREATE, mode]
                if sandboxed:
                    with confine.confined(argv, workspace, allow_network=False) as launch:
                        out = subprocess.run(
                            launch.argv, pass_fds=launch.pass_fds, cwd=workspace,
                            capture_output=True, text=True, check=True,
                        )  # fmt: skip
                else:
                    out = subprocess.run(
                        argv, cwd=workspace, capture_output=True, text=True, check=True
                    )
                loops[name] = float(out.stdout)
            what = "new files (O_CREAT)   " if mode == "w" else "existing files (no O_CREAT)"
            per = {k: f"{v / FILES * 1e6:6.1f} us/file" for k, v in loops.items()}
            print(f"{FILES} {what}: unconfined {per['unconfined']}, confined {per['confined']}")


if __name__ == "__main__":
    main()
