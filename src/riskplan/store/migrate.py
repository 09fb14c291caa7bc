"""Alembic migrations, one branch per folder that owns tables.

Each folder keeps its revisions in ``<folder>/migrations/versions/`` with its folder name as branch
label, so folders evolve their own tables independently; :func:`upgrade` brings every branch to its head.
The runner knows no folder by name: its version locations are the ``migrations/versions`` folders found
in the package (data), and the tables Alembic compares against (autogenerate) are those registered on
:data:`riskplan.store.db.Base`'s metadata by the folders imported: :func:`riskplan.schema.metadata`
imports them all.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

# Alembic (with Mako and Pygments) is imported when a database is opened, not with the store: a command
# that needs no database starts without it.
if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine


def _package_root() -> Path:
    return Path(str(resources.files("riskplan")))


def version_locations() -> tuple[Path, ...]:
    """Every folder's ``migrations/versions`` directory in the installed package (store's first)."""
    root = _package_root()
    found = sorted(path for path in root.glob("*/migrations/versions") if path.is_dir())
    return tuple(sorted(found, key=lambda path: path.parent.parent.name != "store"))


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    root = _package_root()
    cfg = Config()
    cfg.set_main_option("script_location", str(root / "store" / "migrations"))
    cfg.set_main_option("version_locations", " ".join(str(path) for path in version_locations()))
    cfg.set_main_option("path_separator", "space")
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Create or upgrade every table of every folder to the latest revision."""
    from alembic import command

    cfg = alembic_config(engine)
    command.upgrade(cfg, "heads")


def is_current(engine: Engine) -> bool:
    """Whether every revision of every branch is applied (dependencies between branches included)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

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
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

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
