"""/resume, /mcp and /share-traces as the chat runs them, and what they print."""

from __future__ import annotations

import asyncio
import io
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from agent.cli.slash import commands as slash
from agent.cli.slash import mcp_and_traces as slash_tools
from agent.cli.slash import resume as slash_sessions
from agent.config import McpServer, ModelPrice, Settings
from agent.context.resume import SessionSummary
from agent.context.store import SessionLog
from agent.extensions.commands import Commands
from agent.extensions.loaded import Extensions
from agent.extensions.skills import Catalog
from agent.tools.jobs.follow import INTERRUPTED
from agent.tools.mcp.manager import ServerStatus
from tests.fakes.hub_uploads import HubUploads, Repo

TOKEN = "hf_" + "Sh4re" * 7
NOW = 1_750_000_000.0


class FakeChat:
    """What a command sees of the chat: a session, a console, answers typed in advance."""

    def __init__(self, settings: Settings | None = None, answers: tuple[str, ...] = ()) -> None:
        self.out = io.StringIO()
        self.console = Console(file=self.out, width=120)
        self.session = SimpleNamespace(
            id="current",
            cwd=Path.cwd().resolve(),
            settings=settings or Settings(),
            mcp=None,
            tool_state={},
            skills=Catalog(),
            commands=Commands(),
            extensions=Extensions(),
        )
        self.answers = list(answers)
        self.questions: list[str] = []
        self.switched: list[str | None] = []

    async def ask(self, message: str) -> str | None:
        self.questions.append(message)
        return self.answers.pop(0) if self.answers else None

    async def switch_session(self, resume: str | None) -> None:
        self.switched.append(resume)

    def run(self, line: str) -> str:
        asyncio.run(slash.dispatch(self, line))
        return self.out.getvalue()


def summary(sid: str, cwd: str, turns: int = 2, prompt: str = "train a model") -> SessionSummary:
    return SessionSummary(sid, Path(f"{sid}.jsonl"), NOW, NOW, cwd, "openai/m", turns, prompt)


def save_session(sid: str, cwd: Path, model: str, *exchange: str) -> str:
    """A session on disk, as the chat writes it: requests and answers, alternating."""
    with SessionLog.create(sid, cwd, model) as log:
        log.append_message({"role": "system", "content": "You are ml-intern."})
        for i, text in enumerate(exchange):
            log.append_message({"role": "user" if i % 2 == 0 else "assistant", "content": text})
    return sid


# -- /resume ------------------------------------------------------------------------------------


def test_sessions_are_grouped_by_directory_this_one_first_and_empty_ones_left_out():
    sessions = [
        summary("s-b-new", "/b"),
        summary("s-empty", "/here", turns=0),
        summary("s-c", "/c"),
        summary("current", "/here"),
        summary("s-here", "/here"),
        summary("s-b-old", "/b"),
    ]
    chosen = slash_sessions.resumable(sessions, Path("/here"), current="current")
    assert [s.id for s in chosen] == ["s-here", "s-b-new", "s-b-old", "s-c"]


@pytest.mark.parametrize(
    ("age", "shown"),
    [(5, "just now"), (125, "2 min ago"), (3 * 3600 + 10, "3 h ago")],
)
def test_recent_sessions_show_their_age(age, shown):
    assert slash_sessions.when(NOW - age, NOW) == shown


def test_older_sessions_show_their_date():
    now = time.mktime((2025, 6, 15, 12, 0, 0, 0, 0, -1))
    this_year = time.mktime((2025, 3, 2, 9, 5, 0, 0, 0, -1))
    last_year = time.mktime((2024, 12, 30, 9, 5, 0, 0, 0, -1))
    assert slash_sessions.when(this_year, now) == "Mar 02 09:05"
    assert slash_sessions.when(last_year, now) == "2024-12-30"


def test_the_list_is_numbered_under_a_heading_per_directory():
    sessions = [
        summary("s-1", "/a", 1, "fine-tune\nllama"),
        summary("s-2", "/b/" + "deep/" * 30, 12, "eval"),
        summary("s-3", "/c", 2, "plot"),
    ]
    lines = [line.plain for line in slash_sessions.session_lines(sessions, Path("/a"), NOW)]
    assert [line.split() for line in lines] == [
        ["This", "directory"],
        ["1", "s-1", "just", "now", "1", "turn", "fine-tune", "llama"],
        ["…" + ("/b/" + "deep/" * 30)[-59:]],
        ["2", "s-2", "just", "now", "12", "turns", "eval"],
        ["/c"],
        ["3", "s-3", "just", "now", "2", "turns", "plot"],
    ]
    assert lines[1].index("fine-tune") == lines[3].index("eval")  # aligned columns


def test_paths_are_shortened_from_the_start(monkeypatch):
    monkeypatch.setenv("HOME", "/home/ada")
    assert slash_sessions.short_path("/home/ada/projects/x") == "~/projects/x"
    assert slash_sessions.short_path("/srv/" + "a" * 40, width=10) == "…aaaaaaaaa"


def test_an_id_is_found_whole_or_by_a_unique_prefix():
    ids = ["20250101-a1", "20250101-a12", "20250102-b2"]
    assert slash_sessions.matching_ids("20250101-a1", ids) == ["20250101-a1"]
    assert slash_sessions.matching_ids("20250102", ids) == ["20250102-b2"]
    assert slash_sessions.matching_ids("20250101", ids) == ["20250101-a1", "20250101-a12"]
    assert slash_sessions.matching_ids("2024", ids) == []


def replay_text(messages, last):
    import io

    from agent.cli.chat.render import make_console
    from agent.cli.chat.replay import replay

    out = io.StringIO()
    replay(make_console(file=out, width=80), messages, last=last)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())


def test_replay_shows_the_last_turns_rendered_under_a_count_of_the_earlier_ones():
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "bash", "arguments": '{"command": "ls data"}'},
    }
    messages = [
        {"role": "system", "content": "sys"},
        *(
            m
            for i in range(4)
            for m in (
                {"role": "user", "content": f"request {i}"},
                {"role": "assistant", "content": f"answer **{i}**"},
            )
        ),
        {"role": "user", "content": [{"type": "text", "text": "list the data"}]},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "train.csv\ntest.csv"},
        {"role": "assistant", "content": "# Found\n\n- train.csv"},
    ]
    lines = [line.rstrip() for line in replay_text(messages, last=3).splitlines() if line.strip()]
    assert lines[0] == "· 2 earlier turns (/transcript shows all)"
    assert "request 1" not in "\n".join(lines)
    assert lines[1:] == [
        "› request 2",
        "answer 2",
        "› request 3",
        "answer 3",
        "› list the data",
        "● bash: ls data",
        lines[7],  # the heading, centred
        " • train.csv",
    ]
    assert lines[7].strip() == "Found"
    assert "train.csv" not in lines[6]  # tool output stays collapsed
    full = replay_text(messages, last=None)
    assert "earlier" not in full
    assert "⎿ train.csv" in full and "test.csv" in full


def test_picking_by_number_switches_to_that_session_and_its_model(isolated_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")  # the saved model must be usable here
    other = isolated_env.parent / "elsewhere"
    other.mkdir()
    older = save_session("20250101-000000-aaaaaa", other, "openai/old", "remember pelican", "Ok.")
    newer = save_session("20250101-000001-bbbbbb", isolated_env, "openai/new", "hello", "Hi.")
    chat = FakeChat(Settings(model_name="openai/start"), answers=("9", "2"))
    out = chat.run("/resume")
    assert (
        out.index("This directory") < out.index(newer) < out.index("elsewhere") < out.index(older)
    )
    assert "No session 9 in the list." in out
    assert chat.switched == [older]
    assert chat.session.settings.model_name == "openai/old"
    assert f"resumed {older} (1 turn)" in out
    assert "› remember pelican" in out


def test_enter_cancels_the_picker_and_an_unknown_id_says_what_to_do(isolated_env):
    save_session("20250101-000000-aaaaaa", isolated_env, "openai/m", "hello", "Hi.")
    chat = FakeChat(answers=("",))
    chat.run("/resume")
    assert chat.switched == []
    assert chat.questions == ["Resume which? 1 or an id, Enter cancels › "]  # not "1-1"
    out = chat.run("/resume 1999")
    assert "No saved session '1999'. Type /resume to choose from a list." in out
    assert chat.switched == []


def test_the_picker_says_how_many_damaged_logs_it_left_out(isolated_env):
    from agent.context.store import sessions_dir

    save_session("20250101-000000-aaaaaa", isolated_env, "openai/m", "hello", "Hi.")
    damaged = sessions_dir() / "20250101-000001-bbbbbb.jsonl"
    damaged.write_text('{"kind":"meta","created":"abc","cwd":"/x"}\n')
    chat = FakeChat(answers=("",))
    out = chat.run("/resume")
    assert "1 damaged session log(s) left out: `ml-intern sessions list` names them" in out
    assert "20250101-000000-aaaaaa" in out


def test_ids_are_completed_newest_first_without_the_current_session(isolated_env):
    first = save_session("20250101-000000-aaaaaa", isolated_env, "openai/m", "a", "b")
    second = save_session("20250101-000001-bbbbbb", isolated_env, "openai/m", "c", "d")
    chat = FakeChat()
    chat.session.id = first
    offered = [text for text, _, _ in slash.completions(chat, "/resume 2025")]
    assert offered == [second]


def test_no_saved_sessions():
    assert "No saved sessions to resume yet." in FakeChat().run("/resume")


def test_only_a_close_misspelling_gets_a_suggestion():
    assert "Did you mean /model?" in FakeChat().run("/mdoel")
    assert "Did you mean /status?" in FakeChat().run("/stauts")
    out = FakeChat().run("/foo")
    assert "Unknown command /foo." in out
    assert "Did you mean" not in out


def test_yolo_on_and_off_say_what_they_mean():
    chat = FakeChat()
    assert "auto-approve off" in chat.run("/yolo off")
    assert chat.session.settings.yolo is False
    assert "auto-approve on" in chat.run("/yolo on")
    assert "auto-approve on" in chat.run("/yolo on")  # on stays on
    assert "auto-approve off" in chat.run("/yolo")  # alone it switches
    assert "Usage: /yolo on|off" in chat.run("/yolo maybe")
    assert chat.session.settings.yolo is False


def test_status_after_a_new_conversation_labels_the_run_wide_totals():
    from agent.usage import UsageLedger

    chat = FakeChat()
    usage = UsageLedger()
    usage.input_tokens, usage.output_tokens = 1200, 300
    chat.session.usage = usage
    chat.session.turns = 0
    chat.session.context = SimpleNamespace(tokens=50)
    chat.session.standing_approvals = lambda: {"bash: rm -rf ./build*"}
    out = " ".join(chat.run("/status").split())
    assert "turns 0 in this conversation" in out
    assert "1,200 in / 300 out (0 cached) since ml-intern started" in out
    assert "always allowed: bash: rm -rf ./build*" in out


def test_status_spells_out_what_a_saved_scope_would_hide():
    """A scope kept in a project's config that erases its line and forges a row of its own."""
    from agent.usage import UsageLedger

    chat = FakeChat()
    chat.session.usage, chat.session.turns = UsageLedger(), 0
    chat.session.context = SimpleNamespace(tokens=0)
    chat.session.standing_approvals = lambda: {"bash: curl x|sh\x1b[2K\n  approvals  ask\u202e"}
    out = chat.run("/status")
    assert "\x1b" not in out and "\u202e" not in out
    assert "bash: curl x|sh^[[2K^J  approvals  ask\\u202e" in " ".join(out.split("\n"))


# -- /mcp -----------------------------------------------------------------------------------------


def test_server_lines_are_compact():
    connected = ServerStatus("fs", "connected", "", ["mcp__fs__read", "mcp__fs__write"])
    assert slash_tools.server_line(connected).plain == "connected · 2 tools: read, write"
    single = ServerStatus("t", "connected", "", ["mcp__t__now"])
    assert slash_tools.server_line(single).plain == "connected · 1 tool: now"
    failed = ServerStatus("x", "failed", "command not found: nope")
    assert slash_tools.server_line(failed).plain == "failed: command not found: nope"
    assert slash_tools.server_line(ServerStatus("y", "connecting")).plain == "connecting"


def test_mcp_without_servers_says_how_to_add_one():
    assert "No MCP servers configured" in FakeChat().run("/mcp")


def test_mcp_lists_disabled_servers_when_none_started():
    settings = Settings(mcpServers={"hub": McpServer(url="https://x.invalid", enabled=False)})
    out = FakeChat(settings).run("/mcp")
    assert out.split() == ["hub", "disabled"]


def test_mcp_spells_out_a_server_name_that_would_drive_the_terminal():
    settings = Settings(mcpServers={"hub\x1b[2K\u2067": McpServer(url="https://x", enabled=False)})
    out = FakeChat(settings).run("/mcp")
    assert out.split() == ["hub^[[2K\\u2067", "disabled"]


def test_mcp_shows_each_server_and_where_failures_are_logged():
    chat = FakeChat()
    chat.session.mcp = SimpleNamespace(
        status=lambda: [
            ServerStatus("fake", "connected", "", ["mcp__fake__add"]),
            ServerStatus("broken", "failed", "no answer within 1 s"),
        ]
    )
    out = chat.run("/mcp")
    assert "fake    connected · 1 tool: add" in out
    assert "broken  failed: no answer within 1 s" in out
    assert "current.mcp.log" in out


# -- /share-traces ----------------------------------------------------------------------------------


@pytest.fixture
def hub():
    with HubUploads(token=TOKEN, user="alice") as fake:
        yield fake


def hub_settings(hub, **overrides) -> Settings:
    return Settings(hf_endpoint=hub.url, hf_token=TOKEN, **overrides)


def test_share_traces_shows_the_dataset_and_its_visibility(hub):
    hub.repos["alice/ml-intern-sessions"] = Repo(private=True)
    out = FakeChat(hub_settings(hub)).run("/share-traces")
    assert "sharing     on" in out
    assert "dataset     alice/ml-intern-sessions" in out
    assert "visibility  private" in out
    assert TOKEN not in out


def test_share_traces_before_the_first_upload(hub):
    out = FakeChat(hub_settings(hub, traces_repo="{hf_user}/traces")).run("/share-traces")
    assert "dataset     alice/traces" in out
    assert "not created yet" in out


def test_going_public_asks_first(hub):
    repo = hub.repos["alice/ml-intern-sessions"] = Repo(private=True)
    declined = FakeChat(hub_settings(hub), answers=("n",))
    assert "stays private" in declined.run("/share-traces public")
    assert "Anyone could then read every trace" in declined.questions[0]
    assert repo.private is True

    agreed = FakeChat(hub_settings(hub), answers=("y",))
    assert "alice/ml-intern-sessions is now public" in agreed.run("/share-traces public")
    assert repo.private is False

    back = FakeChat(hub_settings(hub))
    assert "is now private" in back.run("/share-traces private")
    assert back.questions == []
    assert repo.private is True


def test_share_traces_without_a_token_says_how_to_get_one():
    out = FakeChat().run("/share-traces")
    assert "off (no Hugging Face token)" in out
    assert "set HF_TOKEN" in out
    assert "set HF_TOKEN" in FakeChat().run("/share-traces public")


def test_share_traces_names_the_env_file_where_xdg_puts_it(monkeypatch, tmp_path):
    """The test's XDG_CONFIG_HOME is ~/config, not ~/.config; then a folder outside home."""
    assert "HF_TOKEN in your environment or in ~/config/ml-intern/.env" in FakeChat().run(
        "/share-traces"
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    out = FakeChat().run("/share-traces public")
    assert f"{tmp_path}/elsewhere/ml-intern/.env" in "".join(out.split())
    assert ".config" not in out


def test_share_traces_uses_the_token_hf_auth_login_saved(hub):
    from agent.hf_token import saved_login_path

    saved_login_path().parent.mkdir(parents=True, exist_ok=True)
    saved_login_path().write_text(TOKEN + "\n")
    repo = hub.repos["alice/ml-intern-sessions"] = Repo(private=False)
    out = FakeChat(Settings(hf_endpoint=hub.url)).run("/share-traces")
    assert "sharing     on" in out
    assert "visibility  public" in out
    assert "is now private" in FakeChat(Settings(hf_endpoint=hub.url)).run("/share-traces private")
    assert repo.private is True


def test_a_refused_token_is_explained(hub):
    settings = Settings(hf_endpoint=hub.url, hf_token="hf_wrong")
    out = FakeChat(settings).run("/share-traces")
    assert "Could not ask the Hub" in out
    assert "token" in out


def test_share_traces_off_in_the_configuration(hub):
    out = FakeChat(hub_settings(hub, share_traces=False)).run("/share-traces")
    assert "off (share_traces is false" in out


# -- a job left running by Ctrl-C -----------------------------------------------------------------


def test_a_job_left_running_is_offered_for_cancelling_only_after_ctrl_c():
    job = {"job_id": "j1", "namespace": "ns", "url": "http://hub.invalid/jobs/ns/j1"}
    chat = FakeChat(answers=("",))
    chat.session.tool_state[INTERRUPTED] = dict(job)  # left behind by a timeout
    asyncio.run(slash_tools.offer_job_cancel(chat, interrupted=False))
    assert chat.questions == []
    assert INTERRUPTED not in chat.session.tool_state

    chat.session.tool_state[INTERRUPTED] = dict(job)
    asyncio.run(slash_tools.offer_job_cancel(chat, interrupted=True))
    assert chat.questions == ["Cancel job j1 too? [y/N] "]
    assert "job j1 keeps running: http://hub.invalid/jobs/ns/j1" in chat.out.getvalue()


# -- /help ------------------------------------------------------------------------------------------


def test_help_lists_the_new_commands_and_what_undo_cannot_restore():
    out = FakeChat().run("/help")
    for usage in ("/resume [id]", "/mcp", "/share-traces [public|private]"):
        assert usage in out
    assert "/undo [files]" in out
    assert "also undo what write/edit changed in files (not bash)" in " ".join(out.split())


def test_plan_lines_show_done_current_and_open():
    from agent.cli.chat.render import plan_lines

    todos = [
        {"id": "1", "content": "inspect data", "status": "completed"},
        {"id": "2", "content": "train", "status": "in_progress"},
        {"id": "3", "content": "report", "status": "pending"},
    ]
    assert plan_lines(todos) == ["☑ 1. inspect data", "◐ 2. train", "☐ 3. report"]


def test_effort_and_budget_change_the_settings_the_engine_reads():
    from agent.cli.slash import settings as slash_settings  # noqa: F401  (registers the commands)
    from agent.usage import UsageLedger

    chat = FakeChat()
    chat.session.usage = UsageLedger(model_cost_usd=0.25)
    chat.run("/effort high")
    assert chat.session.settings.effort == "high"
    chat.run("/effort off")
    assert chat.session.settings.effort is None
    assert "Usage" in chat.run("/effort extreme")
    chat.run("/budget $3")
    assert chat.session.settings.max_budget_usd == 3.0
    assert "Spent so far: $0.2500 · budget: $3.00" in chat.run("/budget")
    chat.run("/budget off")
    assert chat.session.settings.max_budget_usd is None


def test_a_turn_stopped_by_the_budget_offers_to_raise_it():
    from agent import events as ev
    from agent.cli.slash.settings import offer_budget_raise
    from agent.usage import UsageLedger

    chat = FakeChat(Settings(max_budget_usd=1.0), answers=("2.5",))
    chat.session.usage = UsageLedger(model_cost_usd=0.99)
    stop = ev.Error(code="budget_exceeded", message="over", exit_code=5)
    asyncio.run(offer_budget_raise(chat, stop))
    assert "New budget" in chat.questions[0]
    assert chat.session.settings.max_budget_usd == 2.5
    asyncio.run(offer_budget_raise(chat, ev.TurnComplete(final_text="ok")))
    assert len(chat.questions) == 1


# -- /effort ------------------------------------------------------------------------------------


def test_effort_on_a_model_without_reasoning_names_the_command_and_the_model_as_written():
    chat = FakeChat(Settings(model_name="lm_studio/scripted-for-effort"))
    out = " ".join(chat.run("/effort high").split())
    assert "reasoning effort high" in out
    assert "lm_studio/scripted-for-effort has no reasoning setting, so /effort high" in out
    assert "openai/scripted" not in out and "--effort" not in out
    assert chat.session.settings.effort == "high"  # kept for a model that reasons


def test_effort_on_a_reasoning_model_says_nothing_more():
    chat = FakeChat(Settings(model_name="anthropic/claude-sonnet-4-5"))
    out = chat.run("/effort medium")
    assert "reasoning effort medium" in out
    assert "no reasoning setting" not in out


def test_status_measures_the_context_against_the_model_window():
    from agent.usage import UsageLedger

    chat = FakeChat(Settings(context_window_tokens=4096))
    chat.session.usage = UsageLedger()
    chat.session.turns = 1
    chat.session.context = SimpleNamespace(tokens=1855)
    chat.session.standing_approvals = dict
    out = " ".join(chat.run("/status").split())
    assert "1,855 / 3,481 tokens (53%); the model's context window is 4,096" in out


def test_budget_says_when_the_model_has_no_price_to_enforce_it():
    from agent.cli.slash import settings as slash_settings  # noqa: F401  (registers the commands)
    from agent.usage import UsageLedger

    chat = FakeChat(Settings(model_name="openai/unpriced-model", max_budget_usd=1.0))
    chat.session.usage = UsageLedger()
    out = chat.run("/budget")
    assert "is not enforced: no price is known for openai/unpriced-model" in out
    chat.session.settings.price_per_mtok = ModelPrice(input=3, output=15)
    assert "not enforced" not in chat.run("/budget 2")[len(out) :]
