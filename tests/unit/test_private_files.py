"""Files that may hold secrets are private; files the agent writes for the user are not."""

from __future__ import annotations

import asyncio
import os
import stat

from agent.cli.chat.input_history import PrivateHistory
from agent.config import Settings
from agent.tools.local.local_tools import local_tools
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext


def test_input_history_is_private_and_scrubbed(tmp_path):
    path = tmp_path / "history"
    token = "hf_" + "Z9y8X7w6V5" * 4
    PrivateHistory(path).store_string(f"use {token} to push")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token not in path.read_text()
    assert "use [REDACTED:hf_token] to push" in path.read_text()


def test_files_written_by_the_agent_get_the_usual_mode(tmp_path):
    ctx = ToolContext(settings=Settings(), cwd=tmp_path)
    result = asyncio.run(
        ToolRouter(local_tools()).call("write", {"path": "train.py", "content": "print(1)\n"}, ctx)
    )
    assert not result.is_error
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "train.py").stat().st_mode) == 0o666 & ~mask
