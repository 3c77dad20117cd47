"""/mcp and /share-traces, and the question after Ctrl-C stopped the wait for a cloud job.

Cancelling that job is a direct call to the Hub rather than an operation: the job
is the person's cloud resource, not state of the conversation, and the engine has
already finished with the tool call by the time the question is asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from agent.cli.slash.commands import ChatContext, Command, register
from agent.cli.visible import quoted
from agent.config import data_home
from agent.hf_token import find_hf_token
from agent.paths import home_relative, user_dotenv_path
from agent.tools.spec import ToolError

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.tools.mcp.manager import ServerStatus

STATE_STYLES = {"connected": "green", "failed": "red", "connecting": "yellow", "disabled": "dim"}


def no_token() -> str:
    """What to do without a Hugging Face token, with the user's .env where it really is."""
    return (
        f"No Hugging Face token: set HF_TOKEN in your environment or in "
        f"{home_relative(user_dotenv_path())}, or run `hf auth login` (create a write token "
        "at https://huggingface.co/settings/tokens)."
    )


NO_MCP = (
    "No MCP servers configured. Add one with `ml-intern mcp add NAME -- COMMAND ARGS` "
    "(or `--url URL`), or under mcpServers in configs/cli_agent_config.json."
)


# -- /mcp ------------------------------------------------------------------------------------


def short_tool_names(server: str, tools: Iterable[str]) -> list[str]:
    """`mcp__fs__read` as `read`: the server's name is already on the line."""
    prefix = f"mcp__{server}__"
    return [t.removeprefix(prefix) for t in tools]


def server_line(status: ServerStatus) -> Text:
    """State, then the tools or the reason it failed, on one line that may wrap."""
    line = Text(status.state, STATE_STYLES.get(status.state, ""))
    if status.state == "connected":
        count = len(status.tools)
        line.append(f" · {count} tool{'s' if count != 1 else ''}")
        if status.tools:
            line.append(": " + ", ".join(short_tool_names(status.name, status.tools)), "dim")
    elif status.reason:
        line.append(f": {status.reason}")
    return line


def server_statuses(ctx: ChatContext) -> list[ServerStatus]:
    """The manager's view; servers all disabled never got one, so they are listed here."""
    if ctx.session.mcp is not None:
        return list(ctx.session.mcp.status())
    from agent.tools.mcp.manager import ServerStatus

    return [ServerStatus(name, "disabled") for name in ctx.session.settings.mcp_servers]


async def _mcp(ctx: ChatContext, arg: str) -> None:
    statuses = server_statuses(ctx)
    if not statuses:
        ctx.console.print(Text(NO_MCP, "yellow"))
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for status in statuses:
        grid.add_row(Text(quoted(status.name)), server_line(status))
    ctx.console.print(Padding(grid, (0, 0, 0, 2)))
    if any(s.state == "failed" for s in statuses):
        log = data_home() / "logs" / f"{ctx.session.id}.mcp.log"
        ctx.console.print(Text(f"  What the servers printed: {log}", "dim"))


# -- /share-traces -----------------------------------------------------------------------------


async def traces_dataset(settings: Settings) -> tuple[str, bool | None]:
    """The traces dataset's id and whether it is private (None: not created yet).

    Hub failures raise ToolError, worded to say what to do.
    """
    from agent.tools.hub.common import Target, call_hub, hf_api

    api = await asyncio.to_thread(hf_api, settings)  # imports huggingface_hub
    account = Target(what="your Hugging Face account")
    user = (await call_hub(settings, account, api.whoami))["name"]
    repo_id = settings.traces_repo.format(hf_user=user)
    target = Target(repo_id=repo_id, repo_type="dataset")
    return repo_id, await call_hub(settings, target, _private, api, repo_id)


def _private(api: Any, repo_id: str) -> bool | None:
    from huggingface_hub.errors import HfHubHTTPError

    try:
        return bool(api.repo_info(repo_id, repo_type="dataset").private)
    except HfHubHTTPError as exc:
        if getattr(exc.response, "status_code", None) == 404:
            return None
        raise


def sharing_state(settings: Settings) -> str:
    if not settings.share_traces:
        return "off (share_traces is false in your configuration)"
    if not find_hf_token(settings):
        return "off (no Hugging Face token)"
    return "on: each turn's trace is uploaded, secrets scrubbed"


def visibility_word(private: bool | None) -> str:
    if private is None:
        return "not created yet (it is created private on the first upload)"
    return "private" if private else "public: anyone can read it"


async def _show_sharing(ctx: ChatContext) -> None:
    settings = ctx.session.settings
    rows = [("sharing", sharing_state(settings))]
    if find_hf_token(settings):
        with ctx.console.status("Asking the Hub"):
            repo_id, private = await traces_dataset(settings)
        rows += [("dataset", repo_id), ("visibility", visibility_word(private))]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for key, value in rows:
        grid.add_row(key, value)
    ctx.console.print(Padding(grid, (0, 0, 0, 2)))
    if find_hf_token(settings):
        ctx.console.print(Text("  Change with /share-traces public or private.", "dim"))
    else:
        ctx.console.print(Text(no_token(), "yellow"))


async def _set_sharing(ctx: ChatContext, visibility: str) -> None:
    from agent.context.traces import TraceUploadError, set_visibility

    settings = ctx.session.settings
    with ctx.console.status("Asking the Hub"):
        repo_id, private = await traces_dataset(settings)
    if private is None:
        ctx.console.print(
            Text(f"{repo_id} does not exist yet: the first upload creates it, private.", "yellow")
        )
        return
    if private == (visibility == "private"):
        ctx.console.print(Text(f"· {repo_id} is already {visibility}", "dim"))
        return
    if visibility == "public":
        question = f"Make {repo_id} public? Anyone could then read every trace in it. [y/N] "
        if (await ctx.ask(question) or "").strip().lower() not in ("y", "yes"):
            ctx.console.print(Text(f"· {repo_id} stays private", "dim"))
            return
    try:
        await asyncio.to_thread(
            set_visibility,
            repo_id,
            token=find_hf_token(settings) or "",
            endpoint=settings.hf_endpoint,
            private=visibility == "private",
        )
    except TraceUploadError as exc:
        ctx.console.print(Text(f"Could not change {repo_id}: {exc}", "red"))
        return
    remember_visibility(settings, private=visibility == "private")
    ctx.console.print(Text(f"· {repo_id} is now {visibility}", "dim"))


def remember_visibility(settings: Settings, private: bool) -> None:
    """Later uploads (this session and the next) go to the dataset as the person left it."""
    from agent.cli.commands.user_config import set_setting
    from agent.config import user_config_path

    settings.traces_private = private
    set_setting(user_config_path(), "traces_private", private)


async def _share_traces(ctx: ChatContext, arg: str) -> None:
    if arg not in ("", "public", "private"):
        ctx.console.print(Text("Usage: /share-traces [public|private]", "yellow"))
        return
    if arg and not find_hf_token(ctx.session.settings):
        ctx.console.print(Text(no_token(), "yellow"))
        return
    try:
        await (_set_sharing(ctx, arg) if arg else _show_sharing(ctx))
    except ToolError as exc:
        ctx.console.print(Text(f"Could not ask the Hub: {exc}", "red"))


# -- a cloud job left running by Ctrl-C ----------------------------------------------------------


async def offer_job_cancel(ctx: ChatContext, interrupted: bool) -> None:
    """After Ctrl-C stopped following a job, ask whether the job should stop too.

    Called at the end of every request, so that a job left behind another way (a
    timeout) is forgotten rather than offered after some later Ctrl-C.
    """
    from agent.tools.jobs.follow import cancel_job, interrupted_job

    job = interrupted_job(ctx.session.tool_state)
    if job is None or not interrupted:
        return
    answer = await ctx.ask(f"Cancel job {job['job_id']} too? [y/N] ")
    if (answer or "").strip().lower() not in ("y", "yes"):
        ctx.console.print(Text(f"· job {job['job_id']} keeps running: {job['url']}", "dim"))
        return
    try:
        await cancel_job(ctx.session.settings, job["namespace"], job["job_id"])
    except ToolError as exc:
        ctx.console.print(Text(f"Could not cancel job {job['job_id']}: {exc}", "red"))
        return
    ctx.console.print(Text(f"· cancelled job {job['job_id']}", "dim"))


register(Command("mcp", "MCP servers: status and tools", _mcp))
register(
    Command(
        "share-traces",
        "where session traces are shared; make that dataset public or private",
        _share_traces,
        "[public|private]",
        lambda ctx: ["public", "private"],
    )
)
