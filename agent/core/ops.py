"""Operations: the only way a front end drives the loop, through one asyncio queue."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


class UserInput(BaseModel):
    type: Literal["user_input"] = "user_input"
    text: str
    # Images sent with the request as they are (an editor's pasted image): `image_url` parts.
    images: list[dict[str, Any]] = []


class Approval(BaseModel):
    type: Literal["approval"] = "approval"
    tool_call_id: str
    decision: Literal["approve", "deny", "always"]
    feedback: str = ""


class Interrupt(BaseModel):
    type: Literal["interrupt"] = "interrupt"


class Compact(BaseModel):
    type: Literal["compact"] = "compact"
    instructions: str = ""


class Undo(BaseModel):
    type: Literal["undo"] = "undo"
    restore_files: bool = False  # also put back the files write/edit changed in that turn


class NewSession(BaseModel):
    type: Literal["new_session"] = "new_session"


class SetModel(BaseModel):
    type: Literal["set_model"] = "set_model"
    model: str


class SetGoal(BaseModel):
    """Work toward `condition` across turns, starting with `request` (None: stop the goal)."""

    type: Literal["set_goal"] = "set_goal"
    condition: str | None
    request: str = ""


# Why a session ends, in Claude Code's words (SessionEnd's `reason`): the person left the
# chat, switched to another session, or anything else (a headless run's end, a signal, an
# editor closing the session). /new ends one with "clear" without shutting down.
EndReason = Literal["prompt_input_exit", "resume", "other"]


class Shutdown(BaseModel):
    type: Literal["shutdown"] = "shutdown"
    reason: EndReason = "other"


Operation = Annotated[
    UserInput | Approval | Interrupt | Compact | Undo | NewSession | SetModel | SetGoal | Shutdown,
    Field(discriminator="type"),
]
