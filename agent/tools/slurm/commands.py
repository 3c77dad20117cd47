"""Running Slurm's own commands (`sbatch`, `squeue`, `scontrol`, `sacct`, `scancel`), here or
on a login node over ssh: the same argv either way, so what works locally works remotely.

Over ssh the argv is quoted into one remote command line and ssh runs in batch mode (no
password prompt can hang the tool); a cluster that cannot be reached says which host and why.
"""

from __future__ import annotations

import asyncio
import shlex
from typing import TYPE_CHECKING

from agent.tools.spec import ToolError

if TYPE_CHECKING:
    from agent.config import Settings

COMMAND_TIMEOUT_S = 60.0
READ_MOST = 1 << 20  # bytes of a job's output read per look: a flood is read over several


class SlurmError(ToolError):
    """A Slurm command that failed; the message is its own error text."""


def argv_for(settings: Settings, argv: list[str]) -> list[str]:
    """The argv to run: as given, or through `ssh host` when a login node is configured."""
    host = settings.slurm.host
    if not host:
        return argv
    return ["ssh", "-o", "BatchMode=yes", *settings.slurm.ssh_options, host, shlex.join(argv)]


async def run(settings: Settings, argv: list[str], stdin: str | None = None) -> str:
    """Run one command and return its standard output; a failure raises `SlurmError` with
    what the command printed on standard error."""
    full = argv_for(settings, argv)
    try:
        process = await asyncio.create_subprocess_exec(
            *full,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        where = "ssh" if settings.slurm.host else argv[0]
        raise SlurmError(
            f"`{where}` is not installed here: install the Slurm client commands, or set "
            "slurm.host in the config to run them on a login node over ssh"
        ) from exc
    try:
        out, err = await asyncio.wait_for(
            process.communicate(stdin.encode() if stdin is not None else None), COMMAND_TIMEOUT_S
        )
    except TimeoutError as exc:
        process.kill()
        await process.wait()
        raise SlurmError(f"`{argv[0]}` did not answer in {COMMAND_TIMEOUT_S:.0f} s") from exc
    except asyncio.CancelledError:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    if process.returncode != 0:
        text = err.decode(errors="replace").strip() or out.decode(errors="replace").strip()
        if settings.slurm.host and process.returncode == 255:
            raise SlurmError(f"could not reach {settings.slurm.host} over ssh: {text}")
        raise SlurmError(f"`{argv[0]}` failed: {text or f'exit code {process.returncode}'}")
    return out.decode(errors="replace")


async def read_from(settings: Settings, path: str, offset: int) -> bytes:
    """At most READ_MOST bytes of a file on the cluster's filesystem from `offset` on (b""
    when it does not exist yet: a pending job has no output file)."""
    if not settings.slurm.host:
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                return handle.read(READ_MOST)
        except FileNotFoundError:
            return b""
    quoted = shlex.quote(path)
    script = f"test -f {quoted} && tail -c +{offset + 1} {quoted} | head -c {READ_MOST} || true"
    return (await run(settings, ["sh", "-c", script])).encode()


async def read_last(settings: Settings, path: str) -> tuple[bytes, bool]:
    """The last READ_MOST bytes of a file on the cluster's filesystem, and whether that
    cut the file (b"" when it does not exist yet)."""
    if not settings.slurm.host:
        try:
            with open(path, "rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(max(size - READ_MOST, 0))
                return handle.read(READ_MOST), size > READ_MOST
        except FileNotFoundError:
            return b"", False
    quoted = shlex.quote(path)
    script = f"test -f {quoted} && tail -c {READ_MOST + 1} {quoted} || true"
    data = (await run(settings, ["sh", "-c", script])).encode()
    return data[-READ_MOST:], len(data) > READ_MOST
