"""CSV cells that a spreadsheet would run as a formula are neutralised (CONTRACT §8).

A payer can type anything as the account number; `=cmd|' /C calc'!A0` must reach the
bookkeeper's spreadsheet as text, not as a command. Every CSV pesadesk writes passes its
cells through `safe`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    """Text that begins like a formula gets a leading `'`; numbers and the rest pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: safe(value) for key, value in row.items()}
