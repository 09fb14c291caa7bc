"""Alembic migrations, one branch per folder that owns tables.

Each folder keeps its revisions in ``<folder>/migrations/`` with its folder name as branch label, so
folders evolve their own tables independently; :func:`upgrade` brings every branch to its head.
"""

from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

# Modules that declare tables, in dependency order; a folder not yet built is skipped.
TABLE_MODULES = (
    "riskplan.store.audit",
    "riskplan.store.accounts",
    "riskplan.store.signatures",
    "riskplan.plan.tables",
    "riskplan.terms.tables",
    "riskplan.cases.tables",
    "riskplan.submissions.tables",
    "riskplan.signals.tables",
    "riskplan.web.tables",
)
_MIGRATION_FOLDERS = ("store", "plan", "terms", "cases", "submissions", "signals", "studies", "minimisation", "web")


def import_table_modules() -> None:
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (name + ".").startswith(exc.name + "."):
                raise


def _package_root() -> Path:
    return Path(str(resources.files("riskplan")))


def alembic_config(engine: Engine | None = None) -> Config:
    root = _package_root()
    cfg = Config()
    cfg.set_main_option("script_location", str(root / "store" / "migrations"))
    locations = [
        str(root / folder / "migrations" / "versions")
        for folder in _MIGRATION_FOLDERS
        if (root / folder / "migrations" / "versions").is_dir()
    ]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Create or upgrade every table of every folder to the latest revision."""
    cfg = alembic_config(engine)
    command.upgrade(cfg, "heads")


def is_current(engine: Engine) -> bool:
    """Whether every revision of every branch is applied (dependencies between branches included)."""
    cfg = alembic_config(engine)
    script = ScriptDirectory.from_config(cfg)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    if not current:
        return False
    applied = {rev.revision for rev in script.revision_map.iterate_revisions(current, "base") if rev is not None}
    everything = {rev.revision for rev in script.walk_revisions()}
    return applied == everything


def branch_states(engine: Engine) -> list[tuple[str, str | None, str]]:
    """(branch, revision applied or None, head revision) for every folder's migration branch."""
    cfg = alembic_config(engine)
    script = ScriptDirectory.from_config(cfg)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    applied = {rev.revision for rev in script.revision_map.iterate_revisions(current, "base") if rev is not None}
    states: list[tuple[str, str | None, str]] = []
    for head in sorted(script.get_heads()):
        chain = list(script.revision_map.iterate_revisions(head, "base"))
        labels = [label for rev in chain if rev is not None for label in rev.branch_labels]
        branch = labels[0] if labels else head
        # the newest revision of this branch that is applied (revisions walk from the head down)
        done = next((rev.revision for rev in chain if rev is not None and rev.revision in applied), None)
        states.append((branch, done, head))
    return states
