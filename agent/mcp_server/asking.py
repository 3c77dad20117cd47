"""How the client's user is asked to approve a spend, whatever MCP revision the client speaks.

A client gets asked when it declared `elicitation` in its capabilities. Up to revision
2025-11-25 the server sends its own `elicitation/create` request while the call waits.
From 2026-07-28 on, a call cannot send requests of its own: it answers with an
`input_required` result carrying the question, and the client calls again with its
user's answer. The answer counts only for the question asked: the retry's `requestState`
must be the one we computed for this tool, these arguments and this question (signed
with a key of this process), so a changed call is asked about again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

from agent.mcp_server.spending import Ask

if TYPE_CHECKING:
    import mcp.types as mcp_types
    from mcp.server.context import ServerRequestContext

log = logging.getLogger(__name__)
QUESTION = "approve_spend"
_KEY = secrets.token_bytes(32)
_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


class NeedsAnswer(Exception):
    """The call must go back to the client with a question (2026-07-28 and later)."""

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.message, self.state = message, state


def asker(ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams) -> Ask | None:
    """How to ask the client's user, or None when the client cannot be asked (it declared no
    elicitation, or this request has no way back to it)."""
    caps = ctx.session.client_capabilities
    if caps is None or caps.elicitation is None:
        return None
    if _answers_by_retry(ctx.protocol_version):
        return _by_retry(params)
    if not ctx.session.can_send_request:
        return None

    async def ask(message: str) -> bool:
        try:
            answer = await ctx.session.elicit_form(
                message, _SCHEMA, related_request_id=ctx.request_id
            )
        except Exception as exc:  # the client failed to answer: no yes was given
            log.warning("elicitation failed, taken as a decline: %s", exc)
            return False
        return answer.action == "accept"

    return ask


def _answers_by_retry(version: str) -> bool:
    from mcp.types.version import is_version_at_least

    return is_version_at_least(version, "2026-07-28")


def _by_retry(params: mcp_types.CallToolRequestParams) -> Ask:
    def state_for(message: str) -> str:
        asked = json.dumps([params.name, params.arguments or {}, message], sort_keys=True)
        return hmac.new(_KEY, asked.encode(), hashlib.sha256).hexdigest()

    async def ask(message: str) -> bool:
        import mcp.types as mcp_types

        state = state_for(message)
        answer = (params.input_responses or {}).get(QUESTION)
        if params.request_state != state or not isinstance(answer, mcp_types.ElicitResult):
            raise NeedsAnswer(message, state)
        return answer.action == "accept"

    return ask


def question(need: NeedsAnswer) -> mcp_types.InputRequiredResult:
    """The `input_required` answer that carries the question back to the client."""
    import mcp.types as mcp_types

    form = mcp_types.ElicitRequestFormParams(message=need.message, requested_schema=_SCHEMA)
    return mcp_types.InputRequiredResult(
        input_requests={QUESTION: mcp_types.ElicitRequest(params=form)},
        request_state=need.state,
    )
