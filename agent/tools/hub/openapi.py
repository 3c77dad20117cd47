"""find_hf_api: which Hub HTTP endpoint does X, from the Hub's own OpenAPI description.

The description (`{hf_endpoint}/.well-known/openapi.json`) is fetched once per session
and its operations are ranked with the same BM25 index as the docs, over method, path,
summary, description, tags and parameter names.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.tools.hub.common import Target, cut, hub_client, hub_json
from agent.tools.hub.docs_index import Bm25
from agent.tools.spec import ToolContext, ToolResult, ToolSpec

METHODS = ("get", "post", "put", "patch", "delete", "head")
STATE_KEY = "hf_openapi"
_MAX_REF_DEPTH = 10


class FindApiArgs(BaseModel):
    query: str = Field(
        description="What you want the Hub to do, e.g. 'create a repository', 'change Space hardware', "
        "'list parquet files of a dataset'."
    )
    max_results: int = Field(5, ge=1, le=20, description="How many endpoints to return.")


async def _find(args: FindApiArgs, ctx: ToolContext) -> ToolResult:
    operations, index = await _load(ctx)
    hits = index.search(args.query, args.max_results)
    endpoint = ctx.settings.hf_endpoint.rstrip("/")
    if not hits:
        return ToolResult(
            f"No Hub API endpoint matches {args.query!r}; try other words (e.g. the resource name)."
        )
    lines = [
        f"Hub API endpoints for {args.query!r} (base URL {endpoint}; authenticate with the header "
        "'Authorization: Bearer $HF_TOKEN'):"
    ]
    for rank, (number, _) in enumerate(hits, 1):
        lines.append(_describe(rank, operations[number]))
    return ToolResult("\n".join(lines), data={"hits": len(hits)})


async def _load(ctx: ToolContext) -> tuple[list[dict[str, Any]], Bm25]:
    """The operations and their index, fetched and built once per session and Hub."""
    endpoint = ctx.settings.hf_endpoint.rstrip("/")
    cached = ctx.state.get(STATE_KEY)
    if cached and cached["endpoint"] == endpoint:
        return cached["operations"], cached["index"]
    target = Target(
        what="the Hub's OpenAPI description", not_found_hint="this Hub does not publish one"
    )
    async with hub_client(ctx.settings, auth=False) as client:
        spec = await hub_json(
            client, f"{endpoint}/.well-known/openapi.json", settings=ctx.settings, target=target
        )
    operations = list_operations(spec)
    index = Bm25.build([(f"{op['summary']} {op['path']}", _text(op)) for op in operations])
    ctx.state[STATE_KEY] = {"endpoint": endpoint, "operations": operations, "index": index}
    return operations, index


def list_operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every (method, path) of the description with what a caller needs to know."""
    operations = []
    for path, item in (spec.get("paths") or {}).items():
        item = resolve(spec, item)
        shared = item.get("parameters") or []
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = [resolve(spec, p) for p in [*shared, *(op.get("parameters") or [])]]
            operations.append({
                "method": method.upper(),
                "path": path,
                "summary": op.get("summary") or op.get("operationId") or "",
                "description": op.get("description") or "",
                "tags": op.get("tags") or [],
                "params": [_param(p) for p in params if isinstance(p, dict) and p.get("name")],
                "body": _body(spec, op.get("requestBody")),
            })  # fmt: skip
    return operations


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow local `$ref`s ('#/components/...'), giving up on cycles."""
    for _ in range(_MAX_REF_DEPTH):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        target: Any = spec
        for key in node["$ref"].lstrip("#/").split("/"):
            target = target.get(key, {}) if isinstance(target, dict) else {}
        node = target
    return node


def _param(param: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": param["name"],
        "in": param.get("in", "query"),
        "required": bool(param.get("required")),
        "description": param.get("description") or "",
    }


def _body(spec: dict[str, Any], body: Any) -> dict[str, Any] | None:
    body = resolve(spec, body)
    if not isinstance(body, dict):
        return None
    content = body.get("content") or {}
    fields: list[str] = []
    for media in content.values():
        schema = resolve(spec, (media or {}).get("schema"))
        if isinstance(schema, dict):
            fields += list((schema.get("properties") or {}).keys())
    return {"types": list(content), "fields": list(dict.fromkeys(fields))}


def _text(op: dict[str, Any]) -> str:
    params = " ".join(f"{p['name']} {p['description']}" for p in op["params"])
    fields = " ".join((op["body"] or {}).get("fields", []))
    return (
        f"{op['method']} {op['path']} {' '.join(op['tags'])} {op['description']} {params} {fields}"
    )


def _describe(rank: int, op: dict[str, Any]) -> str:
    tags = f"  [{', '.join(op['tags'])}]" if op["tags"] else ""
    lines = [f"\n{rank}. {op['method']} {op['path']} — {op['summary']}{tags}"]
    if op["description"] and op["description"] != op["summary"]:
        lines.append(f"   {cut(' '.join(op['description'].split()), 400)}")
    if op["params"]:
        shown = [
            f"{p['name']} ({p['in']}{', required' if p['required'] else ''})"
            + (f": {cut(p['description'], 80)}" if p["description"] else "")
            for p in op["params"]
        ]
        lines.append("   Parameters: " + "; ".join(shown))
    if op["body"]:
        fields = ", ".join(op["body"]["fields"]) or "see the schema"
        lines.append(f"   Body ({', '.join(op['body']['types'])}): {fields}")
    return "\n".join(lines)


def hf_openapi_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            name="find_hf_api",
            description=(
                "Find the Hugging Face Hub HTTP endpoint that does something (e.g. 'update repo "
                "settings', 'run a job', 'list parquet files'), from the Hub's OpenAPI description: "
                "method, path, parameters and request body. Use it when no dedicated tool covers "
                "the action and you need to call the API from code."
            ),
            handler=_find,
            args_model=FindApiArgs,
            read_only=True,
            timeout_s=60.0,
        )
    ]
