"""The prompts render from their sources for every model family, and carry the ML practice."""

from __future__ import annotations

import datetime
import json

import pytest

from agent.compute.resume import hub_reference
from agent.context.system_prompt import render_system_prompt
from agent.core.builtin_tools import create_builtin_tools
from agent.core.subagent import research_prompt, research_toolset

FAMILIES = [
    "anthropic/claude-sonnet-4-5",
    "openai/gpt-5",
    "gemini/gemini-2.5-pro",
    "huggingface/Qwen/Qwen3-Coder-480B-A35B-Instruct",
    "openrouter/meta-llama/llama-3.3-70b-instruct",
    "ollama/llama3.1",
]


@pytest.mark.parametrize("model", FAMILIES)
def test_the_system_prompt_renders_for_every_model_family(model, tmp_path):
    names = [spec.name for spec in create_builtin_tools()]
    prompt = render_system_prompt(model, tmp_path, names)
    assert f"Today is {datetime.date.today().isoformat()}." in prompt
    assert f"Working directory: {tmp_path}." in prompt
    assert f"Model: {model}." in prompt
    assert "Tools available in this session: bash, " in prompt
    assert "{" not in prompt.replace("{{", "")  # no field left unfilled


def test_the_system_prompt_carries_the_practice_that_saves_a_training_run(tmp_path):
    prompt = render_system_prompt("openai/gpt-5", tmp_path, ["bash", "hf_jobs"])
    for fact in (
        "push_to_hub=True",  # ephemeral job storage
        "hub_model_id",
        "default timeout (30 minutes)",
        "smoke test",
        'report_to="trackio"',
        "disable_tqdm=True",
        "logging_first_step=True",
        "`prompt`/`chosen`/`rejected`",
        "hf_inspect_dataset",
        "kernels-community/",
        "Never switch the user's model or dataset",
    ):
        assert fact in prompt, fact


def test_the_training_guidance_makes_runs_resumable_from_the_hub(tmp_path):
    prompt = render_system_prompt("openai/gpt-5", tmp_path, ["bash", "hf_jobs"])
    assert 'hub_strategy="checkpoint"' in prompt  # keeps last-checkpoint/ with the optimizer
    assert 'os.environ.get("RESUME_FROM_CHECKPOINT")' in prompt
    assert "trainer.train(resume_from_checkpoint=ckpt)" in prompt
    assert "hf_jobs operation='resume'" in prompt
    # The prompt's way of reading a hub:// reference gives back what the relaunch wrote.
    assert 'ckpt[6:].split("/", 2)' in prompt
    org, name, folder = hub_reference("me/qwen-sft", "last-checkpoint")[6:].split("/", 2)
    assert (org + "/" + name, folder) == ("me/qwen-sft", "last-checkpoint")


def test_the_research_prompt_renders_and_walks_the_citation_graph(tmp_path):
    names = [spec.name for spec in research_toolset()]
    prompt = research_prompt(str(tmp_path), names)
    assert f"Working directory: {tmp_path}." in prompt
    assert "hf_papers operation='search'" in prompt
    assert "'citations' with sort='citations'" in prompt
    assert "methodology and experiments sections" in prompt


def test_every_tool_schema_is_valid_json_with_a_description():
    for spec in create_builtin_tools():
        schema = json.loads(json.dumps(spec.schema()))
        assert schema["function"]["description"].strip(), spec.name
        assert schema["function"]["parameters"]["type"] == "object", spec.name
    jobs = next(s for s in create_builtin_tools() if s.name == "hf_jobs")
    assert "a10g-small and a10g-large share the same 24 GB GPU" in jobs.description
    assert "keep_nothing" in jobs.parameters["properties"]


def test_without_the_jobs_tool_the_prompt_leaves_out_the_jobs_hardware_advice(tmp_path):
    lean = render_system_prompt("openai/gpt-5", tmp_path, ["bash", "read", "write", "edit"])
    full = render_system_prompt("openai/gpt-5", tmp_path, ["bash", "hf_jobs"])
    for advice in ("# Jobs on Hugging Face hardware", "Pick hardware from the GPU memory"):
        assert advice in full and advice not in lean
    assert "kernels-community/" in lean  # the rest of the model advice stays
