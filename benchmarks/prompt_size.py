"""What the model reads before the first message: system prompt plus tool schemas, in tokens.

    uv run python benchmarks/prompt_size.py

Counted with litellm's tokenizer for an OpenAI model (o200k); Claude's tokenizer gives
similar counts for English prose and JSON. Budget: the whole under about 12k tokens.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_TOKENS = 12_000


def main() -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network
    import litellm

    from agent.context.system_prompt import render_system_prompt
    from agent.core.builtin_tools import create_builtin_tools
    from agent.core.subagent import research_prompt, research_toolset

    specs = create_builtin_tools()
    names = [spec.name for spec in specs]
    with tempfile.TemporaryDirectory() as cwd:
        system = render_system_prompt("anthropic/claude-sonnet-4-5", Path(cwd), names)
        research = research_prompt(cwd, [spec.name for spec in research_toolset()])

    def tokens(text: str) -> int:
        return litellm.token_counter(model="gpt-4o", text=text)

    schemas = [json.dumps(spec.schema()) for spec in specs]
    schema_tokens = sum(tokens(s) for s in schemas)
    total = tokens(system) + schema_tokens
    print(f"system prompt        {tokens(system):>6} tokens  ({len(system):,} chars)")
    print(f"tool schemas ({len(specs):>2})    {schema_tokens:>6} tokens")
    for spec, schema in sorted(zip(specs, schemas, strict=True), key=lambda p: -len(p[1]))[:5]:
        print(f"  {spec.name:<22}{tokens(schema):>6} tokens")
    print(f"research sub-agent   {tokens(research):>6} tokens (its own context)")
    verdict = "ok" if total < BUDGET_TOKENS else "OVER"
    print(f"total before the first message: {total} tokens (budget < {BUDGET_TOKENS}: {verdict})")


if __name__ == "__main__":
    main()
