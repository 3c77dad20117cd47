"""Assembling a ready Session from Settings: tools, history, the session log, uploads."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
from pathlib import Path

from agent import events as ev
from agent.config import McpServer, Settings, data_home
from agent.context.manager import is_person_turn
from agent.context.resume import LoadedSession, load_session
from agent.context.store import SessionBusy, SessionLog, sessions_dir
from agent.core import builtin_tools as builtin
from agent.core import llm
from agent.core.goal import restore_goal
from agent.core.hooks import watch_jobs
from agent.core.notifier import attach_notifier
from agent.core.resume_model import model_problem
from agent.core.session import Session
from agent.extensions.hooks.catalog import load_hooks
from agent.extensions.loaded import load_extensions
from agent.extensions.plugins import plugin_mcp_servers
from agent.hf_token import find_hf_token, with_hf_token
from agent.runs.registry import RUNS_STATE, RunRegistry, runs_of
from agent.tools.local.job_log import prune as prune_job_logs
from agent.tools.notify import notify_tools
from agent.tools.plan import restore_plan
from agent.tools.router import ToolRouter
from agent.tools.skill import skill_tools
from agent.tools.slurm.tool import slurm_tools

log = logging.getLogger(__name__)
REDACTION_MARKER = re.compile(r"\[REDACTED:[^\]\s]{1,40}\]")  # what context/redact.py writes


async def open_session(
    settings: Settings,
    cwd: Path | None = None,
    resume: str | None = None,
    mcp_wait_s: float = 0.0,
) -> Session:
    """A Session with the built-in tools, logged to disk; `resume` continues a saved one.

    MCP servers connect in the background and their tools join as each connects.
    `mcp_wait_s` (headless) gives them that long, or until the model library has
    loaded (the first request waits for it anyway), to be ready for the first request;
    never more: a server that hangs (a network with no route) delays nothing further.
    """
    if settings.sandbox == "workspace-write":
        from agent.tools.local.sandbox import check_available

        check_available(settings.allow_network, cwd or Path.cwd())
    prune_job_logs(data_home() / "bg")
    extensions = load_extensions(settings, (cwd or Path.cwd()).resolve())
    tools = [
        *builtin.create_builtin_tools(),
        *notify_tools(settings),
        *slurm_tools(settings),
        *skill_tools(extensions.skills),
    ]
    router = ToolRouter(tools)
    if settings.tool_runtime == "sandbox":
        use_remote_sandbox(router)
    loaded = load_session(resume) if resume else None
    log = open_resumed_log(loaded) if loaded else None
    if loaded and log is None:  # busy: the copy leaves out the turn still running there
        loaded = completed_turns(loaded)
    session_id = log.session_id if log else None
    session = Session(settings, router, cwd=cwd, session_id=session_id, extensions=extensions)
    session.hooks = load_hooks(settings, session.cwd)
    for notice in session.hooks.notices:
        session.notify(notice)
    watch_jobs(session)
    if settings.sandbox == "workspace-write":
        from agent.tools.local.roots import sandbox_notice

        session.notify(sandbox_notice(session.cwd))
    session.resources.push_async_callback(report_background_jobs, session)
    if loaded:
        session.start_source = "resume"
        restore(session, loaded)
        if log is None:
            log = fork(session, loaded)
    attach_log(session, log)
    follow_runs(session)
    if loaded:
        renew_system_prompt(session)
        if session.id == loaded.session_id:  # a fork leaves the jobs to the other one
            find_background_jobs(session)
    attach_notifier(session)
    if settings.tool_runtime == "sandbox":
        session.resources.push_async_callback(remind_of_sandbox, session)
    if settings.share_traces and find_hf_token(settings):
        TraceUploads(session).attach()
    servers, left_out = plugin_mcp_servers(extensions.plugins, settings.mcp_servers)
    for message in left_out:
        session.notify(message)
    servers = {**settings.mcp_servers, **servers}
    if any(server.enabled for server in servers.values()):
        await start_mcp(session, mcp_wait_s, servers)
    return session


async def start_mcp(session: Session, wait_s: float, servers: dict[str, McpServer]) -> None:
    """Connect the configured MCP servers in the background, waiting for them `wait_s`
    or until the model library has loaded, whichever is later; each reports once how it
    went. A server still connecting when the session closes is cut short. `servers`: the
    configured ones and those of installed plugins."""
    from agent.tools.mcp.manager import McpManager

    def report(name: str, status: str) -> None:
        if status.startswith(("failed", "connected, but")):
            session.notify(f"MCP server '{name}' {status}")

    settings = session.settings
    if settings.sandbox == "workspace-write":
        from agent.tools.mcp.confined import confine_stdio_servers

        servers = confine_stdio_servers(servers, session.cwd, settings.allow_network)
    stderr_path = data_home() / "logs" / f"{session.id}.mcp.log"
    servers = with_hf_token(servers, settings)
    manager = McpManager(servers, stderr_path=stderr_path, on_status=report)
    session.mcp = manager
    starting = asyncio.create_task(manager.start(session.router), name="mcp-start")

    async def stop() -> None:
        starting.cancel()  # a connect (or the SDK's import) still under way is not waited for
        await asyncio.gather(starting, return_exceptions=True)
        await manager.aclose()

    session.resources.push_async_callback(stop)
    if wait_s > 0:
        await asyncio.wait({starting}, timeout=wait_s)
        library = asyncio.ensure_future(llm.load())
        await asyncio.wait({starting, library}, return_when=asyncio.FIRST_COMPLETED)
        library.cancel()
        if not starting.done():
            log.info("MCP servers still connecting: the first request goes without them")


def use_remote_sandbox(router: ToolRouter) -> None:
    """bash/read/write/edit follow the sandbox once `sandbox_create` has made one."""
    from agent.tools.space_sandbox.client import sandbox_tools
    from agent.tools.space_sandbox.remote import routed_tools

    for spec in [*routed_tools(), *sandbox_tools()]:
        router.register(spec)
    for name in ("bash_output", "kill_background"):
        router.unregister(name)


async def remind_of_sandbox(session: Session) -> None:
    """At the end: a running sandbox is named with its cost, or paused, per config."""
    from agent.tools.space_sandbox.client import sandbox_at_exit

    if message := await sandbox_at_exit(session.tool_context("", "sandbox")):
        session.emit(ev.Notice(message=message))


async def report_background_jobs(session: Session) -> None:
    """At the end: background jobs still running are named (and stopped if confined)."""
    from agent.tools.local.background import jobs_at_exit

    if message := await jobs_at_exit(session.tool_context("", "bash")):
        session.emit(ev.Notice(message=message))


def follow_runs(session: Session) -> None:
    """The session's runs: followed from here, woken about, kept in the ledger. Closed
    after the background jobs are named at the end (callbacks run in reverse)."""
    registry = RunRegistry(session.id, session.cwd, session.emit)
    session.tool_state[RUNS_STATE] = registry
    session.resources.push_async_callback(registry.aclose)
    session.after_fresh.append(lambda: registry.renew(session.id))
    if registry.unreadable:
        session.notify(
            f"The run ledger of this session could not be read: {registry.unreadable}. "
            "Its earlier runs are not listed or given to the model."
        )


def find_background_jobs(session: Session) -> None:
    """A continued session takes back the background jobs it left running, and follows
    them as runs again."""
    from agent.tools.local.background import background_jobs
    from agent.tools.local.job_run import job_run

    if running := background_jobs(session.tool_state, session.id).running():
        names = ", ".join(f"{job.job_id} `{job.command}`" for job in running)
        session.notify(f"Background jobs still running from before: {names}.")
        registry = runs_of(session.tool_state, session.id, session.cwd)
        for job in running:
            registry.take_back(*job_run(job))
    follow_hf_jobs_again(session)


def follow_hf_jobs_again(session: Session) -> None:
    """A continued session follows again the HF jobs it left running: those that ended
    meanwhile are told once, with their final status and metrics."""
    from agent.tools.jobs.job_run import taken_back

    registry = runs_of(session.tool_state, session.id, session.cwd)
    followed = []
    for entry in registry.earlier:
        if entry.get("kind") != "hf_job" or entry.get("status") != "running":
            continue
        if (found := taken_back(session.tool_context("", "hf_jobs"), entry)) is not None:
            registry.take_back(*found)
            followed.append(found[0].id)
    if followed:
        session.notify(f"HF jobs followed again from before: {', '.join(followed)}.")


def open_resumed_log(loaded: LoadedSession) -> SessionLog | None:
    """The saved session's log, to append to; None when another process is writing it."""
    try:
        return SessionLog.open_existing(loaded.session_id, model=loaded.model)
    except SessionBusy:
        return None


def completed_turns(loaded: LoadedSession) -> LoadedSession:
    """The session up to its last completed turn: what another process is still working
    on (its person's request, its calls so far) stays out of a copy made beside it."""
    if not loaded.turn_open:
        return loaded
    for i in range(len(loaded.messages) - 1, -1, -1):
        if is_person_turn(loaded.messages[i]):
            return dataclasses.replace(
                loaded, messages=loaded.messages[:i], entries=loaded.entries[:i]
            )
    return loaded


def fork(session: Session, loaded: LoadedSession) -> SessionLog:
    """A new session holding a copy of a busy one's history: the other stays untouched."""
    log = SessionLog.create(
        session.id, session.cwd, session.settings.model_name, forked_from=loaded.session_id
    )
    for message in session.context.messages:
        log.append_message(message)
    session.notify(
        f"Session {loaded.session_id} is open in another ml-intern process: continuing in a "
        f"new session {session.id} with a copy of its history; the other one is left as it is."
    )
    return log


def renew_system_prompt(session: Session) -> None:
    """A resumed session works with today's system prompt (model, tools, date, project
    instructions), not the one saved with it."""
    today = session.system_prompt()
    first = session.context.messages[0] if session.context.messages else {}
    if first.get("role") != "system" or first.get("content") != today:
        session.context.set_system_prompt(today)


def restore(session: Session, loaded: LoadedSession) -> None:
    """Put a saved history back; warnings from a torn log are shown once."""
    session.context.replace(loaded.messages)
    session.turns = loaded.turns
    restore_plan(session.tool_state, loaded)
    restore_goal(session, loaded.goal)
    for message in resume_notices(loaded, session.settings):
        session.notify(message)


def resume_notices(loaded: LoadedSession, settings: Settings) -> list[str]:
    """What the person should know about a resumed session: damage repaired, a saved
    model that no longer works, secrets scrubbed from the history."""
    notices = []
    if problems := loaded.warnings:
        more = f"; and {len(problems) - 3} more" if problems[3:] else ""
        notices.append(
            f"The saved session log was damaged: {len(problems)} problem(s) skipped or "
            f"repaired ({'; '.join(problems[:3])}{more}). Only valid messages go to the model."
        )
    current = settings.model_name
    if loaded.model and loaded.model != current:
        if problem := model_problem(loaded.model, settings.api_base):
            notices.append(
                f"The saved model {loaded.model!r} {problem}: continuing with {current}."
            )
    if any(REDACTION_MARKER.search(json.dumps(m)) for m in loaded.messages):
        notices.append(
            "Secrets were scrubbed from this session's saved history (shown as [REDACTED:...]): "
            "the model no longer sees them and may ask for them again."
        )
    return notices


def attach_log(session: Session, existing: SessionLog | None) -> None:
    """The session log is one more consumer of the event stream: history changes and
    the metadata events go to disk as they happen.

    A new session's file is created with the person's first message, so a chat
    opened and left without a word leaves nothing behind.
    """
    log: SessionLog | None = existing

    def on_event(event: ev.Event) -> None:
        nonlocal log
        if session.log_failure:
            return  # a log with a gap would resume a different conversation: it stays cut
        try:
            if isinstance(event, ev.HistoryChanged):
                log = write_history(session, log, event)
            elif log is not None:
                log.record_event(event)
        except OSError as exc:
            where = log.path if log is not None else sessions_dir()
            close()
            log_failed(session, where, exc)

    def close() -> None:
        nonlocal log
        if log is not None:
            log.close()
            log = None  # a fresh conversation gets a file of its own with its first message

    def fresh() -> None:
        close()
        session.log_failure = ""  # a new conversation tries a new file

    session.on_fresh.append(fresh)
    session.subscribe(on_event)
    session.resources.callback(close)


def log_failed(session: Session, where: Path, exc: OSError) -> None:
    """Say once, at the failure, that the conversation is no longer being saved; the
    turn goes on (the run's result says it too)."""
    log.warning("session log %s cannot be written: %s", where, exc)
    session.log_failure = (
        f"The session log {where} cannot be written ({exc.strerror or exc}): this "
        "conversation is no longer saved, so --continue and --resume would bring it back "
        "only up to here. Free some space (or fix the folder) for the next session."
    )
    session.emit(ev.Notice(message=session.log_failure))


def write_history(
    session: Session, log: SessionLog | None, event: ev.HistoryChanged
) -> SessionLog | None:
    """Write one history change; the log is created with the first request."""
    if log is None:
        if event.change != "append" or event.messages[0].get("role") != "user":
            return None
        log = SessionLog.create(session.id, session.cwd, session.model)
        for message in session.context.messages[:-1]:
            log.append_message(message)
    if log.model != session.model:
        log.record("model", model=session.model)
    match event.change:
        case "append":
            log.append_message(event.messages[0])
        case "replace":
            log.replace_messages(event.messages)
        case "system":
            log.set_system(event.messages[0])
    return log


class TraceUploads:
    """After each turn, the session's trace goes to the user's private HF dataset.

    Uploads run in a worker thread, one at a time; a failure is logged once and
    never reaches the chat. Each upload is owed to the session the turn ended in (taken
    from its event), so one still owed after `/new` sends that session, not the fresh one. At the end the last upload gets `upload_grace_s`; one
    still running then is abandoned (the thread ends with the process) and the person
    is told: the next turn of the session uploads its whole trace again.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._task: asyncio.Task[None] | None = None
        self._owed: dict[str, None] = {}  # session ids still to upload, oldest first
        self._warned = False

    def attach(self, upload_now: bool = False) -> None:
        """Upload after each turn from now on; `upload_now`: the turns already done too."""
        self.session.subscribe(self._on_event)
        self.session.resources.push_async_callback(self._finish)
        if upload_now:
            self._start()

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.TurnComplete | ev.Error | ev.Interrupted):
            self._start(event.session_id)

    def _start(self, session_id: str | None = None) -> None:
        self._owed[session_id or self.session.id] = None
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._upload())

    async def _upload(self) -> None:
        from agent.context.traces import upload_session

        settings = self.session.settings
        while self._owed:
            session_id = next(iter(self._owed))
            del self._owed[session_id]
            try:
                loaded = load_session(session_id)
                await asyncio.to_thread(
                    upload_session,
                    loaded,
                    token=find_hf_token(settings) or "",
                    endpoint=settings.hf_endpoint,
                    repo_template=settings.traces_repo,
                    private=settings.traces_private,
                )
            except Exception as exc:
                if not self._warned:
                    self._warned = True
                    log.warning("trace upload failed: %s", exc)

    async def _finish(self) -> None:
        if self._task is None or self._task.done():
            return
        grace = self.session.settings.upload_grace_s
        await asyncio.wait({self._task}, timeout=grace)
        if self._task.done():
            return
        self._task.cancel()
        log.warning("trace upload still running after %g s: abandoned", grace)
        self.session.emit(
            ev.Notice(
                message=f"Trace upload skipped: the Hub did not finish it within {grace:g} s. "
                "The session is saved locally; its next turn uploads the whole trace."
            )
        )
