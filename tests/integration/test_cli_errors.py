"""The CLI speaks plainly: a person's mistake or an unavailable resource is one line on
stderr and an exit code (2 usage or configuration, 1 a failed operation), never a
traceback. Each test runs the real command in-process."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pesadesk.cli import app
from pesadesk.testing import free_port

UNREACHABLE_PG = "postgresql://postgres:pw-not-shown@127.0.0.1:1/nope"
# Every command that reads the configuration, with the arguments it needs to get there.
CONFIGURED_COMMANDS = [
    ["serve"],
    ["worker"],
    ["db", "upgrade"],
    ["apikey", "create", "--role", "admin", "--name", "n"],
    ["c2b", "register"],
    ["c2b", "simulate", "--amount", "10", "--msisdn", "0712345678", "--ref", "X"],
    ["c2b", "pull"],
    ["balance"],
    ["reconcile", "__statement__"],
    ["payments", "export"],
    ["webhooks", "reprocess", "--all-failed"],
    ["ledger", "verify"],
    ["audit", "verify"],
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray ./config.yaml; any default database lands here
    for name in ("PESADESK_CONFIG", "PESADESK_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def run(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> Any:
    return CliRunner().invoke(app, list(args), env=env, **kwargs)


def one_line(result: Any, code: int) -> str:
    """The single stderr line of a command that failed as a person would want."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return str(lines[0])


def with_statement(command: list[str], tmp_path: Path) -> list[str]:
    statement = tmp_path / "statement.csv"
    statement.write_text("Receipt No.,Completion Time\n")
    return [str(statement) if part == "__statement__" else part for part in command]


@pytest.mark.parametrize("command", CONFIGURED_COMMANDS, ids=" ".join)
def test_every_command_refuses_a_missing_config_file(command: list[str], tmp_path: Path) -> None:
    """`--config` naming no file is exit 2 and one line, for every command."""
    missing = tmp_path / "nope.yaml"
    result = run(*with_statement(command, tmp_path), "--config", str(missing))
    assert one_line(result, 2) == f"{missing}: no such config file"


@pytest.mark.parametrize("command", CONFIGURED_COMMANDS, ids=" ".join)
def test_every_command_refuses_a_bad_config(command: list[str], tmp_path: Path) -> None:
    """One line per problem, exit 2, before any work starts, for every command."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "security:\n  webhook_ip_allowlist: [not-a-cidr]\n  webhook_tokn: x\n"
        "database_url: mysql://root@db/shop\n"
    )
    result = run(*with_statement(command, tmp_path), "--config", str(config))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"{config}: database_url: 'mysql://root@db/shop' is not a SQLite or PostgreSQL URL "
        "(sqlite:///PATH or postgresql://USER@HOST/DB)",
        f"{config}: security.webhook_ip_allowlist[0]: 'not-a-cidr' is not an IP network",
        f"{config}: security.webhook_tokn: unknown key (did you mean 'webhook_token'?)",
    ]
    assert not (tmp_path / "data").exists()  # no default database was made on the way


def test_pesadesk_config_naming_no_file_is_refused() -> None:
    """`PESADESK_CONFIG=/nope.yaml` is exit 2, no longer silently ignored."""
    result = run("ledger", "verify", env={"PESADESK_CONFIG": "/nope.yaml"})
    assert one_line(result, 2) == "/nope.yaml: no such config file"


def test_broken_yaml_and_non_mapping(tmp_path: Path) -> None:
    """Unparseable YAML and a YAML list are one line each, exit 2."""
    config = tmp_path / "config.yaml"
    config.write_text("payments: [\n")
    assert "not valid YAML at line 2" in one_line(run("db", "upgrade", "--config", str(config)), 2)
    config.write_text("- a\n- b\n")
    assert one_line(run("db", "upgrade", "--config", str(config)), 2).endswith(
        "should be keys and values (a mapping), not list"
    )


def test_unreachable_database_is_one_line() -> None:
    """A database that does not answer is exit 1, named without its password."""
    line = one_line(run("ledger", "verify", env={"PESADESK_DATABASE_URL": UNREACHABLE_PG}), 1)
    assert line.startswith("cannot open the database postgresql://postgres:***@127.0.0.1:1/nope")
    assert "pw-not-shown" not in line


def test_unusable_sqlite_path_is_one_line(tmp_path: Path) -> None:
    """A SQLite path under a plain file cannot be created: exit 1, one line."""
    (tmp_path / "afile").write_text("")
    url = f"sqlite:///{tmp_path}/afile/sub/pesadesk.db"
    line = one_line(run("db", "upgrade", env={"PESADESK_DATABASE_URL": url}), 1)
    assert line.startswith(f"cannot open the database {url}")


def test_missing_statement_file(tmp_path: Path) -> None:
    """`reconcile` on a file that is not there is a usage error, exit 2."""
    line = one_line(run("reconcile", str(tmp_path / "nope.csv")), 2)
    assert "does not exist" in line
    assert not (tmp_path / "data").exists()


def test_statement_that_is_not_one_is_one_line(tmp_path: Path) -> None:
    """A file that is not a readable statement is exit 2 and one line naming it."""
    junk = tmp_path / "photo.csv"
    junk.write_bytes(bytes(range(256)) * 64)
    env = {"PESADESK_DATABASE_URL": f"sqlite:///{tmp_path}/r.db"}
    assert one_line(run("reconcile", str(junk), env=env), 2).startswith(f"{junk}: ")


def test_statement_saved_as_utf16_is_read(tmp_path: Path) -> None:
    """The CLI reads statements as the API does: a UTF-16 export is imported."""
    sample = Path(__file__).resolve().parent.parent / "fixtures" / "statements"
    text = (sample / "org-portal-sample.csv").read_text(encoding="utf-8")
    utf16 = tmp_path / "statement-utf16.csv"
    utf16.write_text(text, encoding="utf-16")
    env = {"PESADESK_DATABASE_URL": f"sqlite:///{tmp_path}/r.db"}
    result = run("reconcile", str(utf16), env=env)
    assert result.exit_code == 0, result.output
    assert "missing_in_pesadesk: QGK12XYZ9" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["serve", "--port", "99999"], "Invalid value for '--port'"),
        (["demo", "--port", "99999"], "Invalid value for '--port'"),
        (["emulator", "--port", "99999"], "Invalid value for '--port'"),
        (["apikey", "create", "--role", "boss", "--name", "n"], "'boss' is not one of"),
        (["apikey", "create", "--role", "admin", "--name", " "], "'--name': must not be empty"),
        (["payments", "export", "--format", "xml"], "'xml' is not one of 'csv', 'json'"),
        (["payments", "export", "--from", "yesterday"], "--from: 'yesterday' is neither"),
        (["webhooks", "reprocess"], "give --id N or --all-failed"),
        (["c2b", "simulate", "--amount", "lots", "--msisdn", "0712345678", "--ref", "X"],
         "--amount:"),
        (["no-such-command"], "No such command 'no-such-command'"),
    ],
)  # fmt: skip
def test_usage_mistakes_are_one_line(args: list[str], expected: str, tmp_path: Path) -> None:
    """Bad options and arguments are exit 2 and one line, before anything is opened."""
    assert expected in one_line(run(*args), 2)
    assert not (tmp_path / "data").exists()


def test_production_without_webhook_protection_refuses_to_serve(tmp_path: Path) -> None:
    """`sandbox: false` with neither a webhook token nor an allow-list: `serve` and
    `worker` exit 2 naming both keys; either key, or the explicit opt-out, lets them on."""
    config = tmp_path / "prod.yaml"
    config.write_text(
        "payments:\n  mpesa:\n    sandbox: false\n    consumer_key: k\n"
        "    consumer_secret: s\n    passkey: p\n"
    )
    for command in ("serve", "worker"):
        line = one_line(run(command, "--config", str(config)), 2)
        assert "security.webhook_token" in line
        assert "security.webhook_ip_allowlist" in line
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = str(busy.getsockname()[1])
    try:
        protected = run(
            "serve", "--config", str(config), "--port", port,
            env={"PESADESK_SECURITY__WEBHOOK_TOKEN": "t0ken"},
        )  # fmt: skip
        assert "port is in use" in one_line(protected, 1)  # got past the refusal
    finally:
        busy.close()


def test_busy_port_is_one_line(tmp_path: Path) -> None:
    """A port another program holds is exit 1 and one line, before the database is touched."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_line(run("serve", "--port", str(port)), 1)
    assert (
        line
        == f"cannot listen on 127.0.0.1:{port}: the port is in use (is pesadesk already running?)"
    )
    assert not (tmp_path / "data").exists()


def test_daraja_unreachable_is_one_line() -> None:
    """A Daraja that does not answer is exit 1 and one line."""
    env = {"PESADESK_PAYMENTS__MPESA__BASE_URL": f"http://127.0.0.1:{free_port()}"}
    result = run(
        "c2b", "simulate", "--amount", "10", "--msisdn", "0712345678", "--ref", "X", env=env
    )
    assert "Daraja" in one_line(result, 1)


def test_version() -> None:
    """`pesadesk --version` prints the installed version."""
    from pesadesk import __version__

    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"pesadesk {__version__}"


def test_apikey_create_records_its_owner(tmp_path: Path) -> None:
    """`apikey create --owner PERSON` stores that person as the key's owner; without it the
    owner is the login name running the command, never the key's own name."""
    from sqlalchemy import select

    from pesadesk.cli.keys import login_name
    from pesadesk.db.models import ApiKey
    from pesadesk.db.session import Database

    url = f"sqlite:///{tmp_path}/keys.db"
    env = {"PESADESK_DATABASE_URL": url}
    named = run(
        "apikey", "create", "--role", "operator", "--name", "till-1", "--owner", "Amina",
        env=env,
    )  # fmt: skip
    assert named.exit_code == 0, named.output
    assert named.stdout.strip().splitlines()[-1].startswith("pd_")
    assert "owner 'Amina'" in named.stderr
    unnamed = run("apikey", "create", "--role", "viewer", "--name", "wall-screen", env=env)
    assert unnamed.exit_code == 0, unnamed.output
    db = Database(url)
    try:
        with db.read() as session:
            owners = {
                name: owner for name, owner in session.execute(select(ApiKey.name, ApiKey.owner))
            }
    finally:
        db.dispose()
    assert owners == {"till-1": "Amina", "wall-screen": login_name()}
