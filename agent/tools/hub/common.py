"""What every Hugging Face Hub tool shares: the token, the clients, and error wording.

Reads are single HTTP requests made here with httpx, so a rate limit is retried once
after the delay the Hub asks for (bounded) and the model otherwise hears when to come
back. Writes and git operations go through huggingface_hub's HfApi, which speaks the
commit protocol; it is synchronous, so it runs in a worker thread. Failures from both
paths end in the same messages, which say what to do next.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit

from agent.retry_after import retry_after_seconds
from agent.tools.http import MAX_RETRY_WAIT_S, describe_wait, make_client
from agent.tools.spec import ToolError

if TYPE_CHECKING:
    import httpx
    from huggingface_hub import HfApi

    from agent.config import Settings

RepoType = Literal["model", "dataset", "space"]
T = TypeVar("T")

HUB = "the Hugging Face Hub"
TOKEN_HELP = (
    "set HF_TOKEN in your environment or .env "
    "(create a token at https://huggingface.co/settings/tokens)"
)


@dataclass(frozen=True)
class Target:
    """What a request was about, so a failure can name it and say what to try next."""

    repo_id: str | None = None
    repo_type: str = "model"
    revision: str | None = None
    path: str | None = None
    what: str | None = None
    not_found_hint: str = "check the id and repo_type, or find the right id with hf_search"
    conflict_hint: str = ""

    def label(self) -> str:
        if self.what:
            return self.what
        if self.repo_id:
            return f"{self.repo_type} '{self.repo_id}'"
        return "this request"


def repo_url(endpoint: str, repo_id: str, repo_type: str = "model") -> str:
    """The repo's page on the Hub (where gated access is requested)."""
    prefix = "" if repo_type == "model" else f"{repo_type}s/"
    return f"{endpoint.rstrip('/')}/{prefix}{repo_id}"


def hub_token(settings: Settings) -> str | None:
    """HF_TOKEN from the settings, else the token `hf auth login` saved."""
    if settings.hf_token:
        return settings.hf_token
    from huggingface_hub import get_token

    return get_token()


def hf_api(settings: Settings) -> HfApi:
    """An HfApi on the configured Hub. Its progress bars are turned off: they would write
    over the terminal the front end draws."""
    from huggingface_hub import HfApi
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars

    if not are_progress_bars_disabled():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            disable_progress_bars()
    return HfApi(
        endpoint=settings.hf_endpoint.rstrip("/"),
        token=hub_token(settings),
        library_name="ml-intern",
    )


def hub_client(settings: Settings, *, auth: bool = True) -> httpx.AsyncClient:
    """An httpx client for the Hub or the datasets viewer, with the token when `auth`."""
    token = hub_token(settings) if auth else None
    return make_client({"Authorization": f"Bearer {token}"} if token else None)


async def hub_request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    settings: Settings,
    target: Target,
    stream: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    """One request; a 429 is retried once after the advertised delay; failures raise ToolError.

    With `stream=True` the body is not read yet: the caller closes the response.
    """
    import httpx

    request = client.build_request(method, url, **kwargs)
    for attempt in range(2):
        try:
            response = await client.send(request, stream=stream)
        except httpx.TimeoutException:
            raise ToolError(
                f"{HUB} did not answer in time ({_host(url)}); try again later"
            ) from None
        except httpx.HTTPError as exc:
            raise ToolError(f"could not reach {HUB} at {_host(url)}: {exc}") from None
        wait = retry_wait(response.headers)
        if response.status_code == 429 and attempt == 0 and wait <= MAX_RETRY_WAIT_S:
            await response.aclose()
            await asyncio.sleep(wait)
            continue
        break
    if response.status_code >= 400:
        await response.aread()
        await response.aclose()
        raise hub_failure(
            response.status_code, response.headers, _message(response), target, settings
        )
    return response


async def hub_json(
    client: httpx.AsyncClient, url: str, *, settings: Settings, target: Target, **kwargs: Any
) -> Any:
    response = await hub_request(client, "GET", url, settings=settings, target=target, **kwargs)
    try:
        return response.json()
    except ValueError:
        raise ToolError(
            f"{HUB} sent a response that is not JSON for {url}; try again later"
        ) from None


async def call_hub(
    settings: Settings, target: Target, fn: Callable[..., T], /, *args: Any, **kwargs: Any
) -> T:
    """Run a blocking HfApi call in a thread, with the same 429 retry and error wording."""
    retried = False
    while True:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except Exception as exc:
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", None)
            if response is None or not isinstance(status, int):
                raise _plain_failure(exc, settings) from None
            wait = retry_wait(response.headers)
            if status == 429 and not retried and wait <= MAX_RETRY_WAIT_S:
                retried = True
                await asyncio.sleep(wait)
                continue
            message = getattr(exc, "server_message", None) or ""
            raise hub_failure(status, response.headers, message, target, settings) from None


def retry_wait(headers: Mapping[str, str]) -> float:
    """Seconds the Hub asks us to wait; one second when it does not say."""
    wait = retry_after_seconds(headers)
    return 1.0 if wait is None else wait


def hub_failure(
    status: int, headers: Mapping[str, str], message: str, target: Target, settings: Settings
) -> ToolError:
    """The error message for a failed Hub request: what went wrong and what to do."""
    code = headers.get("x-error-code") or ""
    name = target.label()
    detail = f": {message}" if message else ""
    if code == "GatedRepo" or (status == 403 and "gated" in message.lower()):
        return ToolError(_gated(target, settings))
    if code == "RevisionNotFound":
        return ToolError(
            f"revision '{target.revision}' was not found in {name}; list its branches and tags "
            "with hf_repo_git operation='list_refs'"
        )
    if code == "EntryNotFound":
        where = f" at revision '{target.revision}'" if target.revision else ""
        return ToolError(
            f"'{target.path}' was not found in {name}{where}; list the files with "
            "hf_repo_files operation='list'"
        )
    if code == "RepoNotFound":
        repo = Target(target.repo_id, target.repo_type) if target.repo_id else target
        return ToolError(_not_found(repo, settings))
    if status == 404:
        return ToolError(_not_found(target, settings))
    if status == 401:
        if hub_token(settings):
            return ToolError(
                f"Hugging Face rejected your token (401{detail}): it is invalid or expired. "
                f"Create a new one and {TOKEN_HELP}"
            )
        return ToolError(f"{name} needs a Hugging Face login (401): {TOKEN_HELP}")
    if status == 403:
        return ToolError(
            f"Hugging Face refused access to {name} (403{detail}). Your token lacks the "
            "permission: writing needs a token with write access to that namespace "
            "(https://huggingface.co/settings/tokens)"
        )
    if status == 429:
        wait = describe_wait(retry_wait(headers))
        return ToolError(
            f"rate limited by {HUB} (429); the limit {wait}. Wait until then before retrying"
        )
    if status == 409:
        hint = f"; {target.conflict_hint}" if target.conflict_hint else ""
        return ToolError(f"conflict on {name} (409{detail}){hint}")
    if status >= 500:
        return ToolError(f"{HUB} is unavailable right now ({status}); try again later")
    return ToolError(f"{HUB} rejected the request for {name} ({status}{detail})")


def _gated(target: Target, settings: Settings) -> str:
    page = repo_url(settings.hf_endpoint, target.repo_id or "", target.repo_type)
    text = (
        f"{target.label()} is gated: open {page} while logged in, accept the conditions to "
        "request access, and retry once access is granted"
    )
    if not hub_token(settings):
        text += f"; the request must carry your token: {TOKEN_HELP}"
    return text


def _not_found(target: Target, settings: Settings) -> str:
    text = f"{target.label()} was not found"
    if target.repo_id and not target.what:
        if hub_token(settings):
            text += " (or it is private and your token cannot see it)"
        else:
            text += f" (or it is private and you are not logged in: {TOKEN_HELP})"
    return f"{text}; {target.not_found_hint}"


def _plain_failure(exc: Exception, settings: Settings) -> Exception:
    """Non-HTTP failures of HfApi: bad arguments become ToolErrors, network errors too."""
    if isinstance(exc, ValueError):
        return ToolError(str(exc).strip())
    if type(exc).__module__.split(".")[0] in ("httpx", "httpx2") or isinstance(
        exc, ConnectionError
    ):
        return ToolError(f"could not reach {HUB} at {_host(settings.hf_endpoint)}: {exc}")
    if isinstance(exc, OSError):
        return ToolError(f"{type(exc).__name__}: {exc}")
    return exc


def _message(response: httpx.Response) -> str:
    """The Hub's own one-line reason: the JSON `error`, else the X-Error-Message header."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"][:300]
    return (response.headers.get("x-error-message") or "")[:300]


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


# -- formatting ---------------------------------------------------------------------


def human_size(size: int | float | None) -> str:
    if size is None:
        return "?"
    if size < 1000:
        return f"{size:.0f} B"
    for unit in ("kB", "MB", "GB"):
        size /= 1000
        if size < 1000:
            return f"{size:.1f} {unit}"
    return f"{size / 1000:.1f} TB"


def human_count(count: int | None) -> str:
    if count is None:
        return "-"
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if count >= limit:
            return f"{count / limit:.1f}{suffix}"
    return str(count)


def short_date(value: Any) -> str:
    """YYYY-MM-DD from an ISO timestamp or a datetime; '-' when unknown."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str) and len(value) >= 10:
        return value[:10]
    return "-"


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
