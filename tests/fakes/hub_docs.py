"""Documentation pages and the OpenAPI description served by the fake Hub.

Docs pages are shaped like huggingface.co/docs: HTML with a header, a sidebar `<nav>`
of `/docs/<library>/...` links grouped under section headings, the article in a
`prose-doc` container (code blocks with copy buttons), a footer and scripts.
"""

from __future__ import annotations

from html import escape
from typing import Any


def _page(path: str, title: str, section: str, body: str) -> dict[str, str]:
    return {"path": path, "title": title, "section": section, "body": body}


_COPY = '<button class="absolute top-2 right-2" title="code excerpt">Copied</button>'


def _code(text: str) -> str:
    return f'<div class="code-block relative">{_COPY}<pre><code class="language-python">{escape(text)}</code></pre></div>'


TRL_PAGES = [
    _page(
        "index",
        "TRL - Transformer Reinforcement Learning",
        "Getting started",
        "<p>TRL is a full stack library to post-train transformer language models with methods like Supervised Fine-Tuning (SFT), Group Relative Policy Optimization (GRPO) and Direct Preference Optimization (DPO).</p>",
    ),
    _page(
        "installation",
        "Installation",
        "Getting started",
        "<p>Install the library with pip.</p>" + _code("pip install trl"),
    ),
    _page(
        "quickstart",
        "Quickstart",
        "Getting started",
        "<p>Train a model in a few lines with a trainer and a dataset from the Hub.</p>"
        + _code(
            'from trl import SFTTrainer\ntrainer = SFTTrainer(model="Qwen/Qwen2.5-0.5B", train_dataset=dataset)\ntrainer.train()'
        ),
    ),
    _page(
        "sft_trainer",
        "SFT Trainer",
        "Trainers",
        "<p>Supervised fine-tuning (SFT) is the most common step in post-training. The <code>SFTTrainer</code> takes a conversational or a prompt-completion dataset.</p>"
        "<h2>Dataset formats</h2><p>A prompt-completion dataset has the columns <code>prompt</code> and <code>completion</code>; the loss is computed on the completion only.</p>"
        "<h2>Packing</h2><p>Set <code>packing=True</code> in <code>SFTConfig</code> to pack several sequences into one of <code>max_length</code> tokens.</p>"
        + _code(
            'from trl import SFTConfig, SFTTrainer\nconfig = SFTConfig(output_dir="out", packing=True, max_length=1024)'
        )
        + "<h2>Training adapters with PEFT</h2><p>Pass a <code>LoraConfig</code> as <code>peft_config</code> to train a LoRA adapter instead of the full model.</p>",
    ),
    _page(
        "dpo_trainer",
        "DPO Trainer",
        "Trainers",
        "<p>Direct Preference Optimization trains on preference pairs: a dataset with <code>prompt</code>, <code>chosen</code> and <code>rejected</code> columns. The <code>beta</code> parameter controls the deviation from the reference model.</p>",
    ),
    _page(
        "grpo_trainer",
        "GRPO Trainer",
        "Trainers",
        "<p>Group Relative Policy Optimization samples <code>num_generations</code> completions per prompt and scores them with reward functions.</p>"
        + _code(
            "def reward_len(completions, **kwargs):\n    return [-abs(20 - len(c)) for c in completions]"
        ),
    ),
    _page(
        "reward_trainer",
        "Reward Modeling",
        "Trainers",
        "<p>Train a reward model on preference data to score completions for reinforcement learning.</p>",
    ),
    _page(
        "peft_integration",
        "PEFT integration",
        "Integrations",
        "<p>Use LoRA and QLoRA adapters from the PEFT library with every TRL trainer to fine-tune large models on a single GPU.</p>",
    ),
]

TRANSFORMERS_PAGES = [
    _page(
        "index",
        "Transformers",
        "Get started",
        "<p>Transformers provides thousands of pretrained models for text, vision and audio.</p>",
    ),
    _page(
        "quicktour",
        "Quickstart",
        "Get started",
        "<p>Load a model with <code>AutoModelForCausalLM.from_pretrained</code> and run a pipeline.</p>",
    ),
    _page(
        "training",
        "Fine-tuning",
        "Tutorials",
        "<p>Fine-tune a pretrained model with the <code>Trainer</code> class and <code>TrainingArguments</code>: learning rate, batch size, number of epochs, evaluation strategy.</p>",
    ),
    _page(
        "main_classes/trainer",
        "Trainer",
        "API reference",
        "<p>The Trainer class provides an API for feature-complete training in PyTorch: mixed precision, gradient accumulation, distributed training and checkpointing.</p>",
    ),
    _page(
        "chat_templating",
        "Chat templates",
        "Tutorials",
        "<p>A chat template turns a list of messages with <code>role</code> and <code>content</code> into the token sequence a chat model expects.</p>",
    ),
]


def _sidebar(library: str, pages: list[dict[str, str]]) -> str:
    parts, section = [], None
    for entry in pages:
        if entry["section"] != section:
            if section is not None:
                parts.append("</ul>")
            section = entry["section"]
            parts.append(f'<h3 class="flex items-center"><span>{escape(section)}</span></h3><ul>')
        parts.append(
            f'<li><a class="block" href="/docs/{library}/{entry["path"]}">{escape(entry["title"])}</a></li>'
        )
    parts.append("</ul>")
    return "".join(parts)


def render_docs_page(library: str, pages: list[dict[str, str]], entry: dict[str, str]) -> str:
    """A docs page the way huggingface.co/docs serves it: chrome around one article."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(entry["title"])}</title>
<script>window.hubConfig = {{"features": {{}}}};</script><style>.prose {{ max-width: 60rem; }}</style></head>
<body>
<header class="border-b"><a href="/">Hugging Face</a>
<nav aria-label="Main"><ul><li><a href="/models">Models</a></li><li><a href="/datasets">Datasets</a></li><li><a href="/spaces">Spaces</a></li><li><a href="/docs">Docs</a></li></ul></nav></header>
<div class="flex">
<nav class="flex-auto overflow-y-auto py-3 docs-sidebar">{_sidebar(library, pages)}</nav>
<main class="flex-1"><div class="prose-doc prose relative mx-auto max-w-4xl break-words">
<h1>{escape(entry["title"])}</h1>
{entry["body"]}
<script>document.querySelector("h1").dataset.ready = "1";</script>
</div></main></div>
<footer><a href="/terms-of-service">TOS</a><a href="/privacy">Privacy</a></footer>
<script type="module" src="/front/build/kube-1a2b3c/index.js"></script>
</body></html>"""


def render_not_found() -> str:
    return "<!doctype html><html><head><title>404 – Hugging Face</title></head><body><h1>404</h1><p>Sorry, we can't find the page you are looking for.</p></body></html>"


# -- OpenAPI --------------------------------------------------------------------------


def _op(
    summary: str,
    description: str,
    tag: str,
    params: list[Any] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "tags": [tag],
        "parameters": params or [],
    }
    if body:
        op["requestBody"] = {
            "content": {"application/json": {"schema": {"type": "object", "properties": body}}}
        }
    op["responses"] = {"200": {"description": "OK"}}
    return op


def _q(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


_REPO = [{"$ref": "#/components/parameters/namespace"}, {"$ref": "#/components/parameters/repo"}]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Hub API Endpoints",
        "version": "1.0.0",
        "description": "The HTTP API of the Hugging Face Hub.",
    },
    "servers": [{"url": "https://huggingface.co", "description": "Hub"}],
    "tags": [
        {"name": n}
        for n in (
            "models",
            "datasets",
            "spaces",
            "repos",
            "discussions",
            "auth",
            "jobs",
            "collections",
        )
    ],
    "components": {
        "parameters": {
            "namespace": {
                "name": "namespace",
                "in": "path",
                "required": True,
                "description": "User or organization name",
                "schema": {"type": "string"},
            },
            "repo": {
                "name": "repo",
                "in": "path",
                "required": True,
                "description": "Repository name",
                "schema": {"type": "string"},
            },
        }
    },
    "paths": {
        "/api/models": {
            "get": _op(
                "List models",
                "Get information from all models on the Hub, filtered by search, author, pipeline tag or library and sorted by downloads, likes or trending score.",
                "models",
                [
                    _q("search", "Filter by a substring of the repo id"),
                    _q("author", "Filter by author or organization"),
                    _q("pipeline_tag", "Filter by task, e.g. text-generation"),
                    _q("sort", "downloads, likes, trendingScore, lastModified"),
                    _q("limit", "Maximum number of results"),
                ],
            )
        },
        "/api/models/{namespace}/{repo}": {
            "get": _op(
                "Get model info",
                "Get all information about one model: files, tags, card data, downloads.",
                "models",
                _REPO,
            )
        },
        "/api/datasets": {
            "get": _op(
                "List datasets",
                "Get information from all datasets on the Hub.",
                "datasets",
                [
                    _q("search", "Filter by a substring of the repo id"),
                    _q("author", "Filter by author"),
                ],
            )
        },
        "/api/datasets/{namespace}/{repo}/parquet": {
            "get": _op(
                "List parquet files",
                "List the parquet files the dataset viewer converted a dataset to, per config and split.",
                "datasets",
                _REPO,
            )
        },
        "/api/repos/create": {
            "post": _op(
                "Create a repository",
                "Create a new model, dataset or Space repository, private or public.",
                "repos",
                body={
                    "name": {"type": "string"},
                    "organization": {"type": "string"},
                    "type": {"type": "string"},
                    "private": {"type": "boolean"},
                    "sdk": {"type": "string"},
                },
            )
        },
        "/api/repos/move": {
            "post": _op(
                "Move a repository",
                "Rename a repository or transfer it to another namespace.",
                "repos",
                body={"fromRepo": {"type": "string"}, "toRepo": {"type": "string"}},
            )
        },
        "/api/{repoType}/{namespace}/{repo}/settings": {
            "put": _op(
                "Update repo settings",
                "Change the visibility (private/public) or the gated access mode of a repository.",
                "repos",
                _REPO,
                {"private": {"type": "boolean"}, "gated": {"type": "string"}},
            )
        },
        "/api/{repoType}/{namespace}/{repo}/commit/{rev}": {
            "post": _op(
                "Commit to a repository",
                "Create a commit that adds, updates or deletes files, as NDJSON lines.",
                "repos",
                _REPO,
            )
        },
        "/api/{repoType}/{namespace}/{repo}/discussions": {
            "post": _op(
                "Create a discussion or pull request",
                "Open a new discussion, or a pull request with pullRequest=true.",
                "discussions",
                _REPO,
                {
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "pullRequest": {"type": "boolean"},
                },
            )
        },
        "/api/whoami-v2": {
            "get": _op(
                "Who am I", "Get the user and the organizations of the access token.", "auth"
            )
        },
        "/api/spaces/{namespace}/{repo}/runtime": {
            "get": _op(
                "Get Space runtime",
                "Current stage, hardware and sleep time of a Space.",
                "spaces",
                _REPO,
            )
        },
        "/api/spaces/{namespace}/{repo}/hardware": {
            "post": _op(
                "Request Space hardware",
                "Upgrade or downgrade the GPU or CPU hardware a Space runs on.",
                "spaces",
                _REPO,
                {"flavor": {"type": "string"}},
            )
        },
        "/api/jobs/{namespace}": {
            "post": _op(
                "Run a job",
                "Start a compute job on Hugging Face infrastructure with a Docker image or a Space, on CPU or GPU hardware.",
                "jobs",
                [{"$ref": "#/components/parameters/namespace"}],
                {
                    "dockerImage": {"type": "string"},
                    "command": {"type": "array"},
                    "flavor": {"type": "string"},
                },
            )
        },
        "/api/collections": {
            "get": _op(
                "List collections",
                "Search collections by words, owner or contained item.",
                "collections",
                [_q("q", "Words to search"), _q("owner", "Owner name")],
            )
        },
    },
}
