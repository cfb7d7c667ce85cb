"""The command line as a newcomer meets it: every command has --help, `pesadesk serve`
says where it listens, and `pesadesk demo` starts the whole desk with the two lines the
contract promises, a config file the other commands can use, and no harm done by a
second demo started by mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from pesadesk.cli import app
from pesadesk.testing import free_port

STATEMENT = Path(__file__).resolve().parent.parent / "fixtures" / "statements"


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


def pesadesk(*args: str, cwd: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    """The real console entry point in a child process, with no config file around."""
    env = {**os.environ, "PESADESK_CONFIG": ""}
    env.pop("PESADESK_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "pesadesk", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def finished(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = pesadesk(*args, cwd=cwd)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out.decode(), err.decode()


@contextmanager
def running(*args: str, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = pesadesk(*args, cwd=cwd)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_real_entry_point_errors_are_one_line(tmp_path: Path) -> None:
    """Through the console entry point too, a missing config file and an impossible port
    are one line on stderr and exit 2, with no traceback."""
    code, _out, err = finished("serve", "--config", "nope.yaml", cwd=tmp_path)
    assert (code, err) == (2, "nope.yaml: no such config file\n")
    code, _out, err = finished("serve", "--port", "99999", cwd=tmp_path)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "Invalid value for '--port'" in err


@pytest.mark.slow
def test_serve_says_where_it_listens_once_it_does(tmp_path: Path) -> None:
    """`serve --port 0` takes a free port and prints `Listening on URL` only when that URL
    already answers: the first request after the line succeeds."""
    config = tmp_path / "config.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path}/serve.db\nlog_json: false\n")
    with running("serve", "--config", str(config), "--port", "0", cwd=tmp_path) as server:
        assert server.stdout is not None
        line = server.stdout.readline().decode().rstrip("\n")
        assert line.startswith("Listening on http://127.0.0.1:"), line
        url = line.removeprefix("Listening on ")
        assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200


def _wait_for_api(base: str, key: str, proc: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, "the demo died"
        try:
            return httpx.get(f"{base}/api/invoices", headers={"Authorization": f"Bearer {key}"})
        except httpx.TransportError:
            assert time.monotonic() < deadline
            time.sleep(0.1)


@pytest.mark.slow
def test_demo_prints_its_lines_and_serves(tmp_path: Path) -> None:
    """`pesadesk demo` prints the dashboard URL and an admin key on lines of their own,
    then the path of its config file; the key opens the API of the desk it started."""
    port = free_port()
    data = tmp_path / "data" / "demo"
    with running("demo", "--port", str(port), "--data-dir", str(data), cwd=tmp_path) as demo:
        assert demo.stdout is not None
        lines = [demo.stdout.readline().decode().rstrip("\n") for _ in range(3)]
        assert lines[0] == f"Dashboard: http://127.0.0.1:{port}/"
        assert lines[1].startswith("Admin API key: ")
        assert lines[2] == f"Config: {data / 'demo.yaml'} (use --config with any command)"
        key = lines[1].removeprefix("Admin API key: ")
        answer = _wait_for_api(f"http://127.0.0.1:{port}", key, demo)
        assert answer.status_code == 200
        assert len(answer.json()["data"]) == 3
        page = httpx.get(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200
        assert "Log in with an API key" in page.text
        _second_demos_are_refused(tmp_path, data, port, demo, key)
        _commands_work_on_the_demo_config(data / "demo.yaml", port)


def _second_demos_are_refused(
    tmp_path: Path, data: Path, port: int, first: subprocess.Popen[bytes], key: str
) -> None:
    """A second demo on the same data, or on the same port, exits 1 with one line and
    leaves the first demo's database alone."""
    code, _out, err = finished("demo", "--port", "0", "--data-dir", str(data), cwd=tmp_path)
    assert code == 1
    assert err == (
        f"{data} is in use by another running demo (pid {first.pid}); stop it first, "
        "or give this one another --data-dir\n"
    )
    other = tmp_path / "other"
    code, _out, err = finished("demo", "--port", str(port), "--data-dir", str(other), cwd=tmp_path)
    assert code == 1
    assert err == (
        f"cannot listen on 127.0.0.1:{port}: the port is in use (is pesadesk already running?)\n"
    )
    assert not (other / "demo.db").exists()
    still = _wait_for_api(f"http://127.0.0.1:{port}", key, first)
    assert len(still.json()["data"]) == 3  # the first demo's data is still there


def _commands_work_on_the_demo_config(config: Path, port: int) -> None:
    """`--config data/demo/demo.yaml` points every command at the running demo's data."""
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(app, [*args, "--config", str(config)], env={"PESADESK_CONFIG": ""})
        assert result.exit_code == 0, (args, result.output)
        return str(result.stdout)

    assert "ledger OK" in cli("ledger", "verify")
    viewer = cli("apikey", "create", "--role", "viewer", "--name", "t").strip().splitlines()[-1]
    seen = httpx.get(
        f"http://127.0.0.1:{port}/api/invoices", headers={"Authorization": f"Bearer {viewer}"}
    )
    assert seen.status_code == 200
    assert json.loads(cli("payments", "export", "--format", "json")) == []
    assert "0 callback(s) looked at" in cli("webhooks", "reprocess", "--all-failed")
    assert "missing_in_pesadesk: QGK12XYZ9" in cli(
        "reconcile", str(STATEMENT / "org-portal-sample.csv")
    )
