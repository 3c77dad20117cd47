"""What a job was submitted with, read back from the controller: its batch script
(`scontrol write batch_script`) and its settings from its record. `resume` uses it for a job
this session did not submit (a continued session, a job submitted by hand)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.tools.slurm import commands, parse
from agent.tools.slurm.args import SlurmArgs
from agent.tools.slurm.commands import SlurmError
from agent.tools.spec import ToolError

if TYPE_CHECKING:
    from agent.config import Settings


def _field(record: parse.Job, key: str) -> str | None:
    value = record.get(key, "")
    return value if value and value not in ("(null)", "N/A", "0", "Unknown") else None


def args_from_record(record: parse.Job, script: str) -> SlurmArgs:
    """The `run` arguments that submit this job's script with its settings again."""
    nodes = (_field(record, "NumNodes") or "1").split("-")[0]
    gres = (_field(record, "TresPerNode") or "").removeprefix("gres:")
    cpus = _field(record, "CPUs/Task")
    values = {
        "operation": "run",
        "script": script,
        "partition": _field(record, "Partition"),
        "time": _field(record, "TimeLimit"),
        "nodes": int(nodes) if nodes.isdigit() else 1,
        "gres": gres if gres and not gres.endswith(":0") else None,
        "cpus": int(cpus) if cpus and cpus.isdigit() else None,
        "mem": _field(record, "MinMemoryNode"),
        "workdir": _field(record, "WorkDir"),
        "name": _field(record, "JobName"),
    }
    return SlurmArgs.model_validate({k: v for k, v in values.items() if v is not None})


async def submitted_args(settings: Settings, job_id: str, record: parse.Job) -> SlurmArgs:
    try:
        script = await commands.run(settings, ["scontrol", "write", "batch_script", job_id, "-"])
    except SlurmError as exc:
        raise ToolError(
            f"the script of job {job_id} is not known here and Slurm could not give it back "
            f"({exc}): submit it again with operation='run'"
        ) from exc
    return args_from_record(record, script)
