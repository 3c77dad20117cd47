"""Secret scrubbing for anything that leaves the process: session logs, traces, uploads.

Every message passes through here, often with large tool outputs, so each rule is
gated by a plain substring every match must contain: text without the trigger costs
one fast `in` check, and a pattern only scans text that may hold its secret. Values of
secret-looking environment variables are replaced literally, since a key can have any
shape.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MIN_ENV_SECRET = 8
MIN_EXTRA_SECRET = 4
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD")
_NOT_SECRET_NAME = re.compile(r"_(?:PATH|FILE|DIR|HOME)$")

# Dict keys whose string values are secrets whatever they look like.
_SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api_key",
        "apikey",
        "x-api-key",
        "password",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "hf_token",
        "github_token",
    }
)


@dataclass(frozen=True)
class _Rule:
    kind: str
    triggers: tuple[str, ...]  # a match contains one of these (lower-case when ignore_case)
    regex: re.Pattern[str]
    ignore_case: bool = False

    def apply(self, text: str, lowered: str) -> str:
        haystack = lowered if self.ignore_case else text
        if not any(t in haystack for t in self.triggers):
            return text
        keep = r"\g<keep>" if "keep" in self.regex.groupindex else ""
        return self.regex.sub(f"{keep}[REDACTED:{self.kind}]", text)


def _token(prefix: str, body: str) -> str:
    """`prefix` starting a word, then `body`; the literal first lets the scan run fast."""
    literal = re.escape(prefix)
    return rf"{literal}(?<!\w{literal}){body}"


def _rule(kind: str, triggers: str | tuple[str, ...], pattern: str, ic: bool = False) -> _Rule:
    flags = re.IGNORECASE if ic else 0
    triggers = (triggers,) if isinstance(triggers, str) else triggers
    return _Rule(kind, triggers, re.compile(pattern, flags), ic)


# Order matters: whole blocks and headers first, sk-ant- before sk-.
_RULES: tuple[_Rule, ...] = (
    _rule(
        "private_key",
        "PRIVATE KEY-----",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
        r"[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)",
    ),
    _rule(
        "authorization",
        "authorization",
        r"(?P<keep>\"(?:proxy-)?authorization\"\s*:\s*\")(?:[^\"\\]|\\.)+(?=\")",
        ic=True,
    ),
    _rule(
        "authorization",
        "authorization",
        r"(?P<keep>\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?"
        r"(?:bearer|basic|token|digest)\s+)[^\s\"',;\\]+",
        ic=True,
    ),
    _rule("authorization", "bearer", r"(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]{16,}", ic=True),
    # distinctive enough to match anywhere: also inside URL-encoded text ("%3Dhf_...")
    _rule("hf_token", "hf_", r"hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9])"),
    _rule("hf_token", "api_org_", _token("api_org_", r"[A-Za-z0-9]{30,}\b")),
    _rule("github_token", "gh", r"gh[pousr]_(?<!\wgh._)[A-Za-z0-9]{30,}\b"),
    _rule("github_token", "github_pat_", _token("github_pat_", r"[A-Za-z0-9_]{30,}\b")),
    _rule("anthropic_key", "sk-ant-", _token("sk-ant-", r"(?=[\w-]*\d)[\w-]{20,}")),
    _rule(
        "openai_key",
        "sk-",
        _token("sk-", r"(?:proj-|svcacct-|admin-)?(?=[\w-]*\d)[\w-]{20,}"),
    ),
    _rule("slack_token", "xox", _token("xox", r"[abposre]-[A-Za-z0-9-]{10,}")),
    _rule("slack_token", "xapp-", _token("xapp-", r"\d-[A-Za-z0-9-]{10,}")),
    _rule("aws_access_key", "AKIA", _token("AKIA", r"[0-9A-Z]{16}\b")),
    _rule("aws_access_key", "ASIA", _token("ASIA", r"[0-9A-Z]{16}\b")),
    _rule("google_api_key", "AIza", _token("AIza", r"[\w-]{35}(?![\w-])")),
)


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Replace every secret in `text` by a `[REDACTED:<kind>]` marker."""
    return _scrub(text, _literal_secrets(tuple(extra_secrets)))


def redact_obj(obj: Any, extra_secrets: Iterable[str] = ()) -> Any:
    """`redact` applied to every string in nested dicts, lists and tuples; returns a copy.

    A string under a key such as `authorization` or `api_key` is replaced whole.
    """
    literals = _literal_secrets(tuple(extra_secrets))

    def walk(value: Any, key: Any = None) -> Any:
        if isinstance(value, str):
            if value and isinstance(key, str) and key.lower() in _SECRET_KEYS:
                return f"[REDACTED:{key.lower()}]"
            return _scrub(value, literals)
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, tuple):
            return tuple(walk(v) for v in value)
        return value

    return walk(obj)


def _scrub(text: str, literals: tuple[tuple[str, str], ...]) -> str:
    if not text:
        return text
    for value, kind in literals:
        if value in text:
            text = text.replace(value, f"[REDACTED:{kind}]")
    lowered = text.lower()
    for rule in _RULES:
        text = rule.apply(text, lowered)
    return text


def _literal_secrets(extra: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(value, kind) for every literal to scrub, longest first.

    The environment is read at every call because it can change while the process
    runs; the result is cached on the raw values, so an unchanged environment costs
    one scan of it.
    """
    return _select_literals(tuple(os.environ.items()), extra)


@lru_cache(maxsize=16)
def _select_literals(
    environ: tuple[tuple[str, str], ...], extra: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for name, value in environ:
        upper = name.upper()
        if (
            len(value) >= MIN_ENV_SECRET
            and _SECRET_NAME.search(upper)
            and not _NOT_SECRET_NAME.search(upper)
        ):
            found.setdefault(value, f"env:{name}")
    for value in extra:
        if len(value) >= MIN_EXTRA_SECRET:
            found.setdefault(value, "secret")
    return tuple(sorted(found.items(), key=lambda item: -len(item[0])))
