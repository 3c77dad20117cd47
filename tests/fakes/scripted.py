"""The strict, scripted loopback server both fake model APIs are built on.

Each request takes the next scripted step. A step left unused, a request nobody
scripted, or a failed `expect` check makes `assert_done()` fail the test; leaving a
`with` block calls it, as the `fake_llm` fixture does at teardown.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar

StepT = TypeVar("StepT")


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: Any  # the ScriptedServer this serves

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (timeouts, cancelled streams) is normal here; anything else is not."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ScriptedServer(Generic[StepT]):
    """Start with `with Fake(...) as fake:` (or start()/stop()); read `.requests` after."""

    label = "fake server"
    url_path = ""  # appended to http://127.0.0.1:PORT in `url`

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], steps: tuple[StepT, ...], port: int = 0
    ) -> None:
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self._steps: deque[StepT] = deque(steps)
        self._handler = handler
        self._port = port
        self._cond = threading.Condition()
        self._failures: list[BaseException] = []
        self._strays: list[str] = []
        self._stopping = threading.Event()
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.label} is not running: call start() or use `with`")
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.url_path}"

    def start(self) -> Any:
        self._server = LoopbackServer(("127.0.0.1", self._port), self._handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name=self.label, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        """Stop, then hold the `with` form to the fixture's rule: what was scripted was used.
        (Skipped when the block already failed: its own error says more.)"""
        self.stop()
        if exc_type is None:
            self.assert_done()

    def script(self, *steps: StepT) -> None:
        with self._cond:
            self._steps.extend(steps)

    def assert_done(self) -> None:
        """Fail on a failed check, a step never requested, or a request nobody scripted."""
        with self._cond:
            failures, strays = list(self._failures), list(self._strays)
            left = [getattr(step, "name", repr(step)) for step in self._steps]
        if failures:
            raise failures[0]
        problems = []
        if left:
            problems.append(f"{len(left)} scripted step(s) never requested: {', '.join(left)}")
        if strays:
            problems.append(f"unexpected request(s): {', '.join(strays)}")
        if problems:
            raise AssertionError(f"{self.label}: " + "; ".join(problems))

    def wait_for_requests(self, n: int, timeout: float = 10) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= n, timeout):
                got = len(self.requests)
                raise AssertionError(
                    f"{self.label}: wanted {n} request(s) in {timeout}s, got {got}"
                )

    def _record(
        self, body: dict, headers: dict, fallback: StepT | None = None, *, take: bool = True
    ) -> tuple[int, StepT | None]:
        """Log a request and take its step (or `fallback` once the script is used up).

        A request the fake refuses is logged with `take=False`: it leaves the script as it was.
        """
        with self._cond:
            self.requests.append(body)
            self.headers.append(headers)
            number = len(self.requests)
            if not take:
                self._cond.notify_all()
                return number, None
            step = self._steps.popleft() if self._steps else fallback
            if step is None:
                self._strays.append(f"#{number} (script exhausted)")
            self._cond.notify_all()
        return number, step

    def _check(self, body: dict, expect: Callable[[dict], None] | None) -> None:
        if expect is None:
            return
        try:
            expect(body)
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        with self._cond:
            self._failures.append(exc)

    def _record_stray(self, what: str) -> None:
        with self._cond:
            self._strays.append(what)
