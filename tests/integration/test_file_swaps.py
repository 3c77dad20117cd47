"""write, edit and undo while a folder is swapped for a symlink to $HOME.

A confined background job can exchange a folder the tools have checked with a
symlink to the home folder in one step (renameat2 with RENAME_EXCHANGE). Here
the swap happens exactly between the sandbox check and the file's open, every
time, so the tests do not depend on winning a race: the file must never land
outside the workspace, and the model must be told why nothing was written.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

from agent.tools.local import edit as edit_module
from agent.tools.local import files as files_module
from agent.tools.local import safe_open
from agent.tools.local.checkpoints import restore_turn
from agent.tools.local.local_tools import local_tools
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolResult
from tests.bubblewrap import require_sandbox
from tests.tools import call_tool

ROUTER = ToolRouter(local_tools())
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> None:
    """Swap two names in one step, as `renameat2(..., RENAME_EXCHANGE)` does."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.renameat2(_AT_FDCWD, bytes(a), _AT_FDCWD, bytes(b), _RENAME_EXCHANGE) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


@pytest.fixture
def setup(isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A workspace with `sub/a.txt` and `swap -> $HOME`, the temp dir outside $HOME."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    home = Path(os.environ["HOME"])
    (isolated_env / "sub").mkdir()
    inside = isolated_env / "sub" / "a.txt"
    inside.write_text("old\n")
    mine = home / "a.txt"
    mine.write_text("old\n")  # same size and time: nothing but the path tells them apart
    stat = inside.stat()
    os.utime(mine, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    (isolated_env / "swap").symlink_to(home)
    return isolated_env, home


@pytest.fixture(params=["openat2", "per-folder walk"])
def kernel(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of opening without links: openat2, and the walk used where it is missing."""
    if request.param == "per-folder walk":
        monkeypatch.setattr(safe_open, "_openat2", lambda: None)
    return str(request.param)


def swap_after_check(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> None:
    """Make the swap happen right after the sandbox check, before the tool opens anything."""
    real = files_module.check_sandboxed_write

    def check_then_swap(path: Path, ctx: object) -> None:
        real(path, ctx)  # type: ignore[arg-type]
        exchange(workspace / "sub", workspace / "swap")

    monkeypatch.setattr(files_module, "check_sandboxed_write", check_then_swap)
    monkeypatch.setattr(edit_module, "check_sandboxed_write", check_then_swap)


def call(workspace: Path, name: str, args: dict, state: dict) -> ToolResult:
    return call_tool(ROUTER, name, args, cwd=workspace, state=state, sandbox="workspace-write")


def test_write_never_lands_outside_when_a_folder_is_swapped_after_the_check(
    setup, kernel, monkeypatch
):
    workspace, home = setup
    swap_after_check(monkeypatch, workspace)
    result = call(workspace, "write", {"path": "sub/new.txt", "content": "pwned\n"}, {})
    assert result.is_error
    assert "replaced by a link" in result.content
    assert not (home / "new.txt").exists()
    assert sorted(p.name for p in home.iterdir()) == ["a.txt", "cache", "config", "data"]


def test_edit_never_changes_a_file_outside_when_a_folder_is_swapped_after_the_check(
    setup, kernel, monkeypatch
):
    workspace, home = setup
    state: dict = {}
    assert not call(workspace, "read", {"path": "sub/a.txt"}, state).is_error
    swap_after_check(monkeypatch, workspace)
    result = call(workspace, "edit", {"path": "sub/a.txt", "old_str": "old", "new_str": "x"}, state)
    assert result.is_error
    assert "replaced by a link" in result.content
    assert (home / "a.txt").read_text() == "old\n"


def test_undo_never_restores_or_deletes_through_a_swapped_folder(setup, kernel):
    workspace, home = setup
    (home / "new.txt").write_text("the user's own file\n")
    state: dict = {}
    assert not call(workspace, "read", {"path": "sub/a.txt"}, state).is_error
    edited = call(workspace, "edit", {"path": "sub/a.txt", "old_str": "old", "new_str": "x"}, state)
    created = call(workspace, "write", {"path": "sub/new.txt", "content": "made\n"}, state)
    assert not edited.is_error and not created.is_error
    exchange(workspace / "sub", workspace / "swap")

    failures: list[str] = []
    assert restore_turn(state, 0, failures.append) == []
    assert len(failures) == 2 and all("replaced by a link" in f for f in failures)
    assert (home / "a.txt").read_text() == "old\n"
    assert (home / "new.txt").read_text() == "the user's own file\n"


def test_symlinks_inside_the_workspace_keep_working_in_the_sandbox(setup, kernel):
    workspace, _ = setup
    (workspace / "alias").symlink_to(workspace / "sub")
    state: dict = {}
    assert not call(workspace, "read", {"path": "alias/a.txt"}, state).is_error
    result = call(workspace, "write", {"path": "alias/a.txt", "content": "new\n"}, state)
    assert not result.is_error, result.content
    assert (workspace / "sub" / "a.txt").read_text() == "new\n"
    assert (workspace / "alias").is_symlink()


SWAPPER = """
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
swaps, deadline = 0, time.monotonic() + 60
open("swapping", "w").close()
while not os.path.exists("stop") and time.monotonic() < deadline:
    if libc.renameat2(-100, b"sub", -100, b"swap", 2) == 0:
        swaps += 1
with open("swaps.tmp", "w") as out:
    out.write(str(swaps))
os.rename("swaps.tmp", "swaps")
"""


def wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_a_confined_job_swapping_in_a_tight_loop_never_gets_a_write_outside(setup, kernel):
    """The attack as it happens: a background job in the sandbox swaps `sub` and a symlink
    to $HOME as fast as it can while the agent writes into `sub`."""
    require_sandbox()
    workspace, home = setup
    (workspace / "swapper.py").write_text(SWAPPER)
    job = call(
        workspace,
        "bash",
        {"command": f"{sys.executable} swapper.py", "run_in_background": True},
        {},
    )
    assert not job.is_error, job.content
    wait_for(workspace / "swapping")
    written, errors = 0, set()
    for number in range(300):
        result = call(workspace, "write", {"path": f"sub/f{number}.txt", "content": "x\n"}, {})
        written += not result.is_error
        if result.is_error:
            errors.add(result.content.replace(str(number), "N"))
    (workspace / "stop").touch()
    wait_for(workspace / "swaps")
    assert int((workspace / "swaps").read_text()) > 300  # the folder really was swapping
    assert sorted(p.name for p in home.iterdir()) == ["a.txt", "cache", "config", "data"]
    landed = list(workspace.glob("sub/f*.txt")) + list(workspace.glob("swap/f*.txt"))
    assert len(landed) == written  # a refused call wrote nothing, an accepted one is there
    reasons = ("replaced by a link", "outside the sandbox's writable places", "Cannot resolve")
    assert all(any(reason in error for reason in reasons) for error in errors), errors


def test_a_file_where_a_folder_should_be_is_named(setup, kernel):
    workspace, _ = setup
    result = call(workspace, "write", {"path": "sub/a.txt/inner.txt", "content": "x\n"}, {})
    assert result.is_error
    assert f"{workspace / 'sub' / 'a.txt'} is a file, not a folder." in result.content
