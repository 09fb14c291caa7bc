"""Folder boundaries, checked on the source: every module under ``src/riskplan`` is parsed (imports inside
functions and under ``TYPE_CHECKING`` count too) and must keep three rules.

(a) Layers: imports only go downward. ``store < plan < terms < cases < {submissions, signals, studies} <
    minimisation < reports < web < top``. The base modules (``riskplan/__init__.py``, ``settings.py``,
    ``errors.py``, ``cli_support.py``: the console and error lines every command shares; ``standards``: the
    published schemas shipped as package data) may be imported
    by anyone and import only each other. The top modules (``cli.py``, ``demo.py``, ``schema.py``,
    ``__main__.py``) put the application together and may import anything.
(b) One public surface per folder: a module outside ``riskplan/<folder>/`` imports that folder's names
    from ``riskplan.<folder>`` (its ``__init__``), only names listed in its ``__all__``, never an inner
    module; a private module (``_name``) is imported only from inside its own package.
(c) No wiring by name: no ``importlib.import_module``, ``__import__`` or ``inspect`` to reach the
    project's own modules (``importlib.resources`` for package data is fine).

There is no list of exceptions: a new violation is fixed in the code.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "riskplan"

#: The layer of each folder; a module may import from a lower layer (or its own folder) only.
LAYERS: dict[str, int] = {
    "store": 0,
    "plan": 1,
    "terms": 2,
    "cases": 3,
    "submissions": 4,
    "signals": 4,
    "studies": 4,
    "minimisation": 5,
    "reports": 6,
    "web": 7,
}
FOLDERS = tuple(LAYERS)
BASE_MODULES = frozenset(
    {"riskplan", "riskplan.settings", "riskplan.errors", "riskplan.cli_support", "riskplan.standards"}
)
TOP_MODULES = frozenset({"riskplan.cli", "riskplan.demo", "riskplan.schema", "riskplan.__main__"})
BASE, TOP = -1, 8

#: Known violations. Empty, and it stays so: fix the code instead.
EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. riskplan.cases.store
    line: int
    target: str  # the module imported from, e.g. riskplan.cases.e2b
    names: tuple[str, ...]  # the names imported from it (empty for ``import a.b``)


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[Import]:
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, alias.name, ())
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            yield Import(module, node.lineno, base, tuple(alias.name for alias in node.names))


def _sources() -> Iterator[tuple[str, bool, ast.AST]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield _module_name(path), path.name == "__init__.py", ast.parse(path.read_text("utf-8"), str(path))


def _layer(module: str) -> int:
    if module in BASE_MODULES:
        return BASE
    if module in TOP_MODULES:
        return TOP
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in LAYERS:
        return LAYERS[parts[1]]
    raise AssertionError(f"{module}: a module at the top of the package with no layer; place it in LAYERS")


def _folder(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) >= 3 or (len(parts) == 2 and parts[1] in LAYERS) else None


def _own(name: str) -> bool:
    return name == "riskplan" or name.startswith("riskplan.")


def _is_package_module(name: str) -> bool:
    return (PACKAGE.parent / name.replace(".", "/") / "__init__.py").is_file() or (
        PACKAGE.parent / f"{name.replace('.', '/')}.py"
    ).is_file()


def layer_violations(imports: list[Import]) -> set[tuple[str, str]]:
    """(a): (importer, imported) for each import that does not go downward."""
    found = set()
    for imp in imports:
        if not _own(imp.target):
            continue
        targets = [imp.target]
        if imp.target == "riskplan":  # ``from riskplan import cases`` imports the folder
            targets = [f"riskplan.{n}" for n in imp.names if n in LAYERS or f"riskplan.{n}" in TOP_MODULES]
        for target in targets:
            mine, theirs = _layer(imp.module), _layer(target)
            if _folder(imp.module) is not None and _folder(imp.module) == _folder(target):
                continue
            if mine == TOP and theirs <= TOP:
                continue
            if mine == BASE and theirs == BASE:
                continue
            if theirs >= mine:
                found.add((imp.module, target))
    return found


def surface_violations(imports: list[Import], exported: dict[str, frozenset[str]]) -> set[tuple[str, str]]:
    """(b): (importer, what) for each reach past a folder's ``__init__`` or a package's private part."""
    found = set()
    for imp in imports:
        if not _own(imp.target):
            continue
        parts = imp.target.split(".")
        folder = parts[1] if len(parts) >= 2 and parts[1] in LAYERS else None
        if folder is None or _folder(imp.module) == folder:
            private = [i for i, p in enumerate(parts) if p.startswith("_")]
            for i in private:  # inside a folder: a private module only from its own package
                owner = ".".join(parts[:i])
                if imp.module != owner and not imp.module.startswith(owner + "."):
                    found.add((imp.module, imp.target))
            continue
        if len(parts) > 2:
            found.add((imp.module, imp.target))
            continue
        for name in imp.names:
            if name not in exported.get(folder, frozenset()):
                found.add((imp.module, f"{imp.target}.{name}"))
    return found


_DYNAMIC = {"import_module", "__import__", "signature", "getmembers", "getmodule"}


def wiring_violations(tree: ast.AST, module: str) -> set[tuple[str, str]]:
    """(c): importlib (but ``importlib.resources``), ``__import__`` and ``inspect`` in the project's code."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                dynamic = alias.name in ("importlib", "inspect") or alias.name.startswith(("importlib.", "inspect."))
                if dynamic and alias.name != "importlib.resources":
                    found.add((module, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module in ("importlib", "inspect"):
            for alias in node.names:
                if not (node.module == "importlib" and alias.name == "resources"):
                    found.add((module, f"from {node.module} import {alias.name}"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in _DYNAMIC and name != "signature":
                found.add((module, f"{name}()"))
    return found


def _exported() -> dict[str, frozenset[str]]:
    out = {}
    for folder in FOLDERS:
        tree = ast.parse((PACKAGE / folder / "__init__.py").read_text("utf-8"))
        names: frozenset[str] = frozenset()
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                names = frozenset(ast.literal_eval(node.value))
        out[folder] = names
    return out


def _all_imports() -> list[Import]:
    return [imp for module, is_package, tree in _sources() for imp in _imports(tree, module, is_package)]


def test_imports_only_go_down_the_layers() -> None:
    found = sorted(layer_violations(_all_imports()) - EXCEPTIONS)
    assert not found, "imports against the layer order:\n" + "\n".join(f"  {m} imports {t}" for m, t in found)


def test_other_folders_are_reached_through_their_public_surface() -> None:
    found = sorted(surface_violations(_all_imports(), _exported()) - EXCEPTIONS)
    assert not found, "imports past a folder's __init__ (or of a name it does not list in __all__):\n" + "\n".join(
        f"  {m} imports {t}" for m, t in found
    )


def test_no_wiring_by_module_name() -> None:
    found = sorted({v for module, _, tree in _sources() for v in wiring_violations(tree, module)} - EXCEPTIONS)
    assert not found, "dynamic imports or introspection:\n" + "\n".join(f"  {m}: {what}" for m, what in found)


def test_the_list_of_exceptions_is_empty() -> None:
    assert frozenset() == EXCEPTIONS


@pytest.mark.parametrize("folder", FOLDERS)
def test_each_folder_has_one_typed_surface(folder: str) -> None:
    """Its ``__init__`` lists its public names in ``__all__``, and each of them is there."""
    names = _exported()[folder]
    assert names, f"riskplan/{folder}/__init__.py has no __all__"
    package = importlib.import_module(f"riskplan.{folder}")
    assert sorted(n for n in names if not hasattr(package, n)) == []


def _check(source: str, module: str = "riskplan.signals.report") -> tuple[set[tuple[str, str]], ...]:
    tree = ast.parse(source)
    imports = list(_imports(tree, module, False))
    exported = {f: frozenset({"Icsr", "session_scope", "detect"}) for f in FOLDERS}
    return layer_violations(imports), surface_violations(imports, exported), wiring_violations(tree, module)


@pytest.mark.parametrize(
    ("source", "layer", "surface", "wiring"),
    [
        ("from riskplan.cases import Icsr", 0, 0, 0),
        ("from riskplan.cases.model import Icsr", 0, 1, 0),
        ("import riskplan.cases.tables as t", 0, 1, 0),
        ("from riskplan.cases import tables", 0, 1, 0),
        ("def f():\n    from riskplan.cases.store import list_cases\n", 0, 1, 0),
        ("from riskplan.reports import write_psur", 1, 1, 0),
        ("from riskplan.studies import detect", 1, 0, 0),
        ("from ..cases.tables import CaseRow", 0, 1, 0),
        ("from .tables import SignalRow", 0, 0, 0),
        ("from riskplan.signals.workflow import SignalState", 0, 0, 0),
        ("from riskplan.store import session_scope", 0, 0, 0),
        ("from riskplan.cli_support import console", 0, 0, 0),
        ("from riskplan.cli import app", 1, 0, 0),
        ("import importlib\nimportlib.import_module('riskplan.cases.tables')", 0, 0, 2),
        ("from importlib import import_module", 0, 0, 1),
        ("from importlib import resources", 0, 0, 0),
        ("import inspect", 0, 0, 1),
        ("x = __import__('riskplan.cases')", 0, 0, 1),
    ],
)
def test_the_checks_see_every_form(source: str, layer: int, surface: int, wiring: int) -> None:
    found = _check(source)
    assert (len(found[0]), len(found[1]), len(found[2])) == (layer, surface, wiring), found


def test_a_private_part_is_reached_only_from_its_own_package() -> None:
    inside = list(_imports(ast.parse("from riskplan.cases.e2b._xml import q"), "riskplan.cases.e2b._read", False))
    outside = list(_imports(ast.parse("from riskplan.cases.e2b._xml import q"), "riskplan.cases.model", False))
    assert surface_violations(inside, {}) == set()
    assert surface_violations(outside, {}) == {("riskplan.cases.model", "riskplan.cases.e2b._xml")}
