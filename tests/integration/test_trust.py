"""A checkout's own configs/ and .env count only in a folder the user trusted."""

from __future__ import annotations

import json
import time
from pathlib import Path

from agent.trust import trust_file
from tests.fakes import llm_server as llm
from tests.project import hostile_config


def answer_once_started(marker: Path) -> llm.Step:
    """The project's endpoint answers once the project's MCP server has written `marker`:
    the server starts alongside the first request, and a run that ended first would stop
    it before it ran."""
    answer = llm.text("Hello from the project's endpoint.")

    def serve(reply: llm.Reply) -> None:
        deadline = time.monotonic() + 15  # within the run's 20 s wait for an answer
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        answer.serve(reply)

    return llm.Step("answer once the MCP server started", serve)


def test_an_untrusted_checkout_starts_nothing_until_trusted(cli, user_endpoint, repo, tmp_path):
    marker = tmp_path / "marker"
    project_endpoint = llm.FakeLLM(answer_once_started(marker)).start()
    hostile_config(repo, marker, api_base=project_endpoint.url)
    user_endpoint.script(llm.text("Hello from your own endpoint."))

    untrusted = cli("-o", "json", "hi")

    assert untrusted.exit_code == 0, untrusted.stderr
    assert json.loads(untrusted.stdout)["final_text"] == "Hello from your own endpoint."
    assert not marker.exists()
    notices = [line for line in untrusted.stderr.splitlines() if "not trusted" in line]
    assert len(notices) == 1
    assert str(repo / "configs" / "cli_agent_config.json") in notices[0]
    assert f"ml-intern trust {repo}" in notices[0]
    user_endpoint.assert_done()

    trusted = cli("trust", str(repo))
    assert trusted.exit_code == 0, trusted.stderr
    assert cli("trust", "--list").stdout.split() == [str(repo)]

    after = cli("-o", "json", "hi")
    project_endpoint.stop()
    assert after.exit_code == 0, after.stderr
    assert marker.read_text() == "started"  # the project's MCP server was started
    assert json.loads(after.stdout)["final_text"] == "Hello from the project's endpoint."
    project_endpoint.assert_done()  # its api_base replaced the user's
    assert len(user_endpoint.requests) == 1
    assert "not trusted" not in after.stderr


def test_an_untrusted_dotenv_sets_no_key_and_opens_no_private_urls(
    cli, fake_llm, repo, monkeypatch
):
    (repo / ".env").write_text("HF_TOKEN=hf_projectsecret123\nML_INTERN_ALLOW_PRIVATE_URLS=1\n")
    monkeypatch.setenv("ML_INTERN_SHARE_TRACES", "false")
    show_env = 'echo "token:[${HF_TOKEN:+set}] private:[${ML_INTERN_ALLOW_PRIVATE_URLS:-unset}]"'
    fake_llm.script(
        llm.tool_call("bash", {"command": show_env}),
        llm.tool_call("fetch_url", {"url": f"{fake_llm.url}/secret"}),
        llm.text("done"),
        llm.tool_call("bash", {"command": show_env}),
        llm.text("done"),
    )

    untrusted = cli("-o", "json", "look around")

    assert untrusted.exit_code == 0, untrusted.stderr
    assert fake_llm.requests[1]["messages"][-1]["content"].strip() == "token:[] private:[unset]"
    refused = fake_llm.requests[2]["messages"][-1]["content"]
    assert refused.startswith("refusing to fetch")
    assert len(fake_llm.requests) == 3  # the private URL was never fetched
    assert "HF_TOKEN, ML_INTERN_ALLOW_PRIVATE_URLS" in untrusted.stderr
    assert "hf_projectsecret123" not in untrusted.stderr + untrusted.stdout

    assert cli("trust").exit_code == 0  # no folder given: the checkout's root
    trusted = cli("-o", "json", "look again")
    assert trusted.exit_code == 0, trusted.stderr
    assert fake_llm.requests[4]["messages"][-1]["content"].strip() == "token:[set] private:[1]"
    fake_llm.assert_done()


def test_a_child_of_a_trusted_folder_is_trusted_but_not_its_parent(cli, isolated_env):
    parent, child = isolated_env / "parent", isolated_env / "parent" / "child"
    child.mkdir(parents=True)
    assert cli("trust", str(parent)).exit_code == 0
    removal = cli("trust", "--remove", str(child))
    assert removal.exit_code == 2
    assert f"trusted because {parent} is" in removal.stderr

    from agent.trust import is_trusted

    assert is_trusted(child)
    assert not is_trusted(isolated_env)
    assert cli("trust", "--remove", str(parent)).exit_code == 0
    assert not is_trusted(child)
    assert cli("trust", "--list").stdout.strip() == "No trusted folders."


def test_trusting_a_missing_folder_is_a_usage_error(cli, isolated_env):
    result = cli("trust", str(isolated_env / "nowhere"))
    assert result.exit_code == 2
    assert "not a folder" in result.stderr
    assert not trust_file().exists()


def test_project_files_that_change_nothing_are_not_mentioned(cli, fake_llm):
    Path("configs").mkdir()
    Path("configs/cli_agent_config.json").write_text("{}")
    Path(".env").write_text("# nothing here\n")
    fake_llm.script(llm.text("ok"))
    result = cli("hi")
    assert result.exit_code == 0, result.stderr
    assert "trust" not in result.stderr
    fake_llm.assert_done()


def test_an_untrusted_malformed_config_is_ignored_not_fatal(cli, fake_llm):
    Path("configs").mkdir()
    Path("configs/cli_agent_config.json").write_text('{"model_name": ')
    fake_llm.script(llm.text("ok"))
    result = cli("hi")
    assert result.exit_code == 0, result.stderr
    assert "configs/cli_agent_config.json" in result.stderr
    fake_llm.assert_done()


def test_the_notice_spells_out_control_characters_from_the_project(cli, fake_llm, repo):
    """Variable names that move the cursor up and erase a line, reverse the text after them
    or hide a character are shown as what they are."""
    (repo / ".env").write_text("HF_TOKEN\x1b[1A\x1b[2K=1\nNAME\u202eTXT=2\nZERO\u200bWIDTH=3\n")
    fake_llm.script(llm.text("ok"))

    result = cli("hi")

    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    (notice,) = [line for line in result.stderr.splitlines() if "not trusted" in line]
    assert "(HF_TOKEN^[[1A^[[2K, NAME\\u202eTXT, ZERO\\u200bWIDTH)" in notice
    fake_llm.assert_done()


def bytes_read() -> int:
    """What this process has read through read(2) and the like so far."""
    io = Path("/proc/self/io").read_text()
    return int(next(line for line in io.splitlines() if line.startswith("rchar:")).split()[1])


def test_huge_untrusted_files_are_named_not_read(cli, fake_llm, repo):
    """Files that will not be used are judged by their names and sizes: a sparse 256 MiB
    config and .env cost nothing to look at, and reading them whole would show here."""
    big = 256 * 1024 * 1024
    (repo / "configs").mkdir()
    for path in (repo / "configs" / "cli_agent_config.json", repo / ".env"):
        with path.open("wb") as sparse:
            sparse.truncate(big)
    fake_llm.script(llm.text("ok"))

    before = bytes_read()
    result = cli("hi")
    read = bytes_read() - before

    assert result.exit_code == 0, result.stderr
    assert read < big // 2  # the run's own reading (litellm's first import) is far less
    (notice,) = [line for line in result.stderr.splitlines() if "not trusted" in line]
    config, dotenv = repo / "configs" / "cli_agent_config.json", repo / ".env"
    assert f"{config} (268.4 MB, not read), {dotenv} (268.4 MB, not read)" in notice
    fake_llm.assert_done()


def test_trusted_folder_names_are_shown_spelled_out(cli, isolated_env):
    odd = isolated_env / "repo\x1b[2K\u202e"
    odd.mkdir()
    added = cli("trust", str(odd))
    assert added.exit_code == 0, added.stderr
    listing = cli("trust", "--list").stdout
    for shown in (added.stdout, listing):
        assert "\x1b" not in shown and "\u202e" not in shown
        assert f"{isolated_env}/repo^[[2K\\u202e" in shown


def test_a_checkout_nested_in_a_trusted_folder_needs_its_own_trust(
    cli, fake_llm, isolated_env, monkeypatch
):
    """A repository cloned (or planted) inside a trusted one is somebody else's project."""
    from agent.trust import add_trusted

    outer = isolated_env / "outer"
    inner = outer / "vendor" / "theirs"
    for root in (outer, inner):
        (root / ".git").mkdir(parents=True)
        (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    add_trusted(outer)
    (inner / ".env").write_text("ML_INTERN_ALLOW_PRIVATE_URLS=1\n")
    monkeypatch.chdir(inner)
    fake_llm.script(llm.text("hello"))
    result = cli("hi")
    assert result.exit_code == 0, result.stderr
    (notice,) = [line for line in result.stderr.splitlines() if "not trusted" in line]
    assert "ignored the project settings in .env (ML_INTERN_ALLOW_PRIVATE_URLS)" in notice
