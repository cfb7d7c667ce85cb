"""The Daraja package is the outbound edge: it never reaches into the app around it."""

from __future__ import annotations

import ast
from pathlib import Path

import pesadesk.daraja

FORBIDDEN = (
    "pesadesk.config",
    "pesadesk.db",
    "pesadesk.secrets",
    "pesadesk.accounts",
    "pesadesk.api",
    "pesadesk.testing",
    "fastapi",
    "starlette",
    "sqlalchemy",
)


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_daraja_imports_no_config_database_secrets_or_web_framework() -> None:
    """No module of pesadesk.daraja imports the settings, the database, the secrets store,
    the web framework or the test helpers: the client takes a plain DarajaConfig."""
    root = Path(pesadesk.daraja.__file__).parent
    modules = sorted(root.rglob("*.py"))
    assert len(modules) > 10
    offenders = [
        f"{path.relative_to(root)}: {name}"
        for path in modules
        for name in _imports(path)
        if name == "pesadesk" or any(name == bad or name.startswith(f"{bad}.") for bad in FORBIDDEN)
    ]
    assert offenders == []
