"""A spend budget on a model without a known price: said at once, and enforced once the
person gives the price."""

from __future__ import annotations

import json

from tests.fakes import llm_server as llm

UNENFORCED = "is not enforced: no price is known for openai/test-model"


def test_a_budget_on_a_model_without_a_price_is_said_to_be_unenforced(cli, fake_llm):
    fake_llm.script(llm.text("done", usage=(10_000_000, 1_000)))
    result = cli("--max-budget-usd", "0.01", "work")
    assert result.exit_code == 0
    assert UNENFORCED in result.stderr
    assert "--price-per-mtok IN,OUT" in result.stderr
    assert result.stderr.count(UNENFORCED) == 1


def test_a_given_price_enforces_the_budget_with_exit_5(cli, fake_llm, stream_flags):
    fake_llm.script(llm.tool_call("bash", {"command": "echo 1"}, usage=(200_000, 1_000)))
    result = cli(
        *stream_flags, "-o", "json", "--price-per-mtok", "3,15", "--max-budget-usd", "0.10", "go"
    )
    assert result.exit_code == 5
    summary = json.loads(result.stdout)
    assert summary["exit_reason"] == "budget_exceeded"
    assert summary["total_cost_usd"] == 200_000 * 3 / 1e6 + 1_000 * 15 / 1e6
    assert len(fake_llm.requests) == 1  # no second call was made
    assert UNENFORCED not in result.stderr


def test_a_price_in_the_config_enforces_the_budget(cli, fake_llm, tmp_path, monkeypatch):
    config = tmp_path / "prices.json"
    config.write_text(json.dumps({"price_per_mtok": {"input": 3, "output": 15}}))
    monkeypatch.setenv("ML_INTERN_CLI_CONFIG", str(config))
    fake_llm.script(llm.tool_call("bash", {"command": "echo 1"}, usage=(200_000, 1_000)))
    result = cli("--max-budget-usd", "0.10", "go")
    assert result.exit_code == 5
    assert "over the budget of $0.10" in result.stderr


def test_a_price_that_is_not_two_numbers_is_a_usage_error(cli):
    for value in ("3", "3,x", "-1,2"):
        result = cli("--price-per-mtok", value, "go")
        assert result.exit_code == 2, value
        assert "--price-per-mtok" in result.stderr
        assert "Traceback" not in result.stderr


def test_with_json_output_the_warning_is_on_stderr(cli, fake_llm):
    fake_llm.script(llm.text("done"))
    result = cli("-o", "json", "--max-budget-usd", "0.01", "work")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["final_text"] == "done"
    assert result.stderr.count(UNENFORCED) == 1
