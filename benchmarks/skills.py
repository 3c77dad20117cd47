"""What 100 installed skills cost: time to the chat's prompt, and tokens in the first request.

Launches `ml-intern` in a pseudo-terminal with a throw-away HOME, without skills and then
with 100 skills in ~/.agents/skills (each with a description of a typical length and a
body that must never reach the first request); medians of several runs. Tokens: the
system prompt plus tool schemas, with and without the skills, counted with litellm's
tokenizer for an OpenAI model. Budgets: prompt + at most 30 ms, first request + at most
3,000 tokens.

    uv run --frozen python benchmarks/skills.py [--runs 5] [--skills 100]
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


def discovery_ms(home: Path, cwd: Path, runs: int) -> float:
    """Finding and parsing the skills in-process, as a launch does it once (median)."""
    import time

    import yaml  # imported by the system prompt anyway: not part of the skills' cost

    from agent.config import Settings
    from agent.extensions import skills

    del yaml
    os.environ.update(_env(home))
    times = []
    for _ in range(runs):
        skills._parsed.clear()
        started = time.perf_counter()
        skills.load_skills(Settings(), cwd)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skills", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network
    with tempfile.TemporaryDirectory() as tmp:
        bare, full, cwd = Path(tmp) / "bare", Path(tmp) / "full", Path(tmp) / "work"
        cwd.mkdir()
        install(full, args.skills)
        env_bare, env_full = _env(bare), _env(full)
        time_to_prompt(env_bare, str(cwd))  # compile once, outside the measurement
        without: list[float] = []
        with_skills: list[float] = []
        for _ in range(args.runs):  # interleaved, so drift hits both alike
            without.append(time_to_prompt(env_bare, str(cwd)))
            with_skills.append(time_to_prompt(env_full, str(cwd)))
        parse = discovery_ms(full, cwd, args.runs)
        tokens_without = first_request_tokens(bare, cwd)
        tokens_with = first_request_tokens(full, cwd)
    base, loaded = statistics.median(without), statistics.median(with_skills)
    print(f"prompt ready, no skills        {base * 1000:7.0f} ms (median of {args.runs})")
    print(f"prompt ready, {args.skills} skills      {loaded * 1000:7.0f} ms")
    print(f"added                          {(loaded - base) * 1000:7.0f} ms   budget: 30 ms")
    print(f"finding and parsing them     {parse:7.1f} ms in-process (median of {args.runs})")
    print(f"first request, no skills       {tokens_without:7d} tokens")
    print(f"first request, {args.skills} skills     {tokens_with:7d} tokens")
    print(f"added                          {tokens_with - tokens_without:7d} tokens   budget: 3000")


if __name__ == "__main__":
    main()
