"""Every file written for the user reaches the disk before its new name does.

A rename without flushes can leave an empty file after a power cut. So each
writer must flush the new content (fsync of the file) and then the rename
(fsync of its folder); watching `os.fsync` shows both happened, on the right
kinds of descriptor.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.cli.chat.key_setup import save_key
from agent.cli.commands import user_config
from agent.tools.local.checkpoints import restore_turn
from agent.tools.local.local_tools import local_tools
from agent.tools.router import ToolRouter
from tests.tools import call_tool

ROUTER = ToolRouter(local_tools())


def write_tool(folder: Path) -> Path:
    result = call_tool(ROUTER, "write", {"path": "train.py", "content": "x = 1\n"}, cwd=folder)
    assert not result.is_error, result.content
    return folder / "train.py"


def edit_tool(folder: Path) -> Path:
    (folder / "train.py").write_text("x = 1\n")
    state: dict = {}
    call_tool(ROUTER, "read", {"path": "train.py"}, cwd=folder, state=state)
    args = {"path": "train.py", "old_str": "x = 1", "new_str": "x = 2"}
    result = call_tool(ROUTER, "edit", args, cwd=folder, state=state)
    assert not result.is_error, result.content
    return folder / "train.py"


def undo(folder: Path) -> Path:
    (folder / "train.py").write_text("x = 1\n")
    state: dict = {}
    call_tool(ROUTER, "read", {"path": "train.py"}, cwd=folder, state=state)
    call_tool(ROUTER, "write", {"path": "train.py", "content": "x = 2\n"}, cwd=folder, state=state)
    kinds.clear()  # only what undo itself flushes counts
    assert restore_turn(state, 0) == [str(folder / "train.py")]
    return folder / "train.py"


def key(folder: Path) -> Path:
    return save_key("OPENAI_API_KEY", "sk-test", folder / ".env")


def config(folder: Path) -> Path:
    user_config.set_setting(folder / "cli_agent_config.json", "model", "openai/gpt-5")
    return folder / "cli_agent_config.json"


kinds: list[str] = []  # what os.fsync was given, in order


@pytest.mark.parametrize("writer", [write_tool, edit_tool, undo, key, config])
def test_each_writer_flushes_the_file_and_its_folder(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, writer: Callable[[Path], Path]
):
    real = os.fsync

    def watching(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        kinds.append("folder" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "?")
        real(fd)

    monkeypatch.setattr(os, "fsync", watching)
    kinds.clear()
    path = writer(isolated_env)
    assert path.is_file()
    assert "file" in kinds and "folder" in kinds
    assert kinds.index("file") < len(kinds) - 1 - kinds[::-1].index("folder")
