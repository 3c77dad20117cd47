"""Switching the model mid-session, only to one that answers.

A switch that fails leaves the session on the model it had: the id is checked,
then the new model is asked for a single token with the key at hand, and only an
answer makes it the session's model.
"""

from __future__ import annotations

from agent import events as ev
from agent.core import llm
from agent.core.model_ids import id_problem
from agent.core.session import Session
from agent.errors import AgentStop, RateLimited


async def switch_model(session: Session, model: str) -> None:
    """Probe `model`, then switch to it; otherwise keep the current one and say why."""
    current = session.settings.model_name
    problem = id_problem(model)
    if problem is None:
        try:
            await llm.probe(model, session.settings)
        except RateLimited:
            pass  # it answered: busy now, but reachable with this key
        except AgentStop as exc:  # no key, a refusal, no answer in time
            problem = exc.message
    if problem is not None:
        session.emit(ev.Notice(message=f"Kept {current}: {model} cannot be used ({problem})"))
        return
    session.set_model(model)
    session.emit(ev.Notice(message=f"Model set to {model}"))
