"""One simulated price path of a program: its rulebook turned into yearly supply, a firm population with drawn
BAU growth and MAC slopes, and the banking equilibrium (`equilibrium.solve`).

Supply per year, from the rulebook and shipped data:
- WCI (California and Québec together; prices in USD): free allocation, less what must be consigned, reaches the
  market at any price; the consigned and state-owned allowances (the budget less reserves, set-asides and free
  allocation, the advance share included, counted in its vintage year) are auctioned at the reserve price; each
  year's price-containment reserve is sold at its tier prices, split equally between the tiers; from 2021 the
  price ceiling supplies without limit; offsets are `offsets_of_limit` of the limit applied to BAU emissions.
- RGGI (short tons): the adjusted budget is auctioned at the minimum price; the CCR adds its allowances at its
  trigger; from 2021 the ECR withholds up to its size below its trigger.
The bank at the start is the supply-demand balance's at the end of the year before (`supply.balance`).

Firms: `n_firms` synthetic firms share the reported emissions of the last historical year (Dirichlet shares,
seeded) and grow at a drawn rate; each has a linear MAC reaching `max_share` of its BAU at a drawn price (log-normal
around `mac_price`). These are stated assumptions, not a calibration (issue 5, item 7, is still open).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openets.data import covered_emissions, free_allocation, table
from openets.errors import InputError
from openets.market.equilibrium import Equilibrium, Market, YearSupply, solve
from openets.market.firms import Facility, Firms
from openets.market.supply import Scenario, balance
from openets.rules import Program


@dataclass(frozen=True)
class Assumptions:
    """What a simulation draws from and assumes (defaults are stated assumptions, not estimates)."""

    bau_growth: float = 0.0  # mean yearly growth of BAU emissions
    bau_growth_sd: float = 0.01  # its spread between runs
    mac_price: float = 150.0  # median price at which a firm abates `max_share` of its BAU
    mac_sd: float = 0.5  # log-normal spread of that price between firms and runs
    max_share: float = 0.3
    offsets_of_limit: float = 0.75
    rate: float = 0.05  # the discount rate holders of allowances require
    n_firms: int = 200

    def check(self) -> None:
        if not -0.2 < self.bau_growth < 0.2 or not 0 <= self.bau_growth_sd < 0.2:
            msg = f"BAU growth {self.bau_growth} (sd {self.bau_growth_sd}) is not a yearly rate; write -0.01 for -1%"
            raise InputError(msg)
        if self.mac_price <= 0 or not 0 <= self.mac_sd < 3 or not 0 < self.max_share <= 1:
            msg = "MAC price must be positive, its spread between 0 and 3, the abatable share in (0, 1]"
            raise InputError(msg)
        if not 0 <= self.offsets_of_limit <= 1 or not 0 <= self.rate < 1 or not 1 <= self.n_firms <= 1_000_000:
            msg = "offsets of limit in [0, 1], discount rate in [0, 1), between 1 and 1,000,000 firms"
            raise InputError(msg)


@dataclass(frozen=True)
class Setting:
    """A program's deterministic inputs over the simulated years, computed once and shared by all runs."""

    program: str
    currency: str
    years: tuple[int, ...]
    base_emissions: float  # reported emissions of the last historical year
    base_year: int
    supply: tuple[YearSupply, ...]
    offsets_limit: tuple[float, ...]  # offset limit share per year
    initial_bank: float


def setting(program: Program, first: int, last: int) -> Setting:
    """Supply, offset limits and the opening bank of `program` for `first`..`last`."""
    if first > last:
        msg = f"--from {first} is after --to {last}; give the earlier year with --from"
        raise InputError(msg)
    years = tuple(range(first, last + 1))
    if program.id == "rggi":
        return _rggi(program, years)
    if not program.is_linkage and program.id not in ("california", "quebec"):
        msg = f"the simulator covers wci, california, quebec and rggi; {program.id!r} has no simulation inputs yet"
        raise InputError(msg)
    members = [j for j in program.jurisdictions if program.vintages(j)]
    for y in years:
        for j in members:
            if y not in program.vintages(j):
                msg = f"{j} has no budget for {y} in the rulebook; simulate within {min(program.vintages(j))}-{max(program.vintages(j))}"
                raise InputError(msg)
    if first < 2014 or last > 2030:
        msg = "the WCI simulator runs within 2014-2030 (the linked market, and the years with shipped allocation)"
        raise InputError(msg)
    history = {j: covered_emissions(j) for j in members}
    base_year = min(max(h) for h in history.values())
    base_year = min(base_year, first - 1)
    base = float(sum(history[j][base_year] for j in members))
    price_program = program.price_program if program.is_linkage else program
    supply: list[YearSupply] = []
    limits: list[float] = []
    for y in years:
        free = auctioned = 0.0
        steps: list[tuple[float, float]] = []
        for j in members:
            allocation = free_allocation(j, y)
            consigned = sum(float(program.consignment_share(j, g, y)) * q for g, q in allocation.items())
            free += sum(allocation.values()) - consigned
            placed = program.reserve_quantity(j, y) + program.set_aside_quantity(j, y)
            auctioned += program.budget(y, j) - placed - sum(allocation.values()) + consigned
            tiers = [t for t in price_program.tier_prices(y) if t.role == "tier"]
            for t in tiers:
                steps.append((float(t.point.price), program.reserve_quantity(j, y) / len(tiers)))
        ceiling = next((float(t.point.price) for t in price_program.tier_prices(y) if t.role == "price_ceiling"), None)
        floor = float(price_program.auction_reserve_price(y).price)
        supply.append(YearSupply(free=free, auctioned=auctioned, floor=floor, steps=tuple(steps), ceiling=ceiling))
        limit = [program.member_program(j).offset_limit(y) if program.is_linkage else program.offset_limit(y) for j in members]
        limits.append(float(max((x for x in limit if x is not None), default=0)))
    bank = 0.0
    if first > 2013:
        opening = balance(program, Scenario(emissions_from=None, last_year=first - 1))
        bank = float(opening.years[-1].bank)
    return Setting(program.id, price_program.currency, years, base, base_year, tuple(supply), tuple(limits), bank)


def _rggi(program: Program, years: tuple[int, ...]) -> Setting:
    rows = {int(r["year"]): int(r["compliance_emissions_short_tons"]) for r in table("rggi_annual_2009_2023.csv")}
    first = years[0]
    if first < 2009 or years[-1] > max(program.vintages()):
        msg = f"RGGI simulates within 2009-{max(program.vintages())}"
        raise InputError(msg)
    base_year = min(max(rows), first - 1) if first > 2009 else 2009
    supply = []
    (j,) = program.jurisdictions
    for y in years:
        prices = {t.reserve: float(t.point.price) for t in program.tier_prices(y)}
        ccr = program.reserve_quantity(j, y)
        ecr = program._placed(j, y, "emissions_containment")  # noqa: SLF001 - one accessor for both kinds
        supply.append(YearSupply(
            free=0.0, auctioned=float(program.adjusted_budget(y)), floor=float(program.auction_reserve_price(y).price),
            steps=((prices["ccr"], float(ccr)),) if "ccr" in prices and ccr else (),
            withheld=((prices["ecr"], float(ecr)),) if "ecr" in prices and ecr else (),
        ))
    bank = 0.0
    if first > 2014:
        bank = float(balance(program, Scenario(last_year=first - 1)).years[-1].bank)
    elif first == 2014:
        anchors = {r["metric"].split(":")[0]: int(r["allowances"]) for r in table("rggi_bank_anchors.csv")}
        bank = float(anchors["FCPIA"] + anchors["SCPIA"])
    limits = tuple(float(program.offset_limit(y) or 0) for y in years)
    return Setting(program.id, program.currency, years, float(rows[base_year]), base_year, tuple(supply), limits, bank)


@dataclass(frozen=True)
class Run:
    price: np.ndarray
    emissions: np.ndarray
    bank: np.ndarray
    auction_revenue: np.ndarray  # in the program's currency


def run_once(s: Setting, a: Assumptions, rng: np.random.Generator, facilities: list[Facility] | None = None) -> Run:
    """One draw: firms (synthetic, or the given facilities with drawn deviations), then the equilibrium."""
    n_years = len(s.years)
    shift = rng.normal(0.0, a.bau_growth_sd)  # this run's deviation of BAU growth
    if facilities:
        base = np.array([f.bau for f in facilities])
        rates = np.array([f.growth for f in facilities]) + shift
        bau = base[:, None] * (1 + rates[:, None]) ** np.arange(n_years)[None, :]
        full = np.array([f.mac_price for f in facilities]) * np.exp(rng.normal(0.0, a.mac_sd, len(facilities)))
        firms = Firms.linear(bau, full, np.array([f.max_share for f in facilities]))
    else:
        shares = rng.dirichlet(np.ones(a.n_firms))
        steps = np.arange(1, n_years + 1) + (s.years[0] - 1 - s.base_year)
        bau = s.base_emissions * shares[:, None] * (1 + a.bau_growth + shift) ** steps[None, :]
        full = a.mac_price * np.exp(rng.normal(0.0, a.mac_sd, a.n_firms))
        firms = Firms.linear(bau, full, a.max_share)
    offsets = a.offsets_of_limit * np.asarray(s.offsets_limit) * bau.sum(axis=0)
    supply = [
        YearSupply(free=y.free + float(o), auctioned=y.auctioned, floor=y.floor, steps=y.steps, withheld=y.withheld,
                   ceiling=y.ceiling)
        for y, o in zip(s.supply, offsets, strict=True)
    ]
    e: Equilibrium = solve(Market(firms.abatement(), supply, rate=a.rate, initial_bank=s.initial_bank))
    sold = np.array([y.auctioned for y in supply]) - e.unsold + e.stepped + e.ceiling_sold
    return Run(e.price, e.emissions, e.bank, sold * e.price)
