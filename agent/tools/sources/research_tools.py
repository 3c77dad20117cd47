"""The research tools as one list: papers, GitHub code and the open web."""

from __future__ import annotations

from agent.tools.sources.github import github_tools
from agent.tools.sources.papers import papers_tool
from agent.tools.sources.web import web_tools
from agent.tools.spec import ToolSpec


def research_tools() -> list[ToolSpec]:
    """hf_papers, github_find_examples, github_list_repos, github_read_file, web_search, fetch_url."""
    return [papers_tool(), *github_tools(), *web_tools()]
