"""bash under bubblewrap (`--sandbox workspace-write`): real bwrap, real processes.

Each check runs the same command unconfined too, so a passing test means the
sandbox made the difference. Skipped only where bubblewrap is installed but
cannot create a sandbox (e.g. user namespaces forbidden); a missing bwrap fails.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from agent.config import Settings
from agent.core.errors import ConfigError
from agent.tools.local import confine
from agent.tools.local.tools import local_tools
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext, ToolResult

ROUTER = ToolRouter(local_tools())


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp dir of the test's own, so tmp_path itself is outside every writable place."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


@pytest.fixture
def workspace(isolated_env: Path, temp_dir: Path) -> Path:
    problem = confine.sandbox_problem()
    if problem and shutil.which("bwrap"):
        pytest.skip(problem)
    return isolated_env


def call(
    cwd: Path,
    command: str,
    sandbox: str = "workspace-write",
    allow_network: bool = False,
    **args: object,
) -> ToolResult:
    settings = Settings(sandbox=sandbox, allow_network=allow_network)
    ctx = ToolContext(settings=settings, cwd=cwd, turn=1)
    return asyncio.run(ROUTER.call("bash", {"command": command, **args}, ctx))


def test_workspace_and_temp_dir_are_writable(workspace, temp_dir):
    result = call(workspace, f"echo work > made.txt && echo temp > {temp_dir}/made.txt && pwd")
    assert not result.is_error, result.content
    assert (workspace / "made.txt").read_text() == "work\n"
    assert (temp_dir / "made.txt").read_text() == "temp\n"
    assert result.content.strip() == str(workspace)


def test_a_write_outside_the_workspace_fails(workspace, tmp_path):
    outside = tmp_path / "outside.txt"
    confined = call(workspace, f"echo escaped > {outside}")
    assert confined.is_error
    assert "Read-only file system" in confined.content
    assert not outside.exists()

    unconfined = call(workspace, f"echo escaped > {outside}", sandbox="off")
    assert not unconfined.is_error, unconfined.content
    assert outside.read_text() == "escaped\n"


def test_work_dir_inside_the_workspace_is_kept(workspace):
    (workspace / "sub").mkdir()
    result = call(workspace, "pwd && touch here", work_dir="sub")
    assert not result.is_error, result.content
    assert result.content.strip() == str(workspace / "sub")
    assert (workspace / "sub" / "here").exists()


@pytest.fixture
def loopback_port():
    """A TCP listener in this process: reachable only from this network namespace."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def connect_command(port: int) -> str:
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5); print('up')"
    return f'{sys.executable} -c "{code}"'


def test_the_network_is_unreachable_unless_allowed(workspace, loopback_port):
    command = connect_command(loopback_port)
    confined = call(workspace, command)
    assert confined.is_error
    assert "ConnectionRefusedError" in confined.content or "unreachable" in confined.content

    unconfined = call(workspace, command, sandbox="off")
    assert unconfined.content.strip() == "up", unconfined.content

    allowed = call(workspace, command, allow_network=True)
    assert allowed.content.strip() == "up", allowed.content


def processes_named(name: str) -> list[Path]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(name.encode()):
                found.append(entry)
        except OSError:
            continue
    return found


def test_a_timeout_stops_every_confined_process(workspace):
    name = f"confined-{uuid.uuid4().hex[:8]}"
    command = f"(exec -a {name} sleep 60) & (exec -a {name} sleep 60)"
    result = call(workspace, command, timeout=1)
    assert result.is_error
    assert "timed out after 1 s" in result.content
    assert processes_named(name) == []


def test_cancelling_kills_confined_processes_at_once(workspace):
    """Ctrl-C reaches inside the sandbox too, even processes that ignore SIGTERM."""
    name = f"confined-{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        started = asyncio.Event()
        settings = Settings(sandbox="workspace-write", allow_network=False)
        ctx = ToolContext(settings=settings, cwd=workspace, log=lambda line: started.set())
        inner = "trap '' TERM; echo started; sleep 100; true"
        command = f'(exec -a {name} bash -c "{inner}") & wait'
        task = asyncio.create_task(ROUTER.call("bash", {"command": command}, ctx))
        await asyncio.wait_for(started.wait(), 10)
        assert processes_named(name)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert processes_named(name) == []


def test_missing_bubblewrap_says_how_to_install_it(isolated_env, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match="apt-get install bubblewrap"):
        confine.check_available()

    result = call(isolated_env, "touch ran")
    assert result.is_error
    assert "Not run" in result.content
    assert "bubblewrap (bwrap) is not installed" in result.content
    assert not (isolated_env / "ran").exists()


def test_unusable_bubblewrap_is_reported_with_its_reason(isolated_env, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    message = "bubblewrap cannot create a sandbox here: bwrap: No permissions to create new"
    with pytest.raises(ConfigError, match=message):
        confine.check_available()

    result = call(isolated_env, "touch ran")
    assert result.is_error
    assert message in result.content
    assert not (isolated_env / "ran").exists()


def test_available_bubblewrap_passes_the_start_up_check(workspace):
    confine.check_available()
    confine.check_available(allow_network=True)
