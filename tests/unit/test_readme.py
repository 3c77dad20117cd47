"""The README stays true to the code: every flag and every chat command is documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_flag_in_help_is_in_the_readme():
    help_text = subprocess.run(
        [sys.executable, "-m", "agent", "--help"], capture_output=True, text=True, check=True
    ).stdout
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", help_text))
    assert flags, help_text
    missing = sorted(f for f in flags if f"`{f}" not in README and f" {f}" not in README)
    assert missing == []


def test_every_slash_command_is_in_the_readme():
    from agent.cli.slash import commands as slash

    slash.load_extensions()
    missing = sorted(f"/{name}" for name in slash.COMMANDS if f"`/{name}" not in README)
    assert missing == []


def test_every_builtin_tool_is_in_the_readme():
    from agent.core.builtin_tools import create_builtin_tools

    missing = sorted(t.name for t in create_builtin_tools() if f"`{t.name}`" not in README)
    assert missing == []
