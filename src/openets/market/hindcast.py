"""WCI hindcast 2013-2018 and the calibration of its abatement-cost curve to the auction record.

The market is the banking equilibrium (`equilibrium.solve`) on the rulebook's supply (`simulate.setting`), solved
year by year with what holders believed then about how long the program would last (`wci_horizon_beliefs.csv`):
until 2016 they expected the market to go on after 2020 (the Scoping Plan and Executive Order B-30-15's 2030
target); from early 2016 the program's authority after 2020 was in doubt (the tax lawsuit, the Legislative
Counsel's opinion) until AB 398 extended it in July 2017. With a horizon of 2020 an allowance is worth nothing
after 2020, so when the market is long to 2020 the price falls to the auction reserve price and part of the
auctioned supply goes unsold. Nothing in the model is told that 2016 was undersubscribed: the unsold quantities
come out of the equilibrium, and are not in the calibration's objective.

Each decision year y: solve from y to the believed horizon with the bank left at the end of y-1, keep year y.
State-owned allowances left unsold return to auction the next year after a year settled above the floor, at most
25% of that year's auctioned supply (the rules' redesignation cap, `[auction.unsold]`), and go to the reserve
after two years unsold (California: more than 24 months). The calibration is one aggregate linear MAC, with BAU
emissions backed out of reported emissions at the observed prices: BAU_t = E_t / (1 - a(p_t)), so that the model
reproduces reported emissions whenever it reproduces the observed price; the grid search picks the MAC slope and
the discount rate that best fit the yearly mean settlement prices (log errors).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from statistics import mean

import numpy as np

from openets.data import covered_emissions, offsets_private_or_retired, table
from openets.market.equilibrium import Market, YearSupply, solve
from openets.market.firms import Firms
from openets.market.simulate import setting
from openets.rules import Program

FIRST, LAST = 2013, 2018
MAX_SHARE = 0.3  # the share of BAU a firm can abate at most (the simulator's default)
REDESIGNATION_CAP = 0.25


@dataclass(frozen=True)
class Record:
    """What happened, year by year 2013-2018."""

    price: dict[int, float]  # mean current-auction settlement price (USD; CA-only and joint auctions)
    floor: dict[int, float]  # the auction reserve price of the year
    unsold: dict[int, float]  # current-auction allowances unsold (CA and QC, state-owned and consigned)
    emissions: dict[int, float]  # reported covered emissions (CA + QC)
    emissions_note: str


def record() -> Record:
    prices: dict[int, list[float]] = {}
    floors: dict[int, float] = {}
    for r in table("wci_auction_settlements_2012_2018.csv"):
        year = int(r["quarter"][:4])
        if FIRST <= year <= LAST and "CA" in r["market"] and r["current_settlement"]:
            prices.setdefault(year, []).append(float(r["current_settlement"]))
            floors[year] = float(r["reserve_price"])
    unsold = dict.fromkeys(range(FIRST, LAST + 1), 0.0)
    for r in table("wci_auction_history_2012_2018.csv"):
        year = int(r["quarter"][:4])
        if FIRST <= year <= LAST and r["jurisdiction"] in ("CA", "QC") and r["auction_type"] == "current":
            unsold[year] += float(r["unsold_allowances"])
    ca, qc = covered_emissions("CA"), covered_emissions("QC")
    last_qc = max(qc)
    emissions = {y: float(ca[y] + qc.get(y, qc[last_qc])) for y in range(FIRST, LAST + 1)}
    note = f"Québec after {last_qc} is not in the shipped data and is held at its {last_qc} level"
    return Record({y: mean(v) for y, v in prices.items()}, floors, unsold, emissions, note)


def horizons() -> dict[int, int]:
    """The last year holders expected the market to run, by decision year (`wci_horizon_beliefs.csv`)."""
    return {int(r["decision_year"]): int(r["horizon"]) for r in table("wci_horizon_beliefs.csv")}


def offsets() -> dict[int, float]:
    """Offsets reaching private hands each year: the change in the quarterly reports (2013 and 2014 together
    in 2014, the first report; 2018 from three quarters, scaled to the year)."""
    seen = offsets_private_or_retired()
    end = {int(q[:4]): v for q, v in sorted(seen.items())}  # the last reported quarter of each year
    out = {2013: 0.0}
    for y in range(2014, LAST + 1):
        out[y] = float(end[y] - end.get(y - 1, 0))
    quarters = sum(1 for q in seen if q.startswith(str(LAST)))
    out[LAST] *= 4 / max(quarters, 1) if quarters < 4 else 1.0
    return out


@dataclass(frozen=True)
class Hindcast:
    years: tuple[int, ...]
    price: np.ndarray
    floor: np.ndarray
    emissions: np.ndarray
    unsold: np.ndarray  # auctioned allowances left unsold in the year
    returned: np.ndarray  # earlier unsold allowances offered again in the year
    to_reserve: np.ndarray
    bank: np.ndarray
    mac_price: float
    rate: float


def _bau(rec: Record, mac_price: float, years: tuple[int, ...], growth: float) -> np.ndarray:
    """BAU emissions: reported emissions with the abatement the MAC gives at the observed price added back, then
    `growth` a year after the record."""
    out = []
    for y in years:
        if y in rec.emissions:
            share = min(rec.price[y] / (mac_price / MAX_SHARE), MAX_SHARE)
            out.append(rec.emissions[y] / (1 - share))
        else:
            out.append(out[-1] * (1 + growth))
    return np.array(out)


def run(program: Program, mac_price: float, rate: float, *, growth: float = 0.0, beliefs: dict[int, int] | None = None,
        last: int = 2030) -> Hindcast:
    """The hindcast for one MAC slope and discount rate (years FIRST..LAST)."""
    rec = record()
    beliefs = horizons() if beliefs is None else beliefs
    s = setting(program, FIRST, last)
    years = s.years
    bau = _bau(rec, mac_price, years, growth)
    extra = offsets()
    supply = [replace(y, free=y.free + extra.get(t, 0.0)) for t, y in zip(years, s.supply, strict=True)]
    limits = np.asarray(s.offsets_limit)
    for k, t in enumerate(years):  # after the record: the simulator's 75% of the offset limit
        if t not in extra:
            supply[k] = replace(supply[k], free=supply[k].free + 0.75 * limits[k] * bau[k])
    n = LAST - FIRST + 1
    out = {name: np.zeros(n) for name in ("price", "floor", "emissions", "unsold", "returned", "to_reserve", "bank")}
    bank = 0.0
    pool: list[tuple[int, float]] = []  # (year first unsold, quantity)
    above = True  # whether the previous year settled above its floor
    for k in range(n):
        y = years[k]
        horizon = min(beliefs.get(y, last), last)
        h = years.index(horizon)
        due = [(when, q) for when, q in pool if y - when > 2]
        pool = [(when, q) for when, q in pool if y - when <= 2]
        out["to_reserve"][k] = sum(q for _, q in due)
        back = 0.0
        if above and pool:
            room = REDESIGNATION_CAP * supply[k].auctioned
            kept = []
            for when, q in pool:
                take = min(q, room - back)
                back += take
                if q - take > 0:
                    kept.append((when, q - take))
            pool = kept
        window = [replace(supply[k], auctioned=supply[k].auctioned + back), *supply[k + 1 : h + 1]]
        firms = Firms.linear(bau[None, k : h + 1], np.array([mac_price / MAX_SHARE]), MAX_SHARE)
        e = solve(Market(firms.abatement(), window, rate=rate, initial_bank=bank))
        price, unsold = float(e.price[0]), float(e.unsold[0])
        out["price"][k], out["floor"][k] = price, supply[k].floor
        out["emissions"][k], out["unsold"][k], out["returned"][k] = float(e.emissions[0]), unsold, back
        bank = max(float(e.bank[0]), 0.0)  # an empty bank can come out at -1e-8 by rounding
        out["bank"][k] = bank
        if unsold > 0:
            pool.append((y, unsold))
        above = price > supply[k].floor * (1 + 1e-9)
    return Hindcast(tuple(range(FIRST, LAST + 1)), **out, mac_price=mac_price, rate=rate)


@dataclass(frozen=True)
class Calibration:
    mac_price: float
    rate: float
    objective: float  # mean squared log error of the yearly price
    grid: tuple[tuple[float, float, float], ...]  # (mac_price, rate, objective) of every point tried


MAC_GRID = (10.0, 20.0, 30.0, 40.0, 60.0, 80.0, 100.0, 150.0, 200.0, 300.0, 500.0)
RATE_GRID = tuple(round(0.04 + 0.005 * k, 3) for k in range(13))  # 4% to 10%


def calibrate(program: Program, mac_grid=MAC_GRID, rate_grid=RATE_GRID) -> Calibration:
    """The MAC slope (price at which MAX_SHARE of BAU is abated) and discount rate that best fit the yearly mean
    settlement prices 2013-2018. The unsold quantities are not in the objective."""
    rec = record()
    observed = np.log([rec.price[y] for y in range(FIRST, LAST + 1)])
    grid = []
    for m in mac_grid:
        for r in rate_grid:
            h = run(program, m, r)
            err = float(np.mean((np.log(np.maximum(h.price, 1e-9)) - observed) ** 2))
            grid.append((m, r, err))
    best = min(grid, key=lambda g: g[2])
    return Calibration(best[0], best[1], best[2], tuple(grid))


def markdown(program: Program, calibration: Calibration, h: Hindcast, figure: str) -> str:
    """The hindcast document (docs/wci_hindcast_2013_2018.md), from a fresh calibration and run."""
    rec = record()
    beliefs = horizons()
    rows = "\n".join(
        f"| {y} | {beliefs.get(y, '')} | {h.floor[k]:.2f} | {rec.price[y]:.2f} | {h.price[k]:.2f} | "
        f"{rec.unsold[y] / 1e6:.1f} | {h.unsold[k] / 1e6:.1f} | {h.returned[k] / 1e6:.1f} | "
        f"{rec.emissions[y] / 1e6:.1f} | {h.emissions[k] / 1e6:.1f} | {h.bank[k] / 1e6:.1f} |"
        for k, y in enumerate(h.years)
    )
    near = sorted(calibration.grid, key=lambda g: g[2])[:5]
    flat = ", ".join(f"{m:g} / {r:.1%} ({e:.4f})" for m, r, e in near)
    const = run(program, calibration.mac_price, calibration.rate, beliefs=dict.fromkeys(h.years, 2030))
    return f"""# WCI hindcast 2013-2018 and the calibrated scenario `wci-calibrated`

Generated by `python tools/make_hindcast_doc.py` from `openets.market.hindcast`; `tests/market/test_hindcast.py`
checks that this page matches a fresh run.

## Method
The California-Québec market as the banking equilibrium of `openets simulate` (the rulebooks' supply: free
allocation, consigned and state-owned auction allowances at the auction reserve price, reserve tiers; offsets as
reported in the quarterly Compliance Instrument Reports), solved year by year with the horizon holders believed
in that year (`src/openets/data/wci_horizon_beliefs.csv`, each belief with its source): the program was expected
to go on after 2020 until 2016; in 2016 its authority after 2020 was in doubt; AB 398 extended it in July 2017.
State-owned allowances left unsold return to auction after a year that settled above the floor (at most 25% of
the year's auctioned supply) and go to the reserve after two years. Firms are one aggregate linear MAC abating up
to {MAX_SHARE:.0%} of BAU emissions; BAU is backed out of reported covered emissions at the observed prices, so the
model reproduces reported emissions when it reproduces the price. {rec.emissions_note}.

**Calibration.** A grid search over the MAC slope (the price at which {MAX_SHARE:.0%} of BAU is abated) and the
discount rate holders require minimises the mean squared log error of the yearly mean settlement price 2013-2018.
The unsold quantities are **not** in the objective. Best: **MAC {calibration.mac_price:g} USD for {MAX_SHARE:.0%},
discount rate {calibration.rate:.1%}** (error {calibration.objective:.4f}). The five best points (MAC / rate
(error)): {flat}. The rate is well identified; the MAC slope is not (prices near the floor say little about
abatement costs), so the scenario's MAC is a weak estimate. It ships as the named scenario `wci-calibrated`
(`openets simulate wci --scenario wci-calibrated`), where firms' MACs spread around it as in every simulation.

## Result

![WCI hindcast]({figure})

| year | horizon believed | floor | price, record | price, model | unsold, record (M) | unsold, model (M) | returned to auction, model (M) | emissions, reported (Mt) | emissions, model (Mt) | bank, model (M) |
|---|---|---|---|---|---|---|---|---|---|---|
{rows}

Prices are yearly means of the current auctions (USD); unsold counts current-auction allowances of California and
Québec (state-owned and consigned).

## What it shows
- **Prices at or near the floor.** The model's prices stay within {max(abs(h.price[k] - rec.price[y]) for k, y in enumerate(h.years)):.2f} USD of the
  record's yearly means and never more than {max(h.price[k] / h.floor[k] - 1 for k in range(len(h.years))):.1%} above the floor.
- **The 2016 undersubscription comes from the mechanism.** The model is told what holders believed in each year
  (the dated events of the beliefs table), never which auctions went unsold, and the calibration fits prices only.
  With the horizon at 2020, the market to 2020 is long:
  allowances beyond what 2016-2020 compliance needs are worth nothing after 2020, and at a required return of
  {calibration.rate:.1%} the floor's rise ({h.floor[4] / h.floor[3] - 1:.1%} from 2016 to 2017) does not pay for holding them, so the price
  falls to the floor and {h.unsold[3] / 1e6:.0f} M allowances go unsold (record: {rec.unsold[2016] / 1e6:.0f} M in 2016 and
  {rec.unsold[2017] / 1e6:.0f} M in the first half of 2017, {(rec.unsold[2016] + rec.unsold[2017]) / 1e6:.0f} M together). The model's private bank falls
  to {h.bank[3] / 1e6:.0f} in 2016: holders sell their bank rather than buy at auction.
- **With the extension the market turns.** From 2017 the horizon is 2030 again, post-2020 scarcity is priced in,
  the price rises above the floor and the 2016 allowances return to auction ({h.returned[5] / 1e6:.0f} M in 2018 in the
  model; the record has seven redesignations of 2016 allowances from 2017Q4).
- **Without the doubt, no undersubscription.** The same calibration with a 2030 horizon in every year gives
  prices {", ".join(f"{p:.2f}" for p in const.price)} and {const.unsold.sum() / 1e6:.0f} M unsold: the doubt about the program after 2020 is what
  turns a long market into unsold auctions.

## What it does not show
- The first half of 2017 (still undersubscribed before AB 398) is inside one yearly step that already believes in
  2030; a quarterly version of the beliefs would be the next step.
- 2013: the first auctions settled {rec.price[2013] - h.price[0]:.2f} USD above the model's price.
- Québec's emissions after 2016 are held flat (not in the shipped data); 2018 offsets are scaled up from three
  reported quarters.
"""


def figure(h: Hindcast, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rec = record()
    years = np.array(h.years)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    top.step(years, h.floor, where="mid", color="grey", linestyle="--", label="auction reserve price (floor)")
    top.plot(years, [rec.price[y] for y in h.years], "o-", color="black", label="record: mean settlement price")
    top.plot(years, h.price, "s-", color="tab:blue", label="model")
    top.set_ylabel("USD per allowance")
    top.legend(loc="upper left")
    top.set_title("WCI hindcast 2013-2018 (calibrated)")
    width = 0.38
    bottom.bar(years - width / 2, [rec.unsold[y] / 1e6 for y in h.years], width, color="black", label="record: unsold")
    bottom.bar(years + width / 2, h.unsold / 1e6, width, color="tab:blue", label="model: unsold")
    bottom.bar(years + width / 2, -h.returned / 1e6, width, color="tab:green", label="model: returned to auction")
    bottom.axhline(0, color="grey", linewidth=0.8)
    bottom.set_ylabel("million allowances")
    bottom.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------------------
# RGGI 2009-2020
# ------------------------------------------------------------------------------------------------------------

RGGI_FIRST, RGGI_LAST = 2009, 2020
RGGI_SIMULATE = ("rggi", "--from", "2009", "--to", "2020", "--runs", "200", "--seed", "0")  # the doc's Monte Carlo
ORIGINAL_STABLE_TO, ORIGINAL_CUT, ORIGINAL_END = 2014, 0.025, 2018


def rggi_beliefs() -> dict[int, tuple[str, int]]:
    """The rules holders believed in each decision year: (regime, horizon) (`rggi_program_beliefs.csv`)."""
    return {int(r["decision_year"]): (r["regime"], int(r["horizon"])) for r in table("rggi_program_beliefs.csv")}


def rggi_record() -> dict[str, dict[int, float]]:
    """Compliance emissions and CCR releases (short tons) from the shipped RGGI table."""
    rows = table("rggi_annual_2009_2023.csv")
    return {
        "emissions": {int(r["year"]): float(r["compliance_emissions_short_tons"]) for r in rows},
        "ccr": {int(r["year"]): float(r["ccr_released_short_tons"]) for r in rows},
        "added": {int(r["year"]): float(r["nj_added_short_tons"]) + float(r["va_short_tons"]) for r in rows},
    }


@dataclass(frozen=True)
class RggiHindcast:
    years: tuple[int, ...]
    regime: tuple[str, ...]
    price: np.ndarray  # USD per short ton
    floor: np.ndarray
    emissions: np.ndarray  # short tons
    unsold: np.ndarray
    ccr: np.ndarray  # CCR allowances sold
    bank: np.ndarray
    mac_price: float
    rate: float


def _original_supply(program: Program, decision: int, years: range) -> list[YearSupply]:
    """The supply holders expected under the 2008 Model Rule, seen from `decision`: that year's budget held to
    2014, then 2.5% less a year to 2018; auctioned at the minimum price; no CCR, no bank adjustment."""
    base = float(program.budget(min(decision, 2013)))  # the reset changed the budgets from 2014
    out = []
    for y in years:
        cap = base * (1 - ORIGINAL_CUT) ** max(0, y - ORIGINAL_STABLE_TO)
        out.append(YearSupply(auctioned=cap, floor=float(program.auction_reserve_price(y).price)))
    return out


def run_rggi(program: Program, mac_price: float = 150.0, rate: float = 0.05, *, max_share: float = MAX_SHARE,
             beliefs: dict[int, tuple[str, int]] | None = None, expect: str = "flat", ccr: bool = True,
             recorded_bank: bool = True) -> RggiHindcast:
    """RGGI 2009-2020, year by year under the rules believed then, for the nine states of 2012-2019 (New Jersey's
    budget from 2020 and Virginia's are left out of supply and their emissions out of BAU: they were not known in
    the years that matter here). Each year's BAU is its recorded emissions; later years are expected at that level
    (`expect="flat"`: holders extrapolate what they see) or as they turned out (`expect="perfect"`).

    Before the reset the model builds no bank (at 5% the minimum price's slow rise does not pay for holding), while
    holders built one of about 140 M. The reset's adjusted budgets take that recorded bank out, so with
    `recorded_bank` the run carries the bank the interim adjustments measured from 2013 (the private bank of
    2009-2011 vintages at the start of 2013, that plus the 2012-2013 excess at the start of 2014) instead of its
    own; without it, the adjustments take out a bank the model never had."""
    beliefs = rggi_beliefs() if beliefs is None else beliefs
    rec = rggi_record()
    actual = setting(program, RGGI_FIRST, max(program.vintages()))
    nine = [replace(y, auctioned=y.auctioned - sum(program.budget_additions(t).values()))
            for t, y in zip(actual.years, actual.supply, strict=True)]
    emissions = {t: v - rec["added"][t] for t, v in rec["emissions"].items()}
    anchors = {r["metric"].split(":")[0]: float(r["allowances"]) for r in table("rggi_bank_anchors.csv")}
    measured = {2013: anchors["FCPIA"], 2014: anchors["FCPIA"] + anchors["SCPIA"]}
    last_recorded = max(emissions)
    n = RGGI_LAST - RGGI_FIRST + 1
    out = {name: np.zeros(n) for name in ("price", "floor", "emissions", "unsold", "ccr", "bank")}
    regimes = []
    bank = 0.0
    for k, y in enumerate(range(RGGI_FIRST, RGGI_LAST + 1)):
        regime, horizon = beliefs[y]
        years = range(y, horizon + 1)
        if regime == "original":
            supply = _original_supply(program, y, years)
        else:
            supply = [nine[t - RGGI_FIRST] if ccr else replace(nine[t - RGGI_FIRST], steps=()) for t in years]
            if recorded_bank and y in measured:
                bank = measured[y]
        seen = emissions[y]
        bau = np.array([[seen if expect == "flat" and t > y else emissions[min(t, last_recorded)] for t in years]])
        firms = Firms.linear(bau, np.array([mac_price / max_share]), max_share)
        e = solve(Market(firms.abatement(), supply, rate=rate, initial_bank=bank))
        regimes.append(regime)
        out["price"][k], out["floor"][k] = float(e.price[0]), supply[0].floor
        out["emissions"][k], out["unsold"][k], out["ccr"][k] = float(e.emissions[0]), float(e.unsold[0]), float(e.stepped[0])
        bank = max(float(e.bank[0]), 0.0)  # an empty bank can come out at -1e-8 by rounding
        out["bank"][k] = bank
    return RggiHindcast(tuple(range(RGGI_FIRST, RGGI_LAST + 1)), tuple(regimes), **out, mac_price=mac_price, rate=rate)


def rggi_counterfactuals(program: Program) -> dict[str, RggiHindcast]:
    """The RGGI hindcast as believed, and what changes without the 2014 reset (the original cap path and no
    CCR throughout) and without the CCR (the reset without its reserve)."""
    beliefs = rggi_beliefs()
    base = run_rggi(program, beliefs=beliefs)
    no_reset = run_rggi(program, beliefs={y: ("original", max(h, 2020)) for y, (_, h) in beliefs.items()})
    no_ccr = run_rggi(program, beliefs=beliefs, ccr=False)
    perfect = run_rggi(program, beliefs=dict.fromkeys(beliefs, ("actual", RGGI_LAST)), expect="perfect")
    return {"as believed": base, "without the reset": no_reset, "without the CCR": no_ccr, "perfect foresight": perfect}


def rggi_markdown(runs: dict[str, RggiHindcast], figure_name: str, simulate_json: dict | None = None) -> str:
    """docs/rggi_hindcast_2009_2020.md from `rggi_counterfactuals` (and, when given, the Monte Carlo of
    `openets simulate rggi --from 2009 --to 2020 --json`)."""
    rec = rggi_record()
    base, perfect = runs["as believed"], runs["perfect foresight"]
    no_reset, no_ccr = runs["without the reset"], runs["without the CCR"]
    rows = "\n".join(
        f"| {y} | {base.regime[k]} | {base.floor[k]:.2f} | {base.price[k]:.2f} | {base.unsold[k] / 1e6:.1f} | "
        f"{rec['ccr'][y] / 1e6:.1f} | {base.ccr[k] / 1e6:.1f} | {base.bank[k] / 1e6:.1f} | {rec['emissions'][y] / 1e6:.1f} | "
        f"{perfect.price[k]:.2f} | {no_reset.price[k]:.2f} | {no_reset.unsold[k] / 1e6:.1f} | {no_ccr.price[k]:.2f} |"
        for k, y in enumerate(base.years)
    )
    at_floor = [y for k, y in enumerate(base.years) if base.price[k] <= base.floor[k] * (1 + 1e-9)]
    ccr_years = [y for k, y in enumerate(base.years) if base.ccr[k] > 0]
    recorded_ccr = [y for y in base.years if rec["ccr"][y] > 0]
    with_ccr = [y for y in base.years if y >= 2014]  # the CCR exists from 2014
    agree = [y for y in with_ccr if abs(base.ccr[base.years.index(y)] - rec["ccr"][y]) <= 1.0]
    differ = [y for y in with_ccr if y not in agree]
    reset_floor = all(no_reset.price[k] <= no_reset.floor[k] * (1 + 1e-9) for k in range(len(base.years)))
    after = [k for k, y in enumerate(base.years) if y >= 2013]
    premium = max(perfect.price[k] / perfect.floor[k] - 1 for k in range(len(base.years)))
    mc = ""
    if simulate_json is not None:
        floors = dict(zip(base.years, base.floor, strict=True))
        worst = max(simulate_json["years"], key=lambda row: row["price"]["p50"] / floors[row["year"]])
        mc_premium = worst["price"]["p50"] / floors[worst["year"]] - 1
        lines = "\n".join(
            f"| {row['year']} | {row['price']['p5']:.2f} / {row['price']['p50']:.2f} / {row['price']['p95']:.2f} | "
            f"{row['emissions_mt']['p50']:.1f} | {row['bank_mt']['p50']:.1f} |"
            for row in simulate_json["years"]
        )
        mc = f"""
## `openets simulate rggi --from 2009 --to 2020`
The Monte Carlo ({simulate_json['runs']} runs, seed {simulate_json['seed']}) solves the market once over 2009-2020 with the rules as
they turned out (all states, the adjusted budgets) and business-as-usual emissions equal to the recorded ones in
every run (what varies between runs is the firms' abatement costs): perfect foresight of both the reset and the
fall in emissions, and no bank of its own before 2014 beyond what the equilibrium builds. Its median price is at
most {mc_premium:.0%} above the minimum ({worst['price']['p50']:.2f} against {floors[worst['year']]:.2f} USD in {worst['year']}).

| year | price p5 / p50 / p95 (USD per short ton) | emissions p50 (M short tons) | bank p50 (M) |
|---|---|---|---|
{lines}
"""
    return f"""# RGGI hindcast 2009-2020

Generated by `python tools/make_hindcast_doc.py` (`openets.market.hindcast`); `tests/market/test_hindcast.py` checks
that this page matches a fresh run. Units: short tons; prices in USD per short ton.

## Method
The banking equilibrium of `openets simulate` on RGGI's rulebook (caps, the interim adjustments for the bank,
the minimum reserve price, the CCR at its trigger prices), solved year by year with the rules holders believed in
that year (`src/openets/data/rggi_program_beliefs.csv`): the 2008 Model Rule until the 2013 reset was announced
(the cap held to 2014, then -2.5% a year to 2018), the 2013 Model Rule (91 M in 2014, bank adjustments, CCR) until
the 2017 Model Rule extended the caps to 2030. Each year's business-as-usual emissions are the recorded compliance
emissions (`rggi_annual_2009_2023.csv`); holders expect later years at the level they see that year. MAC: the
simulator's default (30% of BAU abated at 150 USD); discount rate 5%. Unsold allowances are not offered again
(several states retired theirs). RGGI's auction clearing prices are not in the shared data, so the record checked
here is the CCR (released in full in 2014 and 2015, never in 2016-2020: the price reached 4 USD and 6 USD in those
years and stayed below 8-10.77 USD later) and the emissions.

![RGGI hindcast]({figure_name})

| year | rules believed | minimum price | price | unsold (M) | CCR sold, record (M) | CCR sold, model (M) | bank (M) | emissions, record (M) | price, perfect foresight | price, without the reset | unsold, without the reset (M) | price, without the CCR |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
{rows}

## What it shows
- **When the minimum price binds.** Under the rules as believed, the price sits on the minimum in
  {", ".join(map(str, at_floor))}. Before the reset the cap (188 M, 165 M after New Jersey left) stood far above
  emissions (122 M in 2009, 93 M in 2012): the market was long to the end of the program as then written, so the
  price fell to the minimum and {sum(base.unsold[:4]) / 1e6:.0f} M allowances went unsold in 2009-2012.
- **What the 2014 reset does.** Announced in 2013, the 91 M cap and the adjustments that take the private bank out
  of the 2014-2020 caps make the market short at the emissions holders then saw: the price leaves the minimum in
  2013 ({base.price[4]:.2f} USD) and 2014 ({base.price[5]:.2f} USD). Without the reset (the 2008 cap path continued to 2020)
  the price {"never leaves the minimum" if reset_floor else "stays near the minimum"} and
  {sum(no_reset.unsold[4:]) / 1e6:.0f} M allowances go unsold in 2013-2020.
- **What the CCR does.** The model releases the CCR in {", ".join(map(str, ccr_years)) or "no year"}; the record in
  {", ".join(map(str, recorded_ccr))}. They agree in {len(agree)} of the {len(with_ccr)} years with a CCR; they differ in
  {", ".join(map(str, differ)) or "none"}. Without the CCR the 2013-2014 prices would have been
  {no_ccr.price[4]:.2f} and {no_ccr.price[5]:.2f} USD instead of {base.price[4]:.2f} and {base.price[5]:.2f}: the reserve (5 M in 2014, then
  10 M a year, at 4-10 USD) caps the price spike that followed the reset, since holders count on it in every
  later year.
- **Why the price fell back.** Emissions kept falling (83 M in 2015, 63 M in 2017 for the nine states): each
  year's view of the market to 2020 is longer than the last, and the price returns to the minimum in
  {", ".join(str(y) for y in at_floor if y > 2013) or "no year"}.
- **Perfect foresight.** Knowing in 2009 both the reset and the fall in emissions (the nine states, with the
  measured bank from 2013), the market is long over most of 2009-2020 and the price stays at most {premium:.0%}
  above the minimum (the Monte Carlo below, with all states, likewise stays near it); in the record the CCR was released
  in 2014 and 2015, so the price reached 4 and 6 USD: holders did not foresee how far emissions would fall.

## What it does not show
- Prices: the clearing prices are held out of the shared data, so the hindcast's price levels after 2013 are not
  checked beyond the CCR triggers; where the CCR differs ({", ".join(map(str, differ)) or "none"}) the model's price is on the
  wrong side of a trigger.
- Before the reset the model builds no bank, while holders built about 140 M; from 2013 the hindcast carries the
  bank the interim adjustments measured (57.5 M at the start of 2013, 139.6 M at the start of 2014), which the
  adjusted budgets then take out.
- Expectations are the simplest possible (the current year's emissions, held); the program's 2021-2030 caps enter
  only from 2017. New Jersey's return (2020) and Virginia (2021-2023) are left out: their budgets and emissions
  were not part of the market the years shown here looked at.
{mc}"""


def rggi_figure(runs: dict[str, RggiHindcast], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rec = rggi_record()
    base = runs["as believed"]
    years = np.array(base.years)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    top.step(years, base.floor, where="mid", color="grey", linestyle="--", label="minimum reserve price")
    styles = {"as believed": ("s-", "tab:blue"), "perfect foresight": ("^-", "tab:orange"),
              "without the reset": ("x--", "tab:red"), "without the CCR": (".:", "tab:purple")}
    for name, (marker, colour) in styles.items():
        top.plot(years, runs[name].price, marker, color=colour, label=name)
    top.set_yscale("log")
    top.set_ylabel("USD per short ton (log)")
    top.legend(loc="upper left", fontsize=8)
    top.set_title("RGGI hindcast 2009-2020")
    width = 0.38
    bottom.bar(years - width / 2, [rec["ccr"][y] / 1e6 for y in base.years], width, color="black", label="CCR sold, record")
    bottom.bar(years + width / 2, base.ccr / 1e6, width, color="tab:blue", label="CCR sold, model")
    bottom.plot(years, base.unsold / 1e6, "o-", color="tab:grey", label="unsold at auction, model")
    bottom.set_ylabel("million short tons")
    bottom.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
