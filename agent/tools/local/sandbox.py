"""Confining bash and stdio MCP servers with bubblewrap (`--sandbox workspace-write`).

The command sees the whole filesystem read-only, except the writable roots: the
working directory and the temp dir. Inside the working directory, what takes
effect on the next unconfined launch stays read-only at every depth (`.git/`,
`.env*`, `configs/`, agent instructions; see `roots.py`), and no new one can be
created anywhere (`supervisor.py`: a launcher inside the sandbox hands every
name-creating syscall of the command to a thread of ml-intern). The command holds no
capabilities, so even as root it cannot mount or remount anything; the parts of
/proc that change the host are read-only; a seccomp filter keeps it from creating
unix sockets, touching the kernel keyrings and more (see `seccomp.py`); the
network is cut off (loopback only) unless allowed. GPUs stay visible, since
training is the point. A probe run tells, once per process, whether bubblewrap
can build a sandbox here at all, so a broken setup fails at start-up with a
reason instead of running commands unconfined.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import agent
from agent.errors import ConfigError
from agent.paths import config_home, data_home
from agent.tools.local.roots import read_only_paths, writable_roots
from agent.tools.local.seccomp import UnsupportedArch, machine_arch, sandbox_filter
from agent.tools.local.supervisor import Supervisor, inside_argv
from agent.tools.spec import ToolContext, ToolError

PROBE_TIMEOUT_S = 10.0
_GPU_DEVICES = ("nvidia*", "dri", "kfd")
# The sandbox's own /proc is writable where it changes the host, and root owns those
# files: /proc/sys (a core_pattern starting with "|" runs a program as full root
# outside every namespace), sysrq-trigger (reboot, crash), irq and bus (devices), fs
# (e.g. nfsd), driver, acpi, mtrr (memory ranges), pressure (monitors), tty. Each is
# mounted read-only over itself; /sys is already read-only with the rest of `/`.
_HOST_PROC = (
    "sys",
    "sysrq-trigger",
    "irq",
    "bus",
    "fs",
    "driver",
    "acpi",
    "mtrr",
    "pressure",
    "tty",
)

INSTALL_HINT = (
    "--sandbox workspace-write needs bubblewrap (bwrap), which is not installed. "
    "Install it with `sudo apt-get install bubblewrap` (Debian/Ubuntu; `sudo dnf install "
    "bubblewrap` on Fedora, `sudo pacman -S bubblewrap` on Arch), or run with --sandbox off. "
    "bubblewrap exists for Linux only (there is no Homebrew package): on macOS use --sandbox off."
)
UNUSABLE_HINT = (
    "bubblewrap needs user namespaces: allow them (e.g. `sudo sysctl "
    "kernel.unprivileged_userns_clone=1`, or an AppArmor profile for bwrap on Ubuntu 24.04+), "
    "run the container with a seccomp profile that permits them, or use --sandbox off."
)
MISSING = "bubblewrap (bwrap) is not installed (`sudo apt-get install bubblewrap`)"

# Run by the interpreter in isolated mode, for callers (the MCP SDK) that start a command
# but cannot pass it a file descriptor: starts bwrap and supervises it (`run_outside`).
_OUTSIDE = (
    "import sys;sys.path.insert(0,sys.argv[1])\n"
    "from agent.tools.local.supervisor import run_outside;run_outside(sys.argv[2:])\n"
)


class Launch(NamedTuple):
    """A command line, the file descriptors it must inherit, and its supervisor."""

    argv: list[str]
    pass_fds: tuple[int, ...] = ()
    supervisor: Supervisor | None = None


def _bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise ConfigError(INSTALL_HINT)
    return path


def _bwrap_options(cwd: Path, allow_network: bool) -> tuple[list[str], frozenset[bytes]]:
    """Everything bubblewrap needs to know, but the seccomp filter; and the full paths
    the supervisor refuses to create (`roots.guarded_paths`)."""
    options = ["--ro-bind", "/", "/", "--dev", "/dev"]
    for pattern in _GPU_DEVICES:
        for device in sorted(Path("/dev").glob(pattern)):
            options += ["--dev-bind", str(device), str(device)]
    options += ["--proc", "/proc", "--unshare-pid", "--unshare-ipc"]
    for name in _HOST_PROC:
        if (Path("/proc") / name).exists():
            options += ["--ro-bind", f"/proc/{name}", f"/proc/{name}"]
    options += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if not allow_network:
        options.append("--unshare-net")
    for writable in writable_roots(cwd):
        options += ["--bind", str(writable), str(writable)]
    read_only, guarded = read_only_paths(cwd.resolve())
    for protected in read_only:
        options += ["--ro-bind", str(protected), str(protected)]
    return options, frozenset(os.fsencode(path) for path in guarded)


def _filter_pipe() -> int:
    """A pipe's read end holding the seccomp filter; bwrap reads it once."""
    program = sandbox_filter()
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, program)
    finally:
        os.close(write_fd)
    return read_fd


@contextlib.contextmanager
def confined(argv: list[str], cwd: Path, allow_network: bool) -> Iterator[Launch]:
    """`argv` wrapped in bubblewrap, valid until the block ends (start the process inside).

    The command keeps the caller's working directory and environment; it dies
    with its parent, and sees its own process table.
    """
    bwrap = _bwrap()
    options, guarded = _bwrap_options(cwd, allow_network)
    filter_fd = _filter_pipe()
    ours, theirs = socket.socketpair()
    supervisor = Supervisor(ours, guarded)  # waits for the launcher's listener
    inside = inside_argv(theirs.fileno(), argv)
    try:
        command = [bwrap, "--seccomp", str(filter_fd), *options, "--", *inside]
        yield Launch(command, (filter_fd, theirs.fileno()), supervisor)
    finally:
        os.close(filter_fd)
        theirs.close()


def launcher_argv(argv: list[str], cwd: Path, allow_network: bool) -> list[str]:
    """`argv` confined as by `confined`, as one command line that needs no inherited fd:
    an interpreter that starts bwrap and supervises the command itself."""
    program = sandbox_filter().hex()
    options, guarded = _bwrap_options(cwd, allow_network)
    package_parent = str(Path(agent.__file__).resolve().parent.parent)
    python = [sys.executable, "-I", "-S", "-c", _OUTSIDE, package_parent]
    paths = json.dumps(sorted(os.fsdecode(path) for path in guarded))
    return [*python, program, paths, _bwrap(), *options, "--", *argv]


@functools.cache
def _probe(bwrap: str, allow_network: bool) -> str | None:
    """Why a trivial command cannot run confined, or None when it can. It creates a file,
    so a supervisor that cannot act for confined commands (`supervisor.py`) shows here,
    at start-up, instead of in every command."""
    try:
        with tempfile.TemporaryDirectory(prefix="ml-intern-probe-") as workspace:
            command = ["sh", "-c", f": > {shlex.quote(workspace)}/created"]
            with confined(command, Path(workspace), allow_network) as launch:
                done = subprocess.run(
                    launch.argv,
                    capture_output=True,
                    text=True,
                    timeout=PROBE_TIMEOUT_S,
                    check=False,
                    pass_fds=launch.pass_fds,
                )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} did not run ({exc})"
    if done.returncode == 0:
        return None
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"{bwrap} exited with code {done.returncode}"


def _arch_problem() -> str | None:
    try:
        machine_arch()
    except UnsupportedArch as exc:
        return f"{exc}, so unix sockets could not be blocked"
    return None


def sandbox_problem(allow_network: bool = False) -> str | None:
    """Why commands cannot be confined here, or None when they can."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return MISSING
    if problem := _arch_problem():
        return problem
    problem = _probe(bwrap, allow_network)
    return None if problem is None else f"bubblewrap cannot create a sandbox here: {problem}"


def check_workspace(cwd: Path) -> None:
    """Refuse a workspace whose writability would void the sandbox: `/` (the whole disk)
    or the home folder or one above it (shell start-up files, ~/.ssh, ml-intern's own
    config and trust list)."""
    workspace = cwd.resolve()
    guarded = [Path.home().resolve(), config_home().resolve(), data_home().resolve()]
    if workspace == Path("/") or any(workspace in (g, *g.parents) for g in guarded):
        raise ConfigError(
            f"--sandbox workspace-write cannot use {workspace} as the workspace: everything "
            "in it would be writable, your shell's start-up files and ml-intern's settings "
            "included. Start ml-intern in a project folder (cd into it), or use --sandbox off."
        )


def check_available(allow_network: bool = False, cwd: Path | None = None) -> None:
    """Refuse to start with the sandbox on when bubblewrap is missing or cannot work,
    or when the working directory cannot be a workspace."""
    if cwd is not None:
        check_workspace(cwd)
    _bwrap()
    if problem := _arch_problem():
        raise ConfigError(f"--sandbox workspace-write: {problem}. Use --sandbox off.")
    if problem := sandbox_problem(allow_network):
        raise ConfigError(f"{problem}. {UNUSABLE_HINT}")


@contextlib.contextmanager
def shell_launch(command: str, ctx: ToolContext) -> Iterator[Launch]:
    """How to run `command` with bash: confined when the settings ask for it."""
    argv = ["bash", "-c", command]
    settings = ctx.settings
    if settings.sandbox != "workspace-write":
        yield Launch(argv)
        return
    if problem := sandbox_problem(settings.allow_network):
        raise ToolError(
            f"Not run: bash must run confined (--sandbox workspace-write), but {problem}. "
            "Tell the user; nothing can run until bubblewrap works or the sandbox is turned off."
        )
    with confined(argv, ctx.cwd, settings.allow_network) as launch:
        yield launch
