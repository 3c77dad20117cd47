"""hf_papers through the router, against loopback fakes of the papers, arXiv and S2 APIs."""

from __future__ import annotations

import re

from agent.tools.sources.research_tools import research_tools

DPO = "2305.18290"


def test_research_tools_are_offered_with_schemas():
    specs = {s.name: s for s in research_tools()}
    assert set(specs) == {
        "hf_papers",
        "github_find_examples",
        "github_list_repos",
        "github_read_file",
        "web_search",
        "fetch_url",
    }
    for spec in specs.values():
        assert spec.read_only
        assert spec.args_model is not None
        assert spec.parameters["properties"], spec.name
    ops = specs["hf_papers"].parameters["properties"]["operation"]["enum"]
    assert {"search", "trending", "daily", "details", "read", "citations", "references"} <= set(ops)


def test_search_lists_matching_papers(call, fakes):
    result = call("hf_papers", {"operation": "search", "query": "preference optimization"})
    assert not result.is_error
    assert f"[{DPO}] Direct Preference Optimization" in result.content
    assert "Rafael Rafailov, Archit Sharma, Eric Mitchell et al." in result.content
    assert "LoRA" not in result.content
    assert fakes.papers.requests_to("/api/papers/search")[0].query["q"] == "preference optimization"


def test_search_without_query_says_what_is_missing(call):
    result = call("hf_papers", {"operation": "search"})
    assert result.is_error
    assert "needs query" in result.content


def test_trending_is_ordered_by_upvotes(call, fakes):
    result = call("hf_papers", {"operation": "trending", "limit": 2})
    assert not result.is_error
    assert result.content.index("QLoRA") < result.content.index("Direct Preference")
    assert "LoRA: Low-Rank" not in result.content
    assert fakes.papers.requests_to("/api/daily_papers")[0].query["sort"] == "trending"


def test_daily_for_a_date(call):
    result = call("hf_papers", {"operation": "daily", "date": "2023-05-29"})
    assert not result.is_error
    assert "Direct Preference Optimization" in result.content
    assert "QLoRA" not in result.content


def test_details_include_abstract_and_hub_repos(call, fakes):
    result = call(
        "hf_papers", {"operation": "details", "arxiv_id": f"https://arxiv.org/abs/{DPO}v2"}
    )
    assert not result.is_error
    text = result.content
    assert "Chelsea Finn" in text
    assert "closed form" in text
    assert "Published: 2023-05-29" in text
    assert "HuggingFaceH4/zephyr-7b-beta (1650 likes" in text
    assert "HuggingFaceH4/ultrafeedback_binarized" in text
    assert "## Spaces on the Hub citing this paper (most liked first)\n(none)" in text
    assert fakes.papers.requests_to("/api/models")[0].query["filter"] == f"arxiv:{DPO}"


def test_details_of_unknown_paper_is_a_clear_404(call):
    result = call("hf_papers", {"operation": "details", "arxiv_id": "2401.00001"})
    assert result.is_error
    assert "not found (404)" in result.content


def test_details_survive_a_failing_hub_listing(call, fakes):
    fakes.papers.fail_next("/api/models", 500)
    result = call("hf_papers", {"operation": "details", "arxiv_id": DPO})
    assert not result.is_error
    assert "(could not list: Hugging Face Hub is unavailable right now (500)" in result.content
    assert "HuggingFaceH4/ultrafeedback_binarized" in result.content


def test_bad_arxiv_id_is_explained(call):
    result = call("hf_papers", {"operation": "read", "arxiv_id": "attention paper"})
    assert result.is_error
    assert "not an arXiv id" in result.content


def test_read_without_section_lists_sections_and_tables(call, fakes):
    result = call("hf_papers", {"operation": "read", "arxiv_id": DPO})
    assert not result.is_error
    text = result.content
    for line in ("- 1 Introduction", "  - 4.1 What does the update do?", "- 6 Experiments"):
        assert line in text
    assert "- B DPO Implementation Details and Hyperparameters" in text
    assert "Table 3: Training hyperparameters." in text
    assert "MathJax" not in text
    # The unversioned URL redirects to the latest version, as on arxiv.org.
    assert [r.path for r in fakes.arxiv.requests] == [f"/html/{DPO}", f"/html/{DPO}v3"]


def test_read_appendix_gives_the_hyperparameter_table(call):
    result = call("hf_papers", {"operation": "read", "arxiv_id": DPO, "section": "B"})
    assert not result.is_error
    assert "| Learning rate | 1e-6 |" in result.content
    assert "| Optimizer | RMSprop |" in result.content
    assert r"$\beta=0.1$" in result.content


def test_read_section_by_name_keeps_results_table_and_latex(call):
    result = call("hf_papers", {"operation": "read", "arxiv_id": DPO, "section": "experiments"})
    assert "| DPO | 0.61 |" in result.content
    assert "Table 1:" in result.content
    method = call("hf_papers", {"operation": "read", "arxiv_id": DPO, "section": "4"})
    assert r"$\mathcal{L}_{\text{DPO}}(\pi_{\theta};\pi_{\text{ref}})$" in method.content
    assert "4.1 What does the update do?" in method.content


def test_read_long_section_pages_until_the_end(call):
    args = {"operation": "read", "arxiv_id": DPO, "section": "C"}
    pages, offset = [], 0
    for _ in range(10):
        result = call("hf_papers", {**args, "offset": offset})
        assert not result.is_error
        pages.append(result.content)
        found = re.search(r"section='C', offset=(\d+) for more\]", result.content)
        if not found:
            break
        offset = int(found.group(1))
    assert len(pages) >= 2
    assert "call again with operation='read', arxiv_id='2305.18290', section='C'" in pages[0]
    assert "END OF SAMPLES" in pages[-1]
    assert "end of text]" in pages[-1]
    samples = {int(n) for p in pages for n in re.findall(r"Sample (\d+)\.", p)}
    assert samples == set(range(1, 61))


def test_read_unknown_section_names_the_real_ones(call):
    result = call("hf_papers", {"operation": "read", "arxiv_id": DPO, "section": "Ablations"})
    assert result.is_error
    assert "no section 'Ablations'" in result.content
    assert "6 Experiments" in result.content


def test_read_without_html_rendering_suggests_alternatives(call):
    result = call("hf_papers", {"operation": "read", "arxiv_id": "2106.09685"})
    assert result.is_error
    assert "no HTML rendering" in result.content
    assert "operation='details'" in result.content


def test_citations_sorted_by_citation_count(call, fakes):
    result = call("hf_papers", {"operation": "citations", "arxiv_id": DPO, "limit": 3})
    assert not result.is_error
    text = result.content
    assert text.index("Zephyr") < text.index("General Theoretical") < text.index("KTO")
    assert "SimPO" not in text
    assert "arXiv:2310.16944" in text
    assert "5 fetched" in text  # the entry without a title is skipped
    query = fakes.s2.requests_to("/graph/v1/paper/arXiv:")[0].query
    assert "citationCount" in query["fields"]


def test_citations_sorted_by_date(call):
    result = call("hf_papers", {"operation": "citations", "arxiv_id": DPO, "sort": "date"})
    text = result.content
    assert text.index("SimPO") < text.index("KTO") < text.index("Zephyr")
    assert "https://www.semanticscholar.org/paper/a5" in text


def test_references(call):
    result = call("hf_papers", {"operation": "references", "arxiv_id": DPO})
    assert not result.is_error
    assert result.content.startswith(f"Papers referenced by arXiv:{DPO}")
    assert result.content.index("Proximal Policy") < result.content.index("Training language")
    assert "Rank Analysis of Incomplete Block Designs" in result.content


def test_citations_of_unknown_paper(call):
    result = call("hf_papers", {"operation": "citations", "arxiv_id": "2401.00001"})
    assert result.is_error
    assert "Semantic Scholar: arXiv:2401.00001" in result.content
    assert "not found" in result.content


def test_short_service_unavailable_is_retried_once(call, fakes):
    fakes.papers.fail_next("/api/papers/search", 503, {"Retry-After": "0"})
    result = call("hf_papers", {"operation": "search", "query": "lora"})
    assert not result.is_error
    assert "Low-Rank Adaptation" in result.content
    assert len(fakes.papers.requests_to("/api/papers/search")) == 2


def test_long_rate_limit_reports_when_to_come_back(call, fakes):
    fakes.s2.fail_next("/graph", 429, {"Retry-After": "3600"})
    result = call("hf_papers", {"operation": "citations", "arxiv_id": DPO})
    assert result.is_error
    assert "Semantic Scholar rate limit reached" in result.content
    assert re.search(r"resets at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 60 min\)", result.content)
    assert len(fakes.s2.requests) == 1
