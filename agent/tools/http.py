"""Shared HTTP plumbing for the research tools.

Every research tool talks to a public web API that rate-limits, fails now and then,
and answers in HTML or JSON. The pieces here keep those behaviours consistent:
one client shape, one retry policy, one wording for failed requests, one way of
turning HTML into text the model reads, and one way of paging long text.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agent.retry_after import retry_after_seconds
from agent.tools.spec import ToolError

if TYPE_CHECKING:
    import httpx

USER_AGENT = "ml-intern/0.1 (python-httpx)"
TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
MAX_RETRY_WAIT_S = 10.0
_RETRY_STATUSES = (429, 503)
_DEFAULT_RETRY_DELAY_S = 1.0


def make_client(
    headers: dict[str, str] | None = None,
    *,
    timeout_s: float = TIMEOUT_S,
    follow_redirects: bool = True,
) -> httpx.AsyncClient:
    """A client with our user agent and timeouts; callers close it (use `async with`).

    httpx is imported here, on first use, so loading the tool list stays cheap.
    """
    import httpx

    merged = {"User-Agent": USER_AGENT, **(headers or {})}
    timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S))
    return httpx.AsyncClient(headers=merged, timeout=timeout, follow_redirects=follow_redirects)


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    service: str,
    **kwargs: Any,
) -> httpx.Response:
    """One request, retried once when the service asks us to wait a short while.

    A 429/503 with no Retry-After, or one within MAX_RETRY_WAIT_S, is retried once;
    a longer wait is left to `check` so the model hears when to come back instead of
    the tool stalling. Network failures become ToolErrors naming the service.
    """
    response = await _send_once(client, method, url, service, **kwargs)
    if response.status_code in _RETRY_STATUSES:
        wait = retry_after_seconds(response.headers)
        delay = _DEFAULT_RETRY_DELAY_S if wait is None else wait
        if delay <= MAX_RETRY_WAIT_S:
            await asyncio.sleep(delay)
            response = await _send_once(client, method, url, service, **kwargs)
    return response


async def _send_once(
    client: httpx.AsyncClient, method: str, url: str, service: str, **kwargs: Any
) -> httpx.Response:
    import httpx

    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise ToolError(f"{service} did not answer in time; try again later") from None
    except httpx.HTTPError as exc:
        raise ToolError(f"could not reach {service}: {type(exc).__name__}: {exc}") from None


def is_rate_limited(response: httpx.Response) -> bool:
    """429, or a 403 that carries the exhausted-quota headers GitHub-style APIs send."""
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    headers = response.headers
    return headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers


def describe_wait(seconds: float | None) -> str:
    """'resets at 14:05:00 UTC (in 12 min)', or a generic phrase when unknown."""
    if seconds is None:
        return "try again in a minute"
    when = datetime.fromtimestamp(time.time() + seconds, tz=UTC)
    if seconds < 90:
        span = f"{int(seconds)} s"
    elif seconds < 5400:
        span = f"{round(seconds / 60)} min"
    else:
        span = f"{seconds / 3600:.1f} h"
    return f"resets at {when:%Y-%m-%d %H:%M:%S} UTC (in {span})"


def check(response: httpx.Response, service: str, *, what: str = "", hint: str = "") -> None:
    """Raise a ToolError the model can act on when the response is not a success.

    `what` names the thing asked for (for 404s); `hint` is appended to rate-limit and
    authentication messages (e.g. which token raises the limit).
    """
    status = response.status_code
    if status < 400:
        return
    extra = f" {hint}" if hint else ""
    if is_rate_limited(response):
        wait = describe_wait(retry_after_seconds(response.headers))
        raise ToolError(f"{service} rate limit reached; it {wait}.{extra}")
    if status == 404:
        raise ToolError(f"{service}: {what or 'resource'} not found (404)")
    if status in (401, 403):
        detail = _error_detail(response)
        raise ToolError(f"{service} refused the request ({status}{detail}).{extra}")
    if status >= 500:
        raise ToolError(f"{service} is unavailable right now ({status}); try again later")
    raise ToolError(f"{service} rejected the request ({status}{_error_detail(response)})")


def _error_detail(response: httpx.Response) -> str:
    """The API's own one-line message, when it sends one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, str) and message:
            return f": {message[:200]}"
    return ""


def json_body(response: httpx.Response, service: str) -> Any:
    """The decoded JSON body, or a ToolError saying the service answered something else."""
    try:
        return response.json()
    except ValueError:
        raise ToolError(f"{service} sent a response that is not JSON; try again later") from None


def html_to_markdown(html: str, *, drop: tuple[str, ...] = ()) -> str:
    """Readable Markdown from an HTML document or fragment, without scripts and styles.

    `drop` names further tags to leave out, e.g. a page's navigation and footer.
    """
    from bs4 import BeautifulSoup
    from markdownify import markdownify

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["head", "script", "style", "noscript", "template", "svg", "iframe", *drop]):
        tag.decompose()
    # Escaping '_' and '*' would corrupt LaTeX and code identifiers the model copies out.
    text = markdownify(
        str(soup),
        heading_style="ATX",
        strip=["img"],
        escape_underscores=False,
        escape_asterisks=False,
    )
    return tidy(text)


def tidy(text: str) -> str:
    """Collapse the runs of blank lines and trailing spaces HTML conversion leaves behind."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def page(text: str, offset: int, size: int, *, call_hint: str = "") -> str:
    """One window of a long text, with a note saying how to read on.

    `call_hint` names the other arguments to repeat (e.g. "section='3'") so the
    model can ask for the next window in one step.
    """
    total = len(text)
    if offset >= total > 0:
        raise ToolError(f"offset {offset} is past the end of the text ({total} characters)")
    end = min(total, offset + size)
    if end < total:
        # Break at a line end when one is near, so the next window starts cleanly.
        cut = text.rfind("\n", offset + size // 2, end)
        end = cut + 1 if cut > 0 else end
    chunk = text[offset:end]
    if offset == 0 and end == total:
        return chunk
    args = f"{call_hint}, offset={end}" if call_hint else f"offset={end}"
    note = f"[characters {offset}-{end} of {total}"
    note += f"; call again with {args} for more]" if end < total else "; end of text]"
    return f"{chunk}\n\n{note}"
