"""`openets auction`: price schedules by year and the clearing of a sealed-bid auction on a bids file."""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openets.auction.schedule import YearSchedule, price_schedule
from openets.errors import InputError
from openets.rules.load import load_program

app = typer.Typer(
    help="Auctions: price schedules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
MONEY_SUFFIXES = ("_usd", "_cad")


@app.callback()
def _group() -> None:
    """Auctions: price schedules."""
    # A callback keeps `schedule` a subcommand: a Typer app with one command would otherwise run it directly.


@app.command()
def schedule(
    program: Annotated[str, typer.Argument(help="Program id: california, quebec, wci, rggi.")],
    first: Annotated[int, typer.Option("--from", help="First year.")],
    last: Annotated[int, typer.Option("--to", help="Last year (included).")],
    cpi: Annotated[
        float | None,
        typer.Option(
            "--cpi", help="Yearly CPI for projected years (0.03 = 3%); default: the rulebook's assumption."
        ),
    ] = None,
    exchange_rate: Annotated[
        float | None,
        typer.Option(
            "--exchange-rate",
            help="CAD per USD, for wci: the floor becomes the higher of the CA and QC prices in USD.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Reserve price, reserve tier prices, price ceiling and reserve triggers, year by year."""
    if first > last:
        # Checked before loading the rulebook so the message is about the years, whatever the program.
        msg = f"--from {first} is after --to {last}; give the earlier year with --from"
        raise InputError(msg)
    loaded = load_program(program)
    rows = price_schedule(loaded, first, last, cpi=cpi, exchange_rate_cad_per_usd=exchange_rate)
    if as_json:
        typer.echo(json_text([row.to_json() for row in rows]))
        return
    _print_schedule(_console(), loaded.id, loaded.allowance_unit, rows)


# ------------------------------------------------------------------------------------------------------------


def json_text(value: Any, key: str = "") -> str:
    """JSON text in which money (keys ending in _usd or _cad) is written with two decimals: 10.00, not 10.0.

    json.dumps has no per-number format, so the containers are walked here and the leaves left to json.dumps.
    """
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}: {json_text(v, str(k))}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_text(v, key) for v in value) + "]"
    money = key.endswith(MONEY_SUFFIXES)
    if isinstance(value, Decimal):
        return f"{value:.2f}" if money else str(value)
    if isinstance(value, float) and money and math.isfinite(value):
        return f"{value:.2f}"
    return json.dumps(value, ensure_ascii=False)


def _console() -> Console:
    console = Console()
    # Piped output gets rich's 80 columns by default, which folds every cell; give the table room.
    return console if console.is_terminal else Console(width=160)


def _money(price: Decimal | None) -> str:
    return "-" if price is None else f"{price:.2f}"


def _print_schedule(console: Console, program_id: str, unit: str, rows: list[YearSchedule]) -> None:
    currency = rows[0].currency
    per = "short ton" if unit == "short_ton" else unit
    table = Table(title=f"{program_id}: auction price schedule ({currency} per {per})")
    table.add_column("year", justify="right")
    table.add_column("reserve price", justify="right")
    # Columns that are empty in every row (RGGI has no tiers, California no triggers) would only be noise.
    columns = [
        ("tier prices", lambda r: " / ".join(_money(p) for p in r.tier_prices) or "-"),
        ("price ceiling", lambda r: _money(r.price_ceiling)),
        ("CCR trigger", lambda r: _money(r.ccr_trigger)),
        ("ECR trigger", lambda r: _money(r.ecr_trigger)),
    ]
    shown = [(name, cell) for name, cell in columns if any(cell(r) != "-" for r in rows)]
    for name, _ in shown:
        table.add_column(name, justify="right")
    table.add_column("sources")
    numbers: dict[str, int] = {}
    for row in rows:
        refs = sorted({numbers.setdefault(s, len(numbers) + 1) for s in row.sources.values()})
        table.add_row(
            f"{row.year}{'*' if row.projected else ''}",
            _money(row.reserve_price),
            *(cell(row) for _, cell in shown),
            " ".join(f"[{n}]" for n in refs),
        )
    console.print(table)
    for source, number in numbers.items():
        console.print(f"[{number}] {source}", markup=False)
    if any(r.projected for r in rows):
        console.print("* = the year has values projected with a CPI assumption (see --cpi)", markup=False)


def _clearing_rules(
    program: Any, year: int, rate: Decimal | None, seed: int, ccr: Any = None, ecr: Any = None, auction: str = "current"
) -> Any:
    """The clearing rules of `program`'s `auction` (current or advance) in `year`: floor (the joint floor for a
    linkage, given a rate), lot size, purchase limits of that auction type and undersubscribed price."""
    from openets.auction.clearing import ClearingRules
    from openets.auction.schedule import year_schedule

    year_rules = program.auction_rules(year)
    sched = year_schedule(program, year, exchange_rate_cad_per_usd=rate if program.is_linkage else None)
    return ClearingRules(
        floor_cents=int(sched.reserve_price * 100),
        lot_size=year_rules.lot_size,
        purchase_limits=year_rules.advance_purchase_limits if auction == "advance" else year_rules.purchase_limits,
        exchange_rate_cad_per_usd=rate,
        ccr=ccr,
        ecr=ecr,
        undersubscribed_price=year_rules.undersubscribed_price,
        seed=seed,
    )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"--date {text!r} is not a date; write YYYY-MM-DD"
        raise InputError(msg) from None


def _rate(text: str | None) -> Decimal | None:
    """--exchange-rate as a Decimal (CAD per USD), or None when not given."""
    if text is None:
        return None
    try:
        rate = Decimal(text)
    except ArithmeticError:
        rate = None
    if rate is None or not rate.is_finite() or rate <= 0:
        msg = f"--exchange-rate {text!r} is not a positive number of CAD per USD (e.g. 1.3127)"
        raise InputError(msg)
    return rate


def _quarter(text: str) -> tuple[int, int]:
    import re

    match = re.fullmatch(r"(\d{4})Q([1-4])", text.strip())
    if match is None:
        msg = f"--quarter {text!r} is not a quarter; write YEAR then Q1-Q4, e.g. 2016Q2"
        raise InputError(msg)
    return int(match.group(1)), int(match.group(2))


@app.command()
def clear(
    program: Annotated[str, typer.Option("--program", help="Program id: california, quebec, wci, rggi.")],
    quarter: Annotated[str, typer.Option("--quarter", help="The auction's quarter, e.g. 2016Q2.")],
    bids: Annotated[str, typer.Option("--bids", help="CSV with columns bidder,bidder_type,price,quantity,currency.")],
    supply: Annotated[
        int | None,
        typer.Option("--supply", help="Allowances offered (default: the quarter's scheduled offer, WCI programs)."),
    ] = None,
    auction: Annotated[
        str, typer.Option("--auction", help="current or advance: which of the quarter's auctions (default supply).")
    ] = "current",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the tie-break draw (recorded in the result).")] = 0,
    exchange_rate: Annotated[
        str | None, typer.Option("--exchange-rate", help="Auction exchange rate, CAD per USD (needed for CAD bids).")
    ] = None,
    ccr: Annotated[
        int | None, typer.Option("--ccr", help="RGGI: CCR allowances available (default: the year's CCR in the rulebook).")
    ] = None,
    ecr: Annotated[int | None, typer.Option("--ecr", help="RGGI: ECR allowances that may be withheld (default 0).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Clear one sealed-bid auction on a bids file: settlement price, awards, sold and unsold."""
    from openets.auction.bids import read_bids
    from openets.auction.clearing import Containment, Tranche
    from openets.auction.clearing import clear as clear_auction
    from openets.auction.schedule import year_schedule

    year, q = _quarter(quarter)
    if auction not in ("current", "advance"):
        msg = f"--auction {auction!r} is not an auction type; write current or advance"
        raise InputError(msg)
    loaded = load_program(program)
    if supply is not None and supply < 0:
        msg = f"--supply {supply} is negative; give the allowances offered"
        raise InputError(msg)
    tranches = [Tranche("offered", supply)] if supply is not None else _scheduled_tranches(loaded, year, q, auction)
    rate = _rate(exchange_rate)
    sched = year_schedule(loaded, year, exchange_rate_cad_per_usd=rate if loaded.is_linkage else None)
    ccr_rule = ecr_rule = None
    if sched.ccr_trigger is not None:
        available = ccr if ccr is not None else loaded.reserve_quantity(loaded.jurisdictions[0], year)
        ccr_rule = Containment(available, int(sched.ccr_trigger * 100))
    if sched.ecr_trigger is not None and ecr:
        ecr_rule = Containment(ecr, int(sched.ecr_trigger * 100))
    rules = _clearing_rules(loaded, year, rate, seed, ccr_rule, ecr_rule, auction)
    arrays = read_bids(bids, rules.lot_size)
    result = clear_auction(arrays, tranches, rules)
    out = {
        "program": loaded.id,
        "quarter": f"{year}Q{q}",
        "auction": auction,
        "supply": "given" if supply is not None else (
            "scheduled" if (year, q) <= (2018, 4) else "scheduled; auctions after 2018Q3 assumed sold out"
        ),
        "currency": "USD" if loaded.currency == "USD" or loaded.is_linkage else loaded.currency,
        "floor_usd": rules.floor_cents / 100,
        "lot_size": rules.lot_size,
        "bids": len(arrays.quantity),
        **result.as_dict(),
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    console = _console()
    table = Table(title=f"{loaded.id} auction {year}Q{q}")
    table.add_column("item")
    table.add_column("value", justify="right")
    price = out["settlement_price_usd"]
    for label, value in (
        ("floor", f"{out['floor_usd']:.2f}"),
        ("settlement price", "none" if price is None else f"{price:.2f}"),
        ("offered", f"{result.offered:,}"),
        ("sold", f"{result.sold:,}"),
        ("unsold", f"{result.unsold:,}"),
        ("bids", f"{out['bids']:,}"),
        ("qualified quantity", f"{result.qualified_quantity:,}"),
        ("median / mean bid", "-" if result.median_bid_cents is None else f"{result.median_bid_cents / 100:.2f} / {result.mean_bid_cents / 100:.2f}"),
        ("seed", str(seed)),
    ):
        table.add_row(label, value)
    console.print(table)
    awards = Table(title="Awards")
    awards.add_column("bidder")
    awards.add_column("allowances", justify="right")
    for bidder, quantity in result.awards.items():
        awards.add_row(bidder, f"{quantity:,}")
    console.print(awards)


def _scheduled_tranches(program: Any, year: int, quarter: int, auction: str) -> list[Any]:
    """The quarter's scheduled offer as clearing tranches in the sale order (WCI programs; RGGI's per-auction
    quantities are set by each state's notice, which openets does not ship)."""
    from openets.auction.offers import scheduled_offers

    members = [j for j in program.jurisdictions if program.vintages(j)]
    try:
        for j in members:
            program.unsold_rules(j)
    except InputError:
        msg = (
            f"{program.id} has no offer schedule in openets: its rulebook has no [auction.unsold] rules (RGGI's "
            "per-auction quantities are set in each state's auction notice, which openets does not ship); give the "
            "allowances offered with --supply N"
        )
        raise InputError(msg) from None
    try:
        offers = scheduled_offers(program, year, quarter)
    except InputError as exc:
        msg = f"no scheduled supply for {program.id} {year}Q{quarter}: {exc}; or give the allowances offered with --supply N"
        raise InputError(msg) from None
    tranches = offers.tranches(auction)
    if not tranches:
        msg = f"{program.id} offers nothing at the {auction} auction of {year}Q{quarter}; give --supply N to clear anyway"
        raise InputError(msg)
    return tranches


@app.command()
def offers(
    program: Annotated[str, typer.Option("--program", help="Program id: california, quebec, wci.")],
    quarter: Annotated[str, typer.Option("--quarter", help="The auctions' quarter, e.g. 2017Q4.")],
    as_json: JsonOption = False,
) -> None:
    """What each jurisdiction offers at a quarter's current and advance auctions, by category and vintage:
    computed from the rules, with earlier quarters settled as the shipped record (2012Q4-2018Q3) has them."""
    from openets.auction.offers import scheduled_offers

    year, q = _quarter(quarter)
    loaded = load_program(program)
    result = scheduled_offers(loaded, year, q)
    lines = [
        {"auction": o.auction_type, "jurisdiction": o.jurisdiction, "category": o.category, "vintage": o.vintage,
         "new": o.new, "redesignated": o.redesignated, "available": o.available}
        for o in result.offers
    ]
    moved = [
        {"jurisdiction": t.jurisdiction, "vintage": t.vintage, "quantity": t.quantity, "unsold_since": t.unsold_since}
        for t in result.to_reserve
    ]
    if as_json:
        typer.echo(json.dumps({"program": loaded.id, "quarter": result.quarter, "offers": lines,
                               "current_total": result.total("current"), "advance_total": result.total("advance"),
                               "to_reserve": moved}))
        return
    table = Table(title=f"{loaded.id} offers, {result.quarter}")
    for name in ("auction", "jurisdiction", "category", "vintage", "new", "redesignated", "available"):
        table.add_column(name, justify="right" if name in ("vintage", "new", "redesignated", "available") else "left")
    for line in lines:
        table.add_row(*(f"{v:,}" if isinstance(v, int) and k != "vintage" else str(v) for k, v in line.items()))
    console = _console()
    console.print(table)
    for t in moved:
        console.print(f"moved to the reserve before the auction: {t['quantity']:,} {t['jurisdiction']} vintage "
                      f"{t['vintage']} (unsold since {t['unsold_since']})", markup=False)


def _offer(text: str) -> Any:
    from openets.auction.run import Offer

    parts = text.split(":")
    hint = "write CATEGORY=ACCOUNT:INSTRUMENT:QUANTITY[:ORDER[:CONSIGNOR]], e.g. state=CA-AUCTION:CA:allowance:2016:5000000"
    if "=" not in text:
        msg = f"--offer {text!r} is malformed; {hint}"
        raise InputError(msg)
    category, rest = text.split("=", 1)
    parts = rest.split(":")
    # ACCOUNT, then the instrument's three (or four) parts, then QUANTITY, ORDER, CONSIGNOR.
    if len(parts) < 5:
        msg = f"--offer {text!r} is malformed; {hint}"
        raise InputError(msg)
    account, instrument, tail = parts[0], ":".join(parts[1:4]), parts[4:]
    try:
        quantity = int(tail[0])
        order = int(tail[1]) if len(tail) > 1 and tail[1] else 0
    except ValueError:
        msg = f"--offer {text!r}: quantity and order must be whole numbers; {hint}"
        raise InputError(msg) from None
    consignor = tail[2] if len(tail) > 2 else ""
    return Offer(category.strip(), account, instrument, quantity, order, consignor)


@app.command()
def run(
    auction_id: Annotated[str, typer.Option("--auction-id", help="Your id for this auction; running it again is safe.")],
    auction_date: Annotated[str, typer.Option("--date", help="Auction date YYYY-MM-DD (its year sets the floor).")],
    bids: Annotated[str, typer.Option("--bids", help="CSV: bidder (an account id),bidder_type,price,quantity,currency.")],
    offers: Annotated[list[str], typer.Option("--offer", help="CATEGORY=ACCOUNT:INSTRUMENT:QUANTITY[:ORDER[:CONSIGNOR]]; repeat.")],
    db: Annotated[str | None, typer.Option("--db", help="Registry: SQLite path or database URL.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the tie-break draw.")] = 0,
    exchange_rate: Annotated[str | None, typer.Option("--exchange-rate", help="CAD per USD (for CAD bids).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Run one auction against a registry: clear the bids and deliver the awards in one atomic batch."""
    from openets.auction.bids import read_bids
    from openets.auction.run import run_auction
    from openets.registry import Registry

    when = _date(auction_date)
    parsed = [_offer(o) for o in offers]
    rate = _rate(exchange_rate)
    with Registry.open(db) as reg:
        rules = _clearing_rules(reg.program, when.year, rate, seed)
        arrays = read_bids(bids, rules.lot_size)
        outcome = run_auction(reg, auction_id, when, arrays, parsed, rules)
    out = outcome.as_dict()
    if as_json:
        typer.echo(json.dumps(out))
        return
    price = out["settlement_price_usd"]
    typer.echo(
        f"auction {auction_id}: settlement {'none' if price is None else f'{price:.2f}'} USD, sold "
        f"{outcome.result.sold:,} of {outcome.result.offered:,}; {len(outcome.moves)} deliveries "
        f"({sum(s == 'applied' for s in outcome.statuses)} applied now)"
    )


def _read_requests(path: str, need_given: bool = True) -> tuple[list[Any], dict[str, int]]:
    """Reserve-sale requests from CSV: entity,tier,quantity,need[,covered] (line-numbered errors); without
    `need_given` the need column may be absent or blank (the registry computes it)."""
    import csv

    from openets.auction.reserve_sale import Request

    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as exc:
        msg = f"cannot read requests file {path}: {exc.strerror}"
        raise InputError(msg) from None
    requests: list[Any] = []
    need: dict[str, int] = {}
    with handle:
        reader = csv.DictReader(handle)
        required = ("entity", "tier", "quantity", "need") if need_given else ("entity", "tier", "quantity")
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            msg = f"{path} line 1: missing column(s) {', '.join(missing)}; expected entity,tier,quantity,need[,covered]"
            raise InputError(msg)
        for line, row in enumerate(reader, start=2):
            where = f"{path} line {line}"
            try:
                quantity = int(row["quantity"])
                entity_need = int(row["need"]) if need_given or (row.get("need") or "").strip() else -1
            except (TypeError, ValueError):
                msg = f"{where}: quantity {row['quantity']!r} and need {row['need']!r} must be whole numbers"
                raise InputError(msg) from None
            entity = (row["entity"] or "").strip()
            if entity_need >= 0 and need.setdefault(entity, entity_need) != entity_need:
                msg = f"{where}: {entity!r} has need {entity_need:,} here and {need[entity]:,} above; give one need"
                raise InputError(msg)
            covered = (row.get("covered") or "true").strip().lower() not in ("false", "no", "0")
            requests.append(Request(entity, "", (row["tier"] or "").strip(), quantity, covered))
    return requests, need


def _read_emissions(path: str) -> dict[str, dict[int, int]]:
    """Covered emissions by entity and year from CSV: entity,year,emissions (tCO2e; line-numbered errors)."""
    import csv

    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as exc:
        msg = f"cannot read emissions file {path}: {exc.strerror}"
        raise InputError(msg) from None
    out: dict[str, dict[int, int]] = {}
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("entity", "year", "emissions") if c not in (reader.fieldnames or [])]
        if missing:
            msg = f"{path} line 1: missing column(s) {', '.join(missing)}; expected entity,year,emissions"
            raise InputError(msg)
        for line, row in enumerate(reader, start=2):
            try:
                year, value = int(row["year"]), int(row["emissions"])
            except (TypeError, ValueError):
                msg = f"{path} line {line}: year {row['year']!r} and emissions {row['emissions']!r} must be whole numbers"
                raise InputError(msg) from None
            out.setdefault((row["entity"] or "").strip(), {})[year] = value
    return out


@app.command("reserve-sale")
def reserve_sale(
    sale_id: Annotated[str, typer.Option("--sale-id", help="Your id for this sale; running it again is safe.")],
    sale_date: Annotated[str, typer.Option("--date", help="Sale date YYYY-MM-DD.")],
    requests_file: Annotated[str, typer.Option("--requests", help="CSV: entity (a compliance account),tier,quantity,need.")],
    tiers: Annotated[list[str], typer.Option("--tier", help="NAME:PRICE:QUANTITY, e.g. tier_1:41.40:1000000; repeat, in order.")],
    ceiling: Annotated[str | None, typer.Option("--ceiling", help="Price-ceiling price (from 2021), e.g. 65.00.")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Registry: SQLite path or database URL.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the pro-rata remainder draw.")] = 0,
    emissions_file: Annotated[
        str | None,
        typer.Option("--emissions", help="CSV entity,year,emissions: each buyer's need is computed from the registry."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run a California reserve sale (and price-ceiling sale) against a registry, in one atomic batch. Each
    buyer may buy at most its compliance need: given in the requests, or, with --emissions, what its compliance
    account lacks for its next obligation (the smaller of the two when both are given)."""
    from openets.auction.reserve_sale import Tier, run_reserve_sale
    from openets.registry import Registry

    when = _date(sale_date)

    def cents(text: str, what: str) -> int:
        try:
            amount = Decimal(text)
        except ArithmeticError:
            amount = Decimal(-1)
        if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            msg = f"{what} {text!r} is not a price in dollars and cents above zero"
            raise InputError(msg)
        return int(amount * 100)

    parsed = []
    for text in tiers:
        parts = text.split(":")
        if len(parts) != 3 or not parts[2].isdigit():
            msg = f"--tier {text!r} is malformed; write NAME:PRICE:QUANTITY, e.g. tier_1:41.40:1000000"
            raise InputError(msg)
        parsed.append(Tier(parts[0], cents(parts[1], "--tier price"), int(parts[2])))
    requests, need = _read_requests(requests_file, need_given=emissions_file is None)
    with Registry.open(db) as reg:
        if emissions_file is not None:
            from openets.compliance.surrender import compliance_need

            emissions = _read_emissions(emissions_file)
            for request in requests:
                if request.entity not in emissions:
                    msg = f"{emissions_file}: no emissions for {request.entity!r}; give its covered emissions by year"
                    raise InputError(msg)
            for entity, by_year in emissions.items():
                computed = compliance_need(reg, entity, by_year, when)
                need[entity] = min(need.get(entity, computed), computed)
        outcome = run_reserve_sale(reg, sale_id, when, parsed, requests, need,
                                   cents(ceiling, "--ceiling") if ceiling is not None else None, seed)
    if as_json:
        typer.echo(json.dumps(outcome.as_dict()))
        return
    typer.echo(
        f"reserve sale {sale_id}: {sum(sum(v.values()) for v in outcome.result.sold.values()):,} sold for "
        f"{outcome.result.proceeds_cents / 100:,.2f} USD; {len(outcome.moves)} deliveries"
    )
