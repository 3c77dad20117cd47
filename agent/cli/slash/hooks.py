"""/hooks: the lifecycle hooks this chat runs, by event, with their matcher and source."""

from __future__ import annotations

from rich.text import Text

from agent.cli.slash.commands import ChatContext, Command, print_rows, register


async def _hooks(ctx: ChatContext, arg: str) -> None:
    hooks = ctx.session.hooks.all()
    if not hooks:
        off = ctx.session.settings.disable_all_hooks
        ctx.console.print(
            Text(
                "Hooks are off for this run (--safe-mode or disableAllHooks)."
                if off
                else "No hooks. Add a `hooks` block (Claude Code's schema) to "
                "~/.config/ml-intern/cli_agent_config.json; see README, Hooks.",
                "dim",
            )
        )
        return
    rows = [
        (
            f"{hook.event} {hook.matcher or '*'}",
            f"{hook.command} [{hook.source}, {hook.timeout_s:g} s]",
        )
        for hook in hooks
    ]
    print_rows(ctx, rows)


register(Command("hooks", "List the hooks that run: event, matcher, command, source.", _hooks))
