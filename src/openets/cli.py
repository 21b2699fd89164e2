"""The `openets` command line: one command group per package."""

from __future__ import annotations

import sys

import typer

from openets.errors import OpenETSError

app = typer.Typer(
    name="openets",
    help="openets: carbon-market rulebooks and registry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _mount() -> None:
    from openets.auction.cli import app as auction_app
    from openets.registry.cli import app as registry_app
    from openets.rules.cli import app as rules_app

    app.add_typer(rules_app, name="rules", help="Rulebooks: list, show and check programs.")
    app.add_typer(registry_app, name="registry", help="The registry ledger of allowances and offsets.")
    app.add_typer(auction_app, name="auction", help="Auctions: price schedules and clearing.")
    from openets.market.cli import simulate, supply

    app.command(name="supply", help="Supply-demand balance and bank of a linked market, year by year.")(supply)
    app.command(name="simulate", help="Monte Carlo of prices, emissions, bank and auction revenue.")(simulate)
    from openets.market.hindcast_cli import hindcast

    app.command(name="hindcast", help="Year-by-year hindcasts of WCI 2013-2018 and RGGI 2009-2020 beside the record.")(hindcast)
    from openets.climate.cli import app as climate_app
    app.add_typer(climate_app, name="climate", help="Emissions to temperature with FaIR 2.2, offline.")
    from openets.actions.paris_cli import history_app, paris_app

    app.add_typer(paris_app, name="paris", help="Paris Agreement: entry into force (Art. 21), withdrawal (Art. 28).")
    app.add_typer(history_app, name="history", help="Historical CO2: a country's share of the world's emissions.")
    from openets.actions.cli import app as actions_app

    app.add_typer(actions_app, name="actions", help="Bottom-up climate action: coverage, pathways, commitments.")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; an OpenETSError becomes a one-paragraph message on stderr and exit code 1."""
    _mount()
    try:
        app(args=argv, standalone_mode=False)
    except OpenETSError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 1
    except Exception as exc:
        # Usage errors (bad option, missing value) carry their own message and exit code 2.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            return code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
