"""hf_jobs operation='resume': a failed, timed-out or cancelled job launched again from the
last checkpoint it pushed to the Hub, instead of from the start.

What the original ran comes from the experiment ledger, which keeps each job's launch
(`spec_of`: its script or command, image, flavor, timeout, plain env, and the names of its
secrets, never their values). Its output repo comes from its code (hub_model_id, else the
output folder's name under the job's namespace); the checkpoint from that repo's files
(`last-checkpoint/`, which `hub_strategy="checkpoint"` keeps, else the newest
`checkpoint-N/`). The relaunch is an ordinary launch with `RESUME_FROM_CHECKPOINT` added
(`agent.compute.resume`), so it is sized, priced and approved like any other, and its run
names the original. A job that left no checkpoint is not started again: the model is told to
offer the user a fresh run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.compute.resume import RESUME_ENV, hub_checkpoint_folder, hub_reference, relaunch
from agent.compute.script import output_repo
from agent.context.redact import redact_obj
from agent.runs.ledger import load_project
from agent.runs.registry import runs_of
from agent.tools.hub.common import Target, call_hub, hf_api
from agent.tools.jobs import launch
from agent.tools.jobs.api import jobs_call
from agent.tools.jobs.args import JobsArgs
from agent.tools.spec import ToolContext, ToolError

RESUMABLE_STAGES = ("ERROR", "CANCELED")
_prepared: dict[str, Resumption] = {}  # a resume call's arguments -> its relaunch
_MAX_PREPARED = 32


@dataclass(frozen=True)
class Resumption:
    """The relaunch of job `original` from `checkpoint` (a `hub://` reference)."""

    original: str
    checkpoint: str
    args: JobsArgs


def spec_of(args: JobsArgs, cwd: Path, namespace: str) -> dict[str, Any]:
    """What the ledger keeps to launch a job again: no secret values (a secret given by
    reference keeps its `$NAME`; one given by value is asked of `$ITS_NAME` next time)."""
    script = args.script
    if script is not None and not script.startswith(("https://", "http://")):
        script = launch.script_code(script, cwd)
    secrets = {
        name: value if value.startswith("$") else f"${name}"
        for name, value in args.secrets.items()
        if name.upper() not in launch.HF_TOKEN_NAMES
    }
    launched = {
        "image": args.image,
        "command": args.command,
        "script": script,
        "script_args": args.script_args,
        "env": args.env,
    }
    kept = redact_obj(launched)
    return {
        **kept,
        "operation": "uv" if args.operation == "uv" or script is not None else "run",
        "dependencies": args.dependencies,
        "python": args.python,
        "flavor": args.flavor,
        "timeout": args.timeout,
        "secrets": secrets,
        "namespace": namespace,
        "keep_nothing": args.keep_nothing,
        "scrubbed": kept != launched,  # a secret was cut out: it cannot run again as kept
    }


def prepared(args: JobsArgs) -> Resumption | None:
    """The relaunch `prepare` found for these arguments (for the approval text)."""
    return _prepared.get(args.model_dump_json())


async def prepare(args: JobsArgs, ctx: ToolContext) -> Resumption:
    """Find the original's launch and its last checkpoint; a ToolError says why not."""
    job_id = args.job_id
    if not job_id:
        raise ToolError("resume needs job_id: the failed, timed-out or cancelled job")
    spec = _ledger_spec(ctx, job_id)
    if spec.get("scrubbed"):
        raise ToolError(
            f"Not resumed: job {job_id}'s code or env held a secret, which the ledger does not "
            "keep, so it cannot be launched again from there. Launch it again yourself with the "
            f"secret passed in secrets and env {RESUME_ENV}=hub://REPO/last-checkpoint."
        )
    namespace = str(spec.get("namespace") or args.namespace or "")
    await _check_stage(ctx, namespace, job_id)
    code = _code(spec)
    repo = output_repo(code)
    if repo is None:
        raise ToolError(
            f"Not resumed: job {job_id}'s code names no hub_model_id or output_dir, so there is "
            "no repo to find its checkpoints in. Nothing was started. Tell the user, and offer "
            "a fresh run that pushes checkpoints (hub_strategy='checkpoint'); do not start one "
            "without their yes."
        )
    repo = repo if "/" in repo else f"{namespace}/{repo}"
    folder = hub_checkpoint_folder(await _repo_files(ctx, repo))
    if folder is None:
        raise ToolError(
            f"Not resumed: job {job_id} left no checkpoint on the Hub ({repo} has no "
            "last-checkpoint/ or checkpoint-N/ folder), so there is nothing to continue from. "
            "Nothing was started. Tell the user, and offer a fresh run of the same job "
            "(launch it again with operation='uv' or 'run'); do not start one without their yes."
        )
    checkpoint = hub_reference(repo, folder)
    found = Resumption(job_id, checkpoint, _relaunch_args(spec, checkpoint))
    if len(_prepared) >= _MAX_PREPARED:
        _prepared.clear()
    _prepared[args.model_dump_json()] = found
    return found


def _ledger_spec(ctx: ToolContext, job_id: str) -> dict[str, Any]:
    entries = [*reversed(runs_of(ctx.state, ctx.session_id, ctx.cwd).entries())]
    entries += load_project(ctx.cwd)
    for entry in entries:
        if entry.get("id") == job_id and entry.get("kind") == "hf_job":
            if entry.get("spec"):
                return dict(entry["spec"])
            break
    raise ToolError(
        f"Not resumed: job {job_id} is not in this project's run ledger with its launch, so "
        "what it ran is not known here. Resume works for jobs ml-intern started and watched "
        "(not wait=true); otherwise launch the job again with "
        f"env {RESUME_ENV}=hub://REPO/last-checkpoint yourself."
    )


async def _check_stage(ctx: ToolContext, namespace: str, job_id: str) -> None:
    api = hf_api(ctx.settings)
    target = Target(what=f"jobs of '{namespace}'", not_found_hint="check the job id with ps")
    job = await jobs_call(
        ctx.settings, ctx, namespace, target, api.inspect_job, job_id=job_id, namespace=namespace
    )
    stage = str(job.status.stage)
    if stage in RESUMABLE_STAGES:
        return
    why = {
        "COMPLETED": "it completed: there is nothing left to resume",
        "RUNNING": "it is still running: cancel it first if it should be restarted",
        "SCHEDULING": "it has not started yet",
    }.get(stage, f"its stage is {stage}")
    raise ToolError(f"Not resumed: job {job_id} did not fail or stop, {why}.")


def _code(spec: dict[str, Any]) -> str:
    if spec.get("script"):
        return " ".join([str(spec["script"]), *map(str, spec.get("script_args") or [])])
    command = spec.get("command") or ""
    return command if isinstance(command, str) else " ".join(map(str, command))


async def _repo_files(ctx: ToolContext, repo: str) -> list[str]:
    """The repo's files; none when the repo does not exist (the job died before it pushed)."""
    api = hf_api(ctx.settings)
    try:
        return list(await call_hub(ctx.settings, Target(repo), api.list_repo_files, repo_id=repo))
    except ToolError as exc:
        if "not found" in str(exc).lower():
            return []
        raise


def _relaunch_args(spec: dict[str, Any], checkpoint: str) -> JobsArgs:
    """The original's launch, pointed at `checkpoint`."""
    env = dict(spec.get("env") or {})
    common: dict[str, Any] = {
        "image": spec.get("image"),
        "flavor": spec["flavor"],
        "timeout": spec["timeout"],
        "secrets": spec.get("secrets") or {},
        "namespace": spec.get("namespace"),
        "keep_nothing": bool(spec.get("keep_nothing")),
    }
    if spec.get("operation") == "uv":
        return JobsArgs(
            operation="uv",
            script=spec["script"],
            script_args=spec.get("script_args") or [],
            dependencies=spec.get("dependencies") or [],
            python=spec.get("python"),
            env={**env, RESUME_ENV: checkpoint},
            **common,
        )
    command = spec.get("command") or []
    argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
    again = relaunch(argv, checkpoint)
    return JobsArgs(operation="run", command=again.argv, env={**env, **again.env}, **common)


def describe(found: Resumption) -> str:
    """The line that says what a resume starts from."""
    return f"resumes job {found.original} from its last checkpoint, {found.checkpoint}"
