"""`openets registry ...`: create a registry, open accounts, issue and move instruments, read and verify."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openets.errors import InputError, IntegrityError
from openets.registry.ledger import InstrumentRef, OpKind, make_move
from openets.registry.store import Receipt, Registry, resolve_url
from openets.rules.kinds import AccountKind, InstrumentKind

app = typer.Typer(no_args_is_help=True, add_completion=False)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLite file path or database URL (postgresql://...); default $OPENETS_DB or ./openets.db"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]
OpIdOption = Annotated[
    str, typer.Option("--op-id", help="Your id for this operation; sending it again is safe (applied once).")
]


def _console() -> Console:
    return Console(highlight=False)


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, sort_keys=False, default=str))


def _receipt(receipt: Receipt, as_json: bool, what: str) -> None:
    if as_json:
        _print_json(asdict(receipt))
    else:
        verb = "applied" if receipt.status == "applied" else "already applied earlier (acknowledged, not repeated)"
        typer.echo(f"{what}: {verb} as journal entry {receipt.seq} ({receipt.entry_hash[:16]})")


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        msg = f"--date {value!r} is not a date; write YYYY-MM-DD, e.g. 2016-11-01"
        raise InputError(msg) from None


@app.command()
def init(
    program: Annotated[str, typer.Option("--program", help="Program id, e.g. wci, california, rggi")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a registry for PROGRAM (schema by Alembic migration) with each jurisdiction's standard accounts."""
    with Registry.create(db, program) as reg:
        accounts = reg.accounts()
        if as_json:
            _print_json({"db": resolve_url(db), "program": reg.program.id, "accounts": [a.account_id for a in accounts]})
        else:
            typer.echo(f"registry for {reg.program.id} ready at {resolve_url(db)} with {len(accounts)} accounts")


@app.command("open-account")
def open_account(
    account_id: Annotated[str, typer.Argument(help="New account id, e.g. ACME-GENERAL")],
    owner: Annotated[str, typer.Option("--owner", help="Owning entity id")],
    kind: Annotated[AccountKind, typer.Option("--kind", help="Account kind")],
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", help="Jurisdiction of registration, e.g. CA")],
    op_id: Annotated[str | None, typer.Option("--op-id", help="Operation id (default open:ACCOUNT_ID)")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open an account."""
    with Registry.open(db) as reg:
        _receipt(reg.open_account(account_id, owner, kind, jurisdiction, op_id), as_json, f"open account {account_id}")


@app.command()
def issue(
    op_id: OpIdOption,
    to: Annotated[str, typer.Option("--to", help="Account that receives the new instruments")],
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", help="Issuing jurisdiction, e.g. CA")],
    quantity: Annotated[int, typer.Option("--quantity", help="Number of instruments (1 = 1 tCO2e or short ton)")],
    vintage: Annotated[int | None, typer.Option("--vintage", help="Vintage year (allowances, offsets)")] = None,
    kind: Annotated[InstrumentKind, typer.Option("--kind", help="Instrument kind")] = InstrumentKind.ALLOWANCE,
    date_: Annotated[str | None, typer.Option("--date", help="Effective date YYYY-MM-DD")] = None,
    memo: Annotated[str | None, typer.Option("--memo")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue instruments from the jurisdiction's issuance account."""
    with Registry.open(db) as reg:
        source = reg.issuance_account(jurisdiction)
        op = make_move(
            op_id, OpKind.ISSUE, source, to, InstrumentRef(jurisdiction, kind, vintage), quantity, _parse_date(date_), memo
        )
        _receipt(reg.apply(op), as_json, f"issue {op_id}")


def _move(
    kind: OpKind,
    op_id: str,
    source: str,
    target: str,
    instrument: str,
    quantity: int,
    date_: str | None,
    memo: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    with Registry.open(db) as reg:
        op = make_move(op_id, kind, source, target, instrument, quantity, _parse_date(date_), memo)
        _receipt(reg.apply(op), as_json, f"{kind.value} {op_id}")


FromOption = Annotated[str, typer.Option("--from", help="Account debited")]
ToOption = Annotated[str, typer.Option("--to", help="Account credited")]
InstrumentOption = Annotated[
    str, typer.Option("--instrument", help="JURISDICTION:KIND:VINTAGE, e.g. CA:allowance:2013 or CA:reserve_allowance:-")
]
QuantityOption = Annotated[int, typer.Option("--quantity", help="Number of instruments")]
DateOption = Annotated[str | None, typer.Option("--date", help="Effective date YYYY-MM-DD (holding-limit year)")]
MemoOption = Annotated[str | None, typer.Option("--memo")]


@app.command()
def transfer(
    op_id: OpIdOption,
    source: FromOption,
    target: ToOption,
    instrument: InstrumentOption,
    quantity: QuantityOption,
    as_: Annotated[
        str,
        typer.Option(
            "--as", help="Kind of movement: transfer, allocate, surrender, retire or cancel (default transfer)"
        ),
    ] = "transfer",
    date_: DateOption = None,
    memo: MemoOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move instruments between accounts (also allocate, surrender, retire or cancel with --as)."""
    try:
        kind = OpKind(as_)
    except ValueError:
        kind = None
    if kind is None or kind in (OpKind.OPEN_ACCOUNT, OpKind.ISSUE):
        msg = f"--as {as_!r} is not a movement this command makes; use transfer, allocate, surrender, retire or cancel"
        raise InputError(msg)
    _move(kind, op_id, source, target, instrument, quantity, date_, memo, db, as_json)


def _alias(kind: OpKind, doc: str) -> None:
    def command(
        op_id: OpIdOption,
        source: FromOption,
        target: ToOption,
        instrument: InstrumentOption,
        quantity: QuantityOption,
        date_: DateOption = None,
        memo: MemoOption = None,
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        _move(kind, op_id, source, target, instrument, quantity, date_, memo, db, as_json)

    command.__doc__ = doc
    app.command(kind.value)(command)


_alias(OpKind.ALLOCATE, "Allocate allowances from an allocation holding account to an entity.")
_alias(OpKind.SURRENDER, "Surrender instruments from a compliance account to a retirement account.")
_alias(OpKind.RETIRE, "Retire instruments voluntarily (to a retirement account).")
_alias(OpKind.CANCEL, "Cancel or invalidate instruments (to a cancellation account).")


@app.command()
def balance(
    account: Annotated[str | None, typer.Option("--account", help="Only this account")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's accounts")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Holdings by account and instrument (issuance accounts show minus what they issued)."""
    with Registry.open(db) as reg:
        rows = reg.balances(account_id=account, owner=owner)
    if as_json:
        _print_json({"balances": [asdict(r) for r in rows]})
        return
    table = Table(title="Holdings")
    for col in ("account", "owner", "kind", "instrument", "quantity"):
        table.add_column(col, justify="right" if col == "quantity" else "left")
    for r in rows:
        table.add_row(r.account_id, r.owner, r.account_kind, r.instrument_key, f"{r.quantity:,}")
    _console().print(table)


@app.command()
def history(
    account: Annotated[str | None, typer.Option("--account", help="Only entries touching this account")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many entries")] = 100,
    after: Annotated[int, typer.Option("--after", help="Only entries after this sequence number")] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The journal, oldest first."""
    with Registry.open(db) as reg:
        entries = reg.history(account_id=account, limit=limit, after_seq=after)
    if as_json:
        _print_json({"entries": [asdict(e) for e in entries]})
        return
    table = Table(title="Journal")
    for col in ("seq", "op id", "kind", "content", "recorded at"):
        table.add_column(col)
    for e in entries:
        detail = {k: v for k, v in e.content.items() if k != "op"}
        table.add_row(str(e.seq), e.op_id, e.kind, json.dumps(detail), e.recorded_at)
    _console().print(table)


@app.command()
def verify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Recompute every balance from the journal, check the hash chain and the invariants."""
    with Registry.open(db) as reg:
        report = reg.verify()
    if as_json:
        _print_json(report.as_dict())
    else:
        status = "OK" if report.ok else "FAILED"
        typer.echo(
            f"verify {status}: {report.entries:,} journal entries, {report.accounts} accounts, "
            f"{report.instruments} instruments; issued {report.issued:,} = held {report.held:,} + retired "
            f"{report.retired:,} + cancelled {report.cancelled:,}; chain head {report.head_hash[:16]}"
        )
        for p in report.problems:
            typer.echo(f"  problem: {p}")
    if not report.ok:
        msg = f"registry failed verification with {len(report.problems)} problem(s)"
        raise IntegrityError(msg)
