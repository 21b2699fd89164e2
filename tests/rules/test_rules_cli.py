"""The `openets rules` commands: list, show (tables and one JSON object), check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openets.errors import RulebookError
from openets.rules.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_show_json_prints_one_object():
    result = runner.invoke(app, ["show", "california", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)  # fails unless the output is exactly one JSON document
    assert isinstance(shown, dict)
    assert shown["id"] == "california" and shown["allowance_unit"] == "tCO2e" and shown["name"]
    # 17 CCR §95841 Table 6-1: 162.8 M in 2013 (shared data wci/wci_annual_budgets.csv).
    assert shown["budgets"]["2013"] == 162_800_000
    assert shown["derived"]["holding_limit"]["2013"] == 5_945_000


def test_show_json_uses_the_given_cpi():
    # 24.04 x (1 + 5% + 3%) = 25.9632 -> 25.96 (§95911(c)(3)(A)).
    result = runner.invoke(app, ["show", "california", "--json", "--cpi", "0.03"])
    shown = json.loads(result.output)
    assert shown["derived"]["auction_reserve_price"]["2025"] == {
        "price": "25.96",
        "currency": "USD",
        "projected": True,
        "source": shown["derived"]["auction_reserve_price"]["2025"]["source"],
        "status": "unconfirmed",
    }
    assert shown["derived"]["auction_reserve_price"]["2024"]["price"] == "24.04"


def test_show_wci_json_has_members():
    shown = json.loads(runner.invoke(app, ["show", "wci", "--json"]).output)
    assert [m["jurisdiction"] for m in shown["members"]] == ["CA", "QC", "ON"]
    assert shown["members"][2]["end"] == "2018-07-03"


def test_show_tables():
    result = runner.invoke(app, ["show", "rggi"])
    assert result.exit_code == 0, result.output
    assert "91,000,000" in result.output and "75,147,784" in result.output
    assert "Main parameters" in result.output and "short_ton" in result.output


def test_show_unknown_program_raises_rulebook_error():
    result = runner.invoke(app, ["show", "atlantis"])
    assert isinstance(result.exception, RulebookError)
    assert "california, china_power, eu, quebec, rggi, wci" in str(result.exception)


def test_list():
    listed = json.loads(runner.invoke(app, ["list", "--json"]).output)
    assert [p["id"] for p in listed] == ["california", "china_power", "eu", "quebec", "rggi", "wci"]
    assert "California Cap-and-Trade Program" in runner.invoke(app, ["list"]).output


def test_check_valid_and_invalid_files():
    good = DATA / "good_toy.toml"
    result = runner.invoke(app, ["check", str(good)])
    assert result.exit_code == 0
    assert result.output.strip() == f"ok: {good} is a valid rulebook for toy (3 budget years)"
    result = runner.invoke(app, ["check", str(DATA / "bad_negative_budget.toml")])
    assert isinstance(result.exception, RulebookError)


def test_check_every_shipped_rulebook():
    for path in sorted((Path(__file__).parents[2] / "src/openets/rules/programs").glob("*.toml")):
        result = runner.invoke(app, ["check", str(path)])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("ok: ")


def test_openets_cli_subprocess_prints_one_json_object():
    pytest.importorskip("openets.registry.cli", reason="the top-level CLI mounts the registry app too")
    done = subprocess.run(
        [sys.executable, "-m", "openets.cli", "rules", "show", "california", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    shown = json.loads(done.stdout)
    assert {"id", "name", "allowance_unit", "budgets"} <= set(shown)
    assert all(k.isdigit() for k in shown["budgets"])
    assert shown["budgets"]["2015"] == 394_500_000


def test_openets_cli_turns_rulebook_errors_into_exit_code_1():
    pytest.importorskip("openets.registry.cli", reason="the top-level CLI mounts the registry app too")
    done = subprocess.run(
        [sys.executable, "-m", "openets.cli", "rules", "check", str(DATA / "bad_missing_member.toml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # the exit code is what is tested
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "members[1].program" in done.stderr
