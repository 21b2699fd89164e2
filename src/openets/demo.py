"""`make demo`: build a WCI registry from the shipped rulebooks and data, show its holdings and verify it.

Each jurisdiction's budget for each vintage 2013-2018 is issued and placed as the rulebook says:
the containment reserve share into the reserve account (as non-vintage reserve allowances, the way the
Compliance Instrument Report shows them), the advance-auction share into the auction holding account,
the free allocation of that vintage (shipped table) and California's voluntary-renewable-electricity
set-aside into the allocation holding account, and the rest,
the state-owned allowances for current auctions, into the auction holding account as well.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from openets.auction.supply import budget_split
from openets.errors import OpenETSError
from openets.registry import Registry
from openets.registry.ledger import InstrumentRef, Move, OpKind
from openets.rules import Program
from openets.rules.kinds import InstrumentKind

VINTAGES = range(2013, 2019)
DEFAULT_DB = Path("demo-out") / "wci-demo.db"


def placement(program: Program, jurisdiction: str, vintage: int) -> dict[str, int]:
    """How one vintage's budget is split (allowances); the parts add up to the budget exactly."""
    return budget_split(program, jurisdiction, vintage)


def issuance_ops(program: Program) -> list[Move]:
    ops: list[Move] = []
    for j in program.jurisdictions:
        for v in VINTAGES:
            if v not in program.vintages(j):
                continue
            parts = placement(program, j, v)
            when = date(v, 1, 1)
            legs = [
                ("reserve", f"{j}-RESERVE", InstrumentRef(j, InstrumentKind.RESERVE_ALLOWANCE, None)),
                ("set_aside", f"{j}-ALLOCATION", InstrumentRef(j, InstrumentKind.ALLOWANCE, v)),
                ("advance_auction", f"{j}-AUCTION", InstrumentRef(j, InstrumentKind.ALLOWANCE, v)),
                ("allocation", f"{j}-ALLOCATION", InstrumentRef(j, InstrumentKind.ALLOWANCE, v)),
                ("current_auction", f"{j}-AUCTION", InstrumentRef(j, InstrumentKind.ALLOWANCE, v)),
            ]
            for part, account, instrument in legs:
                if parts[part]:
                    ops.append(
                        Move(f"demo:{j}:{v}:{part}", OpKind.ISSUE, f"{j}-ISSUANCE", account, instrument, parts[part], when,
                             f"vintage {v} budget: {part.replace('_', ' ')}")
                    )
    return ops


def holdings_table(reg: Registry) -> Table:
    """Holdings by jurisdiction, vintage and account kind (reserve allowances shown under their budget year)."""
    program = reg.program
    by: dict[tuple[str, int, str], int] = {}
    for op in reg.operations():
        if isinstance(op, Move) and op.kind is OpKind.ISSUE and op.memo:
            year = int(op.memo.split()[1])
            kind = op.to_account.split("-", 1)[1].lower()
            by[(op.instrument.jurisdiction, year, kind)] = by.get((op.instrument.jurisdiction, year, kind), 0) + op.quantity
    held = {(r.account_id, r.instrument_key): r.quantity for r in reg.balances()}
    table = Table(title=f"Registry holdings by account kind and vintage ({program.name}), allowances")
    for col in ("jurisdiction", "vintage", "allocation holding", "auction holding", "reserve", "total", "rulebook budget"):
        table.add_column(col, justify="left" if col in ("jurisdiction",) else "right")
    for j in program.jurisdictions:
        for v in VINTAGES:
            if v not in program.vintages(j):
                continue
            alloc = held.get((f"{j}-ALLOCATION", f"{j}:allowance:{v}"), 0)
            auction = held.get((f"{j}-AUCTION", f"{j}:allowance:{v}"), 0)
            reserve = by.get((j, v, "reserve"), 0)
            total = alloc + auction + reserve
            budget = program.budget(v, j)
            table.add_row(j, str(v), f"{alloc:,}", f"{auction:,}", f"{reserve:,}", f"{total:,}", f"{budget:,}")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(DEFAULT_DB), help="SQLite path or database URL (default demo-out/wci-demo.db)")
    parser.add_argument("--program", default="wci")
    args = parser.parse_args(argv)
    console = Console(highlight=False, width=max(Console().width, 120))
    if "://" not in args.db:  # a fresh file each run, so the demo always shows the same registry
        path = Path(args.db)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    try:
        with Registry.create(args.db, args.program) as reg:
            receipts = reg.apply_batch(issuance_ops(reg.program))
            console.print(
                f"Built a {reg.program.id} registry at {args.db}: {len(receipts)} issuance operations "
                f"for vintages {VINTAGES.start}-{VINTAGES.stop - 1}."
            )
            console.print(holdings_table(reg))
            report = reg.verify()
    except OpenETSError as exc:
        console.print(f"error: {exc}")
        return 1
    status = "OK" if report.ok else "FAILED"
    console.print(
        f"verify {status}: {report.entries:,} journal entries; issued {report.issued:,} = held {report.held:,}"
        f" + retired {report.retired:,} + cancelled {report.cancelled:,}; chain head {report.head_hash[:16]}"
    )
    for problem in report.problems:
        console.print(f"  problem: {problem}")
    if not report.ok:
        return 1
    return supply_demand(console, Path(args.db).parent if "://" not in args.db else Path("demo-out"))


def supply_demand(console: Console, out_dir: Path) -> int:
    """The WCI supply-demand balance on the peer model's default scenario, as a table and a PNG chart."""
    from openets.market.cli import print_table, write_plot
    from openets.market.peer import PEER_SCENARIO, compare
    from openets.market.supply import balance
    from openets.rules import load_program

    program = load_program("wci")
    result = balance(program, PEER_SCENARIO)
    console.print(
        "\nSupply and demand (emissions reported to 2016, then -2% a year; auctions after 2018Q3 sell out; offsets at "
        "75% of the limit: `openets supply wci --emissions-from 2017 --emissions-growth -0.02 --offsets-of-limit 0.75`)"
    )
    print_table(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    chart = out_dir / "wci-supply.png"
    write_plot(result, str(chart))
    rows = compare(program, result)
    within = sum(abs(r.relative) <= 0.01 for r in rows)
    console.print(
        f"Chart: {chart}. Against WCI-RULES: the year-end bank is within 1% in {within} of {len(rows)} years; "
        "every difference is attributed to its rule in docs/supply_vs_wci_rules.md."
    )
    return simulation(console, out_dir)


def simulation(console: Console, out_dir: Path) -> int:
    """A 200-run WCI simulation 2019-2030 on the calibrated scenario (banking equilibrium) and its report."""
    from openets.market.report import write_report
    from openets.market.simulate import Assumptions, named_scenario
    from openets.market.sweep import sweep
    from openets.rules import load_program

    calibrated = named_scenario("wci-calibrated", "wci")
    assumptions = Assumptions(mac_price=calibrated["mac_price"], rate=calibrated["rate"], max_share=calibrated["max_share"])
    result = sweep(load_program("wci"), 2019, 2030, 200, seed=0, assumptions=assumptions)
    page = write_report(result, out_dir / "wci-simulation")
    data = result.as_dict()
    first, last = data["years"][0], data["years"][-1]
    console.print(
        f"\nSimulation, 200 runs (seed 0; scenario wci-calibrated, fitted to the 2013-2018 auction prices): price "
        f"{first['year']} median {first['price']['p50']:.2f} USD (5-95%: {first['price']['p5']:.2f}-"
        f"{first['price']['p95']:.2f}), {last['year']} median {last['price']['p50']:.2f} USD. Report: {page}"
    )
    return bottom_up(console)


def bottom_up(console: Console) -> int:
    """Bottom-up action: who the coalitions cover at the end of 2019, counted once, and what 1 Gt a year less CO2
    from 2025 does to warming in 2100 (FaIR, 100 members, offline)."""
    from datetime import date

    from openets.actions.coverage import coverage

    usca = coverage(date(2019, 12, 31), ["usca"])
    three = coverage(date(2019, 12, 31), ["usca", "wasi", "climate-mayors"])
    console.print("\nCoverage of the US at the end of 2019 (population / GDP / emissions, each counted once; naive sum):")
    for name, c in (("US Climate Alliance", usca), ("three coalitions", three)):
        d, n = c.shares, c.naive
        console.print(f"  {name}: {d.population:.1%} / {d.gdp:.1%} / {d.emissions:.1%}   (naive {n.population:.1%} / "
                      f"{n.gdp:.1%} / {n.emissions:.1%})")
    console.print("  America's Pledge (2019): 65% of the population and 68% of the economy; why they differ: "
                  "docs/coverage_vs_americas_pledge.md")
    from openets.climate.model import warming_difference

    cut = warming_difference(dict.fromkeys(range(2025, 2101), 1.0), 100)
    console.print(f"\nWarming in 2100 (FaIR 2.2, 100 members, K above 1850-1900): reference {cut.background_median_2100_k:.2f}; "
                  f"1 GtCO2 a year less from 2025: {cut.median_2100_k:.3f} K cooler (5-95% over members: "
                  f"{cut.p5_2100_k:.3f}-{cut.p95_2100_k:.3f})")
    return 0

if __name__ == "__main__":
    sys.exit(main())
