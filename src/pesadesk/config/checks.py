"""Checks of single configuration values, used as pydantic validators.

Each raises ValueError with a message that names the value as written (minus any
password in it), so that the person reading it knows which line of the file to fix.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# Database back-ends pesadesk supports, and the drivers it installs for them.
DATABASE_DRIVERS = {
    "sqlite": {None, "pysqlite"},
    "postgresql": {None, "psycopg"},
    "postgres": {None, "psycopg"},
}
DATABASE_EXAMPLES = "sqlite:///PATH or postgresql://USER@HOST/DB"


def _without_userinfo(url: str) -> str:
    """A URL fit for an error message: `user:password@` taken out."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def check_url(value: str) -> str:
    """An http(s) URL with a host and, if any, a port Daraja or WhatsApp could reach."""
    shown = _without_userinfo(value)
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(ch.isspace() for ch in value)
    ):
        raise ValueError(f"{shown!r} is not an http(s) URL")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(f"{shown!r} has a port outside 1-65535")
    return value


def check_digits(value: str) -> str:
    """A shortcode or till number: digits, as M-Pesa writes them."""
    if not re.fullmatch(r"\d{1,12}", value):
        raise ValueError(f"{value!r} should be digits only")
    return value


def check_account_name(value: str) -> str:
    """A collection account's name, as it appears in `?account=NAME` and in payments."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", value):
        raise ValueError(
            f"{value!r} should be 1-40 letters, digits, '-' or '_', starting with a letter or digit"
        )
    return value


def check_network(value: str) -> str:
    """A CIDR (`196.201.214.0/24`) or a single address, IPv4 or IPv6."""
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP network") from None
    return value


def check_database_url(value: str) -> str:
    """SQLite or PostgreSQL (through psycopg 3), the two databases pesadesk runs on."""
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ValueError(f"is not a database URL; write {DATABASE_EXAMPLES}") from None
    backend, _, driver = url.drivername.partition("+")
    shown = url.render_as_string(hide_password=True)
    if backend not in DATABASE_DRIVERS:
        raise ValueError(f"{shown!r} is not a SQLite or PostgreSQL URL ({DATABASE_EXAMPLES})")
    if (driver or None) not in DATABASE_DRIVERS[backend]:
        raise ValueError(f"{shown!r}: pesadesk connects with {backend}:// and its own driver")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ValueError(f"{shown!r} has a port outside 1-65535")
    return value
