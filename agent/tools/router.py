"""ToolRouter: the one door every tool goes through, built-in or MCP.

It offers schemas to the model and dispatches calls. The model's mistakes
(unknown tool, broken JSON, wrong arguments) and a tool's failures (exceptions,
timeouts) come back as error results the model can read and recover from.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
from typing import Any

from pydantic import ValidationError

from agent.tools.spec import ToolContext, ToolError, ToolResult, ToolSpec

log = logging.getLogger(__name__)

# Deeper than any tool's arguments go, and far below where reading them (or any later
# walk over them: validation, scrubbing, logging) would overflow the stack.
MAX_ARGUMENT_DEPTH = 100
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?')  # an unclosed one runs to the end
_BRACKET = re.compile(r"[\[\]{}]")


class ArgumentError(ValueError):
    """The model's arguments could not be read."""


def parse_arguments(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """Tool-call arguments as a dict; raises ArgumentError with a message for the model."""
    if isinstance(raw, dict):
        return raw
    if raw is None or not raw.strip():
        return {}
    if nesting_depth(raw) > MAX_ARGUMENT_DEPTH:
        raise ArgumentError(
            f"arguments are nested too deeply (more than {MAX_ARGUMENT_DEPTH} levels of "
            "[ ] or { }); send flatter values"
        )
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ArgumentError(
            f"arguments are not valid JSON ({exc}); send a single JSON object"
        ) from None
    if not isinstance(value, dict):
        raise ArgumentError("arguments must be a JSON object")
    return value


def read_arguments(raw: str) -> Any:
    """Tool-call arguments as logged, for code that only looks at them (the repetition
    guard, traces, summaries); raises ValueError where they cannot be read safely."""
    if nesting_depth(raw) > MAX_ARGUMENT_DEPTH:
        raise ValueError("arguments nested too deeply")
    return json.loads(raw)


def nesting_depth(raw: str) -> int:
    """How deep the arrays and objects of a JSON text nest, counted without parsing it:
    parsing it, and every walk over the value, recurses once per level."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub("", raw)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def cap_output(text: str, limit: int) -> str:
    """Keep the head and the tail of an over-long text and mark the cut."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n\n[... {cut} characters cut ...]\n\n{text[-tail:]}"


class ToolRouter:
    """Registry and dispatcher of ToolSpecs."""

    def __init__(self, specs: list[ToolSpec] | None = None) -> None:
        self._tools: dict[str, ToolSpec] = {}
        self._only: frozenset[str] | None = None
        self.narrowed_by = ""  # why only some tools are offered, for whoever is told
        for spec in specs or []:
            self.register(spec)

    def register(self, spec: ToolSpec) -> bool:
        """Offer the tool; False when `keep_only` leaves it out (`narrowed_by` says why)."""
        if self._only is not None and spec.name not in self._only:
            return False
        self._tools[spec.name] = spec
        return True

    def keep_only(self, names: frozenset[str], why: str) -> list[str]:
        """Offer only these tools, also when more are registered later: for a model whose
        context window cannot hold every schema. Returns the names it left out."""
        self._only, self.narrowed_by = names, why
        left_out = [name for name in self._tools if name not in names]
        self._tools = {name: spec for name, spec in self._tools.items() if name in names}
        return left_out

    def unregister(self, name: str) -> None:
        self._tools.pop(name, None)

    def get(self, name: str) -> ToolSpec | None:
        return self._tools.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    @property
    def specs(self) -> list[ToolSpec]:
        return list(self._tools.values())

    def schemas(self) -> list[dict[str, Any]]:
        return [spec.schema() for spec in self._tools.values()]

    async def call(self, name: str, raw_args: str | dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Run one tool call; never raises except for cancellation."""
        admitted = await self._admit(name, raw_args, ctx)
        if isinstance(admitted, ToolResult):
            return admitted
        spec, args = admitted
        try:
            result = await asyncio.wait_for(spec.handler(args, ctx), spec.timeout_s)
        except TimeoutError:
            return ToolResult(f"{name} timed out after {spec.timeout_s:g} s", True)
        except ToolError as exc:
            return ToolResult(str(exc), True)
        except Exception as exc:
            log.exception("tool %s failed", name)
            return ToolResult(f"{name} failed: {type(exc).__name__}: {exc}", True)
        if isinstance(result, str):
            result = ToolResult(result)
        result.content = cap_output(result.content, spec.max_output_chars)
        return result

    def argument_problem(self, name: str, args: dict[str, Any]) -> str | None:
        """What is wrong with these arguments for this tool (None: nothing, or no such tool)."""
        spec = self._tools.get(name)
        if spec is None:
            return None
        try:
            self._validate(spec, args)
        except (ArgumentError, ValidationError) as exc:
            return _describe(exc)
        return None

    async def refusal(
        self, name: str, raw_args: str | dict[str, Any], ctx: ToolContext
    ) -> ToolResult | None:
        """The error a call would end in before doing anything (unknown tool, invalid
        arguments, a failed `check`), so nobody is asked to approve a call that cannot run."""
        admitted = await self._admit(name, raw_args, ctx)
        return admitted if isinstance(admitted, ToolResult) else None

    async def _admit(
        self, name: str, raw_args: str | dict[str, Any], ctx: ToolContext
    ) -> tuple[ToolSpec, Any] | ToolResult:
        spec = self._tools.get(name)
        if spec is None:
            available = ", ".join(sorted(self._tools)) or "none"
            return ToolResult(f"Unknown tool '{name}'. Available tools: {available}", True)
        try:
            args = self._validate(spec, parse_arguments(raw_args))
            if spec.check is not None and inspect.isawaitable(pending := spec.check(args, ctx)):
                await pending
        except (ArgumentError, ValidationError) as exc:
            return ToolResult(f"Invalid arguments for {name}: {_describe(exc)}", True)
        except ToolError as exc:
            return ToolResult(str(exc), True)
        return spec, args

    @staticmethod
    def _validate(spec: ToolSpec, args: dict[str, Any]) -> Any:
        if spec.args_model is not None:
            return spec.args_model.model_validate(args)
        missing = [k for k in spec.parameters.get("required", []) if k not in args]
        if missing:
            raise ArgumentError(f"missing required argument(s): {', '.join(missing)}")
        return args


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "arguments"
            parts.append(f"{where}: {err['msg']}")
        return "; ".join(parts)
    return str(exc)
