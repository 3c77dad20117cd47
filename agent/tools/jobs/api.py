"""What the cloud-compute tools share: hardware prices, timeouts, and Jobs error wording.

Hardware and prices come from the Hub's own tables (`/api/jobs/hardware`,
`/api/spaces/hardware`), cached per endpoint for a while, so an approval prompt can
name the price without a request of its own once the table is loaded. HfApi calls
go through `hub.common.call_hub`, with the answers that matter for paid compute
(402 billing, 403 permissions) worded here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from agent.hf_token import find_hf_token
from agent.tools.hub.common import Target, call_hub, hf_api, hub_client, hub_json
from agent.tools.spec import ToolContext, ToolError

if TYPE_CHECKING:
    from agent.config import Settings

T = TypeVar("T")
Kind = Literal["jobs", "spaces"]
TERMINAL_STAGES = ("COMPLETED", "CANCELED", "ERROR", "DELETED")
PRICE_TTL_S = 3600.0
DEFAULT_TIMEOUT = "30m"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TIMEOUT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_PER_HOUR = {"second": 3600.0, "minute": 60.0, "hour": 1.0}
_cache: dict[tuple[str, str], tuple[float, dict[str, Hardware]]] = {}


@dataclass(frozen=True)
class Hardware:
    """One flavor as the Hub lists it, with its price per hour when the Hub gives one."""

    name: str
    pretty_name: str
    cpu: str
    ram: str
    accelerator: str
    usd_per_hour: float | None
    gpu: str | None = None  # the GPU model, e.g. "A100"
    gpus: int = 0
    gpu_memory_gb: float | None = None  # all its GPUs together, as the Hub lists "vram"


def parse_timeout(value: str | int | float | None) -> int:
    """Seconds from `300`, `"90s"`, `"30m"`, `"2h"` or `"1d"` (the Hub's own notation)."""
    if value is None or value == "":
        value = DEFAULT_TIMEOUT
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _TIMEOUT.match(value)
        if match is None:
            raise ToolError(
                f"timeout '{value}' is not a duration: give seconds or a number with s, m, h or "
                "d, e.g. '45m' or '6h'"
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise ToolError("timeout must be positive, e.g. '30m'")
    return int(seconds)


def human_duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def usd(amount: float | None) -> str:
    if amount is None:
        return "unknown"
    return f"${amount:.2f}" if amount >= 0.1 else f"${amount:.4f}"


def _row(raw: dict[str, Any]) -> Hardware:
    accel = raw.get("accelerator") or {}
    accelerator = "-"
    vram = re.match(r"\s*(\d+(?:\.\d+)?)", str(accel.get("vram") or ""))
    if accel:
        accelerator = f"{accel.get('quantity', '1')}x {accel.get('model', '?')}"
        if accel.get("vram"):
            accelerator += f" ({accel['vram']})"
    unit = _PER_HOUR.get(str(raw.get("unitLabel") or "").lower())
    cost = raw.get("unitCostUSD")
    price = float(cost) * unit if unit is not None and isinstance(cost, int | float) else None
    return Hardware(
        name=str(raw.get("name")),
        pretty_name=str(raw.get("prettyName") or raw.get("name")),
        cpu=str(raw.get("cpu") or "-"),
        ram=str(raw.get("ram") or "-"),
        accelerator=accelerator,
        usd_per_hour=price,
        gpu=str(accel["model"]) if accel.get("model") else None,
        gpus=_count(accel.get("quantity")) if accel else 0,
        gpu_memory_gb=float(vram.group(1)) if vram else None,
    )


def _count(value: Any) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1


def cached_hardware(settings: Settings, kind: Kind = "jobs") -> dict[str, Hardware] | None:
    """The hardware table when it was loaded recently, without any request."""
    entry = _cache.get((settings.hf_endpoint.rstrip("/"), kind))
    if entry is None or time.monotonic() - entry[0] > PRICE_TTL_S:
        return None
    return entry[1]


async def load_hardware(settings: Settings, kind: Kind = "jobs") -> dict[str, Hardware]:
    """The flavors the Hub offers for Jobs or Spaces, with prices; cached for an hour."""
    if (table := cached_hardware(settings, kind)) is not None:
        return table
    endpoint = settings.hf_endpoint.rstrip("/")
    target = Target(what=f"the {kind} hardware list")
    async with hub_client(settings) as client:
        rows = await hub_json(
            client, f"{endpoint}/api/{kind}/hardware", settings=settings, target=target
        )
    if not isinstance(rows, list):
        raise ToolError(f"the Hub sent an unexpected {kind} hardware list; try again later")
    table = {row.name: row for row in map(_row, rows)}
    _cache[(endpoint, kind)] = (time.monotonic(), table)
    return table


def check_flavor(table: dict[str, Hardware], flavor: str) -> Hardware:
    """The flavor's row, or an error that lists every valid flavor with its price."""
    if flavor in table:
        return table[flavor]
    valid = ", ".join(f"{h.name} ({usd(h.usd_per_hour)}/h)" for h in table.values())
    raise ToolError(f"unknown flavor '{flavor}'. Valid flavors: {valid}")


def billing_url(settings: Settings, namespace: str | None, user: str | None) -> str:
    endpoint = settings.hf_endpoint.rstrip("/")
    if namespace and user and namespace != user:
        return f"{endpoint}/organizations/{namespace}/settings/billing"
    return f"{endpoint}/settings/billing"


async def whoami(settings: Settings, ctx: ToolContext) -> str:
    """The user the token belongs to, asked once per session."""
    if name := ctx.state.get("hf_jobs.user"):
        return str(name)
    if not find_hf_token(settings):
        raise ToolError(
            "Hugging Face Jobs need a login: set HF_TOKEN in your environment or .env, or run "
            "`hf auth login` (create a token at https://huggingface.co/settings/tokens)"
        )
    info = await call_hub(
        settings, Target(what="your Hugging Face account"), hf_api(settings).whoami
    )
    ctx.state["hf_jobs.user"] = info["name"]
    return str(info["name"])


async def jobs_call(
    settings: Settings,
    ctx: ToolContext,
    namespace: str,
    target: Target,
    fn: Callable[..., T],
    /,
    **kwargs: Any,
) -> T:
    """A blocking HfApi Jobs call in a thread; billing and permission refusals explained."""
    user = ctx.state.get("hf_jobs.user")

    def guarded() -> T:
        try:
            return fn(**kwargs)
        except Exception as exc:
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", None)
            message = (getattr(exc, "server_message", None) or "").strip()
            detail = f": {message}" if message else ""
            if status == 402:
                raise ToolError(
                    f"Hugging Face Jobs refused the request: payment required (402{detail}). "
                    f"Jobs on paid hardware need billing set up for the namespace '{namespace}': "
                    f"add a payment method or credits at {billing_url(settings, namespace, user)} "
                    "and retry (cpu-basic may work meanwhile)."
                ) from None
            if status == 403:
                raise ToolError(
                    f"Hugging Face refused to manage jobs in namespace '{namespace}' (403{detail}). "
                    "Use a namespace you belong to, and a token with write access (or the "
                    "'Start and manage Jobs' permission): https://huggingface.co/settings/tokens"
                ) from None
            raise

    return await call_hub(settings, target, guarded)
