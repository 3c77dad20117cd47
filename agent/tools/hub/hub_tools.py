"""The Hugging Face Hub tools, as one list for the built-in registry.

Each family lives in its own module and imports huggingface_hub only when a tool
runs, so building this list stays cheap.
"""

from __future__ import annotations

from agent.tools.hub.datasets import hf_datasets_tools
from agent.tools.hub.docs import hf_docs_tools
from agent.tools.hub.openapi import hf_openapi_tools
from agent.tools.hub.repo_files import hf_repo_files_tools
from agent.tools.hub.repo_git import hf_repo_git_tools
from agent.tools.hub.search import hf_search_tools
from agent.tools.spec import ToolSpec


def hub_tools() -> list[ToolSpec]:
    """explore_hf_docs, fetch_hf_docs, find_hf_api, hf_search, hf_inspect_dataset,
    hf_repo_files and hf_repo_git."""
    return [
        *hf_docs_tools(),
        *hf_openapi_tools(),
        *hf_search_tools(),
        *hf_datasets_tools(),
        *hf_repo_files_tools(),
        *hf_repo_git_tools(),
    ]
