"""The system prompt: the shipped template, rendered for this machine and session.

The standing instructions (AGENTS.md and its kin) are found and read by
agent/extensions/memory.py, which says which count; they arrive here as text.
"""

from __future__ import annotations

import datetime
import platform
import re
from importlib import resources
from pathlib import Path

import yaml

from agent.compute.estimate import sizing_guide


def render_system_prompt(model: str, cwd: Path, tool_names: list[str], memory: str = "") -> str:
    """The template filled in, with the memory files' sections (`memory`) appended."""
    template = yaml.safe_load(
        resources.files("agent.prompts").joinpath("system.yaml").read_text(encoding="utf-8")
    )["system"]
    if "hf_jobs" not in tool_names:
        template = _without_jobs(template)
    prompt = template.format(
        date=datetime.date.today().isoformat(),
        cwd=cwd,
        model=model,
        os=f"{platform.system()} {platform.release()}",
        tools=", ".join(tool_names) or "none",
        sizing=sizing_guide() if "hf_jobs" in tool_names else "",
    )
    return prompt + memory


def _without_jobs(template: str) -> str:
    """The template without the advice on picking and running HF Jobs hardware: where the
    jobs tool is not offered (the lean set of a small context window), it only takes room."""
    sections = re.split(r"(?m)^(?=# )", template)
    kept = [s for s in sections if not s.startswith("# Jobs on Hugging Face hardware")]
    text = "".join(kept)
    return re.sub(r"(?m)^- Pick hardware from.*\n(?:  .*\n)*", "", text)


SKILLS_MAX_TOKENS = 2_800  # resent with every call; with the `skill` tool, under 3,000 in all
CHARS_PER_TOKEN = 4  # a rough, conservative count for English text


def skills_section(skills: list[tuple[str, str]]) -> str:
    """The installed skills as `name: description` lines, for the model to pick from with
    the `skill` tool; cut at about SKILLS_MAX_TOKENS, saying how many were left out."""
    if not skills:
        return ""
    head = (
        "\n\n# Skills\nInstructions for specific tasks. When one fits the request, call the "
        "`skill` tool with its name to load it before you start.\n"
    )
    budget = SKILLS_MAX_TOKENS * CHARS_PER_TOKEN - len(head)
    lines: list[str] = []
    for name, description in skills:
        line = f"- {name}: {description}\n"
        if len(line) > budget:
            break
        budget -= len(line)
        lines.append(line)
    left_out = len(skills) - len(lines)
    tail = f"({left_out} more skills are installed but not listed here.)\n" if left_out else ""
    return head + "".join(lines) + tail
