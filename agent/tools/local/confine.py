"""Confining bash with bubblewrap (`--sandbox workspace-write`).

The command sees the whole filesystem read-only, except the working directory
and the temp dir; the network is cut off (loopback only) unless allowed. GPUs
stay visible, since training is the point. A probe run tells, once per process,
whether bubblewrap can build a sandbox here at all, so a broken setup fails at
start-up with a reason instead of running commands unconfined.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

from agent.core.errors import ConfigError
from agent.tools.spec import ToolContext, ToolError

PROBE_TIMEOUT_S = 10.0
_GPU_DEVICES = ("nvidia*", "dri", "kfd")

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


def _bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise ConfigError(INSTALL_HINT)
    return path


def confined_argv(argv: list[str], cwd: Path, allow_network: bool) -> list[str]:
    """`argv` wrapped in bubblewrap: only `cwd` and the temp dir are writable.

    The command keeps the caller's working directory and environment; it dies
    with its parent, and sees its own process table.
    """
    command = [_bwrap(), "--ro-bind", "/", "/", "--dev", "/dev"]
    for pattern in _GPU_DEVICES:
        for device in sorted(Path("/dev").glob(pattern)):
            command += ["--dev-bind", str(device), str(device)]
    command += ["--proc", "/proc", "--unshare-pid", "--die-with-parent"]
    if not allow_network:
        command.append("--unshare-net")
    for writable in dict.fromkeys((Path(tempfile.gettempdir()).resolve(), cwd.resolve())):
        command += ["--bind", str(writable), str(writable)]
    return [*command, "--", *argv]


@functools.cache
def _probe(bwrap: str, allow_network: bool) -> str | None:
    """Why a trivial command cannot run confined, or None when it can."""
    argv = confined_argv(["true"], Path(tempfile.gettempdir()), allow_network)
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} did not run ({exc})"
    if done.returncode == 0:
        return None
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"{bwrap} exited with code {done.returncode}"


def sandbox_problem(allow_network: bool = False) -> str | None:
    """Why bash cannot be confined here, or None when it can."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return MISSING
    problem = _probe(bwrap, allow_network)
    return None if problem is None else f"bubblewrap cannot create a sandbox here: {problem}"


def check_available(allow_network: bool = False) -> None:
    """Refuse to start with the sandbox on when bubblewrap is missing or cannot work."""
    _bwrap()
    if problem := sandbox_problem(allow_network):
        raise ConfigError(f"{problem}. {UNUSABLE_HINT}")


def shell_argv(command: str, ctx: ToolContext) -> list[str]:
    """How to run `command` with bash: confined when the settings ask for it."""
    argv = ["bash", "-c", command]
    settings = ctx.settings
    if settings.sandbox != "workspace-write":
        return argv
    if problem := sandbox_problem(settings.allow_network):
        raise ToolError(
            f"Not run: bash must run confined (--sandbox workspace-write), but {problem}. "
            "Tell the user; nothing can run until bubblewrap works or the sandbox is turned off."
        )
    return confined_argv(argv, ctx.cwd, settings.allow_network)
