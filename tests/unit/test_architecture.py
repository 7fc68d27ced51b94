"""The rooms and their import rules, read from the source (docs/architecture.md draws them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "sandbox"


def _modules(room: str = "") -> list[Path]:
    base = PACKAGE / room if room else PACKAGE
    return sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (TYPE_CHECKING blocks and functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _offenders(room: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in _modules(room):
        for name in sorted(_imports(path)):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return found


@pytest.mark.parametrize(
    ("room", "forbidden"),
    [
        # The two sides share nothing but HTTP and Genstore's public contract (protocol).
        ("platform", ("sandbox.psp",)),
        ("psp", ("sandbox.platform", "sandbox.control")),
        # The HTTP plumbing serves every surface and knows none of the sides.
        ("http", ("sandbox.platform", "sandbox.psp", "sandbox.control")),
        # The store is the bottom floor: no behaviour above it.
        (
            "store",
            ("sandbox.outbox", "sandbox.platform", "sandbox.psp", "sandbox.control", "flask"),
        ),
        # The domain core: no web framework, no database.
        ("core", ("flask", "werkzeug", "flask_smorest", "sqlite3", "sandbox.store")),
        ("protocol", ("sandbox.platform", "sandbox.psp", "flask")),
    ],
)
def test_import_rules(room, forbidden):
    assert _offenders(room, forbidden) == []


def test_the_rules_would_catch_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sandbox.psp.service\n"
    )
    assert "sandbox.psp.service" in _imports(bad)


def _sql_calls(path: Path) -> list[int]:
    """Lines that run SQL: any ``.execute(``, ``.executemany(`` or ``.executescript(``."""
    tree = ast.parse(path.read_text(), str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("execute", "executemany", "executescript")
    ]


# Not the store's statements: the test cluster's CREATE DATABASE.
CLUSTER_ADMIN = PACKAGE / "testing" / "postgres.py"


def test_the_store_owns_every_sql_statement():
    store = PACKAGE / "store"
    outside = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in _modules()
        if store not in path.parents and path != CLUSTER_ADMIN
        for line in _sql_calls(path)
    ]
    assert outside == []
    assert _sql_calls(store / "platform.py"), "the check must see the store's own statements"


# What only one backend understands; each backend module keeps its own.
BACKEND_SPECIFIC = (
    "PRAGMA", "BEGIN IMMEDIATE", "OR REPLACE", "OR IGNORE", "WITHOUT ROWID", "AUTOINCREMENT",
    "sqlite_master", "import sqlite3", "psycopg", "pg_", "%s", "BYTEA", "SERIAL", "IDENTITY",
)  # fmt: skip


def test_no_backend_specific_sql_outside_its_backend_module():
    store = PACKAGE / "store"
    backends = {store / "sqlite.py", store / "postgres.py"}
    found = [
        f"{path.relative_to(PACKAGE.parent)}: {word}"
        for path in _modules()
        if store in path.parents and path not in backends
        for word in BACKEND_SPECIFIC
        if word in path.read_text()
    ]
    assert found == []
    assert "PRAGMA" in (store / "sqlite.py").read_text(), "the check must see a backend's words"
