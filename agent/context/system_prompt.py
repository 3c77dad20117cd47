"""The system prompt: the shipped template, rendered for this machine and session.

The project's own instructions (AGENTS.md, CLAUDE.md, ML_INTERN.md) are appended only from a trusted
folder (agent/trust.py): a cloned repository must not speak to the model in the user's
name. A file whose link leads out of the project is skipped, and a long one is cut, since
the prompt is sent again with every model call.
"""

from __future__ import annotations

import datetime
import logging
import platform
from importlib import resources
from pathlib import Path

import yaml

from agent import trust

log = logging.getLogger(__name__)
INSTRUCTIONS_MAX_BYTES = 32 * 1024  # per file: a page of guidance, not a manual


def render_system_prompt(model: str, cwd: Path, tool_names: list[str]) -> str:
    """The template filled in, with the project's own instructions appended."""
    template = yaml.safe_load(
        resources.files("agent.prompts").joinpath("system.yaml").read_text(encoding="utf-8")
    )["system"]
    prompt = template.format(
        date=datetime.date.today().isoformat(),
        cwd=cwd,
        model=model,
        os=f"{platform.system()} {platform.release()}",
        tools=", ".join(tool_names) or "none",
    )
    for path in project_instruction_files(cwd):
        if text := _instructions(path):
            prompt += f"\n\n# Project instructions ({path})\n{text}"
    return prompt


def project_instruction_files(cwd: Path) -> list[Path]:
    """AGENTS.md / CLAUDE.md / ML_INTERN.md at the git root and in the working directory,
    from a trusted folder, links followed only while they stay inside the project; a file
    linked to one already listed (CLAUDE.md -> AGENTS.md is common) is listed once."""
    found = [f for f in trust.project_files(cwd) if f.is_instructions]
    if not found:
        return []
    honoured, _ = trust.split_by_trust(found)
    paths, seen = [], set()
    for file in honoured:
        target = file.inside_project()
        if target is None:
            log.warning("%s links outside the project: not read", file.path)
        elif target not in seen:
            seen.add(target)
            paths.append(file.path)
    return paths


def _instructions(path: Path) -> str:
    """The file's text, cut after INSTRUCTIONS_MAX_BYTES with a line that says so."""
    try:
        with path.open("rb") as file:
            data = file.read(INSTRUCTIONS_MAX_BYTES + 1)
            size = max(path.stat().st_size, len(data))
    except OSError as exc:
        log.warning("%s: cannot read the project instructions (%s)", path, exc)
        return ""
    if len(data) <= INSTRUCTIONS_MAX_BYTES:
        return data.decode("utf-8", errors="replace").strip()
    kept = data[:INSTRUCTIONS_MAX_BYTES]
    kept = kept[: kept.rfind(b"\n") + 1] or kept  # whole lines where there are any
    shown, total = trust.human_size(INSTRUCTIONS_MAX_BYTES), trust.human_size(size)
    note = f"[Cut: only the first {shown} of its {total} are here; read {path} for the rest.]"
    return kept.decode("utf-8", errors="ignore").strip() + "\n" + note


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
