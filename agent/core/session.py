"""A Session: settings, history, tools, the event stream and the usage ledger."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import events as ev
from agent.context.manager import Change, ContextManager
from agent.context.system_prompt import render_system_prompt, skills_section
from agent.core.approval.scopes import configured_scopes
from agent.extensions.hooks.catalog import HookSet
from agent.extensions.loaded import Extensions, load_extensions
from agent.extensions.memory import Memory, load_memory, memory_section
from agent.tools.spec import CommandTerminal, FileAccess, ToolContext
from agent.trust import project_root
from agent.usage import UsageLedger

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.core.approval.tool_rules import TurnRules
    from agent.core.replies import LLMReply
    from agent.errors import AgentStop
    from agent.tools.router import ToolRouter

Subscriber = Callable[[ev.Event], None]
FailureHandler = Callable[[Exception], None]
log = logging.getLogger(__name__)


def new_session_id() -> str:
    """Sortable by time, unique enough to pick by prefix."""
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


OUTPUT_SO_FAR_LINES = 50


@dataclass
class Subscription:
    """One consumer of the event stream, and whether it has failed before."""

    deliver: Subscriber
    on_failure: FailureHandler | None = None
    failed: bool = False

    def __call__(self, event: ev.Event) -> None:
        """Deliver one event; a failure stays with this subscriber.

        The first failure goes to the diagnostics log with its traceback, later ones
        only at debug level; `on_failure` hears of every one (a front end whose output
        is gone ends the run there).
        """
        try:
            self.deliver(event)
        except Exception as exc:
            self._report(event, exc)

    def _report(self, event: ev.Event, exc: Exception) -> None:
        if self.failed:
            log.debug("event subscriber %r failed again: %r", self.deliver, exc)
        else:
            self.failed = True
            log.warning("event subscriber %r failed on %s", self.deliver, event.type, exc_info=exc)
        if self.on_failure is not None:
            try:
                self.on_failure(exc)
            except Exception:
                log.exception("the failure handler of %r failed", self.deliver)


class Session:
    """The state one conversation lives in. Front ends see it only through events."""

    def __init__(
        self,
        settings: Settings,
        router: ToolRouter,
        cwd: Path | None = None,
        session_id: str | None = None,
        extensions: Extensions | None = None,
    ) -> None:
        self.id = session_id or new_session_id()
        self.settings = settings
        self.router = router
        self.cwd = (cwd or Path.cwd()).resolve()
        self.extensions = extensions or load_extensions(settings, self.cwd)
        self.skills = self.extensions.skills
        self.commands = self.extensions.commands
        self.memory: Memory = load_memory(
            self.cwd, settings.memory.enabled, settings.memory.max_bytes
        )
        self._subscribers: list[Subscription] = []
        self.context = ContextManager(self.system_prompt(), self._history_changed)
        self.usage = UsageLedger()
        self.tool_state: dict[str, Any] = {}
        self.always_allowed: set[str] = set()
        self.turn_rules: TurnRules | None = None  # a custom command's allowed-tools, its turn
        self.kept_model = ""  # the session's model while a command's turn runs with another
        self.pending_approvals: dict[str, asyncio.Future[Any]] = {}
        self.turns = 0
        self.turn_iterations = 0  # model calls in the current (or last) turn
        # The last lines each running call logged: its result if the person stops it.
        self.output_so_far: dict[str, deque[str]] = {}
        self.compaction_floor = 0  # tokens left by a compaction that could not get under
        self.pending_stop: AgentStop | None = None  # ends the turn before its next step
        self.told: set[str] = set()  # warnings said once per session (a budget per model)
        self.log_failure = ""  # why the session log stopped being written, once it did
        self.on_fresh: list[Callable[[], None]] = []  # run by start_fresh, before the reset
        self.after_fresh: list[Callable[[], None]] = []  # and after it (the new id is set)
        self.resources = contextlib.AsyncExitStack()
        self.mcp: Any = None  # the McpManager, when MCP servers are configured
        self.files: FileAccess | None = None  # file text through the front end (an editor)
        self.terminal: CommandTerminal | None = None  # foreground bash in the editor's terminal
        self._early_notices: list[str] | None = [  # until `ready`
            *self.extensions.notices,
            *self.memory.notices,
        ]
        self.hooks = HookSet()  # lifecycle hooks (agent/core/hooks.py); none unless loaded
        self.hook_context: list[str] = []  # what hooks added, for the next request
        self.start_source = "startup"  # SessionStart's source: startup or resume
        self.last_key_at: float | None = None  # the chat's last key press (monotonic)
        # A person answers approval questions (the chat, an editor): a hook's `ask` asks
        # them even where approvals are automatic. Nobody does in a headless run.
        self.person_present = False

    async def aclose(self) -> None:
        """Close what the session owns (MCP connections, logs, background tasks)."""
        await self.resources.aclose()
        self.tool_state.clear()  # drops checkpoints and their on-disk copies now

    def system_prompt(self) -> str:
        listed = [(s.name, s.description) for s in self.skills.skills.values()]
        prompt = render_system_prompt(
            self.settings.model_name, self.cwd, self.router.names, memory_section(self.memory)
        )
        return prompt + skills_section(listed if "skill" in self.router.names else [])

    @property
    def model(self) -> str:
        """The session's own model, the one a resume continues with: during a custom
        command's turn, not the command's."""
        return self.kept_model or self.settings.model_name

    def set_model(self, model: str) -> None:
        """Switch the model; the system prompt that names it is renewed with it."""
        self.settings.model_name = model
        self.context.set_system_prompt(self.system_prompt())

    def _history_changed(self, change: Change, messages: list[dict[str, Any]]) -> None:
        self.emit(ev.HistoryChanged(change=change, messages=messages))

    def subscribe(self, subscriber: Subscriber, on_failure: FailureHandler | None = None) -> None:
        """Add a consumer of every event; `on_failure` is told when it raises."""
        self._subscribers.append(Subscription(subscriber, on_failure))

    def emit(self, event: ev.Event) -> None:
        """Deliver to every subscriber; one that raises never stops the others or the turn."""
        event.session_id = self.id
        for subscription in list(self._subscribers):
            subscription(event)

    def standing_approvals(self) -> set[str]:
        """The "always" answers of this conversation and those kept in the config."""
        saved = self.settings.approval.always_allow
        if not saved:
            return self.always_allowed
        return self.always_allowed | configured_scopes(saved, project_root(self.cwd))

    def stop_before_next_step(self, stop: AgentStop) -> None:
        """End the running turn with `stop` before it asks the model again; the tool
        calls of the current step still run and are answered. The first request wins."""
        if self.pending_stop is None:
            self.pending_stop = stop

    def start_fresh(self) -> None:
        """A new conversation in this session's place: new id, empty history, no plan,
        no standing approvals; the old one stays on disk, resumable as it was."""
        for hook in self.on_fresh:
            hook()
        self.id = new_session_id()
        self.context.replace(self.context.messages[:1])
        self.tool_state.pop("plan", None)
        self.always_allowed.clear()
        self.turns = 0  # spend stays on the ledger: the budget is for the whole run
        for hook in self.after_fresh:
            hook()

    def person_away(self) -> bool:
        """Whether the person may not be watching: no key pressed in the chat for
        `notify_away_after_s` (a headless run has nobody at the keys: always)."""
        if self.last_key_at is None:
            return True
        return time.monotonic() - self.last_key_at >= self.settings.notify_away_after_s

    def notify(self, message: str) -> None:
        """A notice for the person; before `ready` it waits so `ready` stays first."""
        if self._early_notices is None:
            self.emit(ev.Notice(message=message))
        else:
            self._early_notices.append(message)

    def announce(self) -> None:
        """Emit `ready`, then whatever was noticed while starting up."""
        self.emit(
            ev.Ready(model=self.settings.model_name, tools=self.router.names, cwd=str(self.cwd))
        )
        early, self._early_notices = self._early_notices or [], None
        for message in early:
            self.emit(ev.Notice(message=message))

    def tool_context(self, tool_call_id: str, name: str) -> ToolContext:
        so_far = self.output_so_far.setdefault(tool_call_id, deque(maxlen=OUTPUT_SO_FAR_LINES))

        def log(text: str, omitted_lines: int = 0) -> None:
            for line in text.split("\n"):
                if line.startswith("\r") and so_far and so_far[-1].startswith("\r"):
                    so_far[-1] = line  # a progress bar redrawn: still one line
                else:
                    so_far.append(line)
            self.emit(
                ev.ToolLog(
                    tool_call_id=tool_call_id, name=name, line=text, omitted_lines=omitted_lines
                )
            )

        return ToolContext(
            settings=self.settings,
            cwd=self.cwd,
            session_id=self.id,
            tool_call_id=tool_call_id,
            state=self.tool_state,
            usage=self.usage,
            files=self.files,
            terminal=self.terminal,
            log=log,
            emit=self.emit,
            turn=self.turns,
        )

    def usage_event(self, reply: LLMReply) -> ev.Usage:
        return ev.Usage(
            input_tokens=reply.usage.input_tokens,
            output_tokens=reply.usage.output_tokens,
            cached_tokens=reply.usage.cached_tokens,
            cost_usd=reply.cost_usd,
            total_cost_usd=self.usage.total_cost_usd,
            total_input_tokens=self.usage.input_tokens,
            total_output_tokens=self.usage.output_tokens,
        )
