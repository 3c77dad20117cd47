"""/plugins: the plugins this chat loaded and what each brings."""

from __future__ import annotations

from rich.text import Text

from agent.cli.slash.commands import ChatContext, Command, print_rows, register


async def _plugins(ctx: ChatContext, arg: str) -> None:
    from agent.cli.commands.plugins import LABELS, contents

    plugins = ctx.session.extensions.plugins
    if not plugins:
        ctx.console.print(
            Text("No plugins. Install one with `ml-intern plugins add SOURCE`.", "dim")
        )
        return
    rows = []
    for plugin in plugins:
        rows.append((plugin.name, f"{plugin.description} [{plugin.root}]".lstrip()))
        for key, items in contents(plugin).items():
            if items:
                rows.append(("", f"{LABELS[key]}: {', '.join(items)}"))
    print_rows(ctx, rows)


register(Command("plugins", "List the plugins: what each adds and where it lives.", _plugins))
