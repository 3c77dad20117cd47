"""The system prompt: the shipped template, rendered for this machine and session."""

from __future__ import annotations

import datetime
import platform
from importlib import resources
from pathlib import Path

import yaml

PROJECT_INSTRUCTION_FILES = ("AGENTS.md", "ML_INTERN.md")


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
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        if text:
            prompt += f"\n\n# Project instructions ({path})\n{text}"
    return prompt


def project_instruction_files(cwd: Path) -> list[Path]:
    """AGENTS.md / ML_INTERN.md in the working directory and at its git root."""
    dirs = [cwd]
    root = _git_root(cwd)
    if root and root != cwd:
        dirs.insert(0, root)
    return [d / name for d in dirs for name in PROJECT_INSTRUCTION_FILES if (d / name).is_file()]


def _git_root(cwd: Path) -> Path | None:
    for parent in (cwd, *cwd.parents):
        if (parent / ".git").exists():
            return parent
    return None
