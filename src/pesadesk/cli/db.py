"""`pesadesk db upgrade`: the schema."""

from __future__ import annotations

import typer

from pesadesk.cli.app import ConfigOption, command, database, settings

group = typer.Typer(help="Database schema.", no_args_is_help=True)


@command(group, "upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply migrations to the configured database."""
    from pesadesk.db import migrate

    db = database(settings(config))
    typer.echo(f"database at revision {migrate.current_revision(db)}")


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="db")
