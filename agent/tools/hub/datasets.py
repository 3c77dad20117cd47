"""hf_inspect_dataset: what a dataset holds, before any training code is written.

The Hub's repo API says whether the dataset exists and is gated; the datasets viewer
(`settings.datasets_server_url`) gives configs, splits, features, sample rows and
column statistics. Requests that do not depend on each other run concurrently.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agent.tools.hub.common import (
    Target,
    hub_client,
    hub_json,
    human_count,
    human_size,
    repo_url,
    short_date,
)
from agent.tools.hub.dataset_formats import fits_section
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    import httpx

MAX_CELL_CHARS = 300
MAX_SPLIT_ROWS = 30
_NO_VIEWER = (
    "the dataset viewer is not available for this dataset (disabled, still processing, or an "
    "unsupported format), so no schema or rows can be shown; list its files with "
    "hf_repo_files operation='list' repo_type='dataset' and read a small one"
)

_NO_ACCESS = (
    "the datasets viewer shows nothing for it: your account has no access yet. Request access "
    "as the note above says, then inspect it again"
)


class InspectArgs(BaseModel):
    dataset: str = Field(description="Dataset id 'namespace/name', e.g. 'stanfordnlp/imdb'.")
    config: str | None = Field(
        None, description="Config (subset) to show; the first one by default."
    )
    split: str | None = Field(
        None, description="Split for sample rows; 'train' (or the first) by default."
    )
    sample_rows: int = Field(3, ge=0, le=20, description="How many sample rows to show (0-20).")


async def _inspect(args: InspectArgs, ctx: ToolContext) -> ToolResult:
    settings = ctx.settings
    target = Target(repo_id=args.dataset, repo_type="dataset")
    async with hub_client(settings) as client:
        viewer = _Viewer(client, ctx, args.dataset)
        meta_url = f"{settings.hf_endpoint.rstrip('/')}/api/datasets/{args.dataset}"
        meta, status = await _gather(
            hub_json(client, meta_url, settings=settings, target=target),
            viewer.get("is-valid", optional=True),
        )
        lines = _overview(args.dataset, meta, settings.hf_endpoint)
        if not status or not (status.get("viewer") or status.get("preview")):
            reason = _NO_ACCESS if meta.get("gated") else _NO_VIEWER
            lines.append(f"Warning: {reason}.")
            return ToolResult("\n".join(lines))
        configs = _group_splits(await viewer.get("splits"))
        config, split = _choose(configs, args.config, args.split)
        info, rows, stats = await _gather(
            viewer.get("info", optional=True),
            viewer.get("first-rows", config=config, split=split, optional=True),
            viewer.get("statistics", config=config, split=split, optional=True),
        )
    infos = _config_infos(info, config)
    lines += _splits_section(configs, infos)
    lines += _columns_section(config, infos.get(config, {}), rows)
    lines += fits_section(_features(infos.get(config, {}), rows))
    lines += _stats_section(config, split, stats)
    lines += _rows_section(config, split, rows, args.sample_rows, infos.get(config, {}))
    return ToolResult("\n".join(lines), data={"config": config, "split": split})


async def _gather(*awaitables: Any) -> list[Any]:
    """Run concurrently; if one fails, cancel the others before the client closes."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


class _Viewer:
    """GETs to the datasets viewer for one dataset."""

    def __init__(self, client: httpx.AsyncClient, ctx: ToolContext, dataset: str) -> None:
        self.client = client
        self.settings = ctx.settings
        self.dataset = dataset

    async def get(self, endpoint: str, *, optional: bool = False, **params: str) -> Any:
        """The endpoint's JSON; None instead of an error when `optional`."""
        url = f"{self.settings.datasets_server_url.rstrip('/')}/{endpoint}"
        target = Target(
            what=f"the datasets viewer's /{endpoint} for '{self.dataset}'",
            not_found_hint="check the dataset id, config and split (hf_search finds ids)",
        )
        params = {"dataset": self.dataset, **params}
        try:
            return await hub_json(
                self.client, url, settings=self.settings, target=target, params=params
            )
        except ToolError:
            if optional:
                return None
            raise


def _overview(dataset: str, meta: dict[str, Any], endpoint: str) -> list[str]:
    facts = [
        repo_url(endpoint, dataset, "dataset"),
        f"downloads {human_count(meta.get('downloads'))}",
        f"likes {human_count(meta.get('likes'))}",
        f"updated {short_date(meta.get('lastModified'))}",
    ]
    if meta.get("private"):
        facts.append("private")
    lines = [f"# {dataset} (dataset)", " · ".join(facts)]
    if tags := meta.get("tags"):
        lines.append(f"Tags: {', '.join(tags[:12])}")
    if meta.get("gated"):
        lines.append(f"Note: {_gated_note(dataset, endpoint)}.")
    return lines


def _gated_note(dataset: str, endpoint: str) -> str:
    page = repo_url(endpoint, dataset, "dataset")
    return (
        f"this dataset is gated: training code needs access, requested on {page} (log in, accept "
        "the conditions) with the account of your HF_TOKEN"
    )


def _group_splits(data: dict[str, Any]) -> dict[str, list[str]]:
    configs: dict[str, list[str]] = {}
    for entry in data.get("splits", []):
        configs.setdefault(entry["config"], []).append(entry["split"])
    if not configs:
        raise ToolError(f"the datasets viewer lists no splits for this dataset yet; {_NO_VIEWER}")
    return configs


def _choose(
    configs: dict[str, list[str]], config: str | None, split: str | None
) -> tuple[str, str]:
    if config is None:
        config = "default" if "default" in configs else next(iter(configs))
    if config not in configs:
        raise ToolError(f"config '{config}' not found; available configs: {', '.join(configs)}")
    splits = configs[config]
    if split is None:
        split = "train" if "train" in splits else splits[0]
    if split not in splits:
        raise ToolError(
            f"split '{split}' not found in config '{config}'; available: {', '.join(splits)}"
        )
    return config, split


def _config_infos(info: dict[str, Any] | None, config: str) -> dict[str, dict[str, Any]]:
    """`/info` without a config maps config -> info; with one it is that config's info."""
    data = (info or {}).get("dataset_info") or {}
    if "features" in data or "splits" in data:
        return {config: data}
    return {name: value for name, value in data.items() if isinstance(value, dict)}


def _splits_section(configs: dict[str, list[str]], infos: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["", "## Configs and splits", "| config | split | rows | size |", "|---|---|---|---|"]
    pairs = [(c, s) for c, splits in configs.items() for s in splits]
    for config, split in pairs[:MAX_SPLIT_ROWS]:
        entry = (infos.get(config, {}).get("splits") or {}).get(split, {})
        rows = entry.get("num_examples")
        size = human_size(entry.get("num_bytes")) if entry.get("num_bytes") is not None else "?"
        lines.append(f"| {config} | {split} | {rows if rows is not None else '?'} | {size} |")
    if len(pairs) > MAX_SPLIT_ROWS:
        lines.append(
            f"({len(pairs) - MAX_SPLIT_ROWS} more config/split pairs; pass config= to see one)"
        )
    for config, info in infos.items():
        if info.get("dataset_size") is not None:
            lines.append(
                f"Size of '{config}': {human_size(info['dataset_size'])} of data, "
                f"{human_size(info.get('download_size'))} to download"
            )
    return lines


def _features(info: dict[str, Any], rows: dict[str, Any] | None) -> dict[str, Any] | None:
    features = info.get("features")
    if not features and rows:
        features = {f["name"]: f["type"] for f in rows.get("features", [])}
    return features or None


def _columns_section(config: str, info: dict[str, Any], rows: dict[str, Any] | None) -> list[str]:
    features = _features(info, rows)
    if not features:
        return ["", f"## Columns ({config})", "(the viewer did not report the features)"]
    lines = ["", f"## Columns ({config})", "| column | type |", "|---|---|"]
    lines += [f"| {name} | {type_name(kind)} |" for name, kind in features.items()]
    return lines


def type_name(feature: Any) -> str:
    """A `datasets` feature as a short type: string, int64, list<...>, ClassLabel (...), {..}."""
    if isinstance(feature, list):
        return f"list<{type_name(feature[0]) if feature else '?'}>"
    if not isinstance(feature, dict):
        return str(feature)
    kind = feature.get("_type")
    if kind == "Value":
        return str(feature.get("dtype"))
    if kind == "ClassLabel":
        names = feature.get("names") or []
        if len(names) <= 8:
            return "ClassLabel (" + ", ".join(f"{i}={n}" for i, n in enumerate(names)) + ")"
        return f"ClassLabel ({len(names)} classes)"
    if kind in ("List", "Sequence", "LargeList"):
        return f"list<{type_name(feature.get('feature'))}>"
    if kind is None:
        return "{" + ", ".join(f"{k}: {type_name(v)}" for k, v in feature.items()) + "}"
    return str(kind)


def _stats_section(config: str, split: str, stats: dict[str, Any] | None) -> list[str]:
    columns = (stats or {}).get("statistics") or []
    lines = [_column_stat(c) for c in columns]
    lines = [line for line in lines if line]
    if not lines:
        return []
    return [
        "",
        f"## Column statistics ({config}/{split}, {(stats or {}).get('num_examples', '?')} rows)",
        *lines,
    ]


def _column_stat(column: dict[str, Any]) -> str:
    name, kind = column.get("column_name"), column.get("column_type")
    values = column.get("column_statistics") or {}
    missing = f", {values['nan_count']} missing" if values.get("nan_count") else ""
    if "frequencies" in values:
        freq = ", ".join(f"{k} {v}" for k, v in list(values["frequencies"].items())[:10])
        return f"- {name} ({kind}): {freq}{missing}"
    if values.get("mean") is not None:
        measure = "length " if kind in ("string_text", "list") else ""
        low, mean, high = (_number(values[k]) for k in ("min", "mean", "max"))
        return f"- {name} ({kind}): {measure}min {low}, mean {mean}, max {high}{missing}"
    return ""


def _number(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.1f}"
    return str(int(value)) if isinstance(value, float) else str(value)


def _rows_section(
    config: str, split: str, rows: dict[str, Any] | None, wanted: int, info: dict[str, Any]
) -> list[str]:
    if not wanted:
        return []
    if not rows:
        return [
            "",
            f"## Sample rows ({config}/{split})",
            "(the viewer could not return rows for this split)",
        ]
    labels = {
        name: kind.get("names")
        for name, kind in (info.get("features") or {}).items()
        if isinstance(kind, dict) and kind.get("_type") == "ClassLabel"
    }
    sample = rows.get("rows", [])[:wanted]
    lines = ["", f"## Sample rows ({config}/{split}, first {len(sample)})"]
    for entry in sample:
        lines.append(f"Row {entry.get('row_idx')}:")
        for name, value in (entry.get("row") or {}).items():
            lines.append(f"- {name}: {_cell(value, labels.get(name))}")
    lines += _messages_note(sample)
    return lines


def _cell(value: Any, names: list[str] | None) -> str:
    if names and isinstance(value, int) and 0 <= value < len(names):
        return f"{value} ({names[value]})"
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_CELL_CHARS:
        size = len(value) if isinstance(value, str) else len(text)
        return f"{text[:MAX_CELL_CHARS]}… [cut, {size} chars]"
    return text


def _messages_note(sample: list[dict[str, Any]]) -> list[str]:
    """For chat datasets: the roles and keys of the message dicts a chat template expects."""
    roles: set[str] = set()
    keys: set[str] = set()
    column = None
    for entry in sample:
        for name, value in (entry.get("row") or {}).items():
            if (
                isinstance(value, list)
                and value
                and all(isinstance(m, dict) and "role" in m for m in value)
            ):
                column = name
                roles.update(str(m["role"]) for m in value)
                keys.update(k for m in value for k in m)
    if column is None:
        return []
    return [
        "",
        f"Column '{column}' holds chat messages: roles {', '.join(sorted(roles))}; "
        f"keys {', '.join(sorted(keys))}",
    ]


def hf_datasets_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            name="hf_inspect_dataset",
            description=(
                "Inspect a Hugging Face dataset before writing code for it: configs and splits with "
                "row counts and sizes, the columns and their types (ClassLabel names included), "
                "column statistics, a few sample rows (long cells cut), and which training methods "
                "the columns fit (SFT, DPO, KTO, GRPO, classification). Warns when the dataset "
                "is gated or has no viewer. Always check the column names here before training: "
                "never guess them."
            ),
            handler=_inspect,
            args_model=InspectArgs,
            read_only=True,
            timeout_s=90.0,
        )
    ]
