"""The pure core stays pure: `domain/` imports no web framework, ORM or service code."""

from __future__ import annotations

import ast
from pathlib import Path

import pesadesk

FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "pesadesk.services", "pesadesk.api", "httpx")


def test_domain_imports_nothing_impure() -> None:
    """Every module in pesadesk/domain imports only the standard library and pure helpers."""
    root = Path(pesadesk.__file__).parent / "domain"
    offenders = []
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert offenders == []
