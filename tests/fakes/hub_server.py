"""A loopback Hugging Face Hub for tests: the HTTP API the Hub tools use, in memory.

It answers what huggingface_hub's HfApi and the tools send: listings with `Link`
pagination, repo info, `/tree`, `/resolve`, refs, branches, tags, the preupload and
NDJSON commit endpoints, discussions and pull requests, repo creation and settings,
the datasets viewer (`/is-valid`, `/splits`, `/info`, `/size`, `/first-rows`, `/statistics`),
documentation pages and the OpenAPI description. Tokens, private and gated repos
produce the statuses and `X-Error-Code` headers the real Hub sends, and
`fail_next` injects any status (e.g. 429 with Retry-After).

    with FakeHub() as hub:
        hub.seed_demo()
        Settings(hf_endpoint=hub.url, datasets_server_url=hub.url, hf_token="hf_test")
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes import hub_api, hub_viewer
from tests.fakes.hub_http import Call, Response, url_prefix
from tests.fakes.hub_state import HubError, Repo, now_iso


class Request(NamedTuple):
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class _Failure:
    prefix: str
    status: int
    headers: dict[str, str]
    body: Any
    times: int


_REASONS = {
    401: "Invalid credentials in Authorization header",
    403: "You don't have the rights to access this resource",
    404: "Not Found",
    429: "You have exceeded the rate limit. Please wait before retrying.",
    500: "Internal Error - We're working hard to fix this as soon as possible!",
    503: "Service Unavailable",
}


class FakeHub:
    """The fake Hub server and its state; `requests` logs every request received."""

    def __init__(
        self, tokens: dict[str, str] | None = None, orgs: dict[str, list[str]] | None = None
    ):
        self.tokens = tokens if tokens is not None else {"hf_test": "testuser"}
        self.orgs = orgs if orgs is not None else {"testuser": ["acme"]}
        self.page_size = 1000
        self.repos: dict[tuple[str, str], Repo] = {}
        self.collections: list[dict[str, Any]] = []
        self.docs: dict[str, list[dict[str, str]]] = {}
        self.openapi: dict[str, Any] | None = None
        self.requests: list[Request] = []
        self.lock = threading.RLock()
        self._failures: list[_Failure] = []
        self._server: ThreadingHTTPServer | None = None
        self._connections: set[socket.socket] = set()

    # -- lifecycle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeHub is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler; a subclass that serves more endpoints names its own."""
        return _Handler

    def start(self) -> Any:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class())
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        serve = self._server.serve_forever
        threading.Thread(target=serve, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and end the keep-alive connections clients still hold open."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        with self.lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.stop()
        if exc_type is None:
            self.assert_faults_consumed()

    def assert_faults_consumed(self) -> None:
        """An injected failure nobody requested means the path under test never ran."""
        with self.lock:
            left = [f"{f.status} on {f.prefix} (x{f.times})" for f in self._failures]
        assert not left, f"fake Hub: injected failure(s) never requested: {', '.join(left)}"

    # -- test set-up -----------------------------------------------------------------

    def add_repo(
        self,
        repo_id: str,
        repo_type: str = "model",
        files: dict[str, str | bytes] | None = None,
        *,
        private: bool = False,
        gated: str | bool = False,
        viewer: dict[str, dict[str, list[dict[str, Any]]]] | None = None,
        class_labels: dict[str, list[str]] | None = None,
        **meta: Any,
    ) -> Repo:
        """A repo with files on `main`; `gated=True` means manual approval; `meta`
        holds listing fields (downloads, likes, tags, pipeline_tag, library_name, sdk...)."""
        gate = "manual" if gated is True else gated
        repo = Repo(repo_id, repo_type, private, gate, meta, viewer, class_labels or {})
        content = {k: v.encode() if isinstance(v, str) else v for k, v in (files or {}).items()}
        repo.initial_commit(
            {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n", **content}
        )
        with self.lock:
            self.repos[(repo_type, repo_id)] = repo
        return repo

    def repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def add_collection(
        self, owner: str, title: str, items: list[tuple[str, str]], **extra: Any
    ) -> None:
        """A collection of (item_type, item_id) pairs, e.g. ("model", "acme/tiny-bert")."""
        slug = (
            f"{owner}/{title.lower().replace(' ', '-')}-{len(self.collections):x}a1b2c3d4e5f60718"
        )
        self.collections.append(hub_api.collection(slug, owner, title, items, **extra))

    def add_docs(self, library: str, pages: list[dict[str, str]]) -> None:
        """Docs pages of a library: dicts with path, title, section and HTML body."""
        self.docs[library] = pages

    def seed_demo(self) -> FakeHub:
        """Realistic repos, a dataset with prompt/completion/label, docs and an OpenAPI."""
        from tests.fakes.hub_content import seed

        seed(self)
        return self

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests whose path starts with `path_prefix` with `status`."""
        with self.lock:
            self._failures.append(_Failure(path_prefix, status, headers or {}, body, times))

    def requests_to(self, prefix: str, method: str | None = None) -> list[Request]:
        with self.lock:
            return [
                r for r in self.requests if r.path.startswith(prefix) and method in (None, r.method)
            ]

    # -- dispatch --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self.lock:
            self.requests.append(Request(method, parts.path, query, headers))
            injected = self._injected(parts.path)
            if injected is not None:
                return injected
            try:
                return self._route(method, parts.path, query, headers, body)
            except HubError as exc:
                reply = Response.json({"error": exc.message}, exc.status)
                reply.headers["X-Error-Message"] = exc.message
                if exc.code:
                    reply.headers["X-Error-Code"] = exc.code
                return reply

    def _injected(self, path: str) -> Response | None:
        for failure in self._failures:
            if path.startswith(failure.prefix):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                body = (
                    failure.body
                    if failure.body is not None
                    else {"error": _REASONS.get(failure.status, "Error")}
                )
                return Response.json(body, failure.status, failure.headers)
        return None

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        user = self.user(headers)
        for verbs, pattern, handler in _ROUTES:
            match = pattern.match(path)
            if match and method in verbs:
                return handler(self, Call(method, list(match.groups()), query, user, body, path))
        raise HubError(404, f"Cannot {method} {path}")

    def user(self, headers: dict[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        if not auth:
            return None
        token = auth.removeprefix("Bearer ").strip()
        if token not in self.tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.tokens[token]

    # -- access ----------------------------------------------------------------------

    def can_write(self, repo_owner: str, user: str | None) -> bool:
        return user is not None and (user == repo_owner or repo_owner in self.orgs.get(user, []))

    def find(self, repo_type: str, repo_id: str, user: str | None) -> Repo:
        """A repo the user may see: a missing or hidden one is 401 (anonymous) or 404."""
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and not self.can_write(repo.owner, user)):
            status = 401 if user is None else 404
            raise HubError(status, "Repository not found", "RepoNotFound")
        return repo

    def check_files(self, repo: Repo, user: str | None) -> None:
        """Gated repos show metadata to everyone but files only to granted users."""
        if not repo.gated or user in repo.granted or self.can_write(repo.owner, user):
            return
        page = f"{self.url}/{url_prefix(repo.repo_type)}{repo.repo_id}"
        message = (
            f"Access to {repo.repo_type} {repo.repo_id} is restricted and you are not in the "
            f"authorized list. Visit {page} to ask for access."
        )
        raise HubError(401 if user is None else 403, message, "GatedRepo")

    def check_write(self, repo: Repo, user: str | None) -> None:
        if user is None:
            raise HubError(401, "You must be authenticated to access this resource")
        if not self.can_write(repo.owner, user):
            raise HubError(403, f"You don't have the rights to write to {repo.label}")

    def next_link(self, path: str, query: dict[str, list[str]], cursor: int) -> dict[str, str]:
        pairs = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
        url = f"{self.url}{path}?{urlencode([*pairs, ('cursor', str(cursor))])}"
        return {"Link": f'<{url}>; rel="next"'}


def _viewer_route(hub: FakeHub, call: Call) -> Response:
    endpoint = call.groups[0]
    dataset = call.arg("dataset") or ""
    repo = hub.repos.get(("dataset", dataset))
    hidden = repo is None or (repo.private and not hub.can_write(repo.owner, call.user))
    gated = repo is not None and repo.gated and call.user not in repo.granted
    if hidden or (gated and not hub.can_write(repo.owner, call.user)):
        message = (
            "The dataset does not exist, or is not accessible without authentication (private or "
            "gated). Please check the spelling of the dataset name or retry with authentication."
        )
        raise HubError(401 if call.user is None else 404, message, "DatasetNotFoundError")
    config, split = call.arg("config"), call.arg("split")
    if endpoint == "is-valid":
        return Response.json(hub_viewer.is_valid(repo))
    if endpoint == "splits":
        return Response.json(hub_viewer.splits(repo))
    if endpoint == "info":
        return Response.json(hub_viewer.info(repo, config))
    if endpoint == "size":
        return Response.json(hub_viewer.size(repo))
    if config is None or split is None:
        raise HubError(
            422, "Parameters 'config' and 'split' are required", "MissingRequiredParameter"
        )
    if endpoint == "first-rows":
        return Response.json(hub_viewer.first_rows(repo, config, split))
    return Response.json(hub_viewer.statistics(repo, config, split))


def _docs_route(hub: FakeHub, call: Call) -> Response:
    from tests.fakes.hub_docs import render_docs_page, render_not_found

    library, page = call.groups
    pages = hub.docs.get(library or "")
    if pages is None:
        return Response.html(render_not_found(), 404)
    if not page:
        return Response(302, b"", {"Location": f"/docs/{library}/index"})
    for entry in pages:
        if entry["path"] == page.strip("/"):
            return Response.html(render_docs_page(library, pages, entry))
    return Response.html(render_not_found(), 404)


def _openapi_route(hub: FakeHub, call: Call) -> Response:
    if hub.openapi is None:
        raise HubError(404, "Not Found")
    return Response.json(hub.openapi)


_Handler_T = Callable[[FakeHub, Call], Response]
_ROUTES: list[tuple[tuple[str, ...], re.Pattern[str], _Handler_T]] = [
    (("GET",), re.compile(r"^/api/(models|datasets|spaces)$"), hub_api.list_repos),
    (("GET",), re.compile(r"^/api/collections$"), hub_api.list_collections),
    (("GET",), re.compile(r"^/api/whoami-v2$"), hub_api.whoami),
    (("POST",), re.compile(r"^/api/validate-yaml$"), hub_api.validate_yaml),
    (("POST",), re.compile(r"^/api/repos/create$"), hub_api.create_repo),
    (
        ("GET", "POST", "PUT", "DELETE"),
        re.compile(r"^/api/(models|datasets|spaces)/([^/]+)/([^/]+)(?:/(.*))?$"),
        hub_api.repo_endpoint,
    ),
    (
        ("GET", "HEAD"),
        re.compile(r"^/(?:(datasets|spaces)/)?([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$"),
        hub_api.resolve,
    ),
    (("GET",), re.compile(r"^/docs/([^/]+)/?(.*)$"), _docs_route),
    (("GET",), re.compile(r"^/\.well-known/openapi\.json$"), _openapi_route),
    (("GET",), re.compile(r"^/(is-valid|splits|info|size|first-rows|statistics)$"), _viewer_route),
]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without this, delayed ACKs add 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fake: FakeHub = self.server.fake  # type: ignore[attr-defined]
        with fake.lock:
            fake._connections.add(self.connection)

    def finish(self) -> None:
        fake: FakeHub = self.server.fake  # type: ignore[attr-defined]
        with fake.lock:
            fake._connections.discard(self.connection)
        super().finish()

    def _serve(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake: FakeHub = self.server.fake  # type: ignore[attr-defined]
        reply = fake.handle(self.command, self.path, headers, body)
        self.send_response(reply.status)
        reply.headers.setdefault("Content-Length", str(len(reply.body)))
        reply.headers.setdefault("X-Request-Id", f"Root=1-{now_iso()}")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client stopped reading (a refused binary)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is `FakeHub.requests`."""
