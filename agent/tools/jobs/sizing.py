"""Will a job fit its hardware, how long will it take, and what will it cost: asked of a
launch before anyone approves it.

The job's script says which model and how it is used (`agent.compute.script`); the Hub says
the model's size and shape (its safetensors parameter count and config.json); the hardware
table says the flavor's GPU memory and price. A run set by epochs rather than max_steps is
timed from the row count of the dataset its script names (the datasets viewer's `/size`),
each row counted as a full sequence. A run that is above the flavor's memory even
with gradient checkpointing is refused with the numbers and the cheapest flavor that fits. When something is
unknown (no model id, the Hub does not answer) the approval line says "not estimated" and
why: an estimate never blocks a launch it could not make.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.compute.estimate import ModelShape, fits, gb, train_seconds
from agent.compute.fit import (
    ADVICE,
    Sized,
    SizingLines,
    checkpointed,
    count_steps,
    describe,
    needs,
    sized,
    tokens_of,
)
from agent.compute.script import read_plan
from agent.tools.hub.common import Target, hub_client, hub_json
from agent.tools.jobs import guards
from agent.tools.jobs.api import Hardware, human_duration, load_hardware, parse_timeout, usd
from agent.tools.spec import ToolContext, ToolError

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.tools.jobs.args import JobsArgs

_shapes: dict[tuple[str, str], ModelShape] = {}
_rows: dict[tuple[str, str], int] = {}


def shape_from(config: dict[str, Any], params: float | None) -> ModelShape:
    """A model's shape from its config.json (the text part of a multimodal one), with the
    parameter count the Hub gives, or one worked out from the layers when it gives none."""
    if "hidden_size" not in config and isinstance(config.get("text_config"), dict):
        config = config["text_config"]

    def field(*names: str) -> int:
        for name in names:
            if isinstance(config.get(name), int):
                return int(config[name])
        raise ValueError(f"its config.json has no {names[0]}")

    hidden = field("hidden_size", "n_embd", "d_model")
    layers = field("num_hidden_layers", "n_layer", "num_layers")
    heads = field("num_attention_heads", "n_head", "num_heads")
    kv_heads = config.get("num_key_value_heads") or heads
    vocab = config.get("vocab_size") or 32_000
    if params is None:  # attention 4h^2 and MLP 8h^2 per layer, embeddings in and out
        params = float(12 * layers * hidden * hidden + 2 * vocab * hidden)
    head_dim = config.get("head_dim") if isinstance(config.get("head_dim"), int) else None
    return ModelShape(params, hidden, layers, heads, int(kv_heads), head_dim)


async def model_shape(settings: Settings, model_id: str) -> ModelShape:
    """The model's shape, asked of the Hub once per endpoint and model."""
    endpoint = settings.hf_endpoint.rstrip("/")
    if (endpoint, model_id) in _shapes:
        return _shapes[(endpoint, model_id)]
    target = Target(what=f"model {model_id}")
    async with hub_client(settings) as client:
        info = await hub_json(
            client, f"{endpoint}/api/models/{model_id}", settings=settings, target=target
        )
        config = await hub_json(
            client,
            f"{endpoint}/{model_id}/resolve/main/config.json",
            settings=settings,
            target=target,
        )
    counted = info.get("safetensors") if isinstance(info, dict) else None
    total = counted.get("total") if isinstance(counted, dict) else None
    total = float(total) if isinstance(total, int | float) and total > 0 else None
    try:
        shape = shape_from(config if isinstance(config, dict) else {}, total)
    except ValueError as exc:
        raise ToolError(f"{model_id}: {exc}") from None
    _shapes[(endpoint, model_id)] = shape
    return shape


async def dataset_rows(settings: Settings, dataset: str | None) -> int | None:
    """The training split's row count (the default config's, else the first config's),
    asked of the datasets viewer once per dataset; None when unknown."""
    base = settings.datasets_server_url.rstrip("/")
    if dataset is None:
        return None
    if (base, dataset) in _rows:
        return _rows[(base, dataset)]
    try:
        async with hub_client(settings) as client:
            answer = await hub_json(
                client,
                f"{base}/size",
                params={"dataset": dataset},
                settings=settings,
                target=Target(dataset, "dataset"),
            )
    except ToolError:
        return None
    size = answer.get("size") if isinstance(answer, dict) else None
    splits = size.get("splits") if isinstance(size, dict) else None
    train = [s for s in splits or [] if isinstance(s, dict) and s.get("split") == "train"]
    train.sort(key=lambda s: s.get("config") != "default")
    rows = train[0].get("num_rows") if train else None
    if not isinstance(rows, int) or rows <= 0:
        return None
    _rows[(base, dataset)] = rows
    return rows


async def size(args: JobsArgs, ctx: ToolContext) -> str | None:
    """The sizing part of a launch's approval line (None: the job neither trains nor serves
    a model); a ToolError when the run cannot fit its flavor."""
    try:
        code = guards.job_code(args, ctx.cwd)
    except ToolError:
        code = None
    if code is None:
        return "memory not estimated (a script given by URL cannot be read before it runs)"
    plan = read_plan(code)
    if plan is None:
        return None
    if plan.model_id is None:
        return "memory not estimated (no model id found in the job's code)"
    try:
        shape = await model_shape(ctx.settings, plan.model_id)
        table = await load_hardware(ctx.settings)
    except ToolError as exc:
        return f"memory not estimated ({str(exc).rstrip('.')})"
    row = table.get(args.flavor)
    if row is None:
        return None  # the launch itself says which flavors exist
    run = sized(plan, plan.model_id, shape)
    if row.gpu_memory_gb is None:
        return f"~{gb(run.need)} of GPU memory needed; {row.name} has no GPU memory listed"
    smallest = checkpointed(run)
    if not fits(smallest.need, row.gpu_memory_gb, 1):
        raise ToolError(_refusal(smallest, row, table))
    rows = None
    if plan.max_steps is None and plan.work.mode != "serve":
        rows = await dataset_rows(ctx.settings, plan.dataset_id)
    line = _fits_line(run, row, args, rows)
    if not fits(run.need, row.gpu_memory_gb, 1):
        line += (
            f"; more than {row.name} has unless gradient checkpointing is on "
            f"(~{gb(smallest.need)} with it)"
        )
    return line


def _refusal(run: Sized, row: Hardware, table: dict[str, Hardware]) -> str:
    text = (
        f"Not started: {needs(run)}, and {row.name} has {row.gpu_memory_gb:g} GB "
        f"({row.accelerator})."
    )
    bigger = [h for h in table.values() if h.gpu_memory_gb and fits(run.need, h.gpu_memory_gb, 1)]
    bigger.sort(key=lambda h: (h.usd_per_hour is None, h.usd_per_hour or 0.0))
    if bigger:
        best = bigger[0]
        text += (
            f" A flavor that fits: {best.name} ({best.accelerator}, "
            f"{usd(best.usd_per_hour)}/h; shard the model across its GPUs when it has several)."
        )
    else:
        text += " No Jobs flavor has that much GPU memory."
    return text + ADVICE


def _fits_line(run: Sized, row: Hardware, args: JobsArgs, rows: int | None = None) -> str:
    line = f"memory ~{gb(run.need)} of {row.gpu_memory_gb:g} GB on {row.name} ({describe(run)})"
    plan = run.plan
    if plan.work.mode == "serve":
        return line + "; a server runs until its timeout"
    counted = count_steps(plan, rows, row.gpus)
    if counted is None:
        return line + "; expected cost unknown (epochs over an unknown dataset size)"
    steps, how = counted
    tokens = tokens_of(plan, steps, row.gpus)
    seconds = train_seconds(run.shape.params, tokens, row.gpu, row.gpus)
    if seconds is None or row.usd_per_hour is None:
        return line + f"; expected cost not estimated (no throughput figure for {row.gpu})"
    try:
        timeout_s = parse_timeout(args.timeout)
    except ToolError:
        timeout_s = None
    cost = row.usd_per_hour * min(seconds, timeout_s or seconds) / 3600
    line += (
        f"; expected ~{usd(cost)} for ~{human_duration(seconds)} "
        f"({how}, {tokens / 1e6:.1f}M tokens; rough)"
    )
    if timeout_s is not None and seconds > timeout_s:
        line += ", longer than the timeout"
    return line


lines = SizingLines()  # sizing lines waiting for their approval text
