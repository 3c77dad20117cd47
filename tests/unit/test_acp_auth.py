"""ACP authentication: the provider key from the environment or the user's .env."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from acp import RequestError

from agent.acp.server import MlInternAgent
from agent.paths import user_dotenv_path

AUTH_REQUIRED = -32000


def test_a_missing_key_is_named_and_a_key_in_the_user_env_file_is_accepted(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ML_INTERN_MODEL", "openai/test-model")
    agent = MlInternAgent()

    async def without_key() -> None:
        hello = await agent.initialize(protocol_version=1)
        (method,) = hello.auth_methods
        assert (method.id, [v.name for v in method.vars]) == ("env", ["OPENAI_API_KEY"])
        with pytest.raises(RequestError) as refused:
            await agent.authenticate(method_id="env")
        assert refused.value.code == AUTH_REQUIRED
        with pytest.raises(RequestError) as no_session:
            await agent.new_session(cwd=str(isolated_env), mcp_servers=[])
        assert no_session.value.code == AUTH_REQUIRED
        assert "OPENAI_API_KEY" in str(no_session.value.data)
        with pytest.raises(RequestError) as unknown:
            await agent.authenticate(method_id="oauth")
        assert unknown.value.code == -32602

    asyncio.run(without_key())
    user_dotenv_path().parent.mkdir(parents=True, exist_ok=True)
    user_dotenv_path().write_text("OPENAI_API_KEY=sk-from-dotenv\n")
    asyncio.run(agent.authenticate(method_id="env"))
    assert asyncio.run(agent.initialize(protocol_version=1)).auth_methods == []
