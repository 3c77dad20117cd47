"""What memory costs at launch: time to the chat's prompt with a 5-level AGENTS.md tree.

A git checkout five folders deep, an AGENTS.md of a few kB at every level, the root's
importing a chain of five files, plus the user's own AGENTS.md; trusted. Compared with
the same depth of folders and no memory. Medians of several runs, interleaved, in a
pseudo-terminal with a throw-away HOME; then `load_memory` alone, in-process.

    uv run --frozen python benchmarks/memory.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.time_to_prompt import _env, time_to_prompt  # noqa: E402

LEVELS = 5
GUIDANCE = "- Pin seeds, log to trackio, push checkpoints to the Hub every 500 steps.\n" * 50


def checkout(root: Path, with_memory: bool) -> Path:
    """A checkout LEVELS folders deep; the deepest folder, where the run starts."""
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    folder = root
    for level in range(LEVELS):
        if with_memory:
            (folder / "AGENTS.md").write_text(f"# Level {level}\n{GUIDANCE}")
        folder = folder / f"level{level + 1}"
        folder.mkdir()
    if with_memory:
        docs = root / "docs"
        docs.mkdir()
        (root / "AGENTS.md").write_text(f"Read @docs/chain0.md.\n{GUIDANCE}")
        for i in range(LEVELS):
            following = f"Then @chain{i + 1}.md.\n" if i + 1 < LEVELS else ""
            (docs / f"chain{i}.md").write_text(f"{following}{GUIDANCE}")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network
    with tempfile.TemporaryDirectory() as tmp:
        bare_home, full_home = Path(tmp) / "bare", Path(tmp) / "full"
        bare_cwd = checkout(Path(tmp) / "bare-repo", with_memory=False)
        full_cwd = checkout(Path(tmp) / "full-repo", with_memory=True)
        env_bare, env_full = _env(bare_home), _env(full_home)
        config = full_home / "config" / "ml-intern"
        config.mkdir(parents=True)
        (config / "AGENTS.md").write_text(GUIDANCE)
        trusted = {"trusted_folders": [str((Path(tmp) / "full-repo").resolve())]}
        (config / "trusted_folders.json").write_text(json.dumps(trusted))
        time_to_prompt(env_bare, str(bare_cwd))  # compile once, outside the measurement
        without: list[float] = []
        with_memory: list[float] = []
        for _ in range(args.runs):
            without.append(time_to_prompt(env_bare, str(bare_cwd)))
            with_memory.append(time_to_prompt(env_full, str(full_cwd)))
        os.environ.update(env_full)
        from agent.extensions.memory import load_memory, memory_section

        loads = []
        for _ in range(args.runs):
            started = time.perf_counter()
            memory = load_memory(full_cwd)
            loads.append(time.perf_counter() - started)
        files, chars = len(memory.files), len(memory_section(memory))
    base, loaded = statistics.median(without), statistics.median(with_memory)
    print(f"prompt ready, no memory          {base * 1000:7.0f} ms (median of {args.runs})")
    print(f"prompt ready, {files} memory files   {loaded * 1000:7.0f} ms")
    print(f"added                            {(loaded - base) * 1000:7.0f} ms")
    print(f"load_memory alone                {statistics.median(loads) * 1000:7.1f} ms in-process")
    print(f"system prompt added              {chars:7d} characters")


if __name__ == "__main__":
    main()
