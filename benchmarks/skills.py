"""What 100 installed skills and 50 custom commands cost: time to the chat's prompt, and
tokens in the first request.

Launches `ml-intern` in a pseudo-terminal with a throw-away HOME, without extensions and
then with 100 skills in ~/.agents/skills (each with a description of a typical length and a
body that must never reach the first request) and 50 commands in ~/.agents/commands (half
of them in a subfolder, each with frontmatter); medians of several runs. Tokens: the
system prompt plus tool schemas, with and without the skills, counted with litellm's
tokenizer for an OpenAI model. Budgets: prompt + at most 30 ms, first request + at most
3,000 tokens.

    uv run --frozen python benchmarks/skills.py [--runs 5] [--skills 100] [--commands 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.time_to_prompt import _env, time_to_prompt  # noqa: E402

DESCRIPTION = (
    "Runs step {i} of a typical fine-tuning workflow: checks the dataset columns, picks a "
    "trainer and its arguments, launches the job and reports the metrics when it ends."
)


def install_commands(home: Path, count: int) -> None:
    root = home / ".agents" / "commands"
    for i in range(count):
        path = root / ("ml" if i % 2 else "") / f"step-{i:03d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "Run $1 of the workflow and report on $ARGUMENTS.\n" * 20
        path.write_text(f"---\ndescription: {DESCRIPTION.format(i=i)}\n---\n{body}")


def install(home: Path, count: int) -> None:
    root = home / ".agents" / "skills"
    for i in range(count):
        folder = root / f"workflow-step-{i:03d}"
        (folder / "references").mkdir(parents=True)
        body = "Instructions that stay out of the first request.\n" * 40
        text = f'---\nname: {folder.name}\ndescription: "{DESCRIPTION.format(i=i)}"\n---\n{body}'
        (folder / "SKILL.md").write_text(text)
        (folder / "references" / "notes.md").write_text("# Notes\n")


def first_request_tokens(home: Path, cwd: Path) -> int:
    """System prompt and tool schemas of a session opened as the chat opens it."""
    import asyncio

    import litellm

    from agent.config import load_settings
    from agent.core.runtime import open_session

    os.environ.update(_env(home))

    async def measure() -> int:
        session = await open_session(load_settings(cwd), cwd=cwd)
        try:
            system = session.context.messages[0]["content"]
            schemas = json.dumps(session.router.schemas())
            count = litellm.token_counter(model="gpt-4o", text=system)
            return int(count + litellm.token_counter(model="gpt-4o", text=schemas))
        finally:
            await session.aclose()

    return asyncio.run(measure())


def open_session_ms(homes: tuple[Path, Path], cwd: Path, runs: int) -> tuple[float, float]:
    """Opening a session in-process, as the chat does before its prompt, without and with
    the skills (medians, interleaved): the launch's share of the cost, without the noise
    of starting a process."""
    import asyncio
    import time

    from agent.config import load_settings
    from agent.core.runtime import open_session
    from agent.extensions import commands, plugins, skills

    async def once(home: Path) -> float:
        os.environ.update(_env(home))
        for cache in (skills._parsed, commands._parsed, plugins._read):
            cache.clear()  # as in a fresh process
        started = time.perf_counter()
        session = await open_session(load_settings(cwd), cwd=cwd)
        elapsed = time.perf_counter() - started
        await session.aclose()
        return elapsed

    async def measure() -> tuple[float, float]:
        await once(homes[1])  # imports and caches that any launch has warm
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(runs):
            for home, into in zip(homes, times, strict=True):
                into.append(await once(home))
        return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000

    return asyncio.run(measure())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skills", type=int, default=100)
    parser.add_argument("--commands", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network
    with tempfile.TemporaryDirectory() as tmp:
        bare, full, cwd = Path(tmp) / "bare", Path(tmp) / "full", Path(tmp) / "work"
        cwd.mkdir()
        install(full, args.skills)
        install_commands(full, args.commands)
        env_bare, env_full = _env(bare), _env(full)
        time_to_prompt(env_bare, str(cwd))  # compile once, outside the measurement
        without: list[float] = []
        with_skills: list[float] = []
        for _ in range(args.runs):  # interleaved, so drift hits both alike
            without.append(time_to_prompt(env_bare, str(cwd)))
            with_skills.append(time_to_prompt(env_full, str(cwd)))
        session_bare, session_full = open_session_ms((bare, full), cwd, args.runs)
        tokens_without = first_request_tokens(bare, cwd)
        tokens_with = first_request_tokens(full, cwd)
    base, loaded = statistics.median(without), statistics.median(with_skills)
    loaded_label = f"{args.skills} skills + {args.commands} commands"
    print(f"prompt ready, no extensions    {base * 1000:7.0f} ms (median of {args.runs})")
    print(f"prompt ready, {loaded_label}  {loaded * 1000:7.0f} ms")
    print(f"added                          {(loaded - base) * 1000:7.0f} ms   budget: 30 ms")
    print(f"open_session, no extensions    {session_bare:7.1f} ms in-process")
    print(f"open_session, {loaded_label}  {session_full:7.1f} ms")
    print(f"added                          {session_full - session_bare:7.1f} ms   budget: 30 ms")
    print(f"first request, no extensions   {tokens_without:7d} tokens")
    print(f"first request, {loaded_label} {tokens_with:7d} tokens")
    print(f"added                          {tokens_with - tokens_without:7d} tokens   budget: 3000")


if __name__ == "__main__":
    main()
