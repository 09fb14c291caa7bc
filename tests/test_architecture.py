"""Folder boundaries: each folder owns its data and its tables; others call its functions.

No module outside ``src/riskplan/<folder>/`` may import ``riskplan.<folder>.tables`` (``import`` and
``from ... import`` statements anywhere in the module, inside functions too, and a dotted name given to
``importlib.import_module``). Known debt is listed by name below so that it stays visible; fixing one
means deleting its line here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "riskplan"
FOLDERS = ("plan", "terms", "cases", "submissions", "signals", "studies", "minimisation", "reports", "web", "store")

# Reaching into another folder's tables on purpose.
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        # The store folder owns the migrations: it imports every folder's table module (by name, with
        # importlib) so that their tables are registered on the metadata Alembic compares and creates.
        ("riskplan/store/migrate.py", "riskplan.plan.tables"),
        ("riskplan/store/migrate.py", "riskplan.terms.tables"),
        ("riskplan/store/migrate.py", "riskplan.cases.tables"),
        ("riskplan/store/migrate.py", "riskplan.submissions.tables"),
        ("riskplan/store/migrate.py", "riskplan.signals.tables"),
        ("riskplan/store/migrate.py", "riskplan.web.tables"),
    }
)

# Known debt: imports of another folder's tables that should become calls to that folder's functions.
# Empty now; should one be added, its line goes when its module is changed to use the owning folder's
# read API.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()


def _imported_modules(tree: ast.AST, package: str = "riskplan") -> Iterator[str]:
    """Every module named by an import in the tree, with ``from a import b`` also giving ``a.b``;
    relative imports are resolved against ``package`` (the package of the module parsed)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            yield base
            for alias in node.names:
                yield f"{base}.{alias.name}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("riskplan."):
            yield node.value  # importlib.import_module("riskplan.x.tables") and lists of module names


def _folder_of(relative: str) -> str | None:
    """``cases`` for ``riskplan/cases/store.py``; None for a module at the top of the package."""
    parts = relative.split("/")
    return parts[1] if len(parts) > 2 else None


def _table_imports() -> set[tuple[str, str]]:
    """(module path relative to src, table module) for each import of a folder's tables from outside it."""
    found: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = ".".join(path.relative_to(SRC).parent.parts)
        for name in _imported_modules(tree, package):
            parts = name.split(".")
            if len(parts) >= 3 and parts[0] == "riskplan" and parts[1] in FOLDERS and parts[2] == "tables":
                owner = parts[1]
                if _folder_of(relative) != owner:
                    found.add((relative, f"riskplan.{owner}.tables"))
    return found


def test_no_module_reaches_into_another_folders_tables() -> None:
    found = _table_imports()
    unexpected = sorted(found - ALLOWED - KNOWN_VIOLATIONS)
    assert not unexpected, (
        "these modules import another folder's tables; call that folder's functions instead "
        "(e.g. riskplan.cases.reads for cases):\n" + "\n".join(f"  {m} imports {t}" for m, t in unexpected)
    )


def test_no_module_outside_cases_imports_the_case_tables() -> None:
    """The case tables have no known exception: only ``cases/`` (and the migrations) read them."""
    offenders = sorted(m for m, t in _table_imports() if t == "riskplan.cases.tables" and (m, t) not in ALLOWED)
    assert offenders == []


def test_known_exceptions_are_still_real() -> None:
    """A fixed violation must leave the list, so the list shows the debt as it is."""
    found = _table_imports()
    assert sorted(KNOWN_VIOLATIONS - found) == []
    assert sorted(ALLOWED - found) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from riskplan.cases.tables import CaseRow", {"riskplan.cases.tables"}),
        ("import riskplan.cases.tables as t", {"riskplan.cases.tables"}),
        ("from riskplan.cases import tables", {"riskplan.cases.tables"}),
        ("def f():\n    from riskplan.cases.tables import CaseRow\n", {"riskplan.cases.tables"}),
        ("import importlib\nimportlib.import_module('riskplan.cases.tables')", {"riskplan.cases.tables"}),
        ("from ..cases.tables import CaseRow", {"riskplan.cases.tables"}),
        ("from ..cases import tables", {"riskplan.cases.tables"}),
        ("from .tables import SignalRow", {"riskplan.signals.tables"}),
        ("from riskplan.cases.reads import find_case", set()),
        ("from riskplan.studies.tables_extra import x", set()),
    ],
)
def test_the_check_sees_every_form_of_import(source: str, expected: set[str]) -> None:
    names = {
        ".".join(n.split(".")[:3])
        for n in _imported_modules(ast.parse(source), "riskplan.signals")
        if n.split(".")[2:3] == ["tables"] and n.startswith("riskplan.")
    }
    assert names == expected
