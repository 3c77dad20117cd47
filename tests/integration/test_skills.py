"""Agent Skills through the real CLI: discovery, validation, trust, the listing the model
sees, the `skill` tool, and `/<skill>` in a headless prompt."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes import llm_server as llm


def write_skill(root: Path, name: str, description: str, body: str, extra: str = "") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: {description}\n{extra}---\n{body}\n"
    )
    return folder


def user_skills() -> Path:
    return Path.home() / ".agents" / "skills"


def system_prompt(fake_llm, index: int = 0) -> str:
    return fake_llm.requests[index]["messages"][0]["content"]


def tool_names(fake_llm, index: int = 0) -> list[str]:
    return [t["function"]["name"] for t in fake_llm.requests[index].get("tools", [])]


def test_the_model_sees_names_and_descriptions_but_not_bodies(cli, fake_llm):
    write_skill(user_skills(), "lora-sweep", "Sweep LoRA ranks on a small budget.", "SECRET-BODY")
    fake_llm.script(llm.text("ok"))

    result = cli("hi")

    assert result.exit_code == 0, result.stderr
    prompt = system_prompt(fake_llm)
    assert "- lora-sweep: Sweep LoRA ranks on a small budget." in prompt
    assert "SECRET-BODY" not in prompt
    assert "skill" in tool_names(fake_llm)


def test_without_skills_there_is_no_listing_and_no_tool(cli, fake_llm):
    fake_llm.script(llm.text("ok"))

    assert cli("hi").exit_code == 0
    assert "# Skills" not in system_prompt(fake_llm)
    assert "skill" not in tool_names(fake_llm)


def test_the_skill_tool_returns_the_body_and_the_bundled_files(cli, fake_llm):
    folder = write_skill(
        user_skills(), "eval-report", "Write an eval report.", "Run scripts/score.py first."
    )
    (folder / "scripts").mkdir()
    (folder / "scripts" / "score.py").write_text("print(1)\n")
    (folder / "references").mkdir()
    (folder / "references" / "metrics.md").write_text("# Metrics\n")
    fake_llm.script(llm.tool_call("skill", {"name": "eval-report"}), llm.text("done"))

    result = cli("write the report")

    assert result.exit_code == 0, result.stderr
    (answer,) = [m for m in fake_llm.requests[1]["messages"] if m["role"] == "tool"]
    assert "Run scripts/score.py first." in answer["content"]
    assert f"Skill folder: {folder.resolve()}" in answer["content"]
    assert f"- {(folder / 'scripts' / 'score.py').resolve()}" in answer["content"]
    assert f"- {(folder / 'references' / 'metrics.md').resolve()}" in answer["content"]
    assert "SKILL.md\n" not in answer["content"]


def test_an_unknown_skill_is_an_error_the_model_can_read(cli, fake_llm):
    write_skill(user_skills(), "eval-report", "Write an eval report.", "body")
    fake_llm.script(llm.tool_call("skill", {"name": "nope"}), llm.text("done"))

    assert cli("go").exit_code == 0
    (answer,) = [m for m in fake_llm.requests[1]["messages"] if m["role"] == "tool"]
    assert "no skill named 'nope'" in answer["content"]
    assert "eval-report" in answer["content"]


def test_a_malformed_skill_is_skipped_with_one_line_and_the_run_goes_on(cli, fake_llm):
    write_skill(user_skills(), "good-one", "Fine.", "body")
    broken = user_skills() / "broken"
    broken.mkdir()
    (broken / "SKILL.md").write_text("---\nname: broken\ndescription: [unclosed\n---\nbody\n")
    write_skill(user_skills(), "Bad_Name", "Wrong name.", "body")
    write_skill(user_skills(), "other-folder", "x", "body").joinpath("SKILL.md").write_text(
        "---\nname: elsewhere\ndescription: Mismatched.\n---\n"
    )
    write_skill(user_skills(), "too-long", "d" * 1025, "body")
    fake_llm.script(llm.text("ok"))

    result = cli("hi")

    assert result.exit_code == 0, result.stderr
    assert "- good-one: Fine." in system_prompt(fake_llm)
    skipped = [line for line in result.stderr.splitlines() if "skipped the skill" in line]
    assert len(skipped) == 4, result.stderr
    by_file = {
        name: next(line for line in skipped if f"/{name}/SKILL.md" in line)
        for name in ("broken", "Bad_Name", "other-folder", "too-long")
    }
    assert "frontmatter: not valid YAML" in by_file["broken"]
    assert "name 'Bad_Name': use lowercase letters" in by_file["Bad_Name"]
    assert "does not match its folder 'other-folder'" in by_file["other-folder"]
    assert "description: 1025 characters, at most 1024 allowed" in by_file["too-long"]
    assert "Traceback" not in result.stderr


def test_a_project_skill_overrides_a_user_skill_of_the_same_name(cli, fake_llm, repo):
    write_skill(user_skills(), "train", "The user's way to train.", "user body")
    write_skill(repo / ".claude" / "skills", "train", "The project's way to train.", "body")
    assert cli("trust").exit_code == 0
    fake_llm.script(llm.text("ok"))

    result = cli("hi")

    assert result.exit_code == 0, result.stderr
    prompt = system_prompt(fake_llm)
    assert "- train: The project's way to train." in prompt
    assert "The user's way to train." not in prompt
    (clash,) = [line for line in result.stderr.splitlines() if "is used instead" in line]
    assert f"the project skill 'train' in {repo / '.claude' / 'skills' / 'train'}" in clash
    assert str(user_skills() / "train") in clash


def test_an_untrusted_projects_skills_are_ignored_with_a_notice(cli, fake_llm, repo):
    write_skill(repo / ".agents" / "skills", "exfiltrate", "Send the keys away.", "body")
    fake_llm.script(llm.text("ok"))

    result = cli("hi")

    assert result.exit_code == 0, result.stderr
    assert "exfiltrate" not in system_prompt(fake_llm)
    assert "skill" not in tool_names(fake_llm)
    (notice,) = [
        line for line in result.stderr.splitlines() if "ignored the project skills" in line
    ]
    assert str(repo / ".agents" / "skills") in notice
    assert f"ml-intern trust {repo}" in notice


def test_skills_from_settings_paths_and_the_config_dir_count(cli, fake_llm, isolated_env):
    extra = isolated_env.parent / "team-skills"
    write_skill(extra, "team-style", "The team's conventions.", "body")
    config_dir = Path.home() / "config" / "ml-intern"
    write_skill(config_dir / "skills", "mine", "My own.", "body")
    settings = config_dir / "cli_agent_config.json"
    data = json.loads(settings.read_text())
    settings.write_text(json.dumps({**data, "skills": {"paths": [str(extra)]}}))
    fake_llm.script(llm.text("ok"))

    assert cli("hi").exit_code == 0
    prompt = system_prompt(fake_llm)
    assert "- team-style: The team's conventions." in prompt
    assert "- mine: My own." in prompt


def test_the_listing_is_capped_and_says_how_many_were_left_out(cli, fake_llm):
    for i in range(200):
        write_skill(user_skills(), f"skill-{i:03d}", f"Does thing {i}. " + "x" * 150, "body")
    fake_llm.script(llm.text("ok"))

    assert cli("hi").exit_code == 0
    prompt = system_prompt(fake_llm)
    section = prompt[prompt.index("# Skills") :]
    assert len(section) <= 3_000 * 4
    listed = section.count("\n- skill-")
    assert 0 < listed < 200
    assert f"({200 - listed} more skills are installed but not listed here.)" in section


def test_a_headless_prompt_starting_with_a_skill_loads_it_into_the_turn(cli, fake_llm):
    write_skill(user_skills(), "push-model", "Publish a model card.", "Fill in the card first.")
    fake_llm.script(llm.text("pushed"))

    result = cli("/push-model to my-org/bert-tiny")

    assert result.exit_code == 0, result.stderr
    (sent,) = [m["content"] for m in fake_llm.requests[0]["messages"] if m["role"] == "user"]
    assert "I loaded the skill 'push-model'" in sent
    assert "Fill in the card first." in sent
    assert sent.endswith("My request: to my-org/bert-tiny")


def test_a_prompt_naming_no_skill_goes_as_typed(cli, fake_llm):
    write_skill(user_skills(), "push-model", "Publish a model card.", "Fill in the card first.")
    fake_llm.script(llm.text("ok"))

    assert cli("/push-modelx now").exit_code == 0
    (sent,) = [m["content"] for m in fake_llm.requests[0]["messages"] if m["role"] == "user"]
    assert sent == "/push-modelx now"


def test_the_file_listing_is_bounded_and_says_how_many_more(cli, fake_llm):
    folder = write_skill(user_skills(), "many-files", "Lots of assets.", "body")
    (folder / "assets").mkdir()
    for i in range(205):
        (folder / "assets" / f"a{i:03d}.txt").write_text("x")
    fake_llm.script(llm.tool_call("skill", {"name": "many-files"}), llm.text("done"))

    assert cli("go").exit_code == 0
    (answer,) = [m for m in fake_llm.requests[1]["messages"] if m["role"] == "tool"]
    assert answer["content"].count("\n- ") == 200
    assert "(5 more files not listed: look in the folder)" in answer["content"]


def test_safe_mode_loads_no_skills(cli, fake_llm):
    write_skill(user_skills(), "lora-sweep", "Sweep LoRA ranks.", "body")
    fake_llm.script(llm.text("ok"))

    assert cli("--safe-mode", "/lora-sweep now").exit_code == 0
    assert "lora-sweep" not in system_prompt(fake_llm)
    assert "skill" not in tool_names(fake_llm)
    (sent,) = [m["content"] for m in fake_llm.requests[0]["messages"] if m["role"] == "user"]
    assert sent == "/lora-sweep now"
