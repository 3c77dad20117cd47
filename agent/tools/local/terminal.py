"""Foreground bash in the front end's own terminal (an editor's, over ACP).

Which commands go there: foreground ones without `--sandbox`. With the sandbox on,
commands keep running here, confined by bubblewrap, since the editor's terminal would
run them outside it; background jobs (`run_in_background`) stay here too, since they
outlive the tool call and feed the run watcher. The model gets the same view of the
output as from a local command: head and tail within the same limit, colour codes and
progress redraws cleaned, the exit code or the timeout named.

Only the variables that make a command non-interactive are sent with it, never our
environment: the editor's terminal has its own, and a key must not travel in the
protocol's messages (editors log them).
"""

from __future__ import annotations

from agent.tools.local import bash as sh
from agent.tools.local.output import clean_lines
from agent.tools.router import cap_output
from agent.tools.spec import CommandTerminal, ToolContext, ToolResult

# The editor keeps the last bytes of the output; enough for the head and tail shown.
OUTPUT_BYTES = 4 * sh.OUTPUT_LIMIT
QUIET = {
    "PYTHONUNBUFFERED": "1",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
}


def delegated(args: sh.BashArgs, ctx: ToolContext) -> CommandTerminal | None:
    """The front end's terminal, when this command is one to run there."""
    if ctx.terminal is None or args.run_in_background:
        return None
    if ctx.settings.sandbox != "off":
        return None
    return ctx.terminal


async def run_in_terminal(
    args: sh.BashArgs, ctx: ToolContext, terminal: CommandTerminal, limit: int = sh.OUTPUT_LIMIT
) -> ToolResult:
    """Run a command in the front end's terminal to its end or its timeout."""
    cwd = sh.work_dir(args, ctx)
    run = await terminal.run(
        ctx.tool_call_id, ["bash", "-c", args.command], cwd, QUIET, args.timeout, OUTPUT_BYTES
    )
    shown = clean_lines(run.output)
    if run.truncated:
        shown = "[... earlier output cut ...]\n" + shown
    notes = [cap_output(shown.rstrip("\n"), limit) or "(no output)"]
    if run.timed_out:
        notes.append(
            f"Command timed out after {args.timeout} s and was stopped. "
            "For long runs use run_in_background=true and poll with bash_output."
        )
        return ToolResult("\n\n".join(notes), is_error=True)
    if run.signal:
        notes.append(f"killed by signal {run.signal}")
        return ToolResult("\n\n".join(notes), is_error=True, data={"signal": run.signal})
    code = run.exit_code if run.exit_code is not None else 0
    if code != 0:
        notes.append(sh.exit_note(code))
    return ToolResult("\n\n".join(notes), is_error=code != 0, data={"exit_code": code})
