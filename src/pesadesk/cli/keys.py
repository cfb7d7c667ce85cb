"""`pesadesk apikey create`: keys for people and scripts (CONTRACT §1, §8)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from pesadesk.cli.app import ConfigOption, command, database, err, settings
from pesadesk.core.clock import SystemClock
from pesadesk.core.statuses import Role

group = typer.Typer(help="API keys.", no_args_is_help=True)


def login_name() -> str:
    """Who runs this command, the owner of a key made without `--owner`."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no $USER and no passwd entry (some containers)
        return "cli"


@command(group, "create")
def apikey_create(
    role: Annotated[Role, typer.Option(help="what the key may do")],
    name: Annotated[str, typer.Option(help="what uses the key (a till, a script)")],
    owner: Annotated[
        str | None,
        typer.Option(
            help="the person answerable for the key (default: the login name running this)",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print a new API key once, alone on the last line; only its hash is stored."""
    from pesadesk.shared import apikeys

    if not name.strip():
        raise typer.BadParameter("must not be empty", param_hint="'--name'")
    person = (owner if owner is not None else login_name()).strip()
    if not person or len(person) > 100:
        raise typer.BadParameter("must name a person, in 100 characters", param_hint="'--owner'")
    db = database(settings(config))
    with db.write() as session:
        row, key = apikeys.create_key(
            session, name=name, role=role.value, clock=SystemClock(), owner=person
        )
    err.print(
        f"created {row.role} key #{row.id} for {row.name!r} (owner {row.owner!r}); "
        "it is shown only now:",
        markup=False,
    )
    typer.echo(key)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="apikey")
