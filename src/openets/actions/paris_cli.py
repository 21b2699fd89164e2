"""`openets paris` (entry into force, withdrawal) and `openets history` (shares of historical CO2) on shipped data."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openets.actions import history, paris
from openets.errors import InputError

paris_app = typer.Typer(
    help="Paris Agreement: entry into force (Art. 21) and withdrawal (Art. 28).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
history_app = typer.Typer(
    help="Historical CO2: a country's share of the world's emissions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@paris_app.callback()
def _paris_group() -> None:
    """Paris Agreement: entry into force (Art. 21) and withdrawal (Art. 28)."""


@history_app.callback()
def _history_group() -> None:
    """Historical CO2: a country's share of the world's emissions."""
    # A callback keeps `share` a subcommand: a Typer app with one command would otherwise run it directly.


def _parse_date(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"{option} {text!r} is not a date; give it as YYYY-MM-DD, e.g. {option} 2019-11-04"
        raise InputError(msg) from None


def _console() -> Console:
    console = Console()
    # Piped output gets rich's 80 columns by default, which folds every cell; give the table room.
    return console if console.is_terminal else Console(width=160)


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


@paris_app.command("entry-into-force")
def entry_into_force_command(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Count only instruments deposited on or before this date (YYYY-MM-DD).")
    ] = None,
    party: Annotated[
        str | None, typer.Option("--party", help="Also give the date the Agreement entered into force for this party.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The date the Article 21(1) conditions were met on the shipped ratification record, and entry into force."""
    cutoff = _parse_date("--as-of", as_of)
    deposits = paris.record_deposits()
    if cutoff is not None:
        first = min(d.deposited_on for d in deposits)
        if cutoff < first:
            msg = (
                f"--as-of {cutoff.isoformat()} is before the first deposit in the record ({first.isoformat()}); "
                f"give a date on or after it"
            )
            raise InputError(msg)
        deposits = tuple(d for d in deposits if d.deposited_on <= cutoff)
    result = paris.entry_into_force(deposits)
    out = result.to_json()
    if party is not None:
        code = paris.resolve_party(party)
        own = sorted(d.deposited_on for d in deposits if d.party == code)
        if not own:
            msg = f"{code} ({paris.record_parties()[code]}) has deposited no instrument in the record" + (
                f" by {cutoff.isoformat()}" if cutoff else ""
            ) + "; leave out --party or name a party that has"
            raise InputError(msg)
        if result.conditions_met_on is None:
            msg = "the Agreement had not entered into force on this record; leave out --party or a too-early --as-of"
            raise InputError(msg)
        out["party"] = code
        out["in_force_for_party"] = [paris.in_force_for_party(d, result.conditions_met_on).isoformat() for d in own]
    if as_json:
        _echo_json(out)
        return
    console = _console()
    t = Table(title="Paris Agreement: entry into force (Art. 21)")
    t.add_column("")
    t.add_column("value", justify="right")
    if result.at_threshold is None:
        t.add_row("conditions met", "no")
    else:
        t.add_row("conditions met on", str(result.conditions_met_on))
        t.add_row("entry into force", str(result.entry_into_force_date))
        t.add_row("parties counted then", f"{result.at_threshold.party_count} (at least {result.min_parties})")
        t.add_row("share of emissions then", f"{result.at_threshold.share_percent}% (at least {result.min_share_percent}%)")
        if result.at_threshold.not_counted:
            t.add_row("not counted (Art. 21(4))", ", ".join(result.at_threshold.not_counted))
    if result.before_threshold is not None:
        b = result.before_threshold
        t.add_row(f"on {b.on} (the deposit day before)", f"{b.party_count} parties, {b.share_percent}%")
    t.add_row(f"on {result.final.on} (last deposit counted)", f"{result.final.party_count} parties, "
              f"{result.final.share_percent}%")
    if "in_force_for_party" in out:
        t.add_row(f"in force for {out['party']}", ", ".join(out["in_force_for_party"]))
    console.print(t)
    console.print(f"source: {paris.SOURCE}")


@paris_app.command("withdrawal")
def withdrawal_command(
    party: Annotated[str, typer.Option("--party", help="Party code (USA) or UN name.")],
    notice: Annotated[
        str | None,
        typer.Option("--notice", help="Date the Depositary received the notice (YYYY-MM-DD); default: the earliest."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Earliest notice date (Art. 28(1)) and the date a withdrawal takes effect (Art. 28(2)) for a party."""
    notice_on = _parse_date("--notice", notice)
    code = paris.resolve_party(party)
    if not any(d.party == code for d in paris.record_deposits()):
        msg = (
            f"{code} ({paris.record_parties()[code]}) has deposited no instrument in {paris.TABLE}, which holds "
            f"deposits up to 9 Nov 2018 and the United States' of 2021; only a Party can give notice of withdrawal: "
            f"name a party that has deposited one"
        )
        raise InputError(msg)
    result = paris.party_withdrawal(paris.record_deposits(), code, notice_on)
    if as_json:
        _echo_json(result.to_json())
        return
    console = _console()
    t = Table(title=f"Paris Agreement: withdrawal of {code} ({paris.record_parties()[code]}) (Art. 28)")
    t.add_column("")
    t.add_column("date", justify="right")
    t.add_row("in force for the party", str(result.in_force_for_party))
    t.add_row("earliest notice (28(1))", str(result.earliest_notice_date))
    t.add_row("notice", str(result.notice_date))
    t.add_row("effective (28(2))", str(result.effective_date))
    if result.recorded_notice_date is not None:
        t.add_row("notice on record", f"{result.recorded_notice_date} (effective {result.recorded_effective_date})")
    console.print(t)
    console.print(f"source: {paris.SOURCE}")


@history_app.command("share")
def share_command(
    country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-3 code (USA) or OWID country name.")],
    first: Annotated[int, typer.Option("--from", help="First year summed (the data start in 1751).")],
    last: Annotated[int, typer.Option("--to", help="Last year summed, included (the data end in 2018).")],
    as_json: JsonOption = False,
) -> None:
    """A country's share of the world's CO2 summed over --from..--to, and in the --to year (fractions)."""
    result = history.country_share(country, first, last)
    if as_json:
        _echo_json(result.to_json())
        return
    console = _console()
    t = Table(title=f"{result.country} ({result.iso_code}): share of world CO2, {first}-{last}")
    t.add_column("")
    t.add_column("country (Mt CO2)", justify="right")
    t.add_column("world (Mt CO2)", justify="right")
    t.add_column("share", justify="right")
    t.add_row(
        f"cumulative {first}-{last}", f"{result.country_cumulative_mt:,.1f}", f"{result.world_cumulative_mt:,.1f}",
        f"{result.cumulative_share:.2%}",
    )
    t.add_row(
        str(last), f"{result.country_last_year_mt:,.1f}", f"{result.world_last_year_mt:,.1f}",
        f"{result.last_year_share:.2%}",
    )
    console.print(t)
    span = last - first + 1
    if result.country_years_with_data < span:
        console.print(f"{result.country} has figures for {result.country_years_with_data} of the {span} years; "
                      "the others count as zero, as in OWID's cumulative column.")
    console.print(f"source: {result.source}")
