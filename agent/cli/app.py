"""`ml-intern`: parse flags, build Settings, pick a front end, map errors to exit codes.

Only this edge turns known errors into one readable line; with ML_INTERN_DEBUG=1
they re-raise. Heavy libraries are imported by the front ends, not here.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.core.errors import AgentStop

if TYPE_CHECKING:
    from agent.config import Settings

ADVANCED = "Advanced"


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    stream_json = "stream-json"


class ApprovalMode(StrEnum):
    ask = "ask"
    auto = "auto"
    deny = "deny"


class Sandbox(StrEnum):
    off = "off"
    workspace_write = "workspace-write"


class Effort(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


def make_app(help: str | None = None) -> typer.Typer:
    """A typer app as every ml-intern command has it: -h, plain fast help, no tracebacks
    with local variables (they may hold secrets), no shell-completion options."""
    return typer.Typer(
        help=help,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        rich_markup_mode=None,
    )


app = make_app()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"ml-intern {version('ml-intern')}")
        raise typer.Exit()


@app.command(
    epilog="More: `ml-intern sessions list|export ID` (saved sessions), "
    "`ml-intern mcp list|add|remove` (MCP servers). In the chat, /help lists the commands."
)
def run(
    prompt: Annotated[
        str | None,
        typer.Argument(help="Run this request headless and exit. Without it: interactive chat."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model id, e.g. anthropic/claude-sonnet-4-5, "
            "openai/gpt-5, ollama/llama3.1. Env: ML_INTERN_MODEL.",
        ),
    ] = None,
    max_iterations: Annotated[
        int | None,
        typer.Option("--max-iterations", "-n", help="Model calls allowed per turn (-1: no limit)."),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--output-format", "-o", help="Headless output: text, json or stream-json."),
    ] = OutputFormat.text,
    yolo: Annotated[
        bool, typer.Option("--yolo", help="Approve every tool call without asking.")
    ] = False,
    max_budget_usd: Annotated[
        float | None,
        typer.Option("--max-budget-usd", help="Stop before spending more than this (USD)."),
    ] = None,
    no_stream: Annotated[
        bool,
        typer.Option(
            "--no-stream", help="Ask the model for whole answers.", rich_help_panel=ADVANCED
        ),
    ] = False,
    approval_mode: Annotated[
        ApprovalMode | None,
        typer.Option(
            "--approval-mode",
            help="For calls that need approval: ask, auto (headless default) or deny.",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    sandbox: Annotated[
        Sandbox | None,
        typer.Option(
            "--sandbox",
            help="Confine bash: off (default) or workspace-write "
            "(bubblewrap: only the working and temp dirs writable, no network).",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    sandbox_tools: Annotated[
        bool,
        typer.Option(
            "--sandbox-tools",
            help="Offer a remote GPU sandbox (a private HF Space): "
            "after sandbox_create, bash/read/write/edit run there.",
            rich_help_panel=ADVANCED,
        ),
    ] = False,
    allow_network: Annotated[
        bool,
        typer.Option(
            "--allow-network",
            help="With --sandbox workspace-write: keep the network.",
            rich_help_panel=ADVANCED,
        ),
    ] = False,
    effort: Annotated[
        Effort | None,
        typer.Option(
            "--effort",
            help="Reasoning effort for models that support it.",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            "-r",
            help="Resume a saved session by id (or unique prefix); "
            "without an id: choose one (chat) or list them (headless).",
        ),
    ] = None,
    continue_: Annotated[
        bool,
        typer.Option("--continue", "-c", help="Resume the latest session of this directory."),
    ] = False,
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    """ml-intern: an ML engineer in your terminal.

    Run `ml-intern` to chat, or `ml-intern "fine-tune a small model on my dataset"` to run
    one request headless. Piped input is added to the prompt.
    """
    prompt = _with_stdin(prompt)
    headless = prompt is not None
    flags = {
        "model_name": model,
        "max_iterations": max_iterations,
        "stream": False if no_stream else None,
        "yolo": True if yolo else None,
        "max_budget_usd": max_budget_usd,
        "approval_mode": approval_mode.value if approval_mode else None,
        "effort": effort.value if effort else None,
        "sandbox": sandbox.value if sandbox else None,
        "allow_network": True if allow_network else None,
        "tool_runtime": "sandbox" if sandbox_tools else None,
    }
    from agent.cli.logs import log_to_file
    from agent.cli.sessions import resolve_resume
    from agent.config import load_settings

    log_to_file()
    settings = load_settings(Path.cwd(), flags)
    resume = resolve_resume(resume, continue_, settings, model_flag=model, headless=headless)
    if headless:
        headless_approvals(settings, asked_for=approval_mode)
        from agent.core.llm import preload_in_background

        preload_in_background()  # litellm loads while the rest of the agent is imported
        from agent.cli.headless import run_headless_blocking

        raise typer.Exit(run_headless_blocking(settings, str(prompt), output_format.value, resume))
    from agent.cli.interactive import run_interactive

    raise typer.Exit(run_interactive(settings, resume=resume))


def headless_approvals(settings: Settings, asked_for: ApprovalMode | None) -> None:
    """Nobody can answer a question in a headless run: it approves (as the original did)
    unless configured or told to deny."""
    from agent.core.errors import UsageError

    if asked_for == ApprovalMode.ask:
        raise UsageError(
            "--approval-mode ask needs the chat: headless runs use auto (the default) or deny."
        )
    if settings.approval_mode == "ask":
        settings.approval_mode = "auto"


def _with_stdin(prompt: str | None) -> str | None:
    """Piped input joins the prompt (or is the prompt), as `llm` and `claude -p` do."""
    import select
    import stat

    stdin = sys.stdin
    try:
        if stdin is None or stdin.closed or stdin.isatty():
            return prompt
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError):  # no real stdin (embedded, or under a test runner)
        return prompt
    if stat.S_ISFIFO(mode) and not select.select([stdin], [], [], 0.2)[0]:
        return prompt
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
        return prompt
    piped = stdin.read().strip()
    if not piped:
        return prompt
    return f"{prompt}\n\n{piped}" if prompt else piped


SUBCOMMANDS = {"sessions": "agent.cli.sessions", "mcp": "agent.cli.mcp_command"}


def _bare_resume(argv: list[str]) -> list[str]:
    """`--resume` without an id means "choose one": give the option its marker value."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg in ("--resume", "-r"):
            from agent.cli.sessions import PICK, is_session_id

            following = out[i + 1] if i + 1 < len(out) else None
            if following is None or following.startswith("-") or not is_session_id(following):
                out[i] = f"--resume={PICK}"
    return out


def main(argv: list[str] | None = None) -> None:
    """Console entry point; `argv` lets tests drive it in-process.

    A real run ends with `os._exit` once output is flushed: everything the session
    owns is closed by then, and letting the interpreter tear down litellm's module
    graph costs about a second and can deadlock when litellm's background warm-up
    is still importing.
    """
    code = run_cli(sys.argv[1:] if argv is None else argv)
    if argv is None and "litellm" in sys.modules:
        from agent.cli.stopping import exit_now

        exit_now(code)  # a closed stdout cannot fail this flush
    sys.exit(code)


def run_cli(argv: list[str]) -> int:
    """Run the command line and return its exit code; known errors become one line."""
    import importlib

    debug = bool(os.environ.get("ML_INTERN_DEBUG"))
    try:
        if argv and argv[0] in SUBCOMMANDS:
            sub = importlib.import_module(SUBCOMMANDS[argv[0]]).app
            sub(args=argv[1:], prog_name=f"ml-intern {argv[0]}")
        else:
            app(args=_bare_resume(list(argv)), prog_name="ml-intern")
    except SystemExit as done:  # typer reports success, usage errors and Exit(n) this way
        return done.code if isinstance(done.code, int) else int(done.code is not None)
    except AgentStop as stop:
        if debug:
            raise
        typer.echo(f"ml-intern: {stop.message}", err=True)
        return stop.exit_code
    except KeyboardInterrupt:
        return 130
    return 0
