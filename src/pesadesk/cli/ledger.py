"""`pesadesk ledger verify` and `pesadesk ledger export` (CONTRACT §10)."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from pesadesk.cli.app import USAGE, ConfigOption, command, database, fail, out, settings
from pesadesk.core.errors import InvalidInput

group = typer.Typer(help="The ledger.", no_args_is_help=True)


@command(group, "verify")
def ledger_verify(config: ConfigOption = None) -> None:
    """Prove every balance and invoice against the ledger rows (exit 1 on a difference)."""
    from pesadesk.ledger.verify import verify

    db = database(settings(config))
    with db.read() as session:
        report = verify(session)
    table = Table("checked", "count")
    for label, count in (
        ("journals", report.journals),
        ("customers", report.customers),
        ("invoices", report.invoices),
        ("payments", report.payments),
    ):
        table.add_row(label, str(count))
    out.print(table)
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"DIFFERENCE: {problem}")
        raise typer.Exit(1)
    typer.echo("ledger OK: every balance agrees with the ledger rows")


class Format(StrEnum):
    csv = "csv"
    json = "json"


@command(group, "export")
def ledger_export(
    format: Annotated[Format, typer.Option("--format", help="csv or json")] = Format.csv,
    start: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD or ISO time")] = None,
    end: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD (inclusive)")] = None,
    config: ConfigOption = None,
) -> None:
    """Write the journal to stdout: one line per ledger leg, every journal whole."""
    from pesadesk.api.filters import parse_bound
    from pesadesk.ledger import export

    def bound(option: str, value: str | None, *, end: bool) -> datetime | None:
        try:
            return parse_bound(value, end=end)
        except InvalidInput as exc:
            fail(f"{option}: {exc.message}", USAGE)

    window = bound("--from", start, end=False), bound("--to", end, end=True)
    for piece in export.stream(database(settings(config)), *window, format.value):
        sys.stdout.write(piece)
    if format is Format.json:
        sys.stdout.write("\n")


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="ledger")
