"""Finding a job's newest checkpoint on the cluster's filesystem: the `checkpoint-N`
folders under the output_dir its script names, relative to its working directory."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from agent.compute.resume import newest_checkpoint, output_dir
from agent.tools.slurm import commands
from agent.tools.slurm.commands import SlurmError
from agent.tools.spec import ToolError

if TYPE_CHECKING:
    from agent.config import Settings


async def newest(settings: Settings, script: str, workdir: str | None) -> str:
    """The path of the newest checkpoint, or a ToolError that says what is missing."""
    folder = output_dir(script)
    if folder is None:
        raise ToolError(
            "its script names no output_dir (--output_dir or output_dir=), so there is no "
            "checkpoint to resume from: submit it again with operation='run'"
        )
    if workdir and not folder.startswith(("/", "~", "$")):
        folder = posixpath.join(workdir, folder)
    try:
        listing = await commands.run(settings, ["ls", "-1", "--", folder])
    except SlurmError as exc:
        raise ToolError(f"could not list its output_dir {folder}: {exc}") from exc
    found = newest_checkpoint(listing.split())
    if found is None:
        raise ToolError(
            f"no checkpoint-N folder in {folder}: it saved no checkpoint before it ended "
            "(set save_steps), so submit it again with operation='run'"
        )
    return posixpath.join(folder, found)
