"""Agent overhead per iteration with a long history, the model's time excluded.

    uv run python benchmarks/iteration_overhead.py [--hooks] [--matching-hook]

Builds a session whose history is about 150k tokens, then runs turns in which an
instant in-process model asks for one trivial tool call per iteration. Everything
the agent does around the model is measured: budget and limit checks, the
compaction check, token accounting, events, tool dispatch, the repetition guard
and the crash-safe session log on disk. `--hooks` configures hooks that match none of
these calls (a PreToolUse hook for Bash, a PostToolUse one for Write): they must cost nothing.
`--matching-hook` adds a PostToolUse hook (`true`) that every call runs: the price of one
process and of the transcript written for it, per iteration.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ITERATIONS = 200
HISTORY_TOKENS = 150_000
UNMATCHED_HOOKS = {
    event: [{"matcher": tool, "hooks": [{"type": "command", "command": "false"}]}]
    for event, tool in (("PreToolUse", "Bash"), ("PostToolUse", "Write"))
}
MATCHING_HOOK = {"matcher": "noop", "hooks": [{"type": "command", "command": "true"}]}


def configured_hooks(argv: list[str]) -> dict:
    hooks = {event: list(groups) for event, groups in UNMATCHED_HOOKS.items()}
    if "--hooks" not in argv:
        hooks = {}
    if "--matching-hook" in argv:
        hooks["PostToolUse"] = [*hooks.get("PostToolUse", []), MATCHING_HOOK]
    return hooks


def filler_history() -> list[dict]:
    """Realistic turns: a request, a tool call, a 2 KB tool output, an answer."""
    messages, i = [], 0
    chunk = "lorem ipsum dolor sit amet " * 75  # ~2 KB, ~500 tokens
    while len(messages) * 130 < HISTORY_TOKENS:
        call_id = f"old{i}"
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": "bash", "arguments": f'{{"command": "cat f{i}"}}'},
        }
        messages += [
            {"role": "user", "content": f"step {i}"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call_id, "name": "bash", "content": chunk},
            {"role": "assistant", "content": f"done {i}"},
        ]
        i += 1
    return messages


async def main() -> None:
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp()
    from agent.config import Settings
    from agent.core import llm, loop
    from agent.core.runtime import open_session
    from agent.tools.spec import ToolResult, ToolSpec

    async def noop(args, ctx):
        return ToolResult(f"ok {args.get('i')}")

    settings = Settings(
        model_name="openai/gpt-4.1",  # a window over the history: no compaction
        max_iterations=-1,
        max_budget_usd=1e9,
        compaction_threshold_tokens=10_000_000,
        hooks=configured_hooks(sys.argv),
    )
    session = await open_session(settings)
    session.router.register(ToolSpec(name="noop", description="nothing", handler=noop))
    session.context.replace([session.context.messages[0], *filler_history()])
    counter = {"n": 0}

    async def instant_model(messages, tools, settings, callbacks=None, model_name=None):
        counter["n"] += 1
        reply = llm.LLMReply(usage=llm.TokenUsage(session.context.tokens, 10))
        if counter["n"] % (ITERATIONS + 1) == 0:
            reply.content = "finished"
        else:
            reply.tool_calls = [
                {
                    "id": f"c{counter['n']}",
                    "type": "function",
                    "function": {"name": "noop", "arguments": f'{{"i": {counter["n"]}}}'},
                }
            ]
        reply.finish_reason = "stop"
        reply.cost_usd = 0.0
        return reply

    loop.llm.complete = instant_model
    llm.litellm()  # import outside the timed region
    events = []
    session.subscribe(events.append)
    tokens = session.context.tokens
    started = time.perf_counter()
    await loop.run_turn(session, "go")
    elapsed = time.perf_counter() - started
    await session.aclose()
    per_iteration_ms = elapsed / (ITERATIONS + 1) * 1000
    print(f"history: {tokens:,} tokens, {len(session.context.messages):,} messages")
    print(f"iterations: {ITERATIONS + 1}, events: {len(events):,}")
    print(f"agent overhead per iteration: {per_iteration_ms:.2f} ms   (budget < 5 ms)")


if __name__ == "__main__":
    asyncio.run(main())
