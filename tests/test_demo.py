"""`make demo`: the WCI registry it builds holds every CA and QC budget 2013-2018, placed per the rulebook."""

from __future__ import annotations

from openets.demo import main, placement
from openets.registry import Registry
from openets.rules import load_program


def test_placement_adds_up_to_the_budget():
    wci = load_program("wci")
    for jurisdiction in ("CA", "QC"):
        for vintage in range(2013, 2019):
            parts = placement(wci, jurisdiction, vintage)
            assert sum(parts.values()) == wci.budget(vintage, jurisdiction)
            assert all(v >= 0 for v in parts.values())
    # 17 CCR §95870(a): APCR 1% of the 2013 budget of 162,800,000; §95870(b): no advance share before 2015.
    assert placement(wci, "CA", 2013)["reserve"] == 1_628_000
    assert placement(wci, "CA", 2013)["advance_auction"] == 0
    # §95870(b): 10% of the 2015 budget of 394,500,000 goes to advance auctions.
    assert placement(wci, "CA", 2015)["advance_auction"] == 39_450_000


def test_demo_builds_and_verifies(tmp_path, capsys):
    db = tmp_path / "demo.db"
    assert main(["--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "verify OK" in out and "allocation holding" in out
    assert "supply, emissions and bank" in out and (tmp_path / "wci-supply.png").read_bytes()[:4] == b"\x89PNG"
    assert "Simulation, 200 runs" in out and (tmp_path / "wci-simulation" / "index.html").exists()
    # Bottom-up: the US Climate Alliance at the end of 2019 (Census/BEA/EPA state figures, actions_us_states_annual.csv).
    assert "US Climate Alliance: 54.7% / 60.0% / 40.9%" in out
    assert "Warming in 2100" in out and "0.025 K" in out  # TCRE: see tests/climate
    with Registry.open(str(db)) as reg:
        report = reg.verify()
        wci = reg.program
        expected = sum(wci.budget(v, j) for j in ("CA", "QC") for v in range(2013, 2019))
        assert report.issued == report.held == expected
        # The sum of CA and QC budgets 2013-2018 (§95841 Table 6-1; QC OIC 1185-2012).
        assert expected == 2_123_030_000
