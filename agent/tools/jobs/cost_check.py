"""What a person approves before hf_jobs spends money, and what it may cost at worst.

Launches, cancels, deletes and resumes ask; the text names the flavor, its price per hour, the
timeout and the worst case (price x timeout), and for a job that trains or serves a model the
GPU memory it needs and its expected cost (`sizing`). A schedule spends again on every run, so no
budget covers it: it always needs a person's yes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agent.tools.jobs import guards, launch, resume_job, sizing
from agent.tools.jobs.api import cached_hardware, human_duration, load_hardware, parse_timeout, usd
from agent.tools.jobs.args import ASKS, LAUNCHES, JobsArgs
from agent.tools.spec import ToolContext, ToolError

if TYPE_CHECKING:
    from agent.config import Settings


def _parse(args: dict[str, Any]) -> JobsArgs | None:
    try:
        return JobsArgs.model_validate(args)
    except ValidationError:
        return None


def needs_approval(args: dict[str, Any], settings: Settings) -> bool:
    """Launching (which spends), cancelling, deleting and resuming ask; reading never does."""
    return str(args.get("operation")) in ASKS


async def check(args: JobsArgs, ctx: ToolContext) -> None:
    """Before anyone is asked: a launch that would waste its money, or cannot fit its
    hardware, is refused; the estimate of one that fits goes into the approval text."""
    if args.operation in LAUNCHES:
        guards.check_launch(args, ctx)
        sizing.lines.remember(args, await sizing.size(args, ctx))
    elif args.operation == "resume":
        again = (await resume_job.prepare(args, ctx)).args
        sizing.lines.remember(again, await sizing.size(again, ctx))


def _relaunched(parsed: JobsArgs | None) -> JobsArgs | None:
    """A resume's relaunch (as `check` found it); other calls as they are."""
    if parsed is None or parsed.operation != "resume":
        return parsed
    found = resume_job.prepared(parsed)
    return found.args if found else None


def job_cost_estimate(args: dict[str, Any], settings: Settings) -> float | None:
    """Worst-case cost in USD of a launch (price per hour x timeout); None when the call
    starts nothing, `math.inf` when the price is not known (no budget covers it).
    Prices come from the cached hardware table: await `load_job_prices` first."""
    asked = _parse(args)
    parsed = _relaunched(asked)
    if parsed is None and asked is not None and asked.operation == "resume":
        return math.inf  # what it relaunches is not known yet: no budget covers it
    if parsed is None or parsed.operation not in LAUNCHES:
        return None
    if parsed.operation == "scheduled run":
        return math.inf  # it spends again on every run: no budget covers it, a person decides
    return _worst_per_run(parsed, settings)


def _worst_per_run(parsed: JobsArgs, settings: Settings) -> float:
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
    if parsed.operation == "resume":
        found = resume_job.prepared(parsed)
        if found is None:
            return f"resumes job {parsed.job_id} from its last checkpoint"
        again = job_approval_reason(found.args.model_dump(exclude_unset=True), settings)
        return f"{resume_job.describe(found)}: {again}"
    if parsed.operation not in LAUNCHES:
        return "`hf_jobs` asks for approval for this call"
    table = cached_hardware(settings)
    row = table.get(parsed.flavor) if table else None
    price = row.usd_per_hour if row else None
    try:
        timeout = human_duration(parse_timeout(parsed.timeout))
    except ToolError:
        timeout = str(parsed.timeout)
    cost = _worst_per_run(parsed, settings)
    worst = "unknown (price not known)" if math.isinf(cost) else usd(cost)
    scheduled = parsed.operation == "scheduled run"
    what = "schedules a Hugging Face job" if scheduled else "starts a Hugging Face job"
    text = (
        f"{what} on {parsed.flavor} at {usd(price)}/h with a timeout of {timeout}: "
        f"worst case {worst}"
    )
    if scheduled:
        text += (
            f" per run, on schedule '{parsed.schedule}', run after run. A schedule always needs "
            "a person's yes (no budget covers it): approve it in the chat, or create it "
            "yourself with `hf jobs scheduled run`"
        )
    if parsed.keep_nothing:
        text += "; nothing the job writes is kept"
    if line := sizing.lines.remembered(parsed):
        text += f"; {line}"
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
