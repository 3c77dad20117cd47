"""How long a server asks a client to wait before trying again.

Model providers, the Hub and GitHub say it in different headers; every retry in the agent reads
them here, so a wait that one of them asks for is never ignored by another path.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

_RATELIMIT_RESET = re.compile(r"(?:^|[;,])\s*t=(\d+)")  # IETF RateLimit header: "...;t=SECONDS"


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait, or None when the server did not say.

    Read in order: `retry-after-ms` (OpenAI, Azure), `Retry-After` as seconds or an HTTP date,
    the `RateLimit` header's `t=` (the Hub), and `x-ratelimit-reset` as an epoch (GitHub).
    """
    if not headers:
        return None
    found = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    if (ms := _number(found.get("retry-after-ms"))) is not None:
        return ms / 1000
    if value := found.get("retry-after"):
        if (seconds := _number(value)) is not None:
            return seconds
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    if match := _RATELIMIT_RESET.search(found.get("ratelimit", "")):
        return float(match.group(1))
    if (reset := _number(found.get("x-ratelimit-reset"))) is not None:
        return max(0.0, reset - time.time())
    return None


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 and number != float("inf") else None
