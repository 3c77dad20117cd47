"""`ml-intern`: parse flags, build Settings, pick a front end, map errors to exit codes.

Only this edge turns known errors into one readable line; with ML_INTERN_DEBUG=1
they re-raise. Heavy libraries are imported by the front ends, not here.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import typer

from agent.cli import options as opt
from agent.cli.options import ApprovalMode, OutputFormat, RunOptions
from agent.cli.visible import quoted, visible
from agent.errors import AgentStop

if TYPE_CHECKING:
    from agent.config import Settings


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


@app.command(
    epilog="More: `ml-intern sessions list|export ID` (saved sessions), "
    "`ml-intern mcp list|add|remove` (MCP servers), "
    "`ml-intern skills list|add|remove` (Agent Skills), "
    "`ml-intern plugins add|list|remove` (Claude Code plugins), "
    "`ml-intern acp` (serve editors over the Agent Client Protocol), "
    "`ml-intern runs [ID] [--json|--csv]` (background runs and their metrics), "
    "`ml-intern trust [DIR]` (let a folder's own configs/, .env, AGENTS.md and CLAUDE.md count). "
    "In the chat, /help lists the commands."
)
def run(
    prompt: opt.Prompt = None,
    print_mode: opt.PrintMode = False,
    model: opt.Model = None,
    max_iterations: opt.MaxIterations = None,
    output_format: opt.Format = OutputFormat.text,
    yolo: opt.Yolo = False,
    max_budget_usd: opt.Budget = None,
    goal: opt.GoalCondition = None,
    max_turns: opt.MaxTurns = None,
    max_minutes: opt.MaxMinutes = None,
    price_per_mtok: opt.PricePerMtok = None,
    no_stream: opt.NoStream = False,
    approval_mode: opt.Approval = None,
    sandbox: opt.SandboxMode = None,
    sandbox_tools: opt.SandboxTools = False,
    allow_network: opt.AllowNetwork = False,
    effort: opt.EffortLevel = None,
    safe_mode: opt.SafeMode = False,
    resume: opt.Resume = None,
    continue_: opt.Continue = False,
    no_wait: opt.NoWait = False,
    wait_limit: opt.WaitLimit = None,
    version: opt.Version = None,
) -> None:
    """ml-intern: an ML engineer in your terminal.

    Run `ml-intern` to chat, or `ml-intern "fine-tune a small model on my dataset"` to run
    one request headless. Piped input is added to the prompt.
    """
    given = RunOptions(
        prompt=_with_stdin(prompt),
        print_mode=print_mode,
        model=model,
        max_iterations=max_iterations,
        output_format=output_format,
        yolo=yolo,
        max_budget_usd=max_budget_usd,
        price_per_mtok=price_per_mtok,
        no_stream=no_stream,
        approval_mode=approval_mode,
        sandbox=sandbox,
        sandbox_tools=sandbox_tools,
        allow_network=allow_network,
        effort=effort,
        safe_mode=safe_mode,
        resume=resume,
        continue_=continue_,
        goal=goal,
        max_turns=max_turns,
        max_minutes=max_minutes,
        no_wait=no_wait,
        wait_limit=wait_limit,
    )
    raise typer.Exit(start(given))


def start(given: RunOptions) -> int:
    """Settings from every layer (the folder's own files only if trusted), then a front end.

    A headless run with json output that stops before it begins still prints its result."""
    started = time.monotonic()
    try:
        return _start(given)
    except AgentStop as stop:
        headless = given.prompt is not None or given.goal is not None
        if headless and given.output_format.value != "text":
            from agent.cli.headless import write_early_result

            write_early_result(stop, started)
        raise


def _start(given: RunOptions) -> int:
    from agent.cli.commands.sessions import require_session, resolve_resume
    from agent.cli.commands.trust import settle_trust
    from agent.cli.logs import log_to_file
    from agent.config import load_settings

    if given.goal is not None and not given.goal.strip():
        from agent.errors import UsageError

        raise UsageError('--goal is empty: say what must hold, e.g. --goal "the tests pass"')
    headless = given.prompt is not None or given.goal is not None
    if given.print_mode and not headless:
        from agent.errors import UsageError

        raise UsageError('-p needs a prompt: ml-intern -p "...", or pipe one in')
    if given.prompt is not None and not given.prompt.strip():
        from agent.errors import UsageError

        raise UsageError(
            'the prompt is empty: say what to do (ml-intern "..."), or run ml-intern alone to chat'
        )
    flags = given.settings_layer()
    require_session(given.resume)
    if not headless:
        need_terminal()
    log_to_file()
    settle_trust(Path.cwd(), ask=not headless)
    settings = load_settings(Path.cwd(), flags, warn=_warn)
    check_model_id(settings, model_flag=given.model)
    resume = resolve_resume(
        given.resume, given.continue_, settings, model_flag=given.model, headless=headless
    )
    if not headless:
        from agent.cli.chat.interactive import run_interactive

        return run_interactive(settings, resume=resume)
    headless_approvals(settings, asked_for=given.approval_mode)
    check_key(settings)
    from agent.core.llm import preload_in_background

    preload_in_background()  # litellm loads while the rest of the agent is imported
    from agent.cli.headless import run_headless_blocking

    output_format = given.output_format.value
    return run_headless_blocking(
        settings, given.prompt or "", output_format, resume, goal=given.goal
    )


def need_terminal() -> None:
    """The chat reads a person's keys: without a terminal (`< /dev/null`, a pipe that
    came empty, a cron job) there is nobody to talk to, so say how to run instead."""
    from agent.errors import UsageError

    if not _is_terminal(sys.stdin):
        raise UsageError(
            "no terminal to chat in and no prompt to run: "
            'give one (ml-intern "..." or pipe it in), or run ml-intern in a terminal'
        )


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except ValueError:  # closed
        return False


def _warn(line: str) -> None:
    typer.echo(f"ml-intern: {quoted(line)}", err=True)  # may quote a config file's keys


def check_model_id(settings: Settings, model_flag: str | None) -> None:
    """An id that cannot work stops the run before anything starts, saying where it came from."""
    from agent.core.model_ids import id_problem
    from agent.errors import UsageError

    if model_flag is not None:
        source = "--model"
    else:
        source = "ML_INTERN_MODEL" if os.environ.get("ML_INTERN_MODEL") else "model_name"
    ids = [(source, settings.model_name), ("research_model", settings.research_model)]
    for source, model in ids:
        if model is not None and (problem := id_problem(model)):
            raise UsageError(f"{source} {model!r}: {problem}")


def check_key(settings: Settings) -> None:
    """A missing key stops a headless run at once, before MCP servers start or litellm
    loads, for the providers whose key variable is known; litellm checks the rest later."""
    from agent.core.model_ids import missing_key, no_key_message, resolve_model
    from agent.errors import AuthError

    target = resolve_model(settings.model_name, settings)
    if names := missing_key(target):
        raise AuthError(no_key_message(target, names))


def headless_approvals(settings: Settings, asked_for: ApprovalMode | None) -> None:
    """Nobody can answer a question in a headless run: it approves (as the original did)
    unless configured or told to deny."""
    from agent.errors import UsageError

    if asked_for == ApprovalMode.ask:
        raise UsageError(
            "--approval-mode ask needs the chat: headless runs use auto (the default) or deny."
        )
    if settings.approval_mode == "ask":
        settings.approval_mode = "auto"


STDIN_QUIET_S = 1.0  # a pipe silent this long gets a line saying it is being waited for


def _with_stdin(prompt: str | None) -> str | None:
    """Piped input joins the prompt (or is the prompt), as `llm` and `claude -p` do.

    A pipe is read to its end however long its writer takes (`pytest | ml-intern "why?"`);
    when nothing has come after a moment, a line on stderr says what it waits for.
    """
    import select
    import stat

    stdin = sys.stdin
    try:
        if stdin is None or stdin.closed or stdin.isatty():
            return prompt
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError):  # no real stdin (embedded, or under a test runner)
        return prompt
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
        return prompt
    if stat.S_ISFIFO(mode) and not select.select([stdin], [], [], STDIN_QUIET_S)[0]:
        print(
            "ml-intern: reading the piped input until it ends (< /dev/null to go without)",
            file=sys.stderr,
            flush=True,
        )
    piped = stdin.read().strip()
    if not piped:
        return prompt
    return f"{prompt}\n\n{piped}" if prompt else piped


SUBCOMMANDS = {
    "sessions": "agent.cli.commands.sessions",
    "mcp": "agent.cli.commands.mcp_servers",
    "trust": "agent.cli.commands.trust",
    "skills": "agent.cli.commands.skills",
    "plugins": "agent.cli.commands.plugins",
    "acp": "agent.acp.command",
    "runs": "agent.cli.commands.runs",
}


def main(argv: list[str] | None = None) -> None:
    """Console entry point; `argv` lets tests drive it in-process.

    A real run ends with `os._exit` once output is flushed: everything the session
    owns is closed by then, and letting the interpreter tear down litellm's module
    graph costs about a second and can deadlock when litellm's background warm-up
    is still importing; and a worker thread still waiting on the network (an
    abandoned upload) would hold a normal exit without limit.
    """
    from agent.cli.stopping import exit_now, threads_left

    code = run_cli(sys.argv[1:] if argv is None else argv)
    if argv is None and ("litellm" in sys.modules or threads_left()):
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
            app(args=opt.resume_marked(list(argv)), prog_name="ml-intern")
    except SystemExit as done:  # typer reports success, usage errors and Exit(n) this way
        return done.code if isinstance(done.code, int) else int(done.code is not None)
    except AgentStop as stop:
        if debug:
            raise
        typer.echo(f"ml-intern: {visible(stop.message)}", err=True)  # may quote paths, values
        return stop.exit_code
    except KeyboardInterrupt:
        return 130
    return 0
