"""`pesadesk reconcile STATEMENT.csv`: a statement import with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pesadesk.cli.app import USAGE, ConfigOption, command, database, err, fail, out, settings
from pesadesk.core.clock import SystemClock
from pesadesk.core.errors import PesadeskError
from pesadesk.db.session import Database


def reconcile(
    statement: Annotated[
        Path,
        typer.Argument(
            help="the M-Pesa statement export (CSV)",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    config: ConfigOption = None,
) -> None:
    """Import an M-Pesa business statement and print the match report."""
    db = database(settings(config))
    try:
        report = _import(db, statement)
    except PesadeskError as exc:  # StatementError: not a statement we can read
        fail(f"{statement}: {exc.message}", USAGE)
    _print_report(report)


def _import(db: Database, statement: Path) -> dict[str, Any]:
    """Stream the file into `import_statement` (decoded as the API decodes uploads: UTF-8,
    UTF-16 or Windows-1252), the bar following the bytes read."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from pesadesk.reconcile.decode import statement_lines
    from pesadesk.reconcile.service import import_statement

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
    )
    with (
        statement.open("rb") as handle,
        Progress(*columns, console=err, transient=True) as progress,
    ):
        task = progress.add_task("matching receipts", total=statement.stat().st_size)
        return import_statement(
            db,
            lines=statement_lines(handle),
            filename=statement.name,
            imported_by="cli",
            clock=SystemClock(),
            progress=lambda _rows: progress.update(task, completed=handle.tell()),
        )


def _print_report(report: dict[str, Any]) -> None:
    period = report["period"]
    title = f"Statement #{report['id']}: {period['from']} to {period['to']}"
    table = Table("", "count", title=title)
    for name, count in report["counts"].items():
        table.add_row(name.replace("_", " "), str(count))
    out.print(table)
    for name in ("missing_in_pesadesk", "missing_in_statement"):
        if report[name]:
            typer.echo(f"{name}: {', '.join(report[name][:50])}")
    for name in ("amount_mismatches", "status_mismatches"):
        for item in report[name][:50]:
            typer.echo(f"{name[:-2]}: {item}")


def register(app: typer.Typer) -> None:
    command(app, "reconcile")(reconcile)
