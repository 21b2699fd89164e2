"""One bad rulebook per failure mode: the error names the file, the line or key path, the value and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from openets.errors import RulebookError
from openets.rules import load_rulebook_file
from openets.rules.load import key_path, locate

DATA = Path(__file__).parent / "data"


def line_of(path: Path, marker: str) -> int:
    """The 1-based number of the only non-comment line of `path` that contains `marker`."""
    lines = path.read_text().splitlines()
    hits = [n for n, line in enumerate(lines, start=1) if marker in line and not line.startswith("#")]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


# file, key path, line marker (None: the table the missing key belongs in), found, expected
CASES = [
    ("bad_syntax.toml", None, "2021 900_000", "'2021 900_000'", "expected valid TOML syntax"),
    (
        "bad_unknown_key.toml",
        "program.colour",
        'colour = "blue"',
        "unknown key `colour` = 'blue'",
        "expected one of: source, status, note, id, name",
    ),
    (
        "bad_missing_source.toml",
        "budgets.source",
        "[budgets]",
        "found nothing",
        'add `source = "<regulation section or official document>"` to [budgets]',
    ),
    (
        "bad_negative_budget.toml",
        "budgets.values.2021",
        "2021 = -900_000",
        "found value -900000",
        "expected a value greater than or equal to 0",
    ),
    (
        "bad_non_integer_budget.toml",
        "budgets.values.2021",
        "2021 = 0.9",
        "found value 0.9",
        "expected a whole number",
    ),
    (
        "bad_wrong_type.toml",
        "program.jurisdictions",
        'jurisdictions = "TY"',
        "found value 'TY'",
        "expected a list in brackets",
    ),
    (
        "bad_status.toml",
        "budgets.status",
        'status = "probably"',
        "found value 'probably'",
        "expected one of 'confirmed', 'secondary' or 'unconfirmed'",
    ),
    (
        "bad_unknown_program_id.toml",
        "holding_limit.linkage",
        'linkage = "atlantis"',
        "found program id 'atlantis'",
        "expected one of: california, china_power, eu, quebec, rggi, wci",
    ),
    (
        "bad_missing_member.toml",
        "members[1].program",
        'program = "atlantis"',
        "found program id 'atlantis'",
        "expected one of: california, china_power, eu, quebec, rggi, wci",
    ),
]


@pytest.mark.parametrize(("name", "key", "marker", "found", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_rulebook_error_names_file_line_key_value_and_fix(name, key, marker, found, expected):
    path = DATA / name
    with pytest.raises(RulebookError) as caught:
        load_rulebook_file(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"line {line_of(path, marker)}" in message
    if key is not None:
        assert f"at {key}:" in message
    assert found in message
    assert expected in message
    assert "Fix:" in message


def test_good_fixture_is_valid():
    program = load_rulebook_file(DATA / "good_toy.toml")
    assert program.id == "toy"
    assert program.budgets == {2020: 1_000_000, 2021: 900_000, 2022: 800_000}
    assert program.holding_limit(2020) is None


def test_missing_file_is_a_rulebook_error(tmp_path):
    with pytest.raises(RulebookError, match="does not exist"):
        load_rulebook_file(tmp_path / "nowhere.toml")


def test_several_problems_are_all_reported(tmp_path):
    text = (DATA / "good_toy.toml").read_text()
    text = text.replace("2021 = 900_000", "2021 = -1").replace('currency = "USD"', 'currency = "GBP"')
    path = tmp_path / "two.toml"
    path.write_text(text)
    with pytest.raises(RulebookError) as caught:
        load_rulebook_file(path)
    message = str(caught.value)
    assert "(2 problems)" in message
    assert "program.currency" in message and "'GBP'" in message and "'USD', 'CAD', 'CNY' or 'EUR'" in message
    assert "budgets.values.2021" in message


def test_member_files_are_found_beside_the_linkage(tmp_path):
    # A linkage of two private programs, both next to it, resolves without any shipped file.
    toy = (DATA / "good_toy.toml").read_text()
    (tmp_path / "toy.toml").write_text(toy)
    (tmp_path / "toy_b.toml").write_text(
        toy.replace('id = "toy"', 'id = "toy_b"').replace('["TY"]', '["TB"]')
    )
    (tmp_path / "link.toml").write_text(
        """
[program]
id = "link"
name = "Two toys"
kind = "linkage"
jurisdictions = ["TY", "TB"]
allowance_unit = "tCO2e"
currency = "USD"
start = 2020-01-01
source = "test"
status = "unconfirmed"

[[members]]
program = "toy"
jurisdiction = "TY"
start = 2020-01-01
source = "test"
status = "unconfirmed"

[[members]]
program = "toy_b"
jurisdiction = "TB"
start = 2021-01-01
source = "test"
status = "unconfirmed"
"""
    )
    link = load_rulebook_file(tmp_path / "link.toml")
    assert link.budgets == {2020: 1_000_000, 2021: 1_800_000, 2022: 1_600_000}


def test_member_with_wrong_jurisdiction_is_refused(tmp_path):
    text = (
        (DATA / "bad_missing_member.toml").read_text().replace('program = "atlantis"', 'program = "quebec"')
    )
    path = tmp_path / "wrong_jurisdiction.toml"
    path.write_text(text)
    with pytest.raises(
        RulebookError, match=r"members\[1\]\.jurisdiction: found 'AT', but program 'quebec' covers \['QC'\]"
    ):
        load_rulebook_file(path)


def test_locate_finds_nested_array_tables():
    text = """
[program]
id = "x"

[[reserves]]
id = "a"
[reserves.share.values]
2013 = 0.1

[[reserves]]
id = "b"
[[reserves.tiers]]
id = "t"
[reserves.tiers.prices.values]
2014 = 4.0
"""
    assert locate(text, ["program", "id"]) == 3
    assert locate(text, ["reserves", 0, "share", "values", "2013"]) == 8
    assert locate(text, ["reserves", 1, "id"]) == 11
    assert locate(text, ["reserves", 1, "tiers", 0, "prices", "values", "2014"]) == 15
    assert locate(text, ["reserves", 1, "name"]) == 10  # missing key: the table it belongs in
    assert key_path(["members", 2, "program"]) == "members[2].program"


def test_two_price_ceilings_are_refused(tmp_path):
    reserve = """
[[reserves]]
id = "r"
name = "Reserve"
kind = "price_containment"
[reserves.quantity]
source = "test"
status = "unconfirmed"
[reserves.quantity.values]
2020 = 10
"""
    ceiling = """
[[reserves.tiers]]
id = "{id}"
name = "Ceiling"
role = "price_ceiling"
[reserves.tiers.prices]
source = "test"
status = "unconfirmed"
[reserves.tiers.prices.values]
2020 = 50.00
"""
    path = tmp_path / "two_ceilings.toml"
    path.write_text(
        (DATA / "good_toy.toml").read_text() + reserve + ceiling.format(id="a") + ceiling.format(id="b")
    )
    with pytest.raises(RulebookError, match=r"several price ceilings \['r.a', 'r.b'\]"):
        load_rulebook_file(path)


def test_cpi_escalated_tier_without_a_default_cpi_is_refused(tmp_path):
    text = (
        (DATA / "good_toy.toml").read_text()
        + """
[[reserves]]
id = "r"
name = "Reserve"
kind = "price_containment"
[reserves.quantity]
source = "test"
status = "unconfirmed"
[reserves.quantity.values]
2020 = 10
[[reserves.tiers]]
id = "t"
name = "Tier"
[reserves.tiers.prices]
source = "test"
status = "unconfirmed"
[reserves.tiers.prices.values]
2020 = 40.00
[reserves.tiers.escalation]
rate = 0.05
plus_cpi = true
source = "test"
status = "unconfirmed"
"""
    )
    path = tmp_path / "tier_cpi.toml"
    path.write_text(text)
    with pytest.raises(RulebookError, match="default CPI assumption"):
        load_rulebook_file(path)
