"""Local model servers as their users meet them: a small context window the server reports
on its own endpoint, an empty stream for a prompt too big for it, tools it leaves out unless
asked, and a model that writes until the window is full.

The fake server behaves as llama.cpp, vLLM, ollama and LM Studio do on each of these points;
ml-intern reaches it through the local-model prefixes, as a person would.
"""

from __future__ import annotations

import pytest

from tests.fakes import llm_server as llm
from tests.fakes.llm_server import FakeLLM, prompt_tokens

LEAN = {"bash", "read", "write", "edit"}


@pytest.fixture(autouse=True)
def fresh_windows():
    """What servers said about their window is kept per process; each test starts anew."""
    from agent.core import window

    window.forget()
    yield
    window.forget()


@pytest.fixture
def local(monkeypatch):
    """start(*steps, kind=..., window=...) -> a fake local server the run is pointed at,
    with the model `<kind>/test-model`; the server reports `window` where its kind does."""
    servers: list[FakeLLM] = []

    def start(*steps, kind="llamacpp", window=None, repeat=None, **extra):
        fake = FakeLLM(*steps, repeat=repeat).start()
        servers.append(fake)
        if window is not None:
            fake.report_window(kind, window, **extra)
        stem = {"lm_studio": "LM_STUDIO"}.get(kind, kind.upper())
        monkeypatch.setenv(f"{stem}_BASE_URL", fake.url)
        monkeypatch.setenv("ML_INTERN_MODEL", f"{kind}/test-model")
        monkeypatch.setenv("ML_INTERN_RETRY_BASE_DELAY_S", "0.01")
        monkeypatch.setenv("ML_INTERN_LLM_TIMEOUT_S", "20")
        return fake

    yield start
    for fake in servers:
        fake.stop()
    for fake in servers:
        fake.assert_done()


def notices(result) -> list[str]:
    return [e["message"] for e in result.lines() if e["type"] == "notice"]


def offered(body: dict) -> set[str]:
    return {tool["function"]["name"] for tool in body.get("tools") or []}


def test_an_empty_stream_for_a_too_big_prompt_is_a_failure_that_says_why(cli, local):
    fake = local(repeat=llm.within_window(llm.text("never"), 1000))

    result = cli("-o", "stream-json", "hello")

    assert result.exit_code == 1, result.stderr
    outcome = result.result()
    assert outcome["is_error"] is True and outcome["exit_reason"] == "empty_stream"
    assert "empty stream" in outcome["error"]
    assert "probably larger than the server's context window" in outcome["error"]
    assert "context_window_tokens" in outcome["error"]  # the window is unknown: how to set it
    assert len(fake.requests) == 1, "an overflow is not retried like a network fault"
    assert not [e for e in result.lines() if e["type"] == "compacted"]


def test_an_empty_stream_names_the_numbers_when_the_window_is_known(cli, local, monkeypatch):
    monkeypatch.setenv("ML_INTERN_CONTEXT_WINDOW_TOKENS", "100000")  # the setting is wrong
    local(repeat=llm.within_window(llm.text("never"), 1000))

    result = cli("-o", "json", "hello")

    assert result.exit_code == 1, result.stderr
    error = result.result()["error"]
    assert "100,000-token context window" in error and "about " in error


@pytest.mark.parametrize(
    ("kind", "extra", "told"),
    [
        ("llamacpp", {}, 30000),
        ("vllm", {}, 30000),
        ("ollama", {}, 30000),
        ("ollama", {"num_ctx": 24000}, 24000),  # what ollama loads the model with wins
        ("lm_studio", {}, 30000),
    ],
)
def test_the_window_is_learned_from_the_server_and_bounds_the_answer(cli, local, kind, extra, told):
    fake = local(llm.text("Hello."), kind=kind, window=30000, **extra)

    result = cli("-o", "stream-json", "hello")

    assert result.exit_code == 0, result.stderr
    assert f"Context window: {told:,} tokens (reported by the server at {fake.url})." in notices(
        result
    )
    body = fake.requests[0]
    assert 0 < body["max_tokens"] <= told - prompt_tokens(body)


def test_the_full_tool_set_that_does_not_fit_gives_way_to_the_lean_one(cli, local):
    fake = local(llm.within_window(llm.text("Done."), 4096), window=4096)

    result = cli("-o", "stream-json", "hello")

    assert result.exit_code == 0, result.stderr
    assert result.result()["final_text"] == "Done."
    lean = [n for n in notices(result) if "lean tool set" in n]
    assert lean and "do not fit the 4,096-token context window" in lean[0]
    body = fake.requests[0]
    assert offered(body) == LEAN
    assert (
        "Tools available in this session: bash, read, write, edit."
        in (body["messages"][0]["content"])
    )  # the system prompt says so too
    assert prompt_tokens(body) + body["max_tokens"] <= 4096


def test_a_window_too_small_even_for_the_lean_tools_is_said_at_once(cli, local):
    fake = local(window=2048)

    result = cli("-o", "json", "hello")

    assert result.exit_code == 1, result.stderr
    error = result.result()["error"]
    assert "The system prompt and tools alone take about" in error
    assert "2,048" in error and "larger context" in error
    assert fake.requests == []


def test_the_context_window_setting_is_used_for_any_endpoint(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_CONTEXT_WINDOW_TOKENS", "4096")
    fake_llm.script(llm.within_window(llm.text("Done."), 4096))

    result = cli("-o", "stream-json", "hello")

    assert result.exit_code == 0, result.stderr
    assert "Context window: 4,096 tokens (the context_window_tokens setting)." in notices(result)
    assert offered(fake_llm.requests[0]) == LEAN


def test_the_lean_tool_set_can_be_chosen(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_TOOL_SET", "lean")
    fake_llm.script(llm.text("Done."))

    result = cli("-o", "stream-json", "hello")

    assert result.exit_code == 0, result.stderr
    assert offered(fake_llm.requests[0]) == LEAN


def test_compaction_starts_before_the_window_overflows(cli, local, isolated_env):
    (isolated_env / "notes.txt").write_text(("x" * 79 + "\n") * 275)  # about 5,500 tokens
    read = llm.tool_call("read", {"path": "notes.txt"})
    fake = local(
        llm.within_window(read, 8192),
        llm.within_window(llm.text("## Goal\n" + "summary of the reading " * 10), 8192),
        llm.within_window(llm.text("It is all x."), 8192),
        window=8192,
    )

    result = cli("-o", "stream-json", "read notes.txt")

    assert result.exit_code == 0, result.stderr
    assert result.result()["final_text"] == "It is all x."
    assert [e for e in result.lines() if e["type"] == "compacted"]
    assert all(prompt_tokens(body) <= 8192 for body in fake.requests)


def test_tools_reach_a_server_that_needs_tool_choice(cli, local, isolated_env):
    (isolated_env / "real.txt").write_text("real\n")
    listing = llm.tool_call("bash", {"command": "ls"})
    fake = local(
        llm.tools_need_choice(listing, invented="Here are your files: model.py, train.py"),
        llm.text("There is real.txt."),
        window=30000,
    )

    result = cli("-o", "stream-json", "list the files here")

    assert result.exit_code == 0, result.stderr
    outputs = [e for e in result.lines() if e["type"] == "tool_output"]
    assert outputs and "real.txt" in outputs[0]["content"]
    assert fake.requests[0]["tool_choice"] == "auto"


def test_a_model_that_never_calls_a_tool_gets_a_hint(cli, local):
    local(llm.text("Here are your files: model.py, train.py"), window=30000)

    result = cli("-o", "stream-json", "list the files here")

    assert result.exit_code == 0, result.stderr
    hints = [n for n in notices(result) if "without calling any tool" in n]
    assert len(hints) == 1 and "--jinja" in hints[0]


def test_an_answer_is_limited_to_the_room_left_in_the_window(cli, local):
    fake = local(llm.fills_window(30000), window=30000)

    result = cli("-o", "stream-json", "write forever")

    assert result.exit_code == 0, result.stderr
    assert len(fake.requests) == 1
    assert any("output limit" in n for n in notices(result))


def test_an_answer_cut_off_by_a_full_window_is_not_retried(cli, local):
    fake = local(repeat=llm.fills_window(30000, obeys_max_tokens=False), window=30000)

    result = cli("-o", "json", "write forever")

    assert result.exit_code == 1, result.stderr
    assert "30,000-token context window was full" in result.result()["error"]
    assert len(fake.requests) == 1


def test_a_server_not_listening_is_named_with_its_variable(cli, monkeypatch):
    monkeypatch.setenv("LLAMACPP_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ML_INTERN_LLM_MAX_ATTEMPTS", "1")

    result = cli("-m", "llamacpp/test-model", "-o", "json", "hello")

    assert result.exit_code == 1, result.stderr
    error = result.result()["error"]
    assert "http://127.0.0.1:9/v1" in error and "LLAMACPP_BASE_URL" in error


def test_openai_ids_on_a_custom_endpoint_need_no_key(cli, fake_llm, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    fake_llm.script(llm.text("Served locally."))

    result = cli("hello")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "Served locally."


@pytest.mark.parametrize("output_format", ["json", "stream-json"])
def test_an_early_error_still_prints_a_result_object(cli, monkeypatch, output_format):
    result = cli("-m", "anthropic/claude-sonnet-4-5", "-o", output_format, "hello")

    assert result.exit_code == 3
    outcome = result.result()
    assert outcome["type"] == "result" and outcome["is_error"] is True
    assert outcome["exit_reason"] == "auth_error"
    assert "ANTHROPIC_API_KEY" in outcome["error"]


def test_key_messages_name_the_config_folder_in_use(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))

    result = cli("-m", "anthropic/claude-sonnet-4-5", "hello")

    assert result.exit_code == 3
    assert f"{tmp_path}/elsewhere/ml-intern/.env" in result.stderr
    assert "~/.config" not in result.stderr


def test_a_4096_token_window_carries_a_multi_step_tool_task_with_the_lean_tools(
    cli, local, isolated_env
):
    steps = [
        llm.tool_call("write", {"path": "train.py", "content": "print('loss 0.42')\n"}),
        llm.tool_call("bash", {"command": "python3 train.py"}),
        llm.tool_call("edit", {"path": "train.py", "old_str": "0.42", "new_str": "0.31"}),
        llm.tool_call("bash", {"command": "python3 train.py"}),
        llm.text("The loss is now 0.31."),
    ]
    fake = local(*(llm.within_window(step, 4096) for step in steps), window=4096)

    result = cli("-o", "stream-json", "--max-iterations", "10", "write train.py, run it, fix it")

    assert result.exit_code == 0, result.stderr
    assert result.result()["final_text"] == "The loss is now 0.31."
    outputs = [e["content"] for e in result.lines() if e["type"] == "tool_output"]
    assert "loss 0.42" in outputs[1] and "loss 0.31" in outputs[3]
    for body in fake.requests:
        assert offered(body) == LEAN
        assert prompt_tokens(body) + body["max_tokens"] <= 4096


def test_an_overflow_nothing_can_shrink_ends_at_once_without_a_compaction(
    cli, fake_llm, stream_flags
):
    fake_llm.script(llm.context_overflow())

    result = cli(*stream_flags, "-o", "stream-json", "hello")

    assert result.exit_code == 1, result.stderr
    assert not [e for e in result.lines() if e["type"] == "compacted"]
    error = result.result()["error"]
    assert "Nothing could be compacted" in error and "in the chat: /new" in error
    assert len(fake_llm.requests) == 1
