"""The fakes are strict: a fault injected on a path nobody requests fails the test."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.hub_server import FakeHub
from tests.fakes.research_servers import GitHubFake


def test_an_unused_hub_fault_fails_at_teardown():
    with pytest.raises(AssertionError, match=r"429 on /api/unused"), FakeHub() as hub:
        hub.fail_next("/api/unused", 429, {"Retry-After": "1"})


def test_a_used_hub_fault_passes():
    with FakeHub() as hub:
        hub.fail_next("/api/whoami-v2", 500)
        assert httpx.get(f"{hub.url}/api/whoami-v2").status_code == 500


def test_an_unused_fault_of_a_service_fake_fails_at_teardown():
    with pytest.raises(AssertionError, match=r"503 on /search/code"), GitHubFake() as github:
        github.fail_next("/search/code", 503)


def test_an_unused_step_of_a_fake_model_fails_at_the_end_of_its_with_block():
    from tests.fakes import llm_server as llm

    with pytest.raises(AssertionError, match=r"1 scripted step\(s\) never requested: text"):
        with llm.FakeLLM(llm.text("never asked for")):
            pass


def test_a_request_nobody_scripted_fails_at_the_end_of_its_with_block():
    from tests.fakes.anthropic_server import FakeAnthropic

    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    body = {"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(AssertionError, match=r"unexpected request"), FakeAnthropic() as fake:
        httpx.post(f"{fake.url}/v1/messages", json=body, headers=headers)
