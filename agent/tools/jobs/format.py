"""How jobs, scheduled jobs and hardware read in a tool result: short, one fact a line."""

from __future__ import annotations

import shlex
from typing import Any

from agent.compute.estimate import GUIDE_MODES, largest_fitting
from agent.tools.hub.common import cut, short_date
from agent.tools.jobs.api import Hardware, human_duration, usd

MAX_LISTED = 30


def _command(command: list[str] | None) -> str:
    return shlex.join(command) if command else "-"


def _image(spec: Any) -> str:
    if getattr(spec, "space_id", None):
        return f"hf.co/spaces/{spec.space_id}"
    return getattr(spec, "docker_image", None) or "-"


def job_details(job: Any, url: str) -> str:
    """One job (an HfApi JobInfo): status first, then what it runs and where."""
    stage = job.status.stage
    message = f" ({job.status.message})" if job.status.message else ""
    lines = [
        f"Job {job.id}: {stage}{message}",
        f"URL: {url}",
        f"Flavor: {job.flavor or 'cpu-basic'}",
        f"Image: {_image(job)}",
        f"Command: {cut(_command(job.command), 2000)}",
        f"Created: {job.created_at.isoformat() if job.created_at else '-'}",
    ]
    durations = getattr(job, "durations", None)
    if durations is not None and durations.running_secs is not None:
        lines.append(f"Running time: {human_duration(durations.running_secs)}")
    if job.environment:
        lines.append(f"Environment: {', '.join(sorted(job.environment))}")
    if job.secrets:
        lines.append(f"Secrets: {', '.join(sorted(job.secrets))}")
    if job.labels:
        lines.append(f"Labels: {', '.join(f'{k}={v}' for k, v in sorted(job.labels.items()))}")
    return "\n".join(lines)


def jobs_table(jobs: list[Any]) -> str:
    """Jobs newest first, one per line."""
    jobs = sorted(
        jobs, key=lambda j: j.created_at.isoformat() if j.created_at else "", reverse=True
    )
    rows = [
        f"{j.id}  {j.status.stage:<10} {j.flavor or 'cpu-basic':<12} {short_date(j.created_at)}  "
        f"{cut(_image(j), 40)}  {cut(_command(j.command), 60)}"
        for j in jobs[:MAX_LISTED]
    ]
    more = f"\n(+{len(jobs) - MAX_LISTED} older jobs not shown)" if len(jobs) > MAX_LISTED else ""
    header = "id                        stage      flavor       created     image  command"
    return "\n".join([header, *rows]) + more


def scheduled_details(item: Any) -> str:
    spec = item.job_spec
    status = item.status
    last = status.last_job.id if status and status.last_job else "-"
    next_run = status.next_job_run_at.isoformat() if status and status.next_job_run_at else "-"
    return "\n".join(
        [
            f"Scheduled job {item.id}: {'suspended' if item.suspend else 'active'}",
            f"Schedule: {item.schedule}",
            f"Next run: {next_run}",
            f"Last job: {last}",
            f"Flavor: {spec.flavor or 'cpu-basic'}",
            f"Timeout: {human_duration(spec.timeout) if spec.timeout else 'default'}",
            f"Image: {_image(spec)}",
            f"Command: {cut(_command(spec.command), 2000)}",
        ]
    )


def scheduled_table(items: list[Any]) -> str:
    rows = [
        f"{s.id}  {'suspended' if s.suspend else 'active':<9}  {s.schedule:<14} "
        f"{s.job_spec.flavor or 'cpu-basic':<12} {cut(_command(s.job_spec.command), 60)}"
        for s in items[:MAX_LISTED]
    ]
    return "\n".join(
        ["id                        state      schedule       flavor       command", *rows]
    )


def hardware_table(table: dict[str, Hardware]) -> str:
    """Every flavor with its price per hour, cheapest first, and for a GPU flavor the largest
    typical model it fits for full fine-tuning, LoRA, QLoRA and serving (the same estimate
    that refuses a launch that cannot fit)."""
    rows = sorted(table.values(), key=lambda h: (h.usd_per_hour is None, h.usd_per_hour or 0.0))
    lines = [
        f"{'flavor':<18} {'price/hour':>10}  {'accelerator':<22} {'cpu':<10} {'ram':<8} "
        "largest model: full/LoRA/QLoRA/serve"
    ]
    for h in rows:
        lines.append(
            f"{h.name:<18} {usd(h.usd_per_hour):>10}  {h.accelerator:<22} {h.cpu:<10} "
            f"{h.ram:<8} {_fits(h)}".rstrip()
        )
    return "\n".join(lines) + (
        "\n(Largest model: a typical decoder, bf16, batches of 4 x 2048 tokens with gradient "
        "checkpointing, serving 8 x 4096 tokens; rough. A launch is sized from its own script.)"
    )


def _fits(h: Hardware) -> str:
    if not h.gpu_memory_gb:
        return ""
    sizes = [largest_fitting(h.gpu_memory_gb, mode) for mode in GUIDE_MODES]
    return "/".join(f"{size}B" if size else "-" for size in sizes)
