"""web_search and fetch_url: the open web, read as text.

Search uses DuckDuckGo's HTML endpoint, which needs no API key. Reading a page is
guarded against server-side request forgery: the agent may be steered by text it
reads, so it must not reach the machine's own services, the local network or a
cloud metadata endpoint. Every hop of a redirect chain is checked, and the
connection goes to the address that was checked (no second DNS lookup to race).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit

from pydantic import BaseModel, Field

from agent.tools.http import check, html_to_markdown, make_client, page, send, tidy
from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    import httpx

ALLOW_PRIVATE_ENV = "ML_INTERN_ALLOW_PRIVATE_URLS"
MAX_REDIRECTS = 5
MAX_BYTES = 2_000_000
PAGE_CHARS = 20_000
_TEXT_TYPES = ("json", "xml", "javascript", "csv", "yaml", "x-sh", "x-python", "toml")
_CHROME = ("nav", "footer", "aside")


class WebSearchArgs(BaseModel):
    query: str = Field(description="What to search for, as you would type it into a search engine.")
    allowed_domains: list[str] | None = Field(
        None, description="Only keep results from these domains (subdomains included)."
    )
    blocked_domains: list[str] | None = Field(
        None, description="Drop results from these domains (subdomains included)."
    )
    max_results: int = Field(10, ge=1, le=25, description="How many results to return.")


class FetchUrlArgs(BaseModel):
    url: str = Field(description="An http(s) URL of a public page, e.g. a search result.")
    offset: int = Field(
        0, ge=0, description="Character offset in a long page; the result says which to use next."
    )


@dataclass
class Hit:
    title: str
    url: str
    snippet: str


async def web_search(args: WebSearchArgs, ctx: ToolContext) -> ToolResult:
    query = " ".join(args.query.split())
    if not query:
        raise ToolError("query is empty")
    allowed = _domains(args.allowed_domains)
    blocked = _domains(args.blocked_domains)
    sent = query + (f" site:{allowed[0]}" if len(allowed) == 1 else "")
    sent += "".join(f" -site:{d}" for d in blocked)
    url = ctx.settings.web_search_url.rstrip("/") + "/html/"
    async with make_client() as client:
        response = await send(client, "POST", url, service="web search", data={"q": sent})
    check(response, "web search")
    if response.status_code == 202 or "anomaly-modal" in response.text:
        raise ToolError(
            "DuckDuckGo is limiting automated searches right now; wait a minute and retry, "
            "or fetch_url a page you already know."
        )
    hits, known_layout = await asyncio.to_thread(parse_results, response.text, url)
    hits = [h for h in hits if _keep(h.url, allowed, blocked)][: args.max_results]
    if not hits:
        return ToolResult(f"No web results for '{query}'. Try other words or fewer filters.")
    heading = (
        f"Web results for '{query}':"
        if known_layout
        else f"Links on the search page for '{query}' (its result layout was not recognised, "
        "so these are its outbound links, in page order):"
    )
    lines = [heading, ""]
    for number, hit in enumerate(hits, 1):
        lines.append(
            f"{number}. {hit.title}\n   {hit.url}" + (f"\n   {hit.snippet}" if hit.snippet else "")
        )
    lines.append("\nRead a page with fetch_url.")
    return ToolResult("\n".join(lines), data={"results": [h.__dict__ for h in hits]})


def parse_results(html: str, page_url: str = "") -> tuple[list[Hit], bool]:
    """Organic results of DuckDuckGo's HTML page (ads skipped, redirect links decoded),
    and whether the page had a layout this parser knows.

    When DuckDuckGo changes its markup, the page still links to the results: then the
    page's outbound links (the engine's own left out, each once) stand in for them.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    links = soup.select("a.result__a")
    if not links and not soup.select_one(".no-results"):
        return _outbound_links(soup, page_url), False
    hits = []
    for link in links:
        box = link.find_parent(class_="result") or link.parent
        if box is not None and "result--ad" in (box.get("class") or []):
            continue
        url = result_url(str(link.get("href") or ""))
        if not url:
            continue
        snippet = box.select_one(".result__snippet") if box is not None else None
        text = " ".join(snippet.get_text(" ", strip=True).split()) if snippet else ""
        hits.append(Hit(" ".join(link.get_text(" ", strip=True).split()), url, text))
    return hits, True


def _outbound_links(soup: Any, page_url: str) -> list[Hit]:
    """Every link that leaves the search engine, once, in page order."""
    engine = (urlsplit(page_url).hostname or "").lower()
    seen: dict[str, Hit] = {}
    for link in soup.find_all("a", href=True):
        url = result_url(urljoin(page_url or "https://duckduckgo.com/", str(link["href"])))
        host = (urlsplit(url).hostname or "").lower() if url else ""
        if not url or not host or host == engine:
            continue
        title = " ".join(link.get_text(" ", strip=True).split()) or url
        if url not in seen:
            seen[url] = Hit(title, url, "")
        elif seen[url].title == url:
            seen[url] = Hit(title, url, "")  # a later link to it may have a better text
    return list(seen.values())


def result_url(href: str) -> str | None:
    """The target of a result link; DuckDuckGo wraps it as /l/?uddg=<url>. Ads yield None."""
    parts = urlsplit(urljoin("https://duckduckgo.com/", href))
    if parts.hostname and parts.hostname.endswith("duckduckgo.com"):
        if parts.path.startswith("/l/"):
            target = parse_qs(parts.query).get("uddg")
            return target[0] if target else None
        return None
    return href if parts.scheme in ("http", "https") else None


def _domains(domains: list[str] | None) -> list[str]:
    cleaned = []
    for domain in domains or []:
        host = urlsplit(domain if "//" in domain else f"//{domain}").hostname or ""
        if host:
            cleaned.append(host.lower())
    return cleaned


def _keep(url: str, allowed: list[str], blocked: list[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()

    def under(domain: str) -> bool:
        return host == domain or host.endswith("." + domain)

    if any(under(d) for d in blocked):
        return False
    return not allowed or any(under(d) for d in allowed)


async def fetch_url(args: FetchUrlArgs, ctx: ToolContext) -> ToolResult:
    """Fetch a public page as text.

    Private, loopback, link-local, multicast, reserved and unspecified addresses are
    refused, on the first URL and on every redirect. The environment variable
    ML_INTERN_ALLOW_PRIVATE_URLS lifts that refusal (`1` for every address, or a
    comma-separated list of addresses such as `127.0.0.1`); it is for the test suite's
    loopback servers only and must never be set in normal use.
    """
    start = args.url.strip()
    url, response, body, truncated = await _follow(start)
    host = urlsplit(url).hostname or url
    check(response, host, what=url)
    title, text = _as_text(response, body, url)
    header = [url if url == start else f"{url} (redirected from {start})"]
    if title:
        header.append(f"Title: {title}")
    if truncated:
        header.append(f"[download stopped at {MAX_BYTES // 1_000_000} MB; the rest is not shown]")
    body_text = (
        page(text, args.offset, PAGE_CHARS, call_hint=f"url='{start}'") if text else "(empty)"
    )
    return ToolResult("\n".join(header) + "\n\n" + body_text)


async def _follow(url: str) -> tuple[str, httpx.Response, bytes, bool]:
    """GET with redirects followed by hand, so each hop passes the address check.

    Each hop gets its own client: connections are pooled by address, and a TLS
    connection made for one host name must not carry a request for another.
    """
    for _ in range(MAX_REDIRECTS + 1):
        target = await checked_target(url)
        async with make_client(follow_redirects=False) as client:
            response, body, truncated = await _download(client, target)
        if not response.is_redirect:
            return url, response, body, truncated
        location = response.headers.get("location")
        if not location:
            raise ToolError(f"{url} redirected ({response.status_code}) without a Location")
        url = urljoin(url, location)
    raise ToolError(f"too many redirects (more than {MAX_REDIRECTS}) starting from the given URL")


@dataclass
class Target:
    """Where to connect: the checked address, with the name the server expects."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]


async def checked_target(url: str) -> Target:
    """Validate a URL and pin it to a resolved public address; ToolError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ToolError(f"only http and https URLs can be fetched, not '{parts.scheme or url}'")
    host = parts.hostname
    if not host:
        raise ToolError(f"'{url}' has no host name")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ToolError(f"'{url}' has an invalid port") from None
    addresses = await _resolve(host, port)
    allowed = _allowed_private()
    for address in addresses:
        # A name with any off-limits address is refused as a whole.
        if (reason := blocked_reason(address)) and "*" not in allowed and address not in allowed:
            raise ToolError(
                f"refusing to fetch {url}: {host} is {reason} ({address}); only public "
                "internet addresses can be fetched"
            )
    address = addresses[0]
    shown = f"[{address}]" if ":" in address else address
    netloc = f"{shown}:{port}"
    pinned = parts._replace(netloc=netloc).geturl()
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return Target(pinned, {"Host": parts.netloc.rsplit("@", 1)[-1]}, extensions)


def _allowed_private() -> set[str]:
    """Addresses exempt from the check, read on every call: '1' exempts all, else a list."""
    value = os.environ.get(ALLOW_PRIVATE_ENV, "").strip()
    if value == "1":
        return {"*"}
    return {part.strip() for part in value.split(",") if part.strip()}


async def _resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to."""
    try:
        infos = await asyncio.to_thread(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ToolError(f"cannot resolve host '{host}': {exc}") from None
    addresses = [str(info[4][0]).split("%")[0] for info in infos]
    if not addresses:
        raise ToolError(f"cannot resolve host '{host}'")
    return addresses


def blocked_reason(address: str) -> str | None:
    """Why an address is off limits, or None for a public one."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):  # IPv4 carried inside IPv6 is judged as IPv4
        ip = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None) or ip
    for attr, reason in (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_unspecified", "an unspecified address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private address"),
    ):
        if getattr(ip, attr):
            return reason
    return None if ip.is_global else "not a public address"


async def _download(
    client: httpx.AsyncClient, target: Target
) -> tuple[httpx.Response, bytes, bool]:
    """The response and at most MAX_BYTES of its body (True when cut)."""
    import httpx

    request = client.build_request(
        "GET", target.url, headers=target.headers, extensions=target.extensions
    )
    try:
        response = await client.send(request, stream=True)
    except httpx.TimeoutException:
        raise ToolError("the site did not answer in time") from None
    except httpx.HTTPError as exc:
        raise ToolError(f"could not fetch the page: {type(exc).__name__}: {exc}") from None
    chunks, size = [], 0
    try:
        if not response.is_redirect:
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_BYTES:
                    break
    except httpx.HTTPError as exc:
        raise ToolError(f"the download broke off: {type(exc).__name__}: {exc}") from None
    finally:
        await response.aclose()
    return response, b"".join(chunks)[:MAX_BYTES], size >= MAX_BYTES


def _as_text(response: httpx.Response, body: bytes, url: str) -> tuple[str, str]:
    """(title, text) of a page; HTML becomes Markdown, binary content is refused."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/pdf" or body.startswith(b"%PDF"):
        raise ToolError(
            f"{url} is a PDF, which fetch_url cannot read; for arXiv papers use hf_papers "
            "with operation='read'"
        )
    text = body.decode(_charset(response), errors="replace")
    if "html" in kind or (
        not kind and text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))
    ):
        return _title(text), html_to_markdown(text, drop=_CHROME)
    if kind.startswith("text/") or any(t in kind for t in _TEXT_TYPES) or not kind:
        if "\0" in text[:4096]:
            raise ToolError(f"{url} is binary data, not text")
        return "", tidy(text)
    raise ToolError(f"{url} is '{kind}' content, not text or HTML; fetch_url cannot show it")


def _charset(response: httpx.Response) -> str:
    charset = response.charset_encoding or "utf-8"
    try:
        "".encode(charset)
    except LookupError:
        return "utf-8"
    return charset


def _title(html: str) -> str:
    from bs4 import BeautifulSoup

    node = BeautifulSoup(html, "html.parser").find("title")
    return " ".join(node.get_text(" ", strip=True).split()) if node else ""


def web_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            name="web_search",
            description=(
                "Search the web (DuckDuckGo). Returns titles, URLs and snippets; optionally "
                "only from allowed_domains or without blocked_domains. Read a result with fetch_url."
            ),
            handler=web_search,
            args_model=WebSearchArgs,
            read_only=True,
            timeout_s=45.0,
        ),
        ToolSpec(
            name="fetch_url",
            description=(
                "Fetch a public http(s) web page and return it as Markdown text (HTML converted; "
                "plain text, JSON and the like as is). Long pages come in pages: call again with "
                "the offset the result names. Private and local network addresses are refused."
            ),
            handler=fetch_url,
            args_model=FetchUrlArgs,
            read_only=True,
            timeout_s=60.0,
        ),
    ]
