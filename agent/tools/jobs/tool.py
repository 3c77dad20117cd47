"""hf_jobs: run Docker images and uv scripts on Hugging Face's cloud hardware.

Operations and parameters follow the original ml-intern (run, ps, logs, inspect,
cancel and the scheduled variants), plus `uv` and `hardware`. Starting anything
that costs money asks first, with the flavor, its price per hour, the timeout and
the worst case (price x timeout); `estimate_spend` gives the approval step those
figures, and approved spend is recorded on the session's ledger (`ctx.usage`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.tools.hub.common import Target, hf_api
from agent.tools.jobs import format as fmt
from agent.tools.jobs import launch
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
from agent.tools.jobs.follow import fetch_tail, finished_result, follow, job_url
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    from agent.config import Settings

Operation = Literal[
    "run",
    "uv",
    "ps",
    "logs",
    "inspect",
    "cancel",
    "hardware",
    "scheduled run",
    "scheduled ps",
    "scheduled inspect",
    "scheduled delete",
    "scheduled suspend",
    "scheduled resume",
]
LAUNCHES = ("run", "uv", "scheduled run")
ASKS = (*LAUNCHES, "cancel", "scheduled delete", "scheduled resume")
WAIT_LIMIT_S = 7 * 24 * 3600.0

DESCRIPTION = """\
Run work on Hugging Face's cloud hardware (CPU and GPU) as Jobs, and manage them.

- run: a Docker image and a command (image, command). uv: a Python script run with uv \
(script: code with PEP 723 inline dependencies, a local file path or an https URL; \
dependencies, python, script_args).
- Both take flavor (default cpu-basic; list flavors and prices with operation='hardware'), \
timeout (e.g. '30m', '6h'; training needs hours: the job is killed at the timeout), env \
(plain variables) and secrets (by reference: {"WANDB_API_KEY": "$WANDB_API_KEY"}). HF_TOKEN \
is passed only when the user's configuration allows it.
- Starting a job costs money and asks the user first. Job storage is ephemeral: push results \
to the Hub from the job or they are lost.
- wait=true follows the job to its end and returns its final status and last log lines; \
otherwise check it later with logs (tail, or follow=true), inspect, and stop it with cancel.
- ps lists your jobs; scheduled run (with schedule: cron or @hourly/@daily/...), \
scheduled ps/inspect/delete/suspend/resume manage recurring jobs.
"""


class JobsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Operation = Field(description="What to do; see the tool description.")
    image: str | None = Field(
        None, description="Docker image (run: default python:3.12; uv: an image with uv)."
    )
    command: list[str] | str | None = Field(
        None, description="run: the command, as a list of arguments or one shell line."
    )
    script: str | None = Field(
        None, description="uv: Python code, a local .py path or an https URL."
    )
    script_args: list[str] = Field(default_factory=list, description="uv: script arguments.")
    dependencies: list[str] = Field(
        default_factory=list, description="uv: extra pip packages for the script."
    )
    python: str | None = Field(None, description="uv: Python version, e.g. '3.12'.")
    flavor: str = Field("cpu-basic", description="Hardware flavor, e.g. t4-small, a10g-large.")
    timeout: str | int = Field(
        "30m", description="Maximum run time: seconds or e.g. '45m', '6h', '1d'."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Plain environment variables.")
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description='Secret variables, by reference to the user\'s environment: {"NAME": "$NAME"}.',
    )
    wait: bool = Field(False, description="run/uv: follow the job to its end.")
    schedule: str | None = Field(
        None, description="scheduled run: cron expression or @hourly/@daily/@weekly/@monthly."
    )
    job_id: str | None = Field(None, description="logs, inspect, cancel: the job id.")
    scheduled_job_id: str | None = Field(
        None, description="scheduled inspect/delete/suspend/resume: the scheduled job id."
    )
    namespace: str | None = Field(
        None, description="User or organization that owns (and pays for) the jobs; default: you."
    )
    follow: bool = Field(False, description="logs: stream until the job ends.")
    tail: int = Field(50, ge=1, le=2000, description="logs: how many of the last lines to show.")


# -- approval and spend (used by the approval step) ------------------------------------


def _parse(args: dict[str, Any]) -> JobsArgs | None:
    try:
        return JobsArgs.model_validate(args)
    except ValidationError:
        return None


def needs_approval(args: dict[str, Any], settings: Settings) -> bool:
    """Launching (which spends), cancelling, deleting and resuming ask; reading never does."""
    return str(args.get("operation")) in ASKS


def job_cost_estimate(args: dict[str, Any], settings: Settings) -> float | None:
    """Worst-case cost in USD of a launch (price per hour x timeout); None when the call
    starts nothing, `math.inf` when the price is not known (no budget covers it).
    Prices come from the cached hardware table: await `load_job_prices` first."""
    parsed = _parse(args)
    if parsed is None or parsed.operation not in LAUNCHES:
        return None
    table = cached_hardware(settings)
    row = table.get(parsed.flavor) if table else None
    try:
        timeout_s = parse_timeout(parsed.timeout)
    except ToolError:
        return math.inf
    return launch.worst_case(row.usd_per_hour if row else None, timeout_s)


def job_approval_reason(args: dict[str, Any], settings: Settings) -> str:
    """What the person approves: flavor, price per hour, timeout and worst-case cost."""
    parsed = _parse(args)
    if parsed is None:
        return "`hf_jobs` asks for approval for this call"
    if parsed.operation == "cancel":
        return f"cancels job {parsed.job_id}"
    if parsed.operation == "scheduled delete":
        return f"deletes scheduled job {parsed.scheduled_job_id}"
    if parsed.operation == "scheduled resume":
        return f"resumes scheduled job {parsed.scheduled_job_id}: its runs cost money again"
    if parsed.operation not in LAUNCHES:
        return "`hf_jobs` asks for approval for this call"
    table = cached_hardware(settings)
    row = table.get(parsed.flavor) if table else None
    price = row.usd_per_hour if row else None
    try:
        timeout = human_duration(parse_timeout(parsed.timeout))
    except ToolError:
        timeout = str(parsed.timeout)
    cost = job_cost_estimate(args, settings) or 0.0
    worst = "unknown (price not known)" if math.isinf(cost) else usd(cost)
    scheduled = parsed.operation == "scheduled run"
    what = "schedules a Hugging Face job" if scheduled else "starts a Hugging Face job"
    text = (
        f"{what} on {parsed.flavor} at {usd(price)}/h with a timeout of {timeout}: "
        f"worst case {worst}"
    )
    if scheduled:
        text += f" per run, on schedule '{parsed.schedule}'"
    return text


async def estimate_spend(args: dict[str, Any], settings: Settings) -> tuple[str, float] | None:
    """The approval text and worst-case cost of a launch; None for calls that spend nothing."""
    await load_job_prices(settings)
    cost = job_cost_estimate(args, settings)
    return None if cost is None else (job_approval_reason(args, settings), cost)


async def load_job_prices(settings: Settings) -> bool:
    """Fill the price cache the two functions above read; False when the Hub did not answer."""
    try:
        await load_hardware(settings)
    except ToolError:
        return False
    return True


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


async def _start(args: JobsArgs, ctx: ToolContext) -> ToolResult:
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
        item = await jobs_call(
            settings,
            ctx,
            namespace,
            target,
            api.create_scheduled_job,
            schedule=args.schedule,
            **common,
        )
        ctx.usage.record_outside(f"scheduled:{item.id}", worst)
        return ToolResult(f"Created scheduled job.\n{fmt.scheduled_details(item)}")
    job = await jobs_call(settings, ctx, namespace, target, api.run_job, **common)
    ctx.usage.record_outside(f"job:{job.id}", worst)
    url = job_url(settings, namespace, job.id)
    ctx.log(f"started job {job.id} on {args.flavor} ({usd(row.usd_per_hour)}/h): {url}")
    if args.wait:
        first = {"status": {"stage": job.status.stage, "message": job.status.message}}
        followed = await follow(settings, ctx, namespace, job.id, first)
        return finished_result(followed, ctx, namespace, job.id, row.usd_per_hour, spec.image)
    return ToolResult(
        f"Started job {job.id} on {args.flavor} ({usd(row.usd_per_hour)}/h, timeout "
        f"{human_duration(timeout_s)}, worst case {usd(worst)}).\nURL: {url}\n"
        f"Follow it with operation='logs' job_id='{job.id}' (follow=true streams to the end), "
        "check it with inspect, stop it with cancel.",
        data={"job_id": job.id, "url": url},
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
        await jobs_call(
            settings, ctx, namespace, target, api.cancel_job, job_id=job_id, namespace=namespace
        )
    job = await jobs_call(
        settings, ctx, namespace, target, api.inspect_job, job_id=job_id, namespace=namespace
    )
    prefix = f"Cancelled job {job_id}.\n" if args.operation == "cancel" else ""
    return ToolResult(prefix + fmt.job_details(job, job_url(settings, namespace, job_id)))


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


async def hf_jobs(args: JobsArgs, ctx: ToolContext) -> ToolResult:
    if args.operation in LAUNCHES:
        return await _start(args, ctx)
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
            timeout_s=WAIT_LIMIT_S,
            max_output_chars=20_000,
        )
    ]
