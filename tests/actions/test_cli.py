"""`openets actions coverage | pathway | list`."""

from __future__ import annotations

import json

import pytest

from openets.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["actions", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_coverage_json_has_the_shares_and_the_naive_sum(capsys):
    code, out, _ = run(capsys, "coverage", "--coalition", "usca", "--date", "2019-12-31", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("population_share", "gdp_share", "emissions_share"):
        assert 0 < data[key] <= data["naive"][key] <= 1
    assert set(data["naive"]) == {"population_share", "gdp_share", "emissions_share"}
    # Census NST-EST2019: the 50 states + DC had 328,239,523 people in 2019.
    assert data["national"]["population"] == 328_239_523
    assert data["data_years"] == {"population": 2019, "gdp": 2019, "emissions": 2019}


def test_coverage_defaults_to_the_three_coalitions_and_prints_a_table(capsys):
    code, out, _ = run(capsys, "coverage")
    assert code == 0
    assert "usca, wasi, climate-mayors" in out and "naive sum" in out and "americas-pledge" in out


def test_coverage_of_named_actors(capsys):
    code, out, _ = run(capsys, "coverage", "--actor", "US-TX:houston", "--json")
    # Census SUB-IP-EST2019-ANNRNK: Houston 2,320,268 in 2019.
    assert code == 0 and json.loads(out)["covered"]["population"] == pytest.approx(2_320_268)


def test_coverage_errors_are_one_clear_line(capsys):
    code, _, err = run(capsys, "coverage", "--coalition", "Paris Club")
    assert code == 1 and err.startswith("error: unknown coalition 'Paris Club'; known coalitions: usca")
    code, _, err = run(capsys, "coverage", "--date", "2030-01-01")
    assert code == 1 and "after the shipped memberships" in err and "--date on or before" in err
    code, _, err = run(capsys, "coverage", "--date", "31/12/2019")
    assert code == 1 and "give it as YYYY-MM-DD" in err


def test_pathway_json_and_plot(capsys, tmp_path):
    png = tmp_path / "pathway.png"
    code, out, _ = run(capsys, "pathway", "--scenario", "commitments", "--plot", str(png), "--json")
    assert code == 0 and png.exists()
    data = json.loads(out)
    assert [n["year"] for n in data["ndc"]] == [2025, 2030]
    assert data["plot"] == str(png)
    code, out, _ = run(capsys, "pathway", "--scenario", "current-policy")
    assert code == 0 and "NDC comparison" in out
    code, _, err = run(capsys, "pathway", "--scenario", "magic")
    assert code == 1 and "unknown scenario 'magic'" in err


def test_list_actors_and_commitments(capsys):
    code, out, _ = run(capsys, "list", "--kind", "city", "--json")
    rows = {r["actor_id"]: r for r in json.loads(out)}
    assert code == 0 and rows["US-CA:los-angeles"]["coalitions"] == ["climate-mayors", "wasi"]
    code, out, _ = run(capsys, "list", "--kind", "divestment_screen", "--json")
    assert [r["commitment_id"] for r in json.loads(out)] == ["blackrock-thermal-coal"]
    code, _, err = run(capsys, "list", "--kind", "planet")
    assert code == 1 and "actor kinds: nation" in err



def test_pathway_warming_avoided_is_positive_for_commitments(capsys):
    code, out, _ = run(capsys, "pathway", "--scenario", "commitments", "--warming", "--json")
    assert code == 0
    avoided = json.loads(out)["warming_avoided"]
    # Every commitment met cuts US emissions below current policy (the scenario table), so warming is avoided.
    assert avoided["cut_gt_2030"] > 0 and avoided["median_2100_k"] > 0 and avoided["p5_2100_k"] > 0
