"""End states and classified failures, each carrying its exit code.

Raised where they happen, caught once in the loop, mapped to an exit code once
at the CLI edge. The model's own mistakes are never exceptions: the tool router
turns them into error results.
"""

from __future__ import annotations


class AgentStop(Exception):
    """Base for everything that ends a turn or a run before the model is done."""

    exit_code = 1
    code = "runtime_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__doc__ or self.code)

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(AgentStop):
    """The configuration is malformed or invalid."""

    exit_code = 3
    code = "config_error"


class AuthError(AgentStop):
    """A key is missing or was refused by the provider."""

    exit_code = 3
    code = "auth_error"


class IterationLimit(AgentStop):
    """The turn used every iteration it was allowed."""

    exit_code = 4
    code = "max_iterations"


class GoalTimeLimit(AgentStop):
    """A goal used the time it was given (--max-minutes)."""

    exit_code = 4
    code = "goal_time_limit"


class TokenBudgetUsed(AgentStop):
    """A sub-agent used the tokens it was given."""

    exit_code = 1
    code = "token_budget"


class BudgetExceeded(AgentStop):
    """The next call would exceed the spend budget."""

    exit_code = 5
    code = "budget_exceeded"


class DoomLoopStop(AgentStop):
    """The model kept repeating itself after being told to change approach."""

    exit_code = 1
    code = "doom_loop"


class Interrupted(AgentStop):
    """The person interrupted the turn."""

    exit_code = 130
    code = "interrupted"


class LLMError(AgentStop):
    """The model provider failed in a way retrying did not fix."""

    exit_code = 1
    code = "llm_error"
    retryable = False


class RateLimited(LLMError):
    """The provider asked us to slow down."""

    code = "rate_limited"
    retryable = True

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientLLMError(LLMError):
    """A 5xx, a timeout or a dropped connection: worth another try."""

    code = "llm_unavailable"
    retryable = True


class ContextOverflow(LLMError):
    """The request did not fit in the model's context window."""

    code = "context_overflow"


class EmptyStream(ContextOverflow):
    """The server accepted the request and streamed nothing at all: local servers answer a
    prompt larger than their window this way."""

    code = "empty_stream"


class CompactionFailed(AgentStop):
    """The history no longer fits and no usable summary of it could be made."""

    exit_code = 1
    code = "compaction_failed"


class BadRequest(LLMError):
    """The provider refused the request as malformed."""

    code = "bad_request"


class OutOfCredits(LLMError):
    """The provider refused to serve the account any further until it pays."""

    exit_code = 3
    code = "out_of_credits"


class StaleReasoning(BadRequest):
    """The provider refused reasoning metadata replayed from earlier answers (a thinking
    block's or a thought's signature it no longer accepts)."""

    code = "stale_reasoning"


class UsageError(AgentStop):
    """The command line asks for something that cannot be done."""

    exit_code = 2
    code = "usage_error"


class AttachmentRefused(AgentStop):
    """An @-mention in the request cannot be attached (an image for a text-only model, a
    file that cannot be read): said before the model is asked anything."""

    exit_code = 2
    code = "attachment_refused"


class HookStop(AgentStop):
    """A hook said `continue: false`: the agent stops, with the hook's reason."""

    exit_code = 0
    code = "stopped_by_hook"


class PromptBlocked(AgentStop):
    """A UserPromptSubmit hook refused the request: it never reached the model."""

    exit_code = 1
    code = "prompt_blocked"
