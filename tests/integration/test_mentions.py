"""@-mentions through the real CLI: a file, an image and an MCP resource reach the model
in the request; what is not a file is left alone; an image is refused, before any
request, for a model that takes none."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from agent.paths import data_home
from tests.fakes import llm_server as llm
from tests.fakes.mcp_server import png
from tests.integration.test_mcp_cli import fake_server, project_config


def last_user_content(request: dict):
    return [m for m in request["messages"] if m["role"] == "user"][-1]["content"]


def test_a_mentioned_file_reaches_the_model_and_other_ats_are_left_alone(cli, fake_llm):
    token = "hf_" + "aBcD1234eFgH5678iJkL9012mNoP3456qR"
    Path("train.py").write_text(f"lr = 3e-4\nepochs = 3\nHF_TOKEN = '{token}'\n")
    Path("user").write_text("a file named like a handle\n")
    prompt = "Why is @train.py slow? Ask bob@example.com; maybe @dataclass or `@user` helps."
    fake_llm.script(llm.text("Use a larger batch."))

    result = cli("-o", "json", prompt)

    assert result.exit_code == 0, result.stderr
    sent = last_user_content(fake_llm.requests[0])
    assert sent.startswith(prompt + "\n\n")
    block = f'<attachment path="{Path("train.py").resolve()}">'
    assert sent.count("<attachment ") == 1 and block in sent
    assert "lr = 3e-4" in sent and "epochs = 3" in sent
    assert "Attached train.py." in result.stderr
    session_id = json.loads(result.stdout)["session_id"]
    saved = (data_home() / "sessions" / f"{session_id}.jsonl").read_text()
    assert "epochs = 3" in saved  # the attachment is kept with the request ...
    assert token not in saved  # ... scrubbed like everything saved


def test_an_image_goes_to_a_vision_model_and_stays_in_the_session(cli, fake_llm, monkeypatch):
    monkeypatch.setenv("ML_INTERN_MODEL", "openai/gpt-4o")
    image = png(4, 3)
    Path("loss.png").write_bytes(image)
    fake_llm.script(llm.text("The loss plateaus."), llm.text("Lower the learning rate."))

    first = cli("What does @loss.png show?")
    assert first.exit_code == 0, first.stderr
    resumed = cli("--continue", "and what should I change?")
    assert resumed.exit_code == 0, resumed.stderr

    url = "data:image/png;base64," + base64.b64encode(image).decode()
    text, picture = last_user_content(fake_llm.requests[0])
    assert text == {"type": "text", "text": "What does @loss.png show?"}
    assert picture == {"type": "image_url", "image_url": {"url": url}}
    earlier = [m["content"] for m in fake_llm.requests[1]["messages"] if m["role"] == "user"]
    assert earlier[0][1]["image_url"]["url"] == url  # the resumed session still has it


def test_an_image_for_a_model_that_takes_none_is_refused_before_any_request(cli, fake_llm):
    Path("confusion.png").write_bytes(png(2, 2))

    result = cli("Explain @confusion.png")

    assert result.exit_code == 2
    told = f"openai/test-model does not take images, so {Path('confusion.png').resolve()} was"
    assert told in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_llm.requests == []


def test_a_resource_of_an_mcp_server_is_attached(cli, fake_llm):
    """A request made before the server is connected waits for it."""
    project_config({"fake": fake_server()})
    config = json.loads(Path("configs/cli_agent_config.json").read_text())
    Path("configs/cli_agent_config.json").write_text(json.dumps({**config, "mcp_wait_s": 0}))
    fake_llm.script(llm.text("The learning rate was too high."))

    result = cli("What went wrong in @fake:notes://runs/latest?")

    assert result.exit_code == 0, result.stderr
    sent = last_user_content(fake_llm.requests[0])
    assert '<attachment resource="fake:notes://runs/latest">' in sent
    assert "Run 42: eval loss 1.87 after 3 epochs" in sent


def test_a_resumed_chat_shows_the_request_as_typed_without_its_attachments():
    from tests.unit.test_slash_commands import replay_text

    request = "Why is @train.py slow?"
    attached = f'{request}\n\n<attachment path="/w/train.py">\n1\tlr = 3e-4\n</attachment>'
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": attached},
        {"role": "assistant", "content": "Use a larger batch."},
        {"role": "user", "content": [{"type": "text", "text": "And @loss.png?"}, image]},
        {"role": "assistant", "content": "It plateaus."},
    ]
    lines = [line.strip() for line in replay_text(messages, last=2).splitlines() if line.strip()]
    assert lines == [
        "› Why is @train.py slow?",
        "Use a larger batch.",
        "› And @loss.png?",
        "It plateaus.",
    ]
