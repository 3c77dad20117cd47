"""Values given to secret-named settings: `WANDB_API_KEY=...`, `DB_PASSWORD: x`,
`"client_secret": "..."`, `aws_secret_access_key = ...`, a .netrc `password`.

A key can have any shape, so the name decides, not the value. The name is cut into
words (`_`, `-`, `.`, camelCase) and counts as secret when one word is a secret word
(key, token, secret, password, passwd, pass, credential, ...) and the last word does
not make it something else (`key_padding_mask`, `token_type_ids`, `SSH_KEY_PATH`).
Plurals are counts, not credentials: `max_tokens`, `num_tokens`, `keys`.

ML text is full of such names with harmless values, so values that cannot be a
secret stay readable: numbers, booleans, null, references (`$VAR`, `${VAR}`,
`{{ x }}`), code (`os.environ["X"]`, `tokenizer.eos_token`, `self.api_key = api_key`),
and special-token literals (`<pad>`, `</s>`, `[CLS]`). A bare `key` or `token`
(the whole name) is as often a dictionary field as a credential (`{"token": "the"}`),
so there only opaque values (long, with digits) go.
"""

from __future__ import annotations

import re
from functools import lru_cache

SECRET_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "pass",
        "credential",
        "credentials",
        "passphrase",
        "secretkey",
        "accesskey",
        "privatekey",
        "authtoken",
        "accesstoken",
        "apitoken",
    }
)
# A last word that turns a secret-sounding name into something harmless.
HARMLESS_LAST_WORDS = frozenset(
    {
        "id",
        "ids",
        "path",
        "file",
        "filename",
        "dir",
        "home",
        "url",
        "uri",
        "name",
        "names",
        "type",
        "types",
        "len",
        "length",
        "size",
        "count",
        "mask",
        "prefix",
        "suffix",
        "format",
        "env",
        "var",
        "field",
        "column",
        "index",
        "idx",
        "dim",
        "limit",
        "heads",
        "head",
        "states",
        "state",
        "embeddings",
        "proj",
        "map",
        "rate",
        "fn",
        "func",
        "cmd",
        "command",
        "helper",
        "expiry",
        "expires",
        "at",
    }
)
MIN_NUMERIC_SECRET = 8
GENERIC_NAMES = frozenset({"key", "token"})
TRIGGERS = ("key", "token", "secret", "pass", "credential")

_WORD_BREAK = re.compile(r"[_.\-\s]+|(?<=[a-z0-9])(?=[A-Z])")
_NAME = r"(?:[A-Za-z_][\w.\-]*?)?(?:key|token|secret|pass|credential)[\w.\-]*"
_ASSIGNMENT = re.compile(
    rf"""(?P<keep>
        (?<![\w.$])(?:(?<=[?&])(?P<query>))?(?P<q>\\?["']|)(?P<name>{_NAME})(?P=q)
        (?:
            [ \t]*(?::[ \t]*[A-Za-z_][\w\[\]|., ]*?)?[ \t]*=(?![=>~])[ \t]*  # NAME=, name: str =
          | [ \t]*:(?![:=/])[ \t]*                                          # NAME: value
          | (?<=password)[ \t]+(?=\S)                                       # .netrc: password x
        )
    )
    (?P<value>\\"(?:[^"\\\n]|\\[^"\n])*\\"|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[^\s"',;&\\]+)""",
    re.IGNORECASE | re.VERBOSE,
)
_NUMBER = re.compile(r"[-+]?(?:\d[\d_]*)?\.?\d+(?:e[-+]?\d+)?[kmgKMG]?")
_KEYWORDS = frozenset({"true", "false", "none", "null", "nil", "yes", "no", "on", "off", "~"})
_REFERENCE = re.compile(r"\$\{?\w+\}?|\{\{.*\}\}|%\(\w+\)s|<\|?/?[\w.|-]*\|?>|\[[A-Z_]+\]")
_LOWER_WORD = re.compile(r"[a-z_]+")
_LOWER_CHAIN = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+")
_OPAQUE = re.compile(r"(?=\S*\d)(?=\S*[A-Za-z])\S{8,}|\S{24,}")


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True when `name` names a credential (see the module docstring)."""
    words = [w.lower() for w in _WORD_BREAK.split(name) if w]
    if not words or words[-1] in HARMLESS_LAST_WORDS:
        return False
    return any(w in SECRET_WORDS for w in words) or words[-1].endswith(("password", "passwd"))


def _harmless_value(value: str, name: str, literal: bool) -> bool:
    """Values that cannot be a credential, kept so configs and code stay readable."""
    if not value or value.startswith("[REDACTED") or set(value) <= {"*", "."}:
        return True
    if value.lower() in _KEYWORDS or _REFERENCE.fullmatch(value):
        return True
    if _NUMBER.fullmatch(value) and len(value) < MIN_NUMERIC_SECRET:
        return True  # a count or a setting; a long run of digits may be a PIN or an account
    if literal:
        return False
    if any(c in value for c in "([{"):
        return True  # a call, an index or a literal: code, not a value
    return not name.isupper() and bool(
        _LOWER_WORD.fullmatch(value) or _LOWER_CHAIN.fullmatch(value)
    )


def _replace(match: re.Match[str]) -> str:
    name, value = match["name"], match["value"]
    if not is_secret_name(name):
        return match[0]
    quote = _quote_of(value)
    inner = value[len(quote) : -len(quote)] if quote else value.rstrip(")]}")
    literal = bool(quote) or match["query"] is not None  # not code: a string or a URL query
    if _harmless_value(inner, name, literal):
        return match[0]
    if name.lower() in GENERIC_NAMES and not _OPAQUE.fullmatch(inner):
        return match[0]
    tail = "" if quote else value[len(inner) :]
    return f"{match['keep']}{quote}[REDACTED:assignment]{quote}{tail}"


def _quote_of(value: str) -> str:
    if value[0] == "\\":
        return '\\"' if value.startswith('\\"') else ""
    return value[0] if value[0] in "'\"" else ""


def scrub_assignments(text: str, lowered: str) -> str:
    """`text` with the values of secret-named assignments replaced by a marker."""
    if not any(t in lowered for t in TRIGGERS):
        return text
    return _ASSIGNMENT.sub(_replace, text)
