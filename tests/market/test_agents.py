"""Agent-based mode (market/agents.py): convergence to the banking equilibrium (`equilibrium.solve`) on simple
markets, the invariants (no negative holdings, allowances conserved, no sale below the floor), penalties at a
short deadline, determinism, and the sweep and CLI in agents mode.

Tolerances are the measured gaps with a margin (measured at this commit, 40 firms with log-normal MACs):
- where the price moves freely (with or without banking, or below the floor): at most 0.1% a year. What is
  left is the bids' discreteness (whole lots, cents, about 30 price steps per firm read at the middle of each
  step) and firms reading the market's need from the last auction. Asserted: 0.3%.
- where a floor (or a reserve tier) holds the price for part of a year: at most 0.92%. The agents' prices move
  quarterly and leave the floor on a Hotelling path from the year's last quarter at it; the equilibrium's move
  yearly, from the year's mean. The effect is at most (1 + r)^(3/8) - 1 = 1.8% (a year held throughout).
  Asserted: 1.2%.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from openets.market import agents
from openets.market.equilibrium import Market, YearSupply, solve
from openets.market.firms import Firms
from openets.market.simulate import Assumptions, Setting, run_once, setting
from openets.market.sweep import local_executor, sweep
from openets.rules import load_program

ROOT = Path(__file__).resolve().parents[2]
FREE = 0.003
HELD = 0.012


def _firms(n_years: int, n: int = 40, total: float = 100e6, seed: int = 1) -> Firms:
    """`n` firms sharing `total` BAU emissions a year, each abating 40% of its BAU at a log-normal price (median
    60): linear MACs, the simulator's shape."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.full(n, 5.0))
    bau = total * shares[:, None] * np.ones(n_years)[None, :]
    at_top = 60.0 * np.exp(rng.normal(0.0, 0.5, n))
    return Firms.linear(bau, at_top / 0.4, 0.4)


def _both(supply: list[YearSupply], program: str = "california", bank: float = 0.0, rate: float = 0.05):
    """The equilibrium and the agent-based run of the same firms on the same supply (2021 on, `program`'s
    compliance and auction rules)."""
    firms = _firms(len(supply))
    years = tuple(range(2021, 2021 + len(supply)))
    s = Setting(program, "USD", years, float(firms.bau[:, 0].sum()), 2020, tuple(supply), (0.0,) * len(years), bank)
    e = solve(Market(firms.abatement(), supply, rate=rate, initial_bank=bank))
    r = agents.run_firms(s, firms, np.zeros(len(years)), np.random.default_rng(7), rate=rate)
    return e, r


CASES = {
    # Supply rising faster than the price falls: banking does not pay, each year clears on its own.
    "no banking": ([YearSupply(auctioned=80e6, floor=2.0), YearSupply(auctioned=85e6, floor=2.0),
                    YearSupply(auctioned=90e6, floor=2.0)], FREE),
    # A falling cap: firms bank early, the price rises at the discount rate, the bank runs out at the end.
    "banking": ([YearSupply(auctioned=95e6, floor=2.0), YearSupply(auctioned=85e6, floor=2.0),
                 YearSupply(auctioned=75e6, floor=2.0)], FREE),
    "banking, with free allocation": ([YearSupply(free=40e6, auctioned=55e6, floor=5.0),
                                       YearSupply(free=40e6, auctioned=45e6, floor=5.0),
                                       YearSupply(free=40e6, auctioned=35e6, floor=5.0)], FREE),
    # The floor binds in the first year only: part of its auctions go unsold, later ones sell out.
    "floor binding the first year": ([YearSupply(auctioned=110e6, floor=24.0), YearSupply(auctioned=80e6, floor=24.5),
                                      YearSupply(auctioned=70e6, floor=25.0)], HELD),
    "floor binding every year": ([YearSupply(auctioned=100e6, floor=30.0), YearSupply(auctioned=100e6, floor=30.5),
                                  YearSupply(auctioned=100e6, floor=31.0)], HELD),
    # Free allocation covers the market: no auction sells, the price (below the floor) is found among firms.
    "price below the floor": ([YearSupply(free=95e6, auctioned=20e6, floor=30.0),
                               YearSupply(free=85e6, auctioned=20e6, floor=31.0),
                               YearSupply(free=75e6, auctioned=20e6, floor=32.0)], FREE),
    # The first year's price sits on a reserve tier, part of which sells.
    "price on a reserve tier": ([YearSupply(auctioned=70e6, floor=5.0, steps=((40.0, 5e6), (50.0, 5e6)),
                                             ceiling=60.0),
                                 YearSupply(auctioned=80e6, floor=5.0, steps=((42.0, 5e6),), ceiling=65.0),
                                 YearSupply(auctioned=90e6, floor=5.0, ceiling=70.0)], HELD),
}


@pytest.mark.parametrize("program", ["california", "rggi"])
@pytest.mark.parametrize("case", list(CASES))
def test_simple_markets_converge_to_the_banking_equilibrium(case, program):
    supply, tolerance = CASES[case]
    e, r = _both(supply, program)
    gap = np.abs(r.run.price / e.price - 1)
    assert gap.max() <= tolerance, f"{case}: price gaps {np.round(100 * gap, 3)}%"
    # Emissions follow the price; the bank is what is left (within a thousandth of a year's emissions).
    assert np.allclose(r.run.emissions, e.emissions, rtol=5e-3)
    assert np.abs(r.run.bank - e.bank).max() <= 2e-3 * e.emissions.mean() + 0.02 * np.abs(e.bank).max()
    assert r.penalties == 0


def test_a_binding_floor_leaves_the_equilibriums_surplus_unsold_in_the_first_year():
    e, r = _both(CASES["floor binding the first year"][0])
    assert e.unsold[0] > 10e6 and e.unsold[1:].sum() == 0
    assert r.unsold[0] == pytest.approx(e.unsold[0], rel=0.1)  # the agents: 13.4 M of the equilibrium's 12.7 M
    assert r.unsold[1:].sum() <= 0.01 * e.unsold[0]


@pytest.fixture(scope="module")
def wci_runs():
    s = setting(load_program("wci"), 2019, 2030)
    return s, [(run_once(s, Assumptions(), np.random.default_rng(seed)),
                agents.simulate(s, Assumptions(), np.random.default_rng(seed))) for seed in (0, 1)]


def test_wci_with_200_drawn_firms_follows_the_equilibrium(wci_runs):
    # Measured: within 0.35% (seed 0) and 0.09% (seed 1) in every year (the same firms: `simulate.draw_firms`).
    _, runs = wci_runs
    for e, r in runs:
        assert np.abs(r.run.price / e.price - 1).max() <= 0.005
        assert np.allclose(r.run.emissions, e.emissions, rtol=2e-3)


def test_invariants_hold_on_the_real_rulebooks(wci_runs):
    s_rggi = setting(load_program("rggi"), 2021, 2030)  # with the CCR and ECR in the clearing
    s_wci, runs = wci_runs
    rggi = agents.simulate(s_rggi, Assumptions(), np.random.default_rng(4))
    cases = [(s_wci, r) for _, r in runs] + [(s_rggi, rggi)]
    for s, r in cases:
        assert r.issued == r.held + r.surrendered  # allowances (and offsets) conserved: issued = held + surrendered
        assert r.lowest_holding >= 0  # no firm ever held a negative quantity
        floors = np.array([y.floor for y in s.supply])[:, None]
        assert r.below_floor == 0 and np.nanmin(r.auction_price - floors) >= -1e-9  # never sold below the floor
        assert (r.auction_sold >= 0).all() and (r.unsold >= 0).all()
        ceilings = np.array([y.ceiling or np.inf for y in s.supply])[:, None]
        assert (r.quarter_price <= ceilings + 1e-9).all()


def test_a_short_deadline_becomes_an_untimely_surrender_obligation():
    # RGGI rules: half of 2021's emissions are due on 1 March 2022, but the state sells a fifth of them over the
    # two years. Firms bid for their shortfall at any price; what they still miss is owed three times over.
    firms = _firms(2)
    supply = (YearSupply(auctioned=20e6, floor=2.0), YearSupply(auctioned=20e6, floor=2.0))
    s = Setting("rggi", "USD", (2021, 2022), float(firms.bau[:, 0].sum()), 2020, supply, (0.0, 0.0), 0.0)
    r = agents.run_firms(s, firms, np.zeros(2), np.random.default_rng(3))
    assert r.penalties > 0 and r.shortfall > 0
    assert r.untimely == 3 * r.shortfall  # rggi.toml [compliance.untimely_surrender] multiplier = 3
    assert r.issued == r.held + r.surrendered and r.lowest_holding >= 0
    assert r.run.bank[0] < 0  # emissions not covered


def test_the_same_seed_gives_the_same_run():
    s = setting(load_program("rggi"), 2014, 2020)
    one = agents.simulate(s, Assumptions(n_firms=60), np.random.default_rng(11))
    two = agents.simulate(s, Assumptions(n_firms=60), np.random.default_rng(11))
    for name in ("quarter_price", "auction_price", "auction_sold", "trade_volume", "unsold"):
        assert np.array_equal(getattr(one, name), getattr(two, name), equal_nan=True)
    for name in ("price", "emissions", "bank", "auction_revenue"):
        assert np.array_equal(getattr(one.run, name), getattr(two.run, name))
    other = agents.simulate(s, Assumptions(n_firms=60), np.random.default_rng(12))
    assert not np.array_equal(one.run.emissions, other.run.emissions)  # (prices may coincide: both on the floor path)


def test_both_modes_draw_the_same_firms():
    # The equilibrium mode's firm draw is the agents' (simulate.draw_firms), so runs differ only in the mode.
    s = setting(load_program("rggi"), 2014, 2016)
    r = agents.simulate(s, Assumptions(n_firms=30), np.random.default_rng(5))
    e = run_once(s, Assumptions(n_firms=30), np.random.default_rng(5))
    assert np.allclose(r.run.emissions, e.emissions, rtol=5e-3)


def test_the_sweep_in_agents_mode_is_the_same_on_one_or_two_workers():
    wci = load_program("wci")
    serial = sweep(wci, 2019, 2022, 4, seed=9, mode="agents")
    with local_executor(2) as pool:
        parallel = sweep(wci, 2019, 2022, 4, seed=9, executor=pool, chunks=3, mode="agents")
    for field in serial.results:
        assert np.array_equal(serial.results[field], parallel.results[field])
    equilibrium = sweep(wci, 2019, 2022, 4, seed=9)
    assert serial.as_dict().keys() == equilibrium.as_dict().keys()
    assert np.abs(serial.results["price"] / equilibrium.results["price"] - 1).max() <= 0.01


def test_the_cli_runs_agents_mode_and_refuses_what_it_cannot_do(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "openets.cli", "simulate", "rggi", "--from", "2021", "--to", "2023", "--runs", "3",
         "--seed", "2", "--mode", "agents", "--json", "--report", str(tmp_path / "rep")],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["runs"] == 3 and len(out["years"]) == 3 and out["allowance_unit"] == "short_ton"
    assert (tmp_path / "rep" / "index.html").exists()
    for args, words in [(["wci", "--mode", "auction"], "--mode 'auction' is unknown; choose equilibrium or agents"),
                        (["china_power", "--units", "examples/china_power_units_illustrative.csv",
                          "--mode", "agents"], "--mode agents covers wci, california, quebec and rggi")]:
        proc = subprocess.run([sys.executable, "-m", "openets.cli", "simulate", *args], capture_output=True,
                              text=True, cwd=ROOT, env=dict(os.environ), timeout=300)
        assert proc.returncode == 1
        assert words in " ".join(proc.stderr.split())
