"""California reserve sales and price-ceiling units (17 CCR §95913, §95915): hand-worked cases and invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openets.auction.reserve_sale import Request, Tier, reserve_sale_offered, sell_reserve
from openets.errors import InputError
from openets.registry.ledger import make_move

# 2021 tiers and ceiling (auctions/ca_apcr_tier_prices.csv, ICAP; the ceiling $65.00 is §95915(f)(1)).
TIERS_2021 = [Tier("tier_1", 4140, 1_000), Tier("tier_2", 5320, 500)]


def test_an_oversubscribed_tier_is_shared_pro_rata_and_the_next_tier_fills():
    # Tier 1 holds 1,000; A asks 800, B 600: 1,000 x 800/1,400 = 571.4 -> 571, x 600/1,400 = 428.6 -> 428,
    # and the 1 left goes to whoever comes first in the seeded order. Tier 2: A's 200 fit.
    reqs = [Request("A", "CA", "tier_1", 800), Request("B", "CA", "tier_1", 600), Request("A", "CA", "tier_2", 200)]
    r = sell_reserve(TIERS_2021, reqs, need={"A": 10_000, "B": 10_000}, seed=3)
    t1 = r.sold["tier_1"]
    assert sum(t1.values()) == 1_000 and {t1["A"] - 571, t1["B"] - 428} == {0, 1}
    assert r.sold["tier_2"] == {"A": 200} and r.unsold == {"tier_1": 0, "tier_2": 300}
    assert r.proceeds_cents == 1_000 * 4140 + 200 * 5320


def test_only_california_entities_buy_and_never_beyond_their_need():
    reqs = [Request("QCCO", "QC", "tier_1", 100), Request("A", "CA", "tier_1", 500)]
    r = sell_reserve(TIERS_2021, reqs, need={"A": 300, "QCCO": 1_000})
    assert "only California entities" in r.refused["QCCO"]
    assert r.sold["tier_1"] == {"A": 300} and r.cut_to_need == {"A": 200}


def test_price_ceiling_units_after_the_tiers_up_to_need_for_covered_entities_only():
    reqs = [Request("A", "CA", "tier_1", 1_000), Request("A", "CA", "tier_2", 500),
            Request("A", "CA", "ceiling", 5_000), Request("V", "CA", "ceiling", 10, covered=False)]
    r = sell_reserve(TIERS_2021, reqs, need={"A": 4_500, "V": 10}, ceiling_price_cents=6500)
    assert r.sold["ceiling"] == {"A": 3_000} and r.ceiling_units == 3_000
    assert r.cut_to_need == {"A": 2_000}
    assert "covered and opt-in" in r.refused["V (price ceiling)"]
    assert r.proceeds_cents == 1_000 * 4140 + 500 * 5320 + 3_000 * 6500


def test_a_non_covered_entity_refused_ceiling_units_still_buys_from_the_tiers():
    # Found in review: the ceiling refusal once blocked the entity's tier requests too.
    reqs = [Request("OPTIN", "CA", "tier_1", 1_000, covered=False), Request("OPTIN", "CA", "ceiling", 500, covered=False)]
    r = sell_reserve(TIERS_2021, reqs, need={"OPTIN": 5_000}, ceiling_price_cents=6500)
    assert r.sold["tier_1"] == {"OPTIN": 1_000} and r.sold["ceiling"] == {}
    assert "OPTIN (price ceiling)" in r.refused


def test_a_reserve_sale_follows_a_settlement_at_60_percent_of_the_lowest_tier():
    # §95913(b): 60% of the $41.40 tier is $24.84.
    assert reserve_sale_offered(2484, 4140, before_surrender_deadline=False)
    assert not reserve_sale_offered(2483, 4140, before_surrender_deadline=False)
    assert reserve_sale_offered(None, 4140, before_surrender_deadline=True)


entities = st.sampled_from(["A", "B", "C", "D"])


@settings(max_examples=300, deadline=None)
@given(
    reqs=st.lists(st.builds(Request, entity=entities, jurisdiction=st.sampled_from(["CA", "CA", "QC"]),
                            tier=st.sampled_from(["tier_1", "tier_2", "ceiling"]), quantity=st.integers(1, 900),
                            covered=st.booleans()), max_size=12),
    need=st.dictionaries(entities, st.integers(0, 2_000)),
    seed=st.integers(0, 10_000),
)
def test_reserve_sale_invariants(reqs, need, seed):
    r = sell_reserve(TIERS_2021, reqs, need, ceiling_price_cents=6500, seed=seed)
    for tier in TIERS_2021:
        assert sum(r.sold[tier.name].values()) + r.unsold[tier.name] == tier.quantity
    bought: dict[str, int] = {}
    for tier_name, awards in r.sold.items():
        for entity, q in awards.items():
            bought[entity] = bought.get(entity, 0) + q
            assert entity not in r.refused
            if tier_name == "ceiling":
                assert f"{entity} (price ceiling)" not in r.refused
    for entity, q in bought.items():
        assert q <= need.get(entity, 0)
        asked = sum(x.quantity for x in reqs if x.entity == entity)
        assert q <= asked
    assert sell_reserve(TIERS_2021, reqs, need, ceiling_price_cents=6500, seed=seed) == r


def _registry(url):
    from datetime import date

    from openets.registry import Registry
    from openets.registry.ledger import make_move

    reg = Registry.create(url, "wci")
    reg.open_account("ACME-CMP", "acme", "compliance", "CA")
    reg.open_account("QCCO-CMP", "qcco", "compliance", "QC")
    reg.apply(make_move("apcr", "issue", "CA-ISSUANCE", "CA-RESERVE", "CA:reserve_allowance:-", 1_500, date(2021, 1, 1)))
    return reg


def test_a_reserve_sale_moves_reserve_allowances_and_issues_ceiling_units_atomically(db_url):
    from datetime import date

    from openets.auction.reserve_sale import run_reserve_sale

    with _registry(db_url) as reg:
        reqs = [Request("ACME-CMP", "", "tier_1", 1_000), Request("ACME-CMP", "", "tier_2", 500),
                Request("ACME-CMP", "", "ceiling", 700), Request("QCCO-CMP", "", "tier_1", 100)]
        run = run_reserve_sale(reg, "rs-2021-q3", date(2021, 8, 18), TIERS_2021, reqs,
                               need={"ACME-CMP": 2_000, "QCCO-CMP": 500}, ceiling_price_cents=6500)
        assert "only California entities" in run.result.refused["QCCO-CMP"]  # the account is registered in QC
        held = {(r.account_id, r.instrument_key): r.quantity for r in reg.balances()}
        assert held[("ACME-CMP", "CA:reserve_allowance:-")] == 1_500
        assert held[("ACME-CMP", "CA:price_ceiling_unit:-")] == 500  # need 2,000 less the 1,500 bought
        assert ("CA-RESERVE", "CA:reserve_allowance:-") not in held
        report = reg.verify()
        assert report.ok and report.issued == 2_000
        before = reg.dump()
        again = run_reserve_sale(reg, "rs-2021-q3", date(2021, 8, 18), TIERS_2021, reqs,
                                 need={"ACME-CMP": 2_000, "QCCO-CMP": 500}, ceiling_price_cents=6500)
        assert set(again.statuses) == {"exists"} and reg.dump() == before


def test_cli_reserve_sale_and_a_bad_requests_file(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    from openets.registry import Registry

    db = str(tmp_path / "reg.db")
    _registry(db).close()
    root = Path(__file__).resolve().parents[2]

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "openets.cli", "auction", "reserve-sale", "--db", db, *args],
                              capture_output=True, text=True, cwd=root, timeout=300)

    bad = tmp_path / "bad.csv"
    bad.write_text("entity,tier,quantity,need\nACME-CMP,tier_1,lots,900\n")
    with Registry.open(db) as reg:
        before = reg.dump()
    proc = cli("--sale-id", "s1", "--date", "2021-08-18", "--requests", str(bad), "--tier", "tier_1:41.40:1000")
    assert proc.returncode == 1 and "line 2: quantity 'lots'" in proc.stderr
    with Registry.open(db) as reg:
        assert reg.dump() == before
    good = tmp_path / "good.csv"
    good.write_text("entity,tier,quantity,need\nACME-CMP,tier_1,600,900\nACME-CMP,tier_2,600,900\n")
    proc = cli("--sale-id", "s1", "--date", "2021-08-18", "--requests", str(good), "--tier", "tier_1:41.40:1000",
               "--tier", "tier_2:53.20:500", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["sold"] == {"tier_1": {"ACME-CMP": 600}, "tier_2": {"ACME-CMP": 300}}
    assert out["cut_to_need"] == {"ACME-CMP": 300} and out["proceeds_usd"] == 600 * 41.40 + 300 * 53.20


def test_compliance_need_from_the_registry_limits_what_a_buyer_may_buy(db_url, tmp_path):
    # ACME (California) emitted 1,000 t in each of 2021-2023 (CP4): its annual obligation due 1 Nov 2022 is 30% of
    # 2021 = 300 (§95855). Its compliance account holds 100 vintage-2021 allowances, so its need is 200; it asks for
    # 1,000 tier-1 allowances and gets 200.
    from datetime import date

    from openets.compliance.surrender import compliance_need

    with _registry(db_url) as reg:
        reg.apply(make_move("own", "issue", "CA-ISSUANCE", "ACME-CMP", "CA:allowance:2021", 100, date(2021, 1, 1)))
        assert compliance_need(reg, "ACME-CMP", {2021: 1_000, 2022: 1_000, 2023: 1_000}, date(2022, 8, 17)) == 200
        with pytest.raises(InputError, match="no obligation falls due on or after 2026-01-01"):
            compliance_need(reg, "ACME-CMP", {2021: 1_000, 2022: 1_000, 2023: 1_000}, date(2026, 1, 1))
    if "://" in db_url:
        return  # the CLI run below uses the SQLite file
    import json
    import subprocess
    import sys
    from pathlib import Path

    requests = tmp_path / "req.csv"
    requests.write_text("entity,tier,quantity\nACME-CMP,tier_1,1000\n")
    emissions = tmp_path / "em.csv"
    emissions.write_text("entity,year,emissions\nACME-CMP,2021,1000\nACME-CMP,2022,1000\nACME-CMP,2023,1000\n")
    proc = subprocess.run(
        [sys.executable, "-m", "openets.cli", "auction", "reserve-sale", "--db", db_url, "--sale-id", "s2",
         "--date", "2022-08-17", "--requests", str(requests), "--emissions", str(emissions),
         "--tier", "tier_1:46.05:1000", "--json"],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["sold"] == {"tier_1": {"ACME-CMP": 200}}
