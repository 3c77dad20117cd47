"""Secret scrubbing for anything that leaves the process: session logs, traces, uploads.

Every message passes through here, often with large tool outputs, so each rule is
gated by a plain substring every match must contain: text without the trigger costs
one fast `in` check, and a pattern only scans text that may hold its secret. Values of
secret-looking environment variables are replaced literally, since a key can have any
shape, and so are the forms they take when printed as JSON or in a URL. Values of
secret-named assignments (`WANDB_API_KEY=...`) go too: see `assignments.py`. A
password inside a URL (`postgresql://admin:PW@host`) is a secret wherever it shows, so
the URL rules scrub it in any text, and an environment URL's password is scrubbed
literally whatever the variable's name (`DATABASE_URL`).

What no rule can see stays: a secret re-encoded (base64), cut across lines, or in a
shape of its own under a harmless name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus, unquote

from agent.context.assignments import scrub_assignments

MIN_ENV_SECRET = 8
MIN_EXTRA_SECRET = 4
_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PASS$|WEBHOOK|(?:^|_)DSN(?:_|$)|COOKIES?$"
)
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
        "cookie",
        "set-cookie",
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


_PRIVATE_KEY = r"-{4,5} ?BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}"
_PRIVATE_KEY_END = r"-{4,5} ?END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}"
_URL_CHARS = r"[^\s/?#\"'<>`\\]"  # what an unencoded user or password may hold

# Order matters: whole blocks and headers first, sk-ant- before sk-, token shapes before
# the URL rules (so a known token keeps its kind).
_RULES: tuple[_Rule, ...] = (
    _rule("private_key", "PRIVATE KEY", rf"{_PRIVATE_KEY}[\s\S]*?(?:{_PRIVATE_KEY_END}|\Z)"),
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
    # a header's cookies (name=value; ...), up to the end of the line or the quoted string
    _rule(
        "cookie",
        "cookie",
        r"(?P<keep>cookie(?<!\wcookie)[\"']?\s*:\s*[\"']?)(?=[^\s=;\"']+=)[^\r\n\"'\\]+",
        ic=True,
    ),
    _rule("jwt", "eyJ", _token("eyJ", r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
    # distinctive enough to match anywhere: also inside URL-encoded text ("%3Dhf_...")
    _rule("hf_token", "hf_", r"hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9])"),
    _rule("hf_token", "api_org_", _token("api_org_", r"[A-Za-z0-9]{30,}\b")),
    _rule("github_token", "gh", r"gh[pousr]_(?<!\wgh._)[A-Za-z0-9]{30,}\b"),
    _rule("github_token", "github_pat_", _token("github_pat_", r"[A-Za-z0-9_]{30,}\b")),
    _rule("gitlab_token", "gl", r"gl(?<!\wgl)(?:pat|dt|rt|ptt|cbt|oas|soat|ft|imt)-[\w-]{20,}"),
    _rule("anthropic_key", "sk-ant-", _token("sk-ant-", r"(?=[\w-]*\d)[\w-]{20,}")),
    _rule(
        "openai_key",
        "sk-",
        _token("sk-", r"(?:proj-|svcacct-|admin-)?(?=[\w-]*\d)[\w-]{20,}"),
    ),
    _rule("stripe_key", ("k_live_", "k_test_"), r"(?<!\w)[sr]k_(?:live|test)_[A-Za-z0-9]{20,}"),
    _rule("stripe_key", "whsec_", _token("whsec_", r"[A-Za-z0-9]{20,}")),
    _rule("npm_token", "npm_", _token("npm_", r"[A-Za-z0-9]{36}\b")),
    _rule("pypi_token", "pypi-AgE", _token("pypi-AgE", r"[\w-]{30,}")),
    _rule("groq_key", "gsk_", _token("gsk_", r"[A-Za-z0-9]{30,}\b")),
    _rule("replicate_token", "r8_", _token("r8_", r"[A-Za-z0-9]{30,}\b")),
    _rule("google_oauth", "ya29.", _token("ya29.", r"[\w-]{20,}")),
    _rule("google_oauth", "1//0", _token("1//0", r"[\w-]{30,}")),
    _rule("telegram_token", ":AA", r"(?<!\d)\d{8,10}:AA[\w-]{31,}"),
    _rule("azure_secret", "Q~", r"(?<![\w~.-])[\w~.-]{3}\dQ~[\w~.-]{31,34}(?![\w~.-])"),
    _rule("slack_token", "xox", _token("xox", r"[abposre]-[A-Za-z0-9-]{10,}")),
    _rule("slack_token", "xapp-", _token("xapp-", r"\d-[A-Za-z0-9-]{10,}")),
    _rule("aws_access_key", "AKIA", _token("AKIA", r"[0-9A-Z]{16}\b")),
    _rule("aws_access_key", "ASIA", _token("ASIA", r"[0-9A-Z]{16}\b")),
    _rule("google_api_key", "AIza", _token("AIza", r"[\w-]{35}(?![\w-])")),
    # webhooks: whoever has the address can post
    _rule(
        "webhook",
        "hooks.slack.com/",
        r"(?P<keep>hooks\.slack\.com/(?:services|workflows|triggers)/)[\w/-]+",
    ),
    _rule("webhook", "/webhooks/", r"(?P<keep>/api/webhooks/\d+/)[\w-]+"),
    # credentials in a URL: scheme://user:password@host, or an opaque user alone
    _rule(
        "url_password",
        "://",
        rf"(?P<keep>://(?<=[A-Za-z0-9]://){_URL_CHARS.replace('^', '^:@[')}*:)"
        rf"(?!\[REDACTED)(?:{_URL_CHARS}|@)+(?=@)",
    ),
    _rule(
        "url_credentials",
        "://",
        r"(?P<keep>://(?<=[A-Za-z0-9]://))(?=[\w.~%+-]*\d)(?=[\w.~%+-]*[A-Za-z])[\w.~%+-]{20,}(?=@)",
    ),
    # curl -u user:password, --user user:password
    _rule(
        "password",
        "curl",
        r"(?P<keep>\bcurl\b[^\n|;&]*?\s(?:-u|--user)(?:\s+|=)?[\"']?[^\s:\"']*:)[^\s\"']+",
    ),
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


def current_literals() -> tuple[tuple[str, str], ...]:
    """The literal secrets redaction looks for now: text redacted earlier is stale once
    they change (a cache of redacted text compares them)."""
    return _literal_secrets(())


def _scrub(text: str, literals: tuple[tuple[str, str], ...]) -> str:
    if not text:
        return text
    for value, kind in literals:
        if value in text:
            text = text.replace(value, f"[REDACTED:{kind}]")
    lowered = text.lower()
    for rule in _RULES:
        text = rule.apply(text, lowered)
    return scrub_assignments(text, text.lower())


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
            secrets = [value]
        else:  # DATABASE_URL, MONGO_URI, ...: the password inside, whatever the name
            secrets = [p for p in _url_passwords(value) if len(p) >= MIN_ENV_SECRET]
        for secret in secrets:
            for form in _printed_forms(secret):
                found.setdefault(form, f"env:{name}")
    for value in extra:
        if len(value) >= MIN_EXTRA_SECRET:
            for form in _printed_forms(value):
                found.setdefault(form, "secret")
    return tuple(sorted(found.items(), key=lambda item: -len(item[0])))


_USERINFO = re.compile(r"(?<=[A-Za-z0-9])://[^\s/?#@:]*:([^\s/?#]+)@")


def _url_passwords(value: str) -> set[str]:
    """The passwords of the URLs in `value`, as written and percent-decoded."""
    if "://" not in value:
        return set()
    found = {m.group(1) for m in _USERINFO.finditer(value)}
    return found | {unquote(p) for p in found}


def _printed_forms(value: str) -> set[str]:
    """`value` as written, inside a JSON string (also with `/` escaped, as some encoders
    do) and URL-encoded: the ways a program prints a secret it was given."""
    in_json = json.dumps(value)[1:-1]
    escaped = in_json.replace("/", "\\/")
    return {value, in_json, escaped, quote(value), quote(value, safe=""), quote_plus(value)}


MAX_HELD_LINES = 200  # an 8192-bit RSA key is about 100 lines of PEM
_PEM_BEGIN = re.compile(_PRIVATE_KEY)
_PEM_END = re.compile(_PRIVATE_KEY_END)
_PEM_BODY = re.compile(r"\s*[A-Za-z0-9+/=]*\s*")
_PEM_HEADER = re.compile(r"\s*(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset): .*\s*")


class LineScrubber:
    """`redact` for a stream that arrives line by line (a server's stderr, a command's
    output), where a private key spans many lines: from a BEGIN line to its END the
    lines are held and leave as one scrubbed block. A key cut short (a line that
    cannot be part of it comes first) leaves as a marker; so does a BEGIN whose END
    does not come within `max_held` lines, and the key-body lines that follow are
    dropped until an ordinary line shows the block is over."""

    def __init__(self, extra_secrets: Iterable[str] = (), max_held: int = MAX_HELD_LINES) -> None:
        self._literals = _literal_secrets(tuple(extra_secrets))  # once: lines come fast
        self._max_held = max_held
        self._held: list[str] = []
        self._skipping_body = False

    def feed(self, line: str) -> list[str]:
        """The scrubbed lines that can go out now that `line` came (maybe none)."""
        if self._skipping_body:
            if _PEM_BODY.fullmatch(line):
                return []
            self._skipping_body = False
            if _PEM_END.search(line):
                rest = _PEM_END.split(line, 1)[1]
                return [_scrub(rest, self._literals)] if rest.strip() else []
        if not self._held:
            if not _PEM_BEGIN.search(line) or _PEM_END.search(line):
                return [_scrub(line, self._literals)]
        elif not _PEM_END.search(line) and not (
            _PEM_BODY.fullmatch(line) or _PEM_HEADER.fullmatch(line)
        ):
            return self.flush() + self.feed(line)  # a key cut short: the block is over
        self._held.append(line)
        if _PEM_END.search(line):
            return self.flush()
        if len(self._held) >= self._max_held:
            self._skipping_body = True
            return self.flush()
        return []

    def feed_text(self, text: str) -> str:
        """`feed` for a run of whole lines at once: text that holds no key, outside a
        key, is scrubbed in one go."""
        if not self._held and not self._skipping_body and "PRIVATE KEY" not in text:
            return _scrub(text, self._literals)
        return "".join(out for line in text.splitlines(keepends=True) for out in self.feed(line))

    def flush(self) -> list[str]:
        """What is held, scrubbed (an unfinished key becomes a marker): at the end of
        the stream, or when the block is complete."""
        if not self._held:
            return []
        block, self._held = "".join(self._held), []
        scrubbed = _scrub(block, self._literals)
        ending = block[len(block.rstrip("\r\n")) :]
        return [scrubbed if scrubbed.endswith(ending) else scrubbed + ending]
