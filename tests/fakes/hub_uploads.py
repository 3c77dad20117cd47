"""The Hub endpoints a trace upload uses, on loopback: whoami, create/info/settings, commit.

Speaks what huggingface_hub sends (JSON, the NDJSON commit body with base64 files) so
`HfApi(endpoint=hub.url)` runs its real client code over a real socket. Only files small
enough for the "regular" upload mode are accepted, which is all a session trace needs.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Repo:
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: int = 0


class HubUploads:
    """Start with `with HubUploads(token=..., user=...) as hub:`; inspect `hub.repos`."""

    def __init__(self, token: str = "hf_test", user: str = "alice", stall_commits: bool = False):
        """`stall_commits`: a commit request hangs until `release_commits()` (then it and
        every later one go through) or until the fake stops (then it fails), as a stuck
        Hub would; `commit_started` is set once one arrived."""
        self.token = token
        self.user = user
        self.stall_commits = stall_commits
        self.commit_started = threading.Event()
        self._stopping = threading.Event()
        self._released = threading.Event()
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HubUploads:
        self._thread.start()
        return self

    def release_commits(self) -> None:
        """Let the stalled commit, and every one after it, through."""
        self._released.set()

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, path))
        if self.stall_commits and method == "POST" and "/commit/" in path:
            self.commit_started.set()
            self._released.wait()
            if self._stopping.is_set():
                return 503, {"error": "the fake Hub stopped"}
        with self._lock:
            if headers.get("authorization") != f"Bearer {self.token}":
                return 401, {"error": "Invalid credentials in Authorization header"}
            return self._route(method, path.split("?", 1)[0], body)

    def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if method == "GET" and path == "/api/whoami-v2":
            return 200, {"type": "user", "name": self.user, "orgs": [], "auth": {}}
        if method == "POST" and path == "/api/repos/create":
            return self._create(json.loads(body))
        parts = path.split("/")  # "", api, datasets, ns, name, action, revision
        if len(parts) < 5 or parts[:3] != ["", "api", "datasets"]:
            return 404, {"error": f"no route for {method} {path}"}
        repo_id = f"{parts[3]}/{parts[4]}"
        repo = self.repos.get(repo_id)
        if repo is None:
            return 404, {"error": "Repository not found"}
        action = parts[5] if len(parts) > 5 else ""
        if method == "GET" and action in ("", "revision"):
            return 200, {"id": repo_id, "private": repo.private, "sha": f"{repo.commits:040x}"}
        if method == "PUT" and action == "settings":
            repo.private = json.loads(body).get("visibility") == "private"
            return 200, {}
        if method == "POST" and action == "preupload":
            files = json.loads(body)["files"]
            modes = [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
            ]
            return 200, {"files": modes}
        if method == "POST" and action == "commit":
            return self._commit(repo_id, repo, body)
        return 404, {"error": f"no route for {method} {path}"}

    def _create(self, payload: dict[str, Any]) -> tuple[int, Any]:
        repo_id = f"{payload.get('organization') or self.user}/{payload['name']}"
        if payload.get("type") != "dataset":
            return 400, {"error": "this fake only holds datasets"}
        url = f"{self.url}/datasets/{repo_id}"
        if repo_id in self.repos:
            return 409, {"error": "You already created this dataset repo", "url": url}
        self.repos[repo_id] = Repo(private=payload.get("visibility") == "private")
        return 200, {"url": url}

    def _commit(self, repo_id: str, repo: Repo, body: bytes) -> tuple[int, Any]:
        for line in body.splitlines():
            item = json.loads(line)
            if item["key"] == "file":
                value = item["value"]
                repo.files[value["path"]] = base64.b64decode(value["content"])
            elif item["key"] != "header":
                return 400, {"error": f"unsupported commit operation {item['key']}"}
        repo.commits += 1
        oid = f"{repo.commits:040x}"
        url = f"{self.url}/datasets/{repo_id}/commit/{oid}"
        return 200, {"commitUrl": url, "commitOid": oid, "pullRequestUrl": None}


def _handler_for(hub: HubUploads) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload = hub.handle(self.command, self.path, self.headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
