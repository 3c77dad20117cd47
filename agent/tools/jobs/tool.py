"""hf_jobs: run Docker images and uv scripts on Hugging Face's cloud hardware.

Operations and parameters follow the original ml-intern (run, ps, logs, inspect,
cancel and the scheduled variants), plus `uv` and `hardware`. Starting anything
that costs money asks first, with the flavor, its price per hour, the timeout and
the worst case (price x timeout); `estimate_spend` gives the approval step those
figures, and approved spend is recorded on the session's ledger (`ctx.usage`).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from agent.runs.registry import runs_of
from agent.tools.hub.common import Target, hf_api
from agent.tools.jobs import format as fmt
from agent.tools.jobs import guards, launch, news, resume_job
from agent.tools.jobs.api import (
    cached_hardware,
    check_flavor,
    human_duration,
    jobs_call,
    load_hardware,
    parse_timeout,
    usd,
    whoami,
)
from agent.tools.jobs.args import LAUNCHES, WAIT_LIMIT_S, JobsArgs
from agent.tools.jobs.cost_check import check, estimate_spend, needs_approval
from agent.tools.jobs.follow import fetch_tail, finished_result, follow, job_url
from agent.tools.jobs.job_run import job_run
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    from agent.config import Settings

DESCRIPTION = """\
Run work on Hugging Face's cloud hardware (CPU and GPU) as Jobs, and manage them. Jobs are \
billed per minute to the user (or namespace) while they run.

- run: a Docker image and a command (image, command). uv: a Python script run with uv \
(script: code with PEP 723 inline dependencies, a local file path, sent inline, or an https \
URL; dependencies, python, script_args).
- Both take flavor (default cpu-basic; operation='hardware' lists flavors and prices), \
timeout (default 30m, which kills most training: set hours, e.g. '4h', from model size, data \
and hardware), env (plain variables) and secrets (by reference: \
{"WANDB_API_KEY": "$WANDB_API_KEY"}). HF_TOKEN is passed only when the user's configuration \
allows it; pushing to the Hub from a job needs it.
- Storage is ephemeral: a training job must push its model (push_to_hub=True with \
hub_model_id, or an explicit upload) or everything is lost. A training script that never \
pushes is refused unless keep_nothing=true (a smoke test); a training job without an explicit \
timeout is refused. Push checkpoints as training goes (hub_strategy="checkpoint" with \
save_steps) and read RESUME_FROM_CHECKPOINT (a path or hub://ORG/NAME/FOLDER to \
snapshot_download) into trainer.train(resume_from_checkpoint=...).
- resume (job_id): a failed, timed-out or cancelled job launched again, same script, flavor, \
timeout, env and secrets, with RESUME_FROM_CHECKPOINT pointing at the last checkpoint found in \
its output repo (last-checkpoint/ or checkpoint-N/); asks first like run.
- Pick the flavor from the GPU memory the run needs: operation='hardware' lists the largest \
model each flavor fits for full fine-tuning, LoRA, QLoRA and serving (a10g-small and \
a10g-large share the same 24 GB GPU). A launch that trains or serves a model is sized from its \
code (model id, batch, sequence length, precision, LoRA/4-bit, max_steps or epochs over the \
named dataset): approval shows the \
memory and an expected cost, and a run that cannot fit is refused with a flavor that fits.
- Smoke-test first (same script, a few steps, tiny subset), then the real run; for several \
runs, confirm the first one trains before launching the rest.
- Starting a job asks the user first, showing price per hour, timeout and worst case. A \
scheduled run spends on every run and always needs the user's yes.
- wait=true follows the job to its end and returns its final status and last log lines; \
otherwise check it later with logs (tail, or follow=true), inspect, and stop it with cancel.
- ps lists your jobs; scheduled run (with schedule: cron or @hourly/@daily/...), \
scheduled ps/inspect/delete/suspend/resume manage recurring jobs.
"""


# -- operations ---------------------------------------------------------------------------


async def _namespace(args: JobsArgs, ctx: ToolContext) -> str:
    user = await whoami(ctx.settings, ctx)
    return args.namespace or user


def _need(value: str | None, name: str, operation: str) -> str:
    if not value:
        raise ToolError(f"{operation} needs {name}")
    return value


def _launch_spec(args: JobsArgs, ctx: ToolContext) -> launch.Launch:
    if args.operation == "uv" or (args.operation == "scheduled run" and args.script):
        image, command = launch.uv_launch(
            args.script, args.script_args, args.dependencies, args.python, args.image, ctx.cwd
        )
    else:
        image, command = launch.docker_launch(args.image, args.command)
    env = launch.job_env(args.env)
    return launch.Launch(image, command, env, launch.job_secrets(args.secrets, ctx.settings))


async def _start(args: JobsArgs, ctx: ToolContext, resumed_from: str = "") -> ToolResult:
    settings = ctx.settings
    row = check_flavor(await load_hardware(settings), args.flavor)
    timeout_s = parse_timeout(args.timeout)
    worst = launch.worst_case(row.usd_per_hour, timeout_s)
    scheduled = args.operation == "scheduled run"
    if scheduled and not args.schedule:
        raise ToolError("scheduled run needs schedule, e.g. '@daily' or '0 9 * * 1'")
    launch.refuse_over_budget(ctx, worst, f"a job on {args.flavor}")
    spec = _launch_spec(args, ctx)
    namespace = await _namespace(args, ctx)
    api = hf_api(settings)
    common = {
        "image": spec.image,
        "command": spec.command,
        "env": spec.env,
        "secrets": spec.secrets,
        "flavor": args.flavor,
        "timeout": timeout_s,
        "namespace": namespace,
    }
    target = Target(what=f"Hugging Face Jobs in namespace '{namespace}'")
    if scheduled:
        create = api.create_scheduled_job
        item = await jobs_call(
            settings, ctx, namespace, target, create, schedule=args.schedule, **common
        )
        ctx.usage.record_outside(f"scheduled:{item.id}", worst)
        return ToolResult(f"Created scheduled job.\n{fmt.scheduled_details(item)}")
    earlier = guards.earlier_run(args, ctx, flavor_is_gpu=row.accelerator != "-")
    job = await jobs_call(settings, ctx, namespace, target, api.run_job, **common)
    ctx.usage.record_outside(f"job:{job.id}", worst)
    guards.remember_launch(args, ctx, job.id, namespace)
    notes = [
        n
        for n in (guards.inline_notice(args, ctx.cwd), guards.checkpoint_notice(args, ctx.cwd))
        if n
    ]
    if earlier is not None and (note := await _earlier_run_note(settings, ctx, *earlier)):
        notes.append(note)
    url = job_url(settings, namespace, job.id)
    ctx.log(f"started job {job.id} on {args.flavor} ({usd(row.usd_per_hour)}/h): {url}")
    news.submitted(ctx, job.id, args.flavor, worst, url)
    if args.wait:
        first = {"status": {"stage": job.status.stage, "message": job.status.message}}
        followed = await follow(settings, ctx, namespace, job.id, first)
        result = finished_result(followed, ctx, namespace, job.id, row.usd_per_hour, spec.image)
        result.content = "\n".join([*notes, result.content])
        return result
    first = {"status": {"stage": job.status.stage, "message": job.status.message}}
    command = shlex.join(spec.command)
    run = job_run(ctx, namespace, job.id, command, args.flavor, url, row.usd_per_hour, first)
    run[0].spec = resume_job.spec_of(args, ctx.cwd, namespace)
    run[0].resumed_from = resumed_from
    runs_of(ctx.state, ctx.session_id, ctx.cwd).add(*run)
    return ToolResult(
        "\n".join(
            [
                *notes,
                f"Started job {job.id} on {args.flavor} ({usd(row.usd_per_hour)}/h, timeout "
                f"{human_duration(timeout_s)}, worst case {usd(worst)}).",
                f"URL: {url}",
                f"It is watched: you are woken when it ends, prints a traceback, runs out of "
                "memory or its loss becomes NaN, so end your turn to wait instead of polling. "
                f"Look at it with operation='logs' job_id='{job.id}', inspect, stop it with "
                "cancel.",
            ]
        ),
        data={"job_id": job.id, "url": url},
    )


async def _earlier_run_note(settings: Settings, ctx: ToolContext, job_id: str, ns: str) -> str:
    """A nudge to confirm one run trains before paying for more of the same."""
    api = hf_api(settings)
    target = Target(what=f"jobs of '{ns}'")
    first = await jobs_call(settings, ctx, ns, target, api.inspect_job, job_id=job_id, namespace=ns)
    stage = str(first.status.stage)
    if stage in ("RUNNING", "COMPLETED"):
        return ""
    return (
        f"Note: job {job_id} runs the same script and has not started running yet (stage "
        f"{stage}). Check that it trains (operation='logs') before launching more runs of it."
    )


async def _logs(args: JobsArgs, ctx: ToolContext) -> ToolResult:
    job_id = _need(args.job_id, "job_id", "logs")
    namespace = await _namespace(args, ctx)
    if args.follow:
        table = cached_hardware(ctx.settings) or {}
        followed = await follow(ctx.settings, ctx, namespace, job_id)
        flavor = followed.info.get("flavor")
        price = table[flavor].usd_per_hour if flavor in table else None
        return finished_result(followed, ctx, namespace, job_id, price)
    tail = await fetch_tail(ctx.settings, namespace, job_id, args.tail)
    body = "\n".join(tail) if tail else "(no log lines yet)"
    return ToolResult(f"Last {len(tail)} log lines of job {job_id}:\n{body}")


async def _job_op(args: JobsArgs, ctx: ToolContext) -> ToolResult:
    """ps, inspect and cancel."""
    settings = ctx.settings
    namespace = await _namespace(args, ctx)
    api = hf_api(settings)
    target = Target(what=f"jobs of '{namespace}'", not_found_hint="check the job id with ps")
    if args.operation == "ps":
        jobs = await jobs_call(
            settings, ctx, namespace, target, lambda: list(api.list_jobs(namespace=namespace))
        )
        if not jobs:
            return ToolResult(f"No jobs in namespace '{namespace}'.")
        return ToolResult(f"Jobs of {namespace}, newest first:\n{fmt.jobs_table(jobs)}")
    job_id = _need(args.job_id, "job_id", args.operation)
    if args.operation == "cancel":
        runs_of(ctx.state).saw_end(job_id)
        await jobs_call(
            settings, ctx, namespace, target, api.cancel_job, job_id=job_id, namespace=namespace
        )
    job = await jobs_call(
        settings, ctx, namespace, target, api.inspect_job, job_id=job_id, namespace=namespace
    )
    prefix = f"Cancelled job {job_id}.\n" if args.operation == "cancel" else ""
    url = job_url(settings, namespace, job_id)
    news.observed(ctx, job_id, str(job.status.stage), str(job.flavor or ""), None, url)
    return ToolResult(prefix + fmt.job_details(job, url))


async def _scheduled_op(args: JobsArgs, ctx: ToolContext) -> ToolResult:
    settings = ctx.settings
    namespace = await _namespace(args, ctx)
    api = hf_api(settings)
    target = Target(
        what=f"scheduled jobs of '{namespace}'",
        not_found_hint="check the id with operation='scheduled ps'",
    )
    if args.operation == "scheduled ps":
        items = await jobs_call(
            settings,
            ctx,
            namespace,
            target,
            lambda: list(api.list_scheduled_jobs(namespace=namespace)),
        )
        if not items:
            return ToolResult(f"No scheduled jobs in namespace '{namespace}'.")
        return ToolResult(fmt.scheduled_table(items))
    sid = _need(args.scheduled_job_id, "scheduled_job_id", args.operation)
    verb = args.operation.split()[1]
    if verb != "inspect":
        method = getattr(api, f"{verb}_scheduled_job")
        await jobs_call(
            settings, ctx, namespace, target, method, scheduled_job_id=sid, namespace=namespace
        )
    if verb == "delete":
        return ToolResult(f"Deleted scheduled job {sid}.")
    item = await jobs_call(
        settings,
        ctx,
        namespace,
        target,
        api.inspect_scheduled_job,
        scheduled_job_id=sid,
        namespace=namespace,
    )
    done = {"suspend": "Suspended", "resume": "Resumed"}.get(verb)
    return ToolResult(
        (f"{done} scheduled job {sid}.\n" if done else "") + fmt.scheduled_details(item)
    )


async def _resume(args: JobsArgs, ctx: ToolContext) -> ToolResult:
    found = resume_job.prepared(args) or await resume_job.prepare(args, ctx)
    result = await _start(found.args, ctx, resumed_from=found.original)
    result.content = f"Resuming job {found.original} from {found.checkpoint}.\n{result.content}"
    return result


async def hf_jobs(args: JobsArgs, ctx: ToolContext) -> ToolResult:
    if args.operation in LAUNCHES:
        return await _start(args, ctx)
    if args.operation == "resume":
        return await _resume(args, ctx)
    if args.operation == "hardware":
        table = await load_hardware(ctx.settings)
        return ToolResult(f"Hardware flavors for Jobs:\n{fmt.hardware_table(table)}")
    if args.operation == "logs":
        return await _logs(args, ctx)
    if args.operation.startswith("scheduled"):
        return await _scheduled_op(args, ctx)
    return await _job_op(args, ctx)


def hf_jobs_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            "hf_jobs",
            DESCRIPTION,
            hf_jobs,
            args_model=JobsArgs,
            needs_approval=needs_approval,
            estimate_spend=estimate_spend,
            check=check,
            timeout_s=WAIT_LIMIT_S,
            max_output_chars=20_000,
        )
    ]
