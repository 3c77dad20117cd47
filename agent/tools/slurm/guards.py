"""Rules a cluster job is held to before it is queued: a training job must keep what it
trains. On a cluster that means pushing to the Hub or writing its outputs to shared storage;
a job whose only outputs go to node-local scratch space (/tmp, $TMPDIR, $SLURM_TMPDIR,
/dev/shm) loses them when the job ends, as a job on ephemeral hardware does."""

from __future__ import annotations

import re

from agent.compute.script import trains
from agent.tools.slurm.args import SlurmArgs
from agent.tools.spec import ToolError

_PUSHES = re.compile(
    r"push_to_hub|upload_folder|upload_file|upload_large_folder|create_commit|hf\s+upload"
)
_SAVES = re.compile(
    r"""(?:--output[_-]dir[= ]+|\boutput_dir\s*=\s*|save_pretrained\(\s*|save_model\(\s*
        |torch\.save\([^,]*,\s*)(['"]?)([^'"\s,)]+)""",
    re.VERBOSE,
)
_SCRATCH = re.compile(r"^(?:/tmp\b|/dev/shm\b|/var/tmp\b|\$\{?(?:TMPDIR|SLURM_TMPDIR)\b)")


def saves_outside_scratch(code: str) -> bool:
    """Whether the code pushes to the Hub or saves somewhere that outlives the job."""
    if _PUSHES.search(code):
        return True
    return any(not _SCRATCH.match(match.group(2)) for match in _SAVES.finditer(code))


def check_launch(args: SlurmArgs) -> None:
    """Refuse a training job that would lose its results."""
    code = args.script or args.command or ""
    if not trains(code) or saves_outside_scratch(code) or args.keep_nothing:
        return
    raise ToolError(
        "Not queued: it trains but saves nothing outside the node's scratch space, so the "
        "model is lost when the job ends. Set output_dir (or --output_dir) to shared storage "
        "(your home or project directory, not /tmp or $TMPDIR), or push to the Hub "
        "(push_to_hub=True with hub_model_id); or pass keep_nothing=true if losing the outputs "
        "is intended (e.g. a smoke test)."
    )
