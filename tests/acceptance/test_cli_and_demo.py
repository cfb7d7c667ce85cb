"""The command line as a newcomer meets it: every command has --help, and `pesadesk demo`
starts the whole desk with the two lines the contract promises."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from pesadesk.cli import app
from pesadesk.testing import free_port


def _commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [
        (*prefix, c.name or (c.callback.__name__ if c.callback else ""))
        for c in group.registered_commands
    ]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        found += _commands(sub.typer_instance, (*prefix, sub.name or ""))
    return found


def test_every_command_has_help() -> None:
    """`--help` works for every command and group, and says something."""
    runner = CliRunner()
    commands = _commands(app)
    assert len(commands) >= 17
    for command in commands:
        result = runner.invoke(app, [*[part.replace("_", "-") for part in command], "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "Usage" in result.output


@pytest.mark.slow
def test_demo_prints_its_lines_and_serves(tmp_path: Path) -> None:
    """`pesadesk demo` prints the dashboard URL and an admin key on lines of their own,
    and the key opens the API of the desk it started."""
    port = free_port()
    env = {**os.environ, "PESADESK_CONFIG": "/nonexistent/config.yaml"}
    with (tmp_path / "err.log").open("wb") as errors:
        demo = subprocess.Popen(
            [sys.executable, "-m", "pesadesk", "demo", "--port", str(port),
             "--data-dir", str(tmp_path / "data")],
            stdout=subprocess.PIPE, stderr=errors, env=env, cwd=tmp_path,
        )  # fmt: skip
        try:
            assert demo.stdout is not None
            lines = [demo.stdout.readline().decode().rstrip("\n") for _ in range(2)]
            assert lines[0] == f"Dashboard: http://127.0.0.1:{port}/"
            assert lines[1].startswith("Admin API key: ")
            key = lines[1].removeprefix("Admin API key: ")
            deadline = time.monotonic() + 20
            while True:
                try:
                    answer = httpx.get(
                        f"http://127.0.0.1:{port}/api/invoices",
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, (tmp_path / "err.log").read_text()
                    time.sleep(0.1)
            assert answer.status_code == 200
            assert len(answer.json()["data"]) == 3
            page = httpx.get(f"http://127.0.0.1:{port}/")
            assert page.status_code == 200
            assert "Log in with an API key" in page.text
        finally:
            demo.terminate()
            demo.wait(timeout=20)
            if demo.stdout:
                demo.stdout.close()
