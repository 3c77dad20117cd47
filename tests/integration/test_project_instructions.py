"""A checkout's AGENTS.md reaches the model only from a trusted folder, only from inside
the project, and only as much of it as is worth resending with every call."""

from __future__ import annotations

from tests.fakes import llm_server as llm


def system_prompt(fake_llm, index: int = 0) -> str:
    return fake_llm.requests[index]["messages"][0]["content"]


def test_agents_md_counts_only_once_the_folder_is_trusted(cli, fake_llm, repo):
    (repo / "AGENTS.md").write_text("Always report the loss curve.\n")
    fake_llm.script(llm.text("ok"), llm.text("ok"))

    untrusted = cli("hi")
    assert untrusted.exit_code == 0, untrusted.stderr
    assert "loss curve" not in system_prompt(fake_llm)
    (notice,) = [line for line in untrusted.stderr.splitlines() if "not trusted" in line]
    assert f"ignored the project settings in {repo / 'AGENTS.md'}:" in notice

    assert cli("trust").exit_code == 0
    trusted = cli("hi")
    assert trusted.exit_code == 0, trusted.stderr
    assert "Always report the loss curve." in system_prompt(fake_llm, 1)
    assert "not trusted" not in trusted.stderr
    fake_llm.assert_done()


def test_agents_md_linking_out_of_the_project_is_not_read(cli, fake_llm, repo, isolated_env):
    outside = isolated_env / "private-notes.md"
    outside.write_text("The staging password is hunter2.\n")
    (repo / "AGENTS.md").symlink_to(outside)
    (repo / "docs").mkdir()
    (repo / "docs" / "guide.md").write_text("Use bf16 on this cluster.\n")
    (repo / "src" / "AGENTS.md").symlink_to(repo / "docs" / "guide.md")
    assert cli("trust").exit_code == 0
    fake_llm.script(llm.text("ok"))

    result = cli("hi")

    assert result.exit_code == 0, result.stderr
    prompt = system_prompt(fake_llm)
    assert "hunter2" not in prompt
    assert "Use bf16 on this cluster." in prompt  # a link that stays inside is followed
    assert f"{repo / 'AGENTS.md'} links outside the project, to {outside}: not read" in (
        result.stderr
    )
    fake_llm.assert_done()


def test_a_huge_agents_md_is_cut_and_says_so(cli, fake_llm, repo):
    line = "Prefer small, reviewed changes to the training loop.\n"
    (repo / "AGENTS.md").write_text(line * (20_000_000 // len(line)))
    assert cli("trust").exit_code == 0
    fake_llm.script(llm.text("ok"))

    result = cli("hi")

    assert result.exit_code == 0, result.stderr
    prompt = system_prompt(fake_llm)
    assert line in prompt
    assert len(prompt) < 64_000
    told = f"{repo / 'AGENTS.md'} is 20.0 MB: only its first 32.8 kB go to the model"
    assert told in result.stderr
    assert (
        f"first 32.8 kB of its 20.0 MB are here; read {repo / 'AGENTS.md'} for the rest" in prompt
    )
    fake_llm.assert_done()


def test_claude_md_is_read_like_agents_md(cli, fake_llm, repo):
    (repo / "CLAUDE.md").write_text("Log every run to wandb.\n")
    fake_llm.script(llm.text("ok"), llm.text("ok"))

    untrusted = cli("hi")
    assert untrusted.exit_code == 0, untrusted.stderr
    assert "wandb" not in system_prompt(fake_llm)
    assert f"ignored the project settings in {repo / 'CLAUDE.md'}:" in untrusted.stderr

    assert cli("trust").exit_code == 0
    trusted = cli("hi")
    assert trusted.exit_code == 0, trusted.stderr
    assert "Log every run to wandb." in system_prompt(fake_llm, 1)
    fake_llm.assert_done()


def test_claude_md_linked_to_agents_md_is_sent_once(cli, fake_llm, repo):
    (repo / "AGENTS.md").write_text("Pin the random seed.\n")
    (repo / "CLAUDE.md").symlink_to("AGENTS.md")
    assert cli("trust").exit_code == 0
    fake_llm.script(llm.text("ok"))

    assert cli("hi").exit_code == 0
    assert system_prompt(fake_llm).count("Pin the random seed.") == 1
    fake_llm.assert_done()
