"""`pesadesk emulator`: the Daraja emulator alone (CONTRACT §7). Its options and body
belong to the emulator slice, `pesadesk.emulator.command`; the CLI only registers it."""

from __future__ import annotations

import typer

from pesadesk.cli.app import command


def register(app: typer.Typer) -> None:
    from pesadesk.emulator.command import emulator_command

    command(app, "emulator")(emulator_command)
