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

from dataclasses import dataclass, field

import numpy as np

from openets.data import covered_emissions, free_allocation, table
from openets.errors import InputError
from openets.market.equilibrium import Equilibrium, Market, YearSupply, solve
from openets.market.firms import Facility, Firms
from openets.market.msr import MsrState, solve_with_msr
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
            (0 <= self.rate < 1, f"--rate {self.rate}: a yearly discount rate in [0, 1), e.g. 0.05"),
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
    msr: MsrState | None = None  # the EU's Market Stability Reserve, when the program has one
    recorded: tuple[float, ...] = ()  # recorded emissions of the first simulated years, the BAU of a hindcast
    projection_base: float | None = None  # the level later years grow from, when not the last recorded one


def setting(program: Program, first: int, last: int) -> Setting:
    """Supply, offset limits and the opening bank of `program` for `first`..`last`."""
    if first > last:
        msg = f"--from {first} is after --to {last}; give the earlier year with --from"
        raise InputError(msg)
    years = tuple(range(first, last + 1))
    if program.id == "rggi":
        return _rggi(program, years)
    if program.msr is not None:
        return _eu(program, years)
    if not program.is_linkage and program.id not in ("california", "quebec"):
        msg = f"the simulator covers wci, california, quebec, rggi and eu; {program.id!r} has no simulation inputs yet"
        raise InputError(msg)
    members = [j for j in program.jurisdictions if program.vintages(j)]
    if first < 2013 or last > 2030:
        msg = (f"--from {first} --to {last}: the {program.id} simulator runs within 2013-2030 (the years with shipped "
               "allocation)")
        raise InputError(msg)
    for y in years:
        for j in members:
            if y not in program.vintages(j):
                msg = (f"--from {first} --to {last}: {j} has no budget for {y} in the rulebook; simulate within "
                       f"{min(program.vintages(j))}-{max(program.vintages(j))}")
                raise InputError(msg)
    history = {j: covered_emissions(j) for j in members}
    # BAU grows from the reported emissions of the year before the first simulated one (from 2013's when the run
    # starts in 2013: the first year with reported covered emissions). In 2013 Québec's market was not yet linked
    # to California's; a run from 2013 treats the two as one market from the start (Québec is 12% of the budget).
    base_year = min(max(h) for h in history.values())
    base_year = max(min(base_year, first - 1), max(min(h) for h in history.values()))
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
    # Years every member has reported are BAU as reported (the coverage of fuel suppliers from 2015 more than
    # doubled covered emissions: a path grown from 2013 would miss it).
    common = min(max(h) for h in history.values())
    recorded = tuple(float(sum(history[j][y] for j in members)) for y in years if y <= common)
    return Setting(program.id, price_program.currency, years, base, base_year, tuple(supply), tuple(limits), bank,
                   recorded=recorded)


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
    shipped = table("rggi_annual_2009_2023.csv")
    rows = {int(r["year"]): int(r["compliance_emissions_short_tons"]) for r in shipped}
    virginia = {int(r["year"]): int(r["va_short_tons"]) for r in shipped}
    first = years[0]
    if first < 2009 or years[-1] > max(program.vintages()):
        msg = f"--from {first} --to {years[-1]}: RGGI simulates within 2009-{max(program.vintages())}"
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
    recorded = tuple(float(rows[y]) for y in years if y in rows and y <= max(rows))
    # Projections grow from the last recorded year without Virginia, whose budget ends with 2023.
    level = float(rows[base_year] - virginia.get(base_year, 0)) if base_year + 1 > 2023 else float(rows[base_year])
    after = float(rows[max(rows)] - virginia[max(rows)]) if recorded and years[-1] > max(rows) else None
    return Setting(program.id, program.currency, years, level, base_year, tuple(supply), limits, bank,
                   recorded=recorded, projection_base=after)


def named_scenario(name: str, program: str) -> dict[str, float]:
    """A shipped named scenario (`simulation_scenarios.csv`): the assumptions it sets, for the program it is for."""
    rows = {r["name"]: r for r in table("simulation_scenarios.csv")}
    if name not in rows:
        msg = f"--scenario {name!r}: no such shipped scenario; shipped: {', '.join(sorted(rows))}"
        raise InputError(msg)
    row = rows[name]
    if row["program"] != program:
        msg = f"--scenario {name!r} is for {row['program']}, not {program}; run it with `openets simulate {row['program']}`"
        raise InputError(msg)
    return {k: float(row[k]) for k in ("mac_price", "rate", "max_share")}


MSR_ACCEPT = 0.05  # a run whose MSR fixed point stalls this close (share of a year's auctions) is kept, and says so
EU_FIRST_YEAR = 2023  # from the 2022 TNAC (shared RULES.md); later MSR datapoints are held-out validation data


def _eu(program: Program, years: tuple[int, ...]) -> Setting:
    """The EU ETS (stationary installations): the cap, 57% of it auctioned (no reserve price), the rest free; the
    MSR cuts or adds to the auctions from the published TNAC of 2021 and 2022, then from the simulated banks."""
    msr = program.msr
    assert msr is not None
    if years[0] != EU_FIRST_YEAR:
        msg = (f"--from {years[0]}: the EU simulation starts in {EU_FIRST_YEAR}, from the 2022 TNAC (the last one the "
               f"shipped data holds); give --from {EU_FIRST_YEAR}")
        raise InputError(msg)
    if years[-1] > max(program.vintages()):
        msg = (f"--to {years[-1]}: the EU rulebook's caps end in {max(program.vintages())} (the cap reaches zero in "
               f"2040); give --to {max(program.vintages())} or earlier")
        raise InputError(msg)
    anchors: dict[tuple[str, int], float] = {(r["metric"], int(r["year"])): float(r["value"]) for r in table("eu_msr_anchors.csv")}
    supply = []
    for y in years:
        share = program.auction_share(y)
        if share is None:
            msg = f"the eu rulebook has no [auction_share] for {y}; add it"
            raise InputError(msg)
        cap = float(program.budget(y))
        supply.append(YearSupply(free=cap * (1 - float(share)), auctioned=cap * float(share), floor=0.0))
    cap_series = msr.holding_cap.values if msr.holding_cap is not None else {}
    state = MsrState(
        rules=msr,
        tnac={y: v for (m, y), v in anchors.items() if m == "tnac"},
        holdings=anchors[("msr_holdings_start", EU_FIRST_YEAR)],
        holding_cap={int(y): float(v) for y, v in cap_series.items()},
    )
    base_year = EU_FIRST_YEAR - 1
    return Setting(program.id, program.currency, years, anchors[("verified_emissions", base_year)], base_year,
                   tuple(supply), tuple(0.0 for _ in years), anchors[("tnac", base_year)], state)


@dataclass(frozen=True)
class Run:
    price: np.ndarray
    emissions: np.ndarray
    bank: np.ndarray
    auction_revenue: np.ndarray  # in the program's currency
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # program-specific series (the EU's MSR flows)


def draw_firms(s: Setting, a: Assumptions, rng: np.random.Generator, facilities: list[Facility] | None = None) -> Firms:
    """This run's firms: synthetic (Dirichlet shares of the base emissions, drawn growth and MAC prices), or the
    given facilities with drawn deviations. Both modes (`run_once`, `agents.run_once`) draw them here, so the same
    rng gives both the identical population."""
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
        if s.recorded:  # years already recorded: BAU is the record; later years grow from its last year
            known = len(s.recorded)
            level = np.array(s.recorded, dtype=float)
            start = s.projection_base if s.projection_base is not None else s.recorded[-1]
            ahead = start * (1 + a.bau_growth + shift) ** np.arange(1, n_years - known + 1)
            bau = shares[:, None] * np.concatenate([level, ahead])[None, :]
        at_top = a.mac_price * np.exp(rng.normal(0.0, a.mac_sd, a.n_firms))
        firms = Firms.linear(bau, at_top / a.max_share, a.max_share)  # linear: max_share is reached at mac_price
    return firms


def offset_supply(s: Setting, a: Assumptions, bau: np.ndarray) -> np.ndarray:
    """Offsets used each year: `offsets_of_limit` (default WCI 0.75, RGGI 0) of the limit applied to BAU emissions."""
    share = a.offsets_of_limit if a.offsets_of_limit is not None else (0.0 if s.program == "rggi" else 0.75)
    return share * np.asarray(s.offsets_limit) * bau.sum(axis=0)


def run_once(s: Setting, a: Assumptions, rng: np.random.Generator, facilities: list[Facility] | None = None) -> Run:
    """One draw: firms (synthetic, or the given facilities with drawn deviations), then the equilibrium."""
    firms = draw_firms(s, a, rng, facilities)
    offsets = offset_supply(s, a, firms.bau)
    supply = [
        YearSupply(free=y.free + float(o), auctioned=y.auctioned, floor=y.floor, steps=y.steps, withheld=y.withheld,
                   ceiling=y.ceiling)
        for y, o in zip(s.supply, offsets, strict=True)
    ]
    market = Market(firms.abatement(), supply, rate=a.rate, initial_bank=s.initial_bank, terminal_bank=a.terminal_bank)
    if s.msr is not None:
        solved = solve_with_msr(market, s.years, s.msr)
        largest = max(y.auctioned for y in supply)
        if not solved.converged and solved.residual > MSR_ACCEPT * largest:
            msg = (f"the MSR fixed point did not settle in {solved.iterations} iterations: a year's intake is still "
                   f"{solved.residual:,.0f} allowances from what the rule gives on the resulting banks (more than "
                   f"{MSR_ACCEPT:.0%} of the largest yearly auction volume); try another --rate or --mac-price")
            raise InputError(msg)
        e: Equilibrium = solved.equilibrium
        extra = {"msr_intake": solved.msr.intake, "msr_release": solved.msr.release,
                 "msr_holdings": solved.msr.holdings, "msr_invalidated": solved.msr.invalidated,
                 # how far the settled flows are from the rule (0 when the fixed point is exact): every year the same
                 "msr_residual": np.full(len(s.years), 0.0 if solved.converged else solved.residual)}
    else:
        e = solve(market)
        extra = {}
    sold = e.auction_sold + e.stepped + e.ceiling_sold  # what the state sells; offsets and free allocation are not
    return Run(e.price, e.emissions, e.bank, sold * e.price, extra)
