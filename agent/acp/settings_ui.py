"""Modes, config options, client MCP servers and the command list of an ACP session.

Modes are the chat's approval settings: `ask` asks the editor before anything that
needs approval, `auto` approves it, `yolo` approves everything without a question,
`deny` refuses what would need approval. Config options: the mode, the model and
the reasoning effort.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acp import RequestError
from acp.interfaces import Client
from acp.schema import (
    AvailableCommand,
    AvailableCommandInput,
    AvailableCommandsUpdate,
    ClientCapabilities,
    ConfigOptionUpdate,
    CurrentModeUpdate,
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SessionMode,
    SessionModeState,
    UnstructuredCommandInput,
)

from agent.acp import slash
from agent.acp.live import LiveSession
from agent.config import McpServer

MODES = {
    "ask": ("Ask", "Ask before commands and edits that need approval."),
    "auto": ("Auto", "Approve what would need approval, except spending beyond the budget."),
    "yolo": ("Yolo", "Approve every tool call without asking."),
    "deny": ("Deny", "Refuse every call that would need approval."),
}
EFFORTS = ("default", "low", "medium", "high")


def current_mode(live: LiveSession) -> str:
    settings = live.session.settings
    return "yolo" if settings.yolo else settings.approval_mode


def modes(live: LiveSession) -> SessionModeState:
    return SessionModeState(
        current_mode_id=current_mode(live),
        available_modes=[
            SessionMode(id=key, name=name, description=text) for key, (name, text) in MODES.items()
        ],
    )


def config_options(live: LiveSession) -> list[Any]:
    settings = live.session.settings
    models = dict.fromkeys([settings.model_name, *settings_models(live)])
    return [
        _select("mode", "Mode", "mode", current_mode(live), {k: v[0] for k, v in MODES.items()}),
        _select("model", "Model", "model", settings.model_name, {m: m for m in models}),
        _select(
            "effort",
            "Reasoning effort",
            "thought_level",
            settings.effort or "default",
            {e: e.capitalize() for e in EFFORTS},
        ),
    ]


def settings_models(live: LiveSession) -> list[str]:
    """Models offered besides the current one: the research model, if one is set."""
    research = live.session.settings.research_model
    return [research] if research else []


def _select(
    key: str, name: str, category: str, value: str, choices: dict[str, str]
) -> SessionConfigOptionSelect:
    return SessionConfigOptionSelect(
        type="select",
        id=key,
        name=name,
        category=category,  # type: ignore[arg-type]
        current_value=value,
        options=[SessionConfigSelectOption(value=v, name=n) for v, n in choices.items()],
    )


async def set_mode(live: LiveSession, mode_id: str) -> None:
    if mode_id not in MODES:
        raise RequestError.invalid_params({"message": f"no mode {mode_id!r}: {', '.join(MODES)}"})
    settings = live.session.settings
    settings.yolo = mode_id == "yolo"
    settings.approval_mode = "auto" if mode_id == "yolo" else mode_id  # type: ignore[assignment]
    await live.client.session_update(
        session_id=live.id,
        update=CurrentModeUpdate(session_update="current_mode_update", current_mode_id=mode_id),
    )


async def set_option(live: LiveSession, config_id: str, value: str | bool) -> None:
    settings = live.session.settings
    if config_id == "mode":
        await set_mode(live, str(value))
    elif config_id == "model":
        await live.switch_model(str(value))
    elif config_id == "effort":
        if value not in EFFORTS:
            raise RequestError.invalid_params({"message": f"effort is one of {', '.join(EFFORTS)}"})
        settings.effort = None if value == "default" else value  # type: ignore[assignment]
    else:
        raise RequestError.invalid_params({"message": f"no config option {config_id!r}"})
    await announce_options(live)


async def announce_options(live: LiveSession) -> None:
    """The options' current values, for the editor's pickers."""
    await live.client.session_update(
        session_id=live.id,
        update=ConfigOptionUpdate(
            session_update="config_option_update", config_options=config_options(live)
        ),
    )


def mcp_servers(servers: list[Any] | None) -> dict[str, McpServer]:
    """The editor's MCP servers in our config's shape, connected like our own."""
    found: dict[str, McpServer] = {}
    for server in servers or []:
        kind = getattr(server, "type", None)
        if kind in ("http", "sse"):
            headers = {h.name: h.value for h in server.headers}
            found[server.name] = McpServer(
                transport="streamable-http" if kind == "http" else "sse",
                url=server.url,
                headers=headers,
            )
        elif getattr(server, "command", None):
            env = {e.name: e.value for e in server.env}
            found[server.name] = McpServer(
                transport="stdio", command=server.command, args=list(server.args), env=env
            )
    return found


def commands_update(live: LiveSession) -> AvailableCommandsUpdate:
    """The chat's commands that work here (see slash.py), the skills and the custom
    commands: what the person can start a prompt with (`/name ...`)."""
    session = live.session
    commands: list[AvailableCommand] = [
        AvailableCommand(
            name=name,
            description=command.help,
            input=AvailableCommandInput(root=UnstructuredCommandInput(hint=command.usage))
            if command.usage
            else None,
        )
        for name, command in slash.commands().items()
    ]
    commands += [
        AvailableCommand(
            name=skill.name,
            description=skill.description or "Skill",
            input=AvailableCommandInput(root=UnstructuredCommandInput(hint="what to do")),
        )
        for skill in session.skills.skills.values()
    ]
    commands += [
        AvailableCommand(
            name=name,
            description=command.description or "Custom command",
            input=AvailableCommandInput(
                root=UnstructuredCommandInput(hint=command.argument_hint or "arguments")
            ),
        )
        for name, command in session.commands.commands.items()
    ]
    return AvailableCommandsUpdate(
        session_update="available_commands_update", available_commands=commands
    )


class EditorFiles:
    """File text through the editor (`fs/read_text_file`, `fs/write_text_file`): the model
    reads unsaved buffers, and its changes land in the editor, which shows them as diffs."""

    def __init__(self, client: Client, session_id: str) -> None:
        self.client, self.session_id = client, session_id

    async def read_text(self, path: Path) -> str:
        answer = await self.client.read_text_file(session_id=self.session_id, path=str(path))
        return answer.content

    async def write_text(self, path: Path, content: str) -> None:
        await self.client.write_text_file(
            session_id=self.session_id, path=str(path), content=content
        )


def use_editor_files(live: LiveSession, caps: ClientCapabilities) -> None:
    """Delegate file text to the editor when it offers both reading and writing."""
    fs = caps.fs
    if fs is not None and fs.read_text_file and fs.write_text_file:
        live.session.files = EditorFiles(live.client, live.id)
