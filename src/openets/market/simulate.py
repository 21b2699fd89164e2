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
    offsets_of_limit: float | None = None  # None: the program's default (WCI 0.75, the peer's; RGGI 0)
    rate: float = 0.05  # the discount rate holders of allowances require
    n_firms: int = 200
    terminal_bank: float = 0.0  # allowances left banked after the last simulated year (the market goes on)

    def check(self) -> None:
        """Each assumption in its range; the error names the option."""
        checks = [
            (-0.2 < self.bau_growth < 0.2, f"--bau-growth {self.bau_growth}: a yearly rate between -0.2 and 0.2 (e.g. -0.01)"),
            (0 <= self.bau_growth_sd < 0.2, f"--bau-growth-sd {self.bau_growth_sd}: a spread between 0 and 0.2"),
            (self.mac_price > 0, f"--mac-price {self.mac_price}: a positive price"),
            (0 <= self.mac_sd < 3, f"--mac-sd {self.mac_sd}: a log-normal spread between 0 and 3"),
            (0 < self.max_share <= 1, f"--max-share {self.max_share}: a share in (0, 1]"),
            (self.offsets_of_limit is None or 0 <= self.offsets_of_limit <= 1,
             f"--offsets-of-limit {self.offsets_of_limit}: a share of the limit in [0, 1]"),
            (0 <= self.rate < 1, f"discount rate {self.rate}: in [0, 1)"),
            (1 <= self.n_firms <= 1_000_000, f"{self.n_firms} firms: between 1 and 1,000,000"),
            (self.terminal_bank >= 0, f"--terminal-bank {self.terminal_bank / 1e6:g}: a bank cannot be negative"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(message)


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
            consigned = _consigned(program, j, y, allocation)
            free += sum(int(r["allowances"]) for r in table("wci_supply_events.csv")  # e.g. Ontario retirements
                        if r["jurisdiction"] == j and int(r["year"]) == y)
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
        # The balance with every later auction selling out: the opening bank, and what the opening year leaves to
        # the first simulated one: the state's unsold allowances that are offered again rather than moved to the
        # reserve (here all in the first year, at the reserve price), and free allocation distributed a year late
        # (Québec's September true-up of the previous vintage).
        run = balance(program, Scenario(emissions_from=None, last_year=years[-1]))
        opening = next(y for y in run.years if y.year == first - 1)
        bank = float(opening.bank)
        moved_later = sum(y.to_reserve for y in run.years if y.year >= first)
        # (Unsold advance allowances are not added: their vintage's budget already counts them in its year.)
        returning = max(opening.unsold_state - opening.unsold_advance - moved_later, 0)
        late = sum(_deferred(program, j, first) for j in members)
        head = supply[0]
        supply[0] = YearSupply(free=head.free + late, auctioned=head.auctioned + returning,
                               floor=head.floor, steps=head.steps, withheld=head.withheld, ceiling=head.ceiling)
    return Setting(program.id, price_program.currency, years, base, base_year, tuple(supply), tuple(limits), bank)


def _consigned(program: Program, jurisdiction: str, year: int, allocation: dict[str, int]) -> float:
    """Allowances consigned to auction: the annual auction notice where it exists (2013-2018), else the least the
    rulebook requires of the allocation groups."""
    for r in table("wci_consignment_annual_2013_2018.csv"):
        if r["jurisdiction"] == jurisdiction and int(r["year"]) == year:
            return float(r["consigned_allowances"])
    return sum(float(program.consignment_share(jurisdiction, g, year)) * q for g, q in allocation.items())


def _deferred(program: Program, jurisdiction: str, first: int) -> float:
    """Free allocation of vintage first-1 that reaches entities in `first` (after the opening balance's year)."""
    rule = program.allocation_distribution(jurisdiction)
    if rule is None or rule.rest_year_offset == 0 or (first - 1) not in program.vintages(jurisdiction):
        return 0.0
    total = sum(free_allocation(jurisdiction, first - 1).values())
    dated = [(int(r["date"][:4]), int(r["allowances"])) for r in table("wci_qc_allocation_events_2013_2018.csv")
             if r["jurisdiction"] == jurisdiction and int(r["vintage"]) == first - 1]
    if not dated:
        return float(total - int(float(rule.first_share) * total))
    later = sum(q for when, q in dated if when >= first)
    return float(later + total - sum(q for _, q in dated))


def _rggi(program: Program, years: tuple[int, ...]) -> Setting:
    rows = {int(r["year"]): int(r["compliance_emissions_short_tons"]) for r in table("rggi_annual_2009_2023.csv")}
    first = years[0]
    if first < 2009 or years[-1] > max(program.vintages()):
        msg = f"RGGI simulates within 2009-{max(program.vintages())}"
        raise InputError(msg)
    if 2010 <= first <= 2013:
        msg = (
            f"--from {first}: RGGI simulations start in 2009 (an empty bank) or from 2014 on (the bank the interim "
            "adjustments measured); the bank in 2010-2013 is not known"
        )
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
        top = np.array([f.max_share for f in facilities])
        at_top = np.array([f.mac_price for f in facilities]) * np.exp(rng.normal(0.0, a.mac_sd, len(facilities)))
        firms = Firms.linear(bau, at_top / top, top)  # linear: max_share is reached at mac_price
    else:
        shares = rng.dirichlet(np.ones(a.n_firms))
        steps = np.arange(1, n_years + 1) + (s.years[0] - 1 - s.base_year)
        bau = s.base_emissions * shares[:, None] * (1 + a.bau_growth + shift) ** steps[None, :]
        at_top = a.mac_price * np.exp(rng.normal(0.0, a.mac_sd, a.n_firms))
        firms = Firms.linear(bau, at_top / a.max_share, a.max_share)  # linear: max_share is reached at mac_price
    share = a.offsets_of_limit if a.offsets_of_limit is not None else (0.0 if s.program == "rggi" else 0.75)
    offsets = share * np.asarray(s.offsets_limit) * bau.sum(axis=0)
    supply = [
        YearSupply(free=y.free + float(o), auctioned=y.auctioned, floor=y.floor, steps=y.steps, withheld=y.withheld,
                   ceiling=y.ceiling)
        for y, o in zip(s.supply, offsets, strict=True)
    ]
    e: Equilibrium = solve(Market(firms.abatement(), supply, rate=a.rate, initial_bank=s.initial_bank,
                                  terminal_bank=a.terminal_bank))
    sold = e.auction_sold + e.stepped + e.ceiling_sold  # what the state sells; offsets and free allocation are not
    return Run(e.price, e.emissions, e.bank, sold * e.price)
