"""The datasets viewer of the fake Hub, computed from a repo's rows.

Response shapes follow the public viewer API (`/is-valid`, `/splits`, `/info`, `/size`,
`/first-rows`, `/statistics`): features as `{"dtype", "_type"}` objects, rows
wrapped as `{"row_idx", "row", "truncated_cells"}`, statistics per column type.
"""

from __future__ import annotations

import json
import statistics as stats
from typing import Any

from tests.fakes.hub_state import HubError, Repo

FIRST_ROWS = 100


def is_valid(repo: Repo) -> dict[str, bool]:
    enabled = repo.viewer is not None
    keys = ("preview", "viewer", "search", "filter", "statistics")
    return dict.fromkeys(keys, enabled)


def splits(repo: Repo) -> dict[str, Any]:
    entries = [
        {"dataset": repo.repo_id, "config": config, "split": split}
        for config, config_splits in _viewer(repo).items()
        for split in config_splits
    ]
    return {"splits": entries, "pending": [], "failed": []}


def info(repo: Repo, config: str | None) -> dict[str, Any]:
    if config is not None:
        return {"dataset_info": _config_info(repo, config), "partial": False}
    every = {name: _config_info(repo, name) for name in _viewer(repo)}
    return {"dataset_info": every, "pending": [], "failed": [], "partial": False}


def size(repo: Repo) -> dict[str, Any]:
    """Row counts and bytes per dataset, config and split."""
    splits = []
    for config, config_splits in _viewer(repo).items():
        for split, rows in config_splits.items():
            splits.append(
                {
                    "dataset": repo.repo_id,
                    "config": config,
                    "split": split,
                    "num_bytes_parquet_files": len(json.dumps(rows)) // 2,
                    "num_bytes_memory": len(json.dumps(rows)),
                    "num_rows": len(rows),
                    "num_columns": len(rows[0]) if rows else 0,
                }
            )
    configs: dict[str, dict[str, Any]] = {}
    for item in splits:
        config = configs.setdefault(
            item["config"], {"dataset": repo.repo_id, "config": item["config"], "num_rows": 0}
        )
        config["num_rows"] += item["num_rows"]
    total = {"dataset": repo.repo_id, "num_rows": sum(s["num_rows"] for s in splits)}
    return {
        "size": {"dataset": total, "configs": list(configs.values()), "splits": splits},
        "pending": [],
        "failed": [],
        "partial": False,
    }


def first_rows(repo: Repo, config: str, split: str) -> dict[str, Any]:
    rows = _rows(repo, config, split)
    features = _features(repo, config)
    return {
        "dataset": repo.repo_id,
        "config": config,
        "split": split,
        "features": [
            {"feature_idx": i, "name": name, "type": kind}
            for i, (name, kind) in enumerate(features.items())
        ],
        "rows": [
            {"row_idx": i, "row": row, "truncated_cells": []}
            for i, row in enumerate(rows[:FIRST_ROWS])
        ],
        "truncated": len(rows) > FIRST_ROWS,
    }


def statistics(repo: Repo, config: str, split: str) -> dict[str, Any]:
    rows = _rows(repo, config, split)
    features = _features(repo, config)
    columns = [
        _column_stats(name, kind, [r.get(name) for r in rows]) for name, kind in features.items()
    ]
    return {"num_examples": len(rows), "statistics": columns, "partial": False}


def _viewer(repo: Repo) -> dict[str, dict[str, list[dict[str, Any]]]]:
    if repo.viewer is None:
        raise HubError(
            501,
            "The dataset viewer has been disabled on this dataset.",
            "DatasetViewerDisabledError",
        )
    return repo.viewer


def _rows(repo: Repo, config: str, split: str) -> list[dict[str, Any]]:
    viewer = _viewer(repo)
    if config not in viewer or split not in viewer[config]:
        raise HubError(404, "Not found.", "ResponseNotFound")
    return viewer[config][split]


def _config_info(repo: Repo, config: str) -> dict[str, Any]:
    viewer = _viewer(repo)
    if config not in viewer:
        raise HubError(404, "Not found.", "ResponseNotFound")
    split_info = {
        name: {
            "name": name,
            "num_bytes": len(json.dumps(rows)),
            "num_examples": len(rows),
            "dataset_name": repo.repo_id.split("/")[-1],
        }
        for name, rows in viewer[config].items()
    }
    size = sum(s["num_bytes"] for s in split_info.values())
    return {
        "description": "",
        "citation": "",
        "homepage": "",
        "license": "",
        "features": _features(repo, config),
        "builder_name": "parquet",
        "dataset_name": repo.repo_id.split("/")[-1],
        "config_name": config,
        "version": {"version_str": "0.0.0", "major": 0, "minor": 0, "patch": 0},
        "splits": split_info,
        "download_size": size // 2,
        "dataset_size": size,
    }


def _features(repo: Repo, config: str) -> dict[str, Any]:
    first = next((rows[0] for rows in _viewer(repo)[config].values() if rows), {})
    return {
        name: {"names": repo.class_labels[name], "_type": "ClassLabel"}
        if name in repo.class_labels
        else feature_type(value)
        for name, value in first.items()
    }


def feature_type(value: Any) -> Any:
    """The `datasets` feature a Python value is stored as."""
    if isinstance(value, bool):
        return {"dtype": "bool", "_type": "Value"}
    if isinstance(value, int):
        return {"dtype": "int64", "_type": "Value"}
    if isinstance(value, float):
        return {"dtype": "float64", "_type": "Value"}
    if isinstance(value, list):
        inner = feature_type(value[0]) if value else {"dtype": "string", "_type": "Value"}
        return {"feature": inner, "_type": "List"}
    if isinstance(value, dict):
        return {key: feature_type(item) for key, item in value.items()}
    return {"dtype": "string", "_type": "Value"}


def _column_stats(name: str, kind: Any, values: list[Any]) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    nan = {"nan_count": len(values) - len(present), "nan_proportion": 0.0}
    if kind.get("_type") == "ClassLabel":
        names = kind["names"]
        counts = {label: sum(1 for v in present if v == i) for i, label in enumerate(names)}
        column = {**nan, "no_label_count": 0, "no_label_proportion": 0.0, "n_unique": len(names)}
        return _stat(name, "class_label", {**column, "frequencies": counts})
    dtype = kind.get("dtype")
    if dtype == "bool":
        counts = {"True": sum(1 for v in present if v), "False": sum(1 for v in present if not v)}
        return _stat(name, "bool", {**nan, "frequencies": counts})
    if dtype in ("int64", "float64"):
        return _stat(name, "int" if dtype == "int64" else "float", {**nan, **_numbers(present)})
    if dtype == "string":
        return _stat(name, "string_text", {**nan, **_numbers([len(v) for v in present])})
    return _stat(name, "list", {**nan, **_numbers([len(v) for v in present])})


def _numbers(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"min": None, "max": None, "mean": None, "median": None, "std": None}
    low, high = min(values), max(values)
    return {
        "min": low,
        "max": high,
        "mean": round(stats.fmean(values), 5),
        "median": stats.median(values),
        "std": round(stats.pstdev(values), 5),
        "histogram": {"hist": [len(values)], "bin_edges": [low, high]},
    }


def _stat(name: str, column_type: str, column_statistics: dict[str, Any]) -> dict[str, Any]:
    return {"column_name": name, "column_type": column_type, "column_statistics": column_statistics}
