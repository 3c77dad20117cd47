"""Which training methods a dataset's columns already fit, by the formats TRL documents.

Reported by hf_inspect_dataset so the model picks a trainer the data is shaped for, instead of
discovering a missing column after a job has started.
"""

from __future__ import annotations

from typing import Any

_TEXT_COLUMNS = ("text", "sentence", "review", "content", "document")


def training_fits(features: dict[str, Any]) -> list[str]:
    """One line per method the columns fit, with the columns that make it fit."""
    names = set(features)
    fits: list[str] = []
    if "messages" in names:
        fits.append("SFT (conversational: `messages`)")
    if {"prompt", "completion"} <= names:
        fits.append("SFT (prompt-completion: `prompt`, `completion`)")
    if "text" in names:
        fits.append("SFT (language modeling: `text`)")
    if {"prompt", "chosen", "rejected"} <= names:
        fits.append("DPO / reward modeling (explicit prompt: `prompt`, `chosen`, `rejected`)")
    elif {"chosen", "rejected"} <= names:
        fits.append("DPO / reward modeling (implicit prompt: `chosen`, `rejected`)")
    if {"prompt", "completion", "label"} <= names and _is_bool(features["label"]):
        fits.append("KTO (unpaired preference: `prompt`, `completion`, `label`)")
    if "prompt" in names:
        fits.append("GRPO (`prompt`; rewards come from your reward functions)")
    text = next((c for c in _TEXT_COLUMNS if c in names), None)
    label = next((c for c in ("label", "labels") if c in names), None)
    if text and label and "completion" not in names:
        fits.append(f"text classification (`{text}` -> `{label}`)")
    return fits


def _is_bool(feature: Any) -> bool:
    """KTO's label says whether the completion is desirable: a bool, not a class id."""
    return isinstance(feature, dict) and feature.get("dtype") == "bool"


def fits_section(features: dict[str, Any] | None) -> list[str]:
    """The report's lines; a clear statement when no known format matches."""
    if not features:
        return []
    fits = training_fits(features)
    if not fits:
        return [
            "",
            "## Training formats",
            "No known training format matches these columns as they are: map them first "
            "(e.g. to `messages`, `prompt`/`completion`, or `prompt`/`chosen`/`rejected`).",
        ]
    return ["", "## Training formats", *(f"- fits {fit}" for fit in fits)]
