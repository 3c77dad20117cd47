"""A small BM25 full-text index, stored as JSON so a library's docs are indexed once.

Words are lower-cased, identifiers are also split into their parts
(`SFTTrainer` -> sfttrainer, sft, trainer; `num_train_epochs` -> num, train, epochs)
and lightly stemmed, so a query in plain words finds pages that name the API.
Titles count several times, since a page about a thing is usually titled after it.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 3
CACHE_VERSION = 1
CACHE_MAX_AGE_S = 7 * 24 * 3600

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOP = frozenset(
    "a an and are as at be by can do does for from how i in into is it of on or that the "
    "this to use using what when which with you your".split()
)


def stem(word: str) -> str:
    """Plural and -ing endings off, so 'trainers'/'trainer' and 'uploading'/'upload' meet."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        parts = [p for chunk in word.split("_") for p in _CAMEL.findall(chunk)]
        candidates = [word] + (parts if len(parts) > 1 else [])
        for candidate in candidates:
            lowered = candidate.lower()
            if lowered not in _STOP and len(lowered) > 1:
                tokens.append(stem(lowered))
    return tokens


class Bm25:
    """Inverted index: term -> [(doc, weighted term frequency)], plus document lengths."""

    def __init__(self, postings: dict[str, list[list[int]]], lengths: list[int]) -> None:
        self.postings = postings
        self.lengths = lengths
        self.average = sum(lengths) / len(lengths) if lengths else 0.0

    @classmethod
    def build(cls, docs: list[tuple[str, str]]) -> Bm25:
        """Index (title, text) pairs; a title's words weigh TITLE_WEIGHT times."""
        postings: dict[str, list[list[int]]] = {}
        lengths = []
        for number, (title, text) in enumerate(docs):
            counts = Counter(tokenize(text))
            for term in tokenize(title):
                counts[term] += TITLE_WEIGHT
            lengths.append(sum(counts.values()))
            for term, count in counts.items():
                postings.setdefault(term, []).append([number, count])
        return cls(postings, lengths)

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        """The best `limit` documents for the query, as (doc number, score), best first."""
        total = len(self.lengths)
        scores: dict[int, float] = {}
        for term in set(tokenize(query)):
            hits = self.postings.get(term, [])
            if not hits:
                continue
            idf = math.log(1 + (total - len(hits) + 0.5) / (len(hits) + 0.5))
            for number, count in hits:
                norm = K1 * (1 - B + B * self.lengths[number] / (self.average or 1))
                scores[number] = scores.get(number, 0.0) + idf * count * (K1 + 1) / (count + norm)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return ranked[:limit]

    def to_json(self) -> dict[str, Any]:
        return {"postings": self.postings, "lengths": self.lengths}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bm25:
        return cls(data["postings"], data["lengths"])


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ml-intern" / "docs"


def load_cached(library: str, endpoint: str) -> dict[str, Any] | None:
    """The cached pages and index of a library, unless missing, stale or from another Hub."""
    path = cache_dir() / f"{library}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fresh = time.time() - data.get("built_at", 0) < CACHE_MAX_AGE_S
    if data.get("version") != CACHE_VERSION or data.get("endpoint") != endpoint or not fresh:
        return None
    return data


def save_cached(library: str, endpoint: str, pages: list[dict[str, str]], index: Bm25) -> None:
    """Write atomically: a crash mid-write must not leave a cache that fails to load."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "version": CACHE_VERSION,
        "endpoint": endpoint,
        "library": library,
        "built_at": time.time(),
        "pages": pages,
        "index": index.to_json(),
    }
    tmp = folder / f".{library}.json.tmp"
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(folder / f"{library}.json")
