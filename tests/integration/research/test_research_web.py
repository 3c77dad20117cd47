"""web_search and fetch_url through the router, against loopback fakes of DuckDuckGo and a site."""

from __future__ import annotations

import re

import pytest

ALLOW = "ML_INTERN_ALLOW_PRIVATE_URLS"


def test_web_search_returns_decoded_results_without_ads(call, fakes):
    result = call("web_search", {"query": "trl  sft trainer"})
    assert not result.is_error
    text = result.content
    assert (
        "1. SFT Trainer - Hugging Face TRL documentation\n   https://huggingface.co/docs/trl/sft_trainer"
        in text
    )
    assert "makes it straightforward to supervised fine-tune open LLMs" in text
    assert "arguments & packing" in text
    assert "Sponsored" not in text and "duckduckgo.com" not in text
    request = fakes.search.requests[0]
    assert (request.method, request.path, request.form["q"]) == (
        "POST",
        "/html/",
        "trl sft trainer",
    )
    assert len(result.data["results"]) == 4


def test_web_search_allowed_domains_keep_subdomains(call, fakes):
    result = call("web_search", {"query": "sft", "allowed_domains": ["huggingface.co"]})
    urls = re.findall(r"^   (https://\S+)$", result.content, re.MULTILINE)
    assert urls == [
        "https://huggingface.co/docs/trl/sft_trainer",
        "https://discuss.huggingface.co/t/sft-trainer-questions/12345",
    ]
    assert fakes.search.requests[0].form["q"] == "sft site:huggingface.co"


def test_web_search_blocked_domains(call, fakes):
    result = call(
        "web_search", {"query": "sft", "blocked_domains": ["https://github.com/"], "max_results": 2}
    )
    assert "github.com" not in result.content
    assert result.content.count("\n   https://") == 2
    assert fakes.search.requests[0].form["q"] == "sft -site:github.com"


def test_web_search_with_no_results(call, fakes):
    fakes.search.results = []
    result = call("web_search", {"query": "zzqx nothing"})
    assert not result.is_error
    assert "No web results for 'zzqx nothing'" in result.content


def test_web_search_falls_back_to_the_pages_outbound_links(call, fakes):
    fakes.search.layout = "unknown"
    result = call("web_search", {"query": "sft trainer"})
    assert not result.is_error
    text = result.content
    assert "No web results" not in text
    assert "layout was not recognised" in text
    urls = re.findall(r"^   (https?://\S+)$", text, re.MULTILINE)
    assert urls == [url for _, url, _ in fakes.search.results]  # each once, in page order
    assert "1. SFT Trainer - Hugging Face TRL documentation" in text
    assert "duckduckgo.com" not in text and fakes.search.url not in text
    assert "Settings" not in text and "Next page" not in text


def test_web_search_fallback_links_obey_the_domain_filters(call, fakes):
    fakes.search.layout = "unknown"
    result = call("web_search", {"query": "sft", "blocked_domains": ["github.com"]})
    assert "github.com" not in result.content
    assert result.content.count("\n   https://") == 3


def test_web_search_bot_challenge_is_explained(call, fakes):
    fakes.search.fail_next("/html", 202, body="<html><div class='anomaly-modal'></div></html>")
    result = call("web_search", {"query": "sft"})
    assert result.is_error
    assert "limiting automated searches" in result.content


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://10.0.0.1/admin", "a private address (10.0.0.1)"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address (169.254.169.254)"),
        ("http://[::ffff:127.0.0.1]/", "a loopback address"),
        ("http://0.0.0.0:8080/", "an unspecified address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://localhost/", "a loopback address"),
    ],
)
def test_fetch_url_refuses_private_addresses(call, url, why):
    result = call("fetch_url", {"url": url})
    assert result.is_error
    assert f"refusing to fetch {url}" in result.content
    assert why in result.content


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1/"]
)
def test_fetch_url_refuses_other_schemes(call, url):
    result = call("fetch_url", {"url": url})
    assert result.is_error
    assert "only http and https URLs can be fetched" in result.content


def test_fetch_url_refuses_loopback_without_the_override(call, fakes):
    result = call("fetch_url", {"url": fakes.web.url + "/article"})
    assert result.is_error
    assert "127.0.0.1 is a loopback address" in result.content
    assert fakes.web.requests == []


def test_redirect_to_a_private_address_is_refused(call, fakes, monkeypatch):
    monkeypatch.setenv(ALLOW, "127.0.0.1")  # the fake itself is reachable, nothing else
    for target, why in (
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.1/", "private"),
        ("file:///etc/passwd", "only http and https"),
    ):
        result = call("fetch_url", {"url": f"{fakes.web.url}/redirect?to={target}"})
        assert result.is_error, target
        assert why in result.content
    assert {r.path for r in fakes.web.requests} == {"/redirect"}


def test_fetch_url_converts_html_to_markdown(call, fakes, monkeypatch):
    monkeypatch.setenv(ALLOW, "1")
    result = call("fetch_url", {"url": fakes.web.url + "/article"})
    assert not result.is_error
    text = result.content
    assert "Title: Fine-tuning guide" in text
    assert "# Fine-tuning guide" in text
    assert "Use a **small learning rate** such as 2e-5." in text
    assert "```\ntrainer = SFTTrainer(model=model)\n```" in text
    assert "| epochs | 3 |" in text
    for noise in ("trackVisitor", "color: red", "Copyright footer", "Home"):
        assert noise not in text
    assert fakes.web.requests[0].headers["user-agent"].startswith("ml-intern/")


def test_fetch_url_follows_redirects_and_reports_them(call, fakes, monkeypatch):
    monkeypatch.setenv(ALLOW, "1")
    start = fakes.web.url + "/redirect?to=/article"
    result = call("fetch_url", {"url": start})
    assert result.content.startswith(f"{fakes.web.url}/article (redirected from {start})")
    loop = call("fetch_url", {"url": fakes.web.url + "/loop"})
    assert loop.is_error
    assert "too many redirects (more than 5)" in loop.content
    assert len(fakes.web.requests_to("/loop")) == 6


def test_fetch_url_pages_long_text(call, fakes, monkeypatch):
    monkeypatch.setenv(ALLOW, "1")
    url = fakes.web.url + "/long"
    first = call("fetch_url", {"url": url})
    found = re.search(
        rf"call again with url='{re.escape(url)}', offset=(\d+) for more\]", first.content
    )
    assert found
    assert "Paragraph 1:" in first.content and "THE END" not in first.content
    offset, seen = int(found.group(1)), first.content
    while True:
        result = call("fetch_url", {"url": url, "offset": offset})
        seen += result.content
        found = re.search(r"offset=(\d+) for more\]", result.content)
        if not found:
            break
        offset = int(found.group(1))
    assert "THE END" in result.content
    assert {int(n) for n in re.findall(r"Paragraph (\d+):", seen)} == set(range(1, 121))
    past = call("fetch_url", {"url": url, "offset": 10_000_000})
    assert past.is_error and "past the end" in past.content


def test_fetch_url_other_content_types(call, fakes, monkeypatch):
    monkeypatch.setenv(ALLOW, "1")
    base = fakes.web.url
    assert "plain notes\nsecond line" in call("fetch_url", {"url": base + "/notes.txt"}).content
    assert '{"answer": 42}' in call("fetch_url", {"url": base + "/data.json"}).content
    pdf = call("fetch_url", {"url": base + "/paper.pdf"})
    assert pdf.is_error and "is a PDF" in pdf.content and "hf_papers" in pdf.content
    image = call("fetch_url", {"url": base + "/image.png"})
    assert image.is_error and "'image/png' content" in image.content
    missing = call("fetch_url", {"url": base + "/gone"})
    assert missing.is_error and "not found (404)" in missing.content


def test_fetch_url_caps_the_download(call, fakes, monkeypatch):
    monkeypatch.setenv(ALLOW, "1")
    result = call("fetch_url", {"url": fakes.web.url + "/huge"})
    assert not result.is_error
    assert "[download stopped at 2 MB; the rest is not shown]" in result.content
    assert re.search(r"characters 0-\d+ of 2000000;", result.content)


def test_ipv4_hidden_in_ipv6_is_judged_as_ipv4():
    from agent.tools.sources.web import blocked_reason

    assert blocked_reason("2002:a9fe:a9fe::1") is not None  # 6to4 of 169.254.169.254
    assert blocked_reason("::ffff:10.0.0.1") is not None
    assert blocked_reason("2606:4700::1111") is None
