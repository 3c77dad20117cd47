"""A custom command's own turn: the model its frontmatter names answers it, and the tool
calls its `allowed-tools` name run without a question; the next turn is the session's
again. A command whose model cannot be used is refused before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from agent import events as ev
from agent.core.approval.tool_rules import turn_rules
from agent.core.model_ids import id_problem
from agent.core.resume_model import model_problem
from agent.core.session import Session
from agent.errors import AgentStop, AuthError, UsageError
from agent.extensions.commands import RESERVED, CustomCommand, unusable
from agent.extensions.skills import SkillError


def invoked_command(session: Session, text: str) -> CustomCommand | None:
    """The usable custom command a request starts with (`/name args`), if any."""
    name = text.strip().partition(" ")[0]
    if not name.startswith("/") or name[1:].lower() in RESERVED:
        return None
    if session.skills.get(name[1:]) is not None:
        return None
    found = session.commands.get(name[1:])
    try:
        return found.load() if found is not None else None
    except SkillError:
        return None


def refusal(session: Session, text: str) -> AgentStop | None:
    """Why a request that starts with a custom command cannot be sent: its file is
    broken, or its `model` is no id or has no key here (the check `/model` makes before
    asking the model anything); None when it can."""
    if problem := unusable(session.skills, session.commands, text):
        return UsageError(problem)
    command = invoked_command(session, text)
    if command is None or not command.model:
        return None
    where = f"the command /{command.name} asks for the model {command.model} ({command.path})"
    if problem := id_problem(command.model):
        return UsageError(f"{where}: {problem}")
    if problem := model_problem(command.model, session.settings.api_base):
        return AuthError(f"{where}, which {problem}. Set it, or change the command's model")
    return None


@contextmanager
def command_turn(session: Session, text: str) -> Iterator[None]:
    """Within: the command's model is the session's and its allowed tools are approved;
    afterwards, whatever ended the turn, the session is as it was."""
    command = invoked_command(session, text)
    if command is None or not (command.model or command.allowed_tools):
        yield
        return
    settings, previous = session.settings, session.settings.model_name
    if command.model and command.model != previous:
        settings.model_name, session.kept_model = command.model, previous
        session.emit(ev.Notice(message=f"/{command.name} runs with {command.model}."))
    if command.allowed_tools:
        rules = turn_rules(command.allowed_tools, session.router.names, session.cwd)
        session.turn_rules = rules
        if rules.left_out:
            session.emit(
                ev.Notice(
                    message=f"/{command.name}: not pre-approved: {', '.join(rules.left_out)}; "
                    "those calls ask as usual."
                )
            )
    try:
        yield
    finally:
        session.turn_rules = None
        if session.kept_model:
            settings.model_name, session.kept_model = session.kept_model, ""
