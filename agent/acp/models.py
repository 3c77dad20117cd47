"""The protocol's model picker: `models` in the session answers and `session/set_model`.

The SDK (0.12) no longer routes these: the protocol marks them unstable, beside the
`model` config option that newer editors use. Editors that still read `models` and send
`session/set_model` (Zed's model selector among them) get them here, in the protocol
schema's shape; the switch itself is the one behind the config option and the chat's
/model (the model is asked first; a model without its key is refused, saying which
variable to set).
"""

from __future__ import annotations

from typing import Annotated, Any

from acp.schema import BaseModel, LoadSessionResponse, NewSessionResponse
from acp.utils import normalize_result
from pydantic import Field

from agent.acp import settings_ui
from agent.acp.live import LiveSession

SET_MODEL = "session/set_model"


class ModelInfo(BaseModel):
    model_id: Annotated[str, Field(alias="modelId")]
    name: str
    description: str | None = None


class SessionModelState(BaseModel):
    available_models: Annotated[list[ModelInfo], Field(alias="availableModels")]
    current_model_id: Annotated[str, Field(alias="currentModelId")]


class NewSessionWithModels(NewSessionResponse):
    models: SessionModelState | None = None


class LoadSessionWithModels(LoadSessionResponse):
    models: SessionModelState | None = None


class SetSessionModelRequest(BaseModel):
    session_id: Annotated[str, Field(alias="sessionId")]
    model_id: Annotated[str, Field(alias="modelId")]
    field_meta: Annotated[dict[str, Any] | None, Field(alias="_meta")] = None


def model_state(live: LiveSession) -> SessionModelState:
    """The session's model and the others it may switch to, as the config option lists them."""
    current = live.session.settings.model_name
    names = dict.fromkeys([current, *settings_ui.settings_models(live)])
    return SessionModelState(
        available_models=[ModelInfo(model_id=name, name=name) for name in names],
        current_model_id=current,
    )


def route_set_model(connection: Any, agent: Any) -> None:
    """Answer `session/set_model` with `agent.set_session_model`, on the SDK's router."""
    router = connection._conn._handler  # built inside the connection; no public hook yet
    router.route_request(
        SET_MODEL, SetSessionModelRequest, agent, "set_session_model", adapt_result=normalize_result
    )
