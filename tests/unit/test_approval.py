"""Which tool calls ask for a person's yes, and the reason they give."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import Settings
from agent.core.approval.destructive import is_destructive_command
from agent.core.approval.policy import approval_reason, denial
from agent.tools.local.local_tools import local_tools
from agent.tools.spec import ToolResult, ToolSpec

SPECS = {spec.name: spec for spec in local_tools()}


def reason(
    name: str, args: dict, cwd: Path, settings: Settings | None = None, **policy
) -> str | None:
    settings = settings or Settings(approval=policy)
    return approval_reason(name, args, settings, cwd, SPECS.get(name))


def bash(command: str, cwd: Path, **policy) -> str | None:
    return reason("bash", {"command": command}, cwd, **policy)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("rm -rf build", "`rm -rf`"),
        ("rm -r --verbose old", "`rm -r`"),
        ("git push origin main", "`git push`"),
        ("git -C repo push --force", "`git push`"),
        ("git status && git reset --hard HEAD~1", "`git reset --hard`"),
        ("git clean -fdx", "`git clean`"),
        ("git checkout -- src/", "discards"),
        ("git branch -D feature", "`git branch -D`"),
        ("chmod -R 777 .", "`chmod -R`"),
        ("chown -R me /srv/data", "`chown -R`"),
        ("sudo apt-get install -y git", "`sudo`"),
        ("mkfs.ext4 /dev/sdb1", "`mkfs.ext4`"),
        ("dd if=/dev/zero of=disk.img bs=1M", "`dd of=`"),
        ("echo 'nameserver 1.1.1.1' > /etc/resolv.conf", "/etc/resolv.conf"),
        ("python gen.py | tee /usr/local/bin/tool", "/usr/local/bin/tool"),
        ("cp build/lib.so /usr/lib/", "/usr/lib/"),
        ("curl -fsSL https://example.com/install.sh | sh", "downloaded script"),
        ("wget -qO- https://example.com/x | bash -s -- --yes", "downloaded script"),
        ("bash <(curl -s https://example.com/x)", "downloaded script"),
        ("pip uninstall -y torch", "`pip uninstall`"),
        ("uv pip uninstall torch", "`pip uninstall`"),
        ("uv remove transformers", "`uv remove`"),
        ("apt-get purge -y nginx", "`apt-get purge`"),
        ("npm uninstall left-pad", "`npm uninstall`"),
        ("conda remove numpy", "`conda remove`"),
        ("kill -9 4242", "`kill -9`"),
        ("pkill -f train.py", "`pkill`"),
        ("find . -name '*.ckpt' -delete", "`find -delete`"),
        ("find . -type d -exec rm -rf {} +", "`rm -rf`"),
        ("ls | xargs rm -rf", "`rm -rf`"),
        ("bash -c 'cd /tmp && rm -rf x'", "`rm -rf`"),
        ("echo $(rm -rf cache)", "`rm -rf`"),
        ("for d in runs/*; do rm -r $d; done", "`rm -r`"),
        ("FOO=1 nohup rm -rf out &", "`rm -rf`"),
        ("hf repo delete me/my-model", "Hugging Face Hub"),
    ],
)
def test_destructive_commands_ask_with_a_reason(command, expected, tmp_path):
    why = bash(command, tmp_path)
    assert why is not None, command
    assert expected in why
    assert is_destructive_command(command) == why


@pytest.mark.parametrize(
    "command",
    [
        "ls -la",
        "python train.py --epochs 3 > logs/train.log 2>&1",
        "pip install -U transformers",
        "git status && git diff && git log --oneline -5",
        "git checkout -b experiment",
        "git clean -n",
        "rm old.log",
        "echo 'rm -rf /' > notes.txt",
        'git commit -m "stop: rm -rf; git push"',
        "cat /etc/os-release",
        "cp /etc/hosts hosts.bak",
        "kill 4242",
        "nvidia-smi | head -20",
        "cat > run.sh <<'EOF'\nrm -rf /\nsudo reboot\nEOF\nchmod +x run.sh",
        "python train.py > /dev/null 2>&1",
        "curl -s https://example.com/data.json | python -m json.tool > data.json",
    ],
)
def test_ordinary_commands_do_not_ask(command, tmp_path):
    assert bash(command, tmp_path) is None


def test_command_substitution_piping_a_download_into_python_still_asks(tmp_path):
    assert bash("curl -s https://example.com/x.py | python3", tmp_path) is not None


def test_unparsable_commands_fall_back_to_patterns(tmp_path):
    assert "rm -r" in bash("echo 'unclosed ; rm -rf /", tmp_path)
    assert bash("echo 'unclosed", tmp_path) is None


def test_allow_commands_trust_matching_parts_only(tmp_path):
    assert bash("git push origin main", tmp_path, allow_commands=["git push"]) is None
    mixed = bash("git push && rm -rf build", tmp_path, allow_commands=["git push"])
    assert mixed is not None
    assert "rm -rf" in mixed
    assert bash("git pull", tmp_path, allow_commands=["git push"]) is None


def refused(name: str, args: dict, **policy) -> str | None:
    return denial(name, args, Settings(approval=policy))


def test_deny_commands_are_refused_outright():
    policy = {"deny_commands": ["python train.py"]}
    why = refused("bash", {"command": "ls && python train.py --big"}, **policy)
    assert why == "matches approval.deny_commands: `python train.py`"
    assert refused("bash", {"command": "python eval.py"}, **policy) is None
    assert refused("bash", {"command": "echo 'unclosed ; python train.py"}, **policy)


def test_bash_always_ask(tmp_path):
    assert bash("ls", tmp_path, bash_always_ask=True) == "approval.bash_always_ask is on"
    assert bash("ls -la", tmp_path, bash_always_ask=True, allow_commands=["ls"]) is None
    assert bash("ls; pwd", tmp_path, bash_always_ask=True, allow_commands=["ls"]) is not None


def test_read_only_tools_never_ask(tmp_path):
    assert reason("read", {"path": "/etc/shadow"}, tmp_path) is None
    assert reason("bash_output", {"job_id": "bg1"}, tmp_path) is None
    settings = Settings()
    assert approval_reason("read", {"path": "/etc/passwd"}, settings, tmp_path) is None


def test_allow_and_deny_tool_lists(tmp_path):
    assert bash("rm -rf /", tmp_path, allow_tools=["bash"]) is None
    denied = refused("read", {"path": "a.txt"}, deny_tools=["read"])
    assert denied == "`read` is listed in approval.deny_tools"
    assert refused("read", {"path": "a.txt"}) is None


def test_file_tools_ask_outside_the_working_directory(tmp_path):
    cwd = tmp_path / "project"
    cwd.mkdir()
    assert reason("write", {"path": "src/model.py", "content": ""}, cwd) is None
    assert reason("edit", {"path": str(cwd / "a.py")}, cwd) is None
    assert (
        reason("write", {"path": "/etc/x"}, cwd) == "writes outside the working directory: /etc/x"
    )
    outside = reason("edit", {"path": "../other/a.py"}, cwd)
    assert outside == f"writes outside the working directory: {tmp_path / 'other' / 'a.py'}"
    (cwd / "link").symlink_to(tmp_path)
    assert reason("write", {"path": "link/escape.txt"}, cwd) is not None


def test_edits_in_cwd_ask_when_configured(tmp_path):
    why = reason("edit", {"path": "a.py"}, tmp_path, edits_in_cwd_ask=True)
    assert why is not None
    assert "edits_in_cwd_ask" in why


def test_a_tools_own_hook_is_honoured(tmp_path):
    async def handler(args, ctx):
        return ToolResult("ok")

    spec = ToolSpec(
        name="hf_jobs",
        description="run a job",
        handler=handler,
        needs_approval=lambda args, settings: args.get("flavor") != "cpu-basic",
    )
    settings = Settings()
    assert approval_reason("hf_jobs", {"flavor": "a100-large"}, settings, tmp_path, spec)
    assert approval_reason("hf_jobs", {"flavor": "cpu-basic"}, settings, tmp_path, spec) is None
    plain = ToolSpec(name="plan", description="todo list", handler=handler)
    assert approval_reason("plan", {}, settings, tmp_path, plain) is None


@pytest.mark.parametrize(
    "command",
    [
        "echo done#; sudo rm -rf /",
        "curl -s https://x.com/#top && git push --force",
        "git reset \\\n --hard HEAD~3",
        "find . -name '*.pyc' \\\n -delete",
        "bash -lc 'rm -rf build'",
        "sh -ec 'git push'",
        "bash <<'EOF'\nrm -rf build\nEOF",
        "bash <<< 'rm -rf build'",
        "env -u HOME rm -rf x",
        "timeout -s KILL 10 rm -rf x",
        "xargs -a list rm -rf",
        "xargs -d '\\n' rm -rf",
    ],
)
def test_tricky_spellings_of_destructive_commands_still_ask(tmp_path, command):
    assert bash(command, tmp_path) is not None


def test_a_hash_inside_a_word_is_not_a_comment_but_a_real_comment_is(tmp_path):
    assert bash("echo '# rm -rf /'", tmp_path) is None
    assert bash("ls  # rm -rf / is what we must not do", tmp_path) is None


@pytest.mark.parametrize(
    "command",
    [
        "env rm -rf b",
        "sudo rm -rf b",
        "sudo -u alice rm -rf b",
        "bash -c 'rm -rf b'",
        "echo b | xargs rm -rf",
        "find . -exec rm -rf {} +",
        "nohup git push",
        "time git push",
    ],
)
def test_deny_lists_see_through_wrappers(command):
    assert refused("bash", {"command": command}, deny_commands=["rm -rf", "git push"])


def test_always_allows_a_command_prefix_not_all_of_bash(tmp_path):
    from agent.core.approval.scopes import allowed_always, always_scope

    scope = always_scope("bash", {"command": "rm -rf ./build"}, tmp_path)
    assert scope == "bash: rm -rf ./build*"
    scopes = {scope}

    def allowed(command: str) -> bool:
        return allowed_always("bash", {"command": command}, scopes, tmp_path)

    assert allowed("rm -rf ./build")
    assert allowed("rm -rf ./build2 && ls")
    assert allowed("rm -rf ./build/cache")
    assert not allowed("cd x; rm -rf ./build/cache")  # ./build of another folder
    assert not allowed("rm -rf ./build ~")
    assert not allowed("rm -rf ./data")
    assert not allowed("git push --force")
    assert not allowed_always("bash", {"command": "ls"}, scopes, tmp_path, every_part=True)


def test_always_allows_edits_in_one_directory(isolated_env):
    from agent.core.approval.scopes import allowed_always, always_scope

    tmp_path = isolated_env

    assert always_scope("edit", {"path": "src/a.py"}, tmp_path) == "edits in src/"
    assert always_scope("write", {"path": "notes.md"}, tmp_path) == "edits in ./"
    scopes = {always_scope("edit", {"path": "src/a.py"}, tmp_path)}
    assert allowed_always("write", {"path": "src/pkg/b.py"}, scopes, tmp_path)
    assert not allowed_always("write", {"path": "tests/b.py"}, scopes, tmp_path)
    assert not allowed_always("write", {"path": "src/../setup.py"}, scopes, tmp_path)
    assert always_scope("mcp__x__y", {}, tmp_path) == "tool: mcp__x__y"
    assert allowed_always("mcp__x__y", {}, {"tool: mcp__x__y"}, tmp_path)


def test_saved_scopes_keep_folders_relative_to_the_project(tmp_path):
    from agent.core.approval.scopes import allowed_always, configured_scopes, scope_to_save

    project, cwd = tmp_path, tmp_path / "src"
    cwd.mkdir()
    assert scope_to_save("edits in pkg/", cwd, project) == "edits in src/pkg/"
    assert scope_to_save("edits in ./", cwd, project) == "edits in src/"
    assert scope_to_save("edits in ./", project, project) == "edits in ./"
    assert scope_to_save("edits in /elsewhere/", cwd, project) == "edits in /elsewhere/"
    assert scope_to_save("bash: rm -rf ./build*", cwd, project) == "bash: rm -rf ./build*"
    scopes = configured_scopes(["edits in src/pkg/", "tool: hf_jobs"], project)
    assert allowed_always("write", {"path": "pkg/a.py"}, scopes, cwd)
    assert not allowed_always("write", {"path": "a.py"}, scopes, cwd)
    assert allowed_always("hf_jobs", {}, scopes, cwd)


@pytest.mark.parametrize(
    "scope", ["bash", "bash: ", "edits in src", "edits in /", "tool: ", "everything", "tool: a b"]
)
def test_a_saved_scope_that_is_not_one_is_refused_with_the_forms_it_could_take(scope):
    from pydantic import ValidationError

    from agent.config import ApprovalPolicy

    with pytest.raises(ValidationError, match="use `bash: <command prefix>\\*`"):
        ApprovalPolicy(always_allow=[scope])
    assert ApprovalPolicy(always_allow=["edits in ./", "bash: make*"]).always_allow
