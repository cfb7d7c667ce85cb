"""Configuration is checked (CONTRACT §8): every bad key or value is one line naming the
file or variable it came from, the key, and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from pesadesk.config import ConfigError, load_settings, serving_problems


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PESADESK_CONFIG", raising=False)


def problems_in(tmp_path: Path, text: str) -> tuple[Path, list[str]]:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return path, caught.value.problems


def test_invalid_cidr_named_with_its_index(tmp_path: Path) -> None:
    """A CIDR that does not parse is named by its place in the list."""
    path, found = problems_in(
        tmp_path, "security:\n  webhook_ip_allowlist: ['196.201.214.0/24', 'not-a-cidr']\n"
    )
    assert found == [f"{path}: security.webhook_ip_allowlist[1]: 'not-a-cidr' is not an IP network"]


def test_unknown_keys_refused_with_a_suggestion(tmp_path: Path) -> None:
    """A misspelt key, at the top or nested, is refused, with the key it resembles."""
    path, found = problems_in(
        tmp_path,
        "databse_url: sqlite:///x.db\n"
        "payments:\n  mpesa:\n    shortcde: '174379'\n"
        "security:\n  frobnicate: true\n",
    )
    assert found == [
        f"{path}: payments.mpesa.shortcde: unknown key (did you mean 'shortcode'?)",
        f"{path}: security.frobnicate: unknown key",
        f"{path}: databse_url: unknown key (did you mean 'database_url'?)",
    ]


def test_unknown_nested_variable_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt `PESADESK_A__B` variable is refused too, named as the variable."""
    monkeypatch.setenv("PESADESK_SECURITY__WEBHOOK_TOKN", "s3cret")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problems == [
        "PESADESK_SECURITY__WEBHOOK_TOKN: security.webhook_tokn: unknown key "
        "(did you mean 'webhook_token'?)"
    ]
    assert "s3cret" not in str(caught.value)


def test_bad_value_from_a_variable_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the environment supplied the bad value, the line names the variable."""
    monkeypatch.setenv("PESADESK_WHATSAPP__BASE_URL", "graph.facebook.com")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problems == [
        "PESADESK_WHATSAPP__BASE_URL: whatsapp.base_url: 'graph.facebook.com' is not an http(s) URL"
    ]


def test_variable_with_broken_json_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A list in a variable that is not JSON is one line naming the variable."""
    monkeypatch.setenv("PESADESK_ADMIN_NUMBERS", "[+254700000000")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problems == [
        "PESADESK_ADMIN_NUMBERS: not valid JSON (a list or mapping in a variable is "
        "written as JSON)"
    ]


@pytest.mark.parametrize(
    ("yaml_line", "expected"),
    [
        (
            "payments:\n  mpesa:\n    callback_url: ftp://x.ke/cb\n",
            "payments.mpesa.callback_url: 'ftp://x.ke/cb' is not an http(s) URL",
        ),
        (
            "payments:\n  b2c:\n    base_url: 'https://x.ke:99999/'\n",
            "payments.b2c.base_url: 'https://x.ke:99999/' has a port outside 1-65535",
        ),
        (
            "payments:\n  c2b:\n    confirmation_url: 'https://user:pw@/c'\n",
            "payments.c2b.confirmation_url: 'https://***@/c' is not an http(s) URL",
        ),
        (
            "database_url: mysql://root:hunter2@db/shop\n",
            "database_url: 'mysql://root:***@db/shop' is not a SQLite or PostgreSQL URL "
            "(sqlite:///PATH or postgresql://USER@HOST/DB)",
        ),
        (
            "database_url: just-a-file.db\n",
            "database_url: is not a database URL; write sqlite:///PATH or "
            "postgresql://USER@HOST/DB",
        ),
        (
            "database_url: 'postgresql://u@h:70000/db'\n",
            "database_url: 'postgresql://u@h:70000/db' has a port outside 1-65535",
        ),
        (
            "security:\n  verify_callbacks: sometimes\n",
            "security.verify_callbacks: input should be 'auto', 'always' or 'never' "
            "(not 'sometimes')",
        ),
        (
            "reconciliation:\n  max_statement_bytes: 10\n",
            "reconciliation.max_statement_bytes: input should be greater than or equal to "
            "1024 (not 10)",
        ),
    ],
)
def test_bad_values_are_one_line_each(tmp_path: Path, yaml_line: str, expected: str) -> None:
    """URLs, ports, database URLs and choices are checked when the settings are read,
    and a password in a URL is never repeated back."""
    path, found = problems_in(tmp_path, yaml_line)
    assert found == [f"{path}: {expected}"]
    assert "hunter2" not in "".join(found)


def test_postgres_url_forms_accepted(tmp_path: Path) -> None:
    """`postgresql://`, `postgres://` and `postgresql+psycopg://` are all PostgreSQL."""
    for url in ("postgresql://u@h/db", "postgres://u:p@h:5432/db", "postgresql+psycopg://h/d"):
        assert load_settings(database_url=url).database_url == url


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """Several mistakes give several lines, so one run shows everything to fix."""
    _, found = problems_in(
        tmp_path,
        "refunds:\n  max_amount: lots\n  min_amount: 0\n"
        "whatsapp:\n  base_url: nowhere\n  daily_summary_hour: 25\n",
    )
    assert len(found) == 4


def test_unparseable_yaml_gives_line_and_column(tmp_path: Path) -> None:
    """Broken YAML is one line with where it broke, not a parser traceback."""
    path, found = problems_in(tmp_path, "payments:\n  mpesa: [unclosed\nsecurity: {}\n")
    assert len(found) == 1
    assert found[0].startswith(f"{path}: not valid YAML at line 3, column ")


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    """A file holding a list (or a bare word) is refused: keys and values are expected."""
    path, found = problems_in(tmp_path, "- database_url: sqlite:///x.db\n")
    assert found == [f"{path}: should be keys and values (a mapping), not list"]


def test_key_written_twice_is_refused(tmp_path: Path) -> None:
    """YAML keeps the last of two equal keys silently; pesadesk refuses, naming the line."""
    path, found = problems_in(
        tmp_path, "payments:\n  mpesa:\n    sandbox: false\npayments:\n  enabled: true\n"
    )
    assert found == [
        f"{path}: not valid YAML at line 4, column 1: the key 'payments' is written twice"
    ]


def test_file_that_is_not_text(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are one line, not a UnicodeDecodeError."""
    path = tmp_path / "config.yaml"
    path.write_bytes(b"\xff\xfe\x00database_url")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [f"{path}: not UTF-8 text"]


ACCOUNT = "{name: %s, shortcode: '%s', kind: paybill, consumer_key: k, consumer_secret: s}"


def test_collection_accounts_read_with_defaults(tmp_path: Path) -> None:
    """`payments.accounts` entries take v2 registration and the mpesa sandbox by default."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "payments:\n  accounts:\n"
        f"    - {ACCOUNT % ('shop', '600100')}\n"
        "    - {name: kiosk, shortcode: '600200', kind: till, till_number: '5123456',\n"
        "       consumer_key: k, consumer_secret: s, c2b_register_version: v1,\n"
        "       b2c: {consumer_key: k, consumer_secret: s, security_credential: c}}\n"
    )
    shop, kiosk = load_settings(path).payments.accounts
    assert (shop.name, shop.kind, shop.c2b_register_version, shop.sandbox) == (
        "shop", "paybill", "v2", None,
    )  # fmt: skip
    assert (kiosk.kind, kiosk.till_number, kiosk.c2b_register_version) == ("till", "5123456", "v1")
    assert kiosk.b2c is not None
    assert kiosk.b2c.configured


def test_collection_accounts_unique_and_default_reserved(tmp_path: Path) -> None:
    """Names and shortcodes are unique; `default` is the wave-1 keys' account."""
    path, found = problems_in(
        tmp_path,
        "payments:\n  accounts:\n"
        f"    - {ACCOUNT % ('default', '600100')}\n"
        f"    - {ACCOUNT % ('shop', '600100')}\n"
        f"    - {ACCOUNT % ('shop', '600300')}\n",
    )
    assert found == [
        f"{path}: payments.accounts: the name 'default' is reserved for payments.mpesa / "
        "c2b / b2c; choose another",
        f"{path}: payments.accounts: two accounts have shortcode 600100",
        f"{path}: payments.accounts: two accounts are named 'shop'",
    ]


def test_collection_account_fields_checked(tmp_path: Path) -> None:
    """A missing secret, a kind that is not paybill/till or a shortcode of letters is named."""
    path, found = problems_in(
        tmp_path,
        "payments:\n  accounts:\n"
        "    - {name: shop, shortcode: 'SHOP1', kind: bank, consumer_key: k}\n",
    )
    assert found == [
        f"{path}: payments.accounts[0].shortcode: 'SHOP1' should be digits only",
        f"{path}: payments.accounts[0].kind: input should be 'paybill' or 'till' (not 'bank')",
        f"{path}: payments.accounts[0].consumer_secret: is required",
    ]


def test_production_needs_protected_webhooks() -> None:
    """Real money with neither a webhook token nor an allow-list is refused for serving,
    unless the operator says so explicitly (CONTRACT §8)."""
    real = {"mpesa": {"sandbox": False, "consumer_key": "k", "consumer_secret": "s",
                      "passkey": "p"}}  # fmt: skip
    open_desk = load_settings(payments=real)
    [line] = serving_problems(open_desk)
    assert "security.webhook_token" in line
    assert "security.webhook_ip_allowlist" in line
    assert serving_problems(load_settings(payments=real, security={"webhook_token": "t0k"})) == []
    assert (
        serving_problems(
            load_settings(payments=real, security={"webhook_ip_allowlist": ["196.201.214.0/24"]})
        )
        == []
    )
    assert (
        serving_problems(
            load_settings(payments=real, security={"allow_unprotected_webhooks": True})
        )
        == []
    )
    assert serving_problems(load_settings()) == []  # the sandbox
