"""The ACP agent: the protocol's requests mapped onto ml-intern sessions.

One process serves one editor connection, which may hold several sessions. Each
session is built as the chat builds one (settings from every layer, the folder's own
files only when it is trusted), with the editor's working folder and MCP servers.
Approvals default to asking the editor; modes switch them as the chat's flags do.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError
from acp.agent.connection import AgentSideConnection
from acp.interfaces import Client
from acp.schema import (
    AgentCapabilities,
    AuthenticateResponse,
    AuthEnvVar,
    ClientCapabilities,
    EnvVarAuthMethod,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    SessionCapabilities,
    SessionInfo,
    SessionListCapabilities,
    SetSessionConfigOptionResponse,
    SetSessionModeResponse,
    Usage,
)

from agent.acp import content, models, settings_ui, slash, terminals
from agent.acp.framing import LIMIT, checked_input
from agent.acp.live import LiveSession
from agent.config import Settings
from agent.errors import AgentStop

log = logging.getLogger(__name__)
CLOSE_S = 10.0


class MlInternAgent:
    """What the editor talks to; `on_connect` hands it the client side of the connection."""

    def __init__(self, model: str | None = None, flags: dict[str, Any] | None = None) -> None:
        self.model = model
        self.flags = flags or {}  # the command line's settings, over every session's config
        self.client: Client | None = None
        self.client_caps = ClientCapabilities()
        self.sessions: dict[str, LiveSession] = {}

    def on_connect(self, conn: Client) -> None:
        self.client = conn

    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **kwargs: Any,
    ) -> InitializeResponse:
        self.client_caps = client_capabilities or ClientCapabilities()
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_info=Implementation(
                name="ml-intern", title="ml-intern", version=version("ml-intern")
            ),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                # Images are taken; a model that does not take them refuses the prompt,
                # saying so (the model is chosen per session, after this answer).
                prompt_capabilities=PromptCapabilities(
                    image=True, audio=False, embedded_context=True
                ),
                mcp_capabilities=McpCapabilities(http=True, sse=True),
                session_capabilities=SessionCapabilities(list=SessionListCapabilities()),
            ),
            auth_methods=self._auth_methods(),
        )

    def _auth_methods(self) -> list[Any]:
        """The provider key of the configured model, set in the environment or our .env."""
        names = self._missing_key(self._settings(Path.cwd())) or []
        if not names:
            return []
        return [
            EnvVarAuthMethod(
                type="env_var",
                id="env",
                name="API key",
                description=f"Set {' or '.join(names)} in the environment or "
                "~/.config/ml-intern/.env, then restart the agent.",
                vars=[AuthEnvVar(name=name, secret=True) for name in names],
            )
        ]

    async def authenticate(self, method_id: str, **kwargs: Any) -> AuthenticateResponse:
        if method_id != "env":
            raise RequestError.invalid_params({"message": f"no auth method {method_id!r}"})
        names = self._missing_key(self._settings(Path.cwd()))
        if names:
            raise RequestError.auth_required({"message": f"{' or '.join(names)} is not set"})
        return AuthenticateResponse()

    def _settings(self, cwd: Path) -> Settings:
        from agent.config import load_settings

        flags = {**self.flags, **({"model_name": self.model} if self.model else {})}
        try:
            return load_settings(cwd, flags)
        except AgentStop as stop:
            raise RequestError.invalid_params({"message": stop.message}) from None

    @staticmethod
    def _missing_key(settings: Settings) -> list[str] | None:
        from agent.core.model_ids import missing_key, resolve_model

        return missing_key(resolve_model(settings.model_name, settings))

    async def new_session(
        self, cwd: str, mcp_servers: list[Any] | None = None, **kwargs: Any
    ) -> NewSessionResponse:
        live = await self._open(cwd, mcp_servers, resume=None)
        return models.NewSessionWithModels(
            session_id=live.id,
            modes=settings_ui.modes(live),
            config_options=settings_ui.config_options(live),
            models=models.model_state(live),
        )

    async def load_session(
        self, cwd: str, session_id: str, mcp_servers: list[Any] | None = None, **kwargs: Any
    ) -> LoadSessionResponse:
        from agent.context.store import SessionNotFound

        try:
            live = await self._open(cwd, mcp_servers, resume=session_id, start=False)
        except SessionNotFound as exc:
            raise RequestError.resource_not_found(session_id) from exc
        await content.replay(live)
        live.start()
        return models.LoadSessionWithModels(
            modes=settings_ui.modes(live),
            config_options=settings_ui.config_options(live),
            models=models.model_state(live),
        )

    async def _open(
        self, cwd: str, mcp_servers: list[Any] | None, resume: str | None, start: bool = True
    ) -> LiveSession:
        from agent.core.runtime import open_session

        folder = Path(cwd)
        if not folder.is_absolute() or not folder.is_dir():
            raise RequestError.invalid_params({"message": f"cwd {cwd!r} is not a folder"})
        settings = self._settings(folder)
        if names := self._missing_key(settings):
            raise RequestError.auth_required(
                {"message": f"No API key for {settings.model_name}: set {' or '.join(names)}"}
            )
        settings.mcp_servers = {**settings.mcp_servers, **settings_ui.mcp_servers(mcp_servers)}
        try:
            session = await open_session(settings, cwd=folder, resume=resume)
        except AgentStop as stop:
            raise RequestError.invalid_params({"message": stop.message}) from None
        assert self.client is not None
        session.person_present = True  # the editor asks its user
        live = LiveSession(session, self.client)
        settings_ui.use_editor_files(live, self.client_caps)
        terminals.use_editor_terminal(live, self.client_caps)
        self.sessions[live.id] = live
        if start:
            live.start()
        update = settings_ui.commands_update(live)
        live.spawn(self.client.session_update(session_id=live.id, update=update))
        return live

    async def list_sessions(
        self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any
    ) -> ListSessionsResponse:
        import datetime

        from agent.context.resume import scan_sessions

        found, _ = scan_sessions(cwd=Path(cwd) if cwd else None)
        return ListSessionsResponse(
            sessions=[
                SessionInfo(
                    session_id=s.id,
                    cwd=s.cwd,
                    title=s.first_prompt[:80] or None,
                    updated_at=datetime.datetime.fromtimestamp(s.updated, datetime.UTC).isoformat(),
                )
                for s in found
            ]
        )

    def _live(self, session_id: str) -> LiveSession:
        if (live := self.sessions.get(session_id)) is None:
            raise RequestError.invalid_params({"message": f"unknown session {session_id!r}"})
        return live

    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        live = self._live(session_id)
        ledger = live.session.usage
        before = (ledger.input_tokens, ledger.output_tokens, ledger.cached_tokens)
        text, images = content.prompt_request(prompt)
        if (command := slash.wanted(text)) is not None and not images:
            end = await slash.run(live, command, text)
            if command.name == "effort":  # the editor's picker shows the new value
                await settings_ui.announce_options(live)
        else:
            end = await live.prompt(text, images)
        if end.refused:
            raise RequestError.invalid_params({"message": end.error})
        if end.error and end.stop_reason == "end_turn":
            raise RequestError.internal_error({"message": end.error})
        spent_in = ledger.input_tokens - before[0]
        spent_out = ledger.output_tokens - before[1]
        usage = Usage(
            input_tokens=spent_in,
            output_tokens=spent_out,
            total_tokens=spent_in + spent_out,
            cached_read_tokens=ledger.cached_tokens - before[2],
        )
        return PromptResponse(stop_reason=end.stop_reason, usage=usage)  # type: ignore[arg-type]

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        if live := self.sessions.get(session_id):
            live.cancel()

    async def set_session_mode(
        self, session_id: str, mode_id: str, **kwargs: Any
    ) -> SetSessionModeResponse:
        await settings_ui.set_mode(self._live(session_id), mode_id)
        return SetSessionModeResponse()

    async def set_session_model(self, session_id: str, model_id: str, **kwargs: Any) -> None:
        """`session/set_model` (unstable, see models.py): as the model config option."""
        await settings_ui.set_option(self._live(session_id), "model", model_id)

    async def set_config_option(
        self, config_id: str, session_id: str, value: str | bool, **kwargs: Any
    ) -> SetSessionConfigOptionResponse:
        live = self._live(session_id)
        await settings_ui.set_option(live, config_id, value)
        return SetSessionConfigOptionResponse(config_options=settings_ui.config_options(live))

    async def close_all(self) -> None:
        for live in list(self.sessions.values()):
            await live.close()
        self.sessions.clear()


async def _serve(protocol_out: int, model: str | None, flags: dict[str, Any]) -> None:
    from acp.stdio import stdio_streams

    from agent.core.llm import preload_in_background

    preload_in_background()  # litellm loads while the editor sets the session up
    agent = MlInternAgent(model, flags)
    stdout, sys.stdout = sys.stdout, os.fdopen(protocol_out, "w", closefd=False)
    try:
        raw, writer = await stdio_streams(limit=LIMIT)
    finally:
        sys.stdout = stdout
    reader = checked_input(raw, writer)
    connection = AgentSideConnection(agent, writer, reader, listening=False)  # type: ignore[arg-type]
    models.route_set_model(connection, agent)
    try:
        await connection.listen()
    finally:
        await asyncio.shield(connection.close())
        try:  # leaving is bounded, whatever a session's servers or uploads do
            await asyncio.wait_for(agent.close_all(), CLOSE_S)
        except TimeoutError:
            log.warning("sessions still closing after %ss: leaving anyway", CLOSE_S)


def serve(protocol_out: int, model: str | None, flags: dict[str, Any] | None = None) -> int:
    """Serve until the editor closes stdin; returns the exit code."""
    from agent.cli.stopping import run_to_end

    run_to_end(_serve(protocol_out, model, flags or {}))
    return 0
