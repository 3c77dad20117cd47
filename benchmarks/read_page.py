"""One page of `read` from a small file next to the same page from a 1 GB one.

    uv run python benchmarks/read_page.py [--size-mb 1024]

The tool runs in-process as in a session (ToolRouter, ToolContext). Three files: a
small one (100 short lines), one of short lines and one of a single line, both
`--size-mb` large, generated in a temp dir and removed afterwards. Printed: the
median wall of reading the first 10 lines of each (budget: the large ones cost the
same as the small one), and how much the peak RSS of this process grew while reading
them (budget: flat, a window of a line, not the file).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 7
BLOCK = 1 << 20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(folder: Path, size_mb: int) -> dict[str, Path]:
    small = folder / "small.csv"
    small.write_text("".join(f"{i},{i * i},label_{i % 7}\n" for i in range(100)))
    lines, one = folder / "lines.csv", folder / "one_line.json"
    row = b"0.1234,0.5678,0.9012,some text for the row,label_3\n"
    block = row * (BLOCK // len(row))
    with lines.open("wb") as out:
        for _ in range(size_mb):
            out.write(block)
    with one.open("wb") as out:
        out.write(b'{"text": "')
        for _ in range(size_mb):
            out.write(b"x" * BLOCK)
        out.write(b'"}\n')
    return {"small file": small, "1 line per row": lines, "a single line": one}


def time_read(cwd: Path, path: Path) -> float:
    from agent.config import Settings
    from agent.tools.local.local_tools import local_tools
    from agent.tools.router import ToolRouter
    from agent.tools.spec import ToolContext

    router = ToolRouter(local_tools())
    walls = []
    for _ in range(RUNS):
        ctx = ToolContext(settings=Settings(), cwd=cwd)
        started = time.perf_counter()
        result = asyncio.run(router.call("read", {"path": str(path), "limit": 10}, ctx))
        walls.append(time.perf_counter() - started)
        assert not result.is_error, result.content
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    size_mb = parser.parse_args().size_mb
    with tempfile.TemporaryDirectory() as folder:
        files = generate(Path(folder), size_mb)
        time_read(Path(folder), files["small file"])  # warm-up: imports
        for label, path in files.items():
            before = peak_rss_mib()
            wall = time_read(Path(folder), path)
            grew = peak_rss_mib() - before
            size = path.stat().st_size / BLOCK
            print(f"{label:>15} ({size:8.1f} MiB): {wall * 1000:7.2f} ms, peak RSS +{grew:.1f} MiB")


if __name__ == "__main__":
    main()
