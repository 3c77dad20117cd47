"""`ml-intern acp`: ml-intern as an Agent Client Protocol agent for editors.

The editor starts this process and speaks newline-delimited JSON-RPC over its
stdin and stdout. stdout belongs to the protocol alone: the entry moves the real
stdout aside for it and points file descriptor 1 (and `sys.stdout`) at stderr, so a
stray print, a library's banner or a child process cannot corrupt the stream.
Logs go to stderr and the log file. Closing stdin ends the process.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from agent.cli.options import AllowNetwork, SandboxMode

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


@app.command(
    epilog="Editors start it themselves: see `Editors (ACP)` in the README for Zed, "
    "JetBrains and Neovim."
)
def acp(
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="The model new sessions start with.")
    ] = None,
    sandbox: SandboxMode = None,
    allow_network: AllowNetwork = False,
) -> None:
    """Serve the Agent Client Protocol over stdin/stdout (for Zed, JetBrains, Neovim, ...)."""
    flags = {
        key: value
        for key, value in {
            "sandbox": sandbox.value if sandbox else None,
            "allow_network": True if allow_network else None,
        }.items()
        if value is not None
    }
    protocol_out = guard_stdout()
    from agent.acp.server import serve
    from agent.cli.logs import log_to_file

    log_to_file()
    warnings_to_stderr()
    raise typer.Exit(serve(protocol_out, model, flags))


def warnings_to_stderr() -> None:
    """Warnings and errors also on stderr (editors show it in their agent log), scrubbed
    of secrets by the same filter as the log file."""
    import logging

    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("ml-intern: %(levelname)s %(name)s: %(message)s"))
    for file_handler in root.handlers:
        if file_handler.get_name() == "ml-intern-file":
            for scrub in file_handler.filters:
                handler.addFilter(scrub)
    root.addHandler(handler)


def guard_stdout() -> int:
    """A private copy of stdout for the protocol; fd 1 and `sys.stdout` now go to stderr."""
    sys.stdout.flush()
    protocol_out = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol_out
