"""Migrate once per test process, copy for each new database (test speed only).

Hundreds of tests start on a new database, which the fixture, the CLI (every command migrates) or the web
app (``create_app``) brings to the latest revision of every folder: on SQLite about half a second of DDL,
on PostgreSQL more. Here the real migrations run once per test process (per pytest-xdist worker) into a
template, and :func:`riskplan.store.migrate.upgrade` to ``heads`` then:

- on a SQLite file that does not exist yet (nothing connected to it), copies the template file there;
- on a PostgreSQL database that is empty (no table) and unused by any other connection, makes it again
  from the template database (``CREATE DATABASE ... TEMPLATE``);
- on a database whose recorded revisions already are the heads, skips Alembic's run, which would find
  nothing to do;
- otherwise (an older revision, a read-only or odd URL, anything unexpected) runs Alembic as before.

The stored result is the same as running the migrations: the template is made by them in this run, from
this checkout's revisions. Migrations themselves (from empty, from older revisions, downgrades) are still
run for real by the tests that call Alembic's commands (tests/test_store_migrations.py and others), and
by building the templates. ``RISKPLAN_TEST_REAL_MIGRATIONS=1`` turns all of this off.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from alembic import command as alembic_command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

import riskplan.store.migrate as migrate
from riskplan.store.db import make_engine, normalise_url


class _State:
    admin_url = ""
    worker = "main"
    folder: Path | None = None
    sqlite_template: Path | None = None
    postgres_template: str | None = None
    postgres_failed = False
    heads: frozenset[str] | None = None


_state = _State()


def _heads(cfg: Config) -> frozenset[str]:
    if _state.heads is None:
        _state.heads = frozenset(ScriptDirectory.from_config(cfg).get_heads())
    return _state.heads


def _sqlite_file(url: URL) -> Path | None:
    """The file of a plain file-based SQLite URL (no ``?uri=true``, no options), else None."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" or url.query:
        return None
    return Path(url.database)


def _unused(engine: Engine) -> bool:
    pool: Any = engine.pool
    try:
        return int(pool.checkedout()) == 0 and int(pool.checkedin()) == 0
    except AttributeError:
        return False


def _sqlite_template() -> Path:
    if _state.sqlite_template is None:
        assert _state.folder is not None
        path = _state.folder / "migrated.db"
        engine = make_engine(f"sqlite:///{path}")
        alembic_command.upgrade(migrate.alembic_config(engine), "heads")
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the whole database in the one file
        engine.dispose()
        _state.sqlite_template = path
    return _state.sqlite_template


def _admin() -> Engine:
    return create_engine(normalise_url(_state.admin_url), isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _postgres_template() -> str | None:
    if _state.postgres_template is None and not _state.postgres_failed:
        name = f"riskplan_tpl_{_state.worker}_{uuid.uuid4().hex[:8]}"
        admin = _admin()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            _state.postgres_template = name
            url = make_url(normalise_url(_state.admin_url)).set(database=name)
            engine = create_engine(url, poolclass=NullPool)
            alembic_command.upgrade(migrate.alembic_config(engine), "heads")
            engine.dispose()
        except Exception:
            _state.postgres_failed = True
        finally:
            admin.dispose()
    return None if _state.postgres_failed else _state.postgres_template


def postgres_template() -> str | None:
    """The migrated PostgreSQL template database of this test process (made at the first call), or None
    where it cannot be made or templates are off."""
    if not _state.admin_url:
        return None
    return _postgres_template()


def _recreate_from_template(name: str) -> bool:
    """Drop the PostgreSQL database ``name`` and make it again as a copy of the migrated template."""
    template = _postgres_template()
    if template is None:
        return False
    admin = _admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    return True


def _postgres_empty_and_unused(engine: Engine) -> bool:
    probe = create_engine(engine.url, poolclass=NullPool)
    try:
        with probe.connect() as conn:
            if inspect(conn).get_table_names():
                return False
            others = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
            return int(others) == 0
    finally:
        probe.dispose()


def _at_heads(engine: Engine, cfg: Config) -> bool:
    with engine.connect() as conn:
        current = frozenset(MigrationContext.configure(conn).get_current_heads())
    return current == _heads(cfg)


def _fast_upgrade(cfg: Config, revision: str) -> bool:
    """Bring the database to the heads without running Alembic, where that gives the same database;
    False where Alembic must run."""
    engine = cfg.attributes.get("engine")
    if revision != "heads" or not isinstance(engine, Engine):
        return False
    url = engine.url
    file = _sqlite_file(url)
    if file is not None and not file.exists() and file.parent.is_dir() and _unused(engine):
        shutil.copyfile(_sqlite_template(), file)
        return True
    if (
        url.get_backend_name() == "postgresql"
        and url.database
        and _state.admin_url
        and _unused(engine)
        and _postgres_empty_and_unused(engine)
        and _recreate_from_template(url.database)
    ):
        return True
    return _at_heads(engine, cfg)


class _TemplateFirstCommands(ModuleType):
    """Alembic's ``command`` module as seen by riskplan.store.migrate, with a faster ``upgrade``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(alembic_command, name)

    def upgrade(self, config: Config, revision: str, sql: bool = False, tag: str | None = None) -> None:
        if not sql and tag is None:
            try:
                done = _fast_upgrade(config, revision)
            except Exception:
                done = False  # a fault (unreachable server, bad file...): Alembic's own run reports it
            if done:
                migrate.import_table_modules()  # as Alembic's env.py does
                return
        alembic_command.upgrade(config, revision, sql=sql, tag=tag)


def install_migration_templates(postgres_admin_url: str, worker: str) -> None:
    """Route riskplan's migrations through the templates for this test process."""
    if os.environ.get("RISKPLAN_TEST_REAL_MIGRATIONS"):
        return
    _state.admin_url = postgres_admin_url
    _state.worker = worker
    _state.folder = Path(tempfile.mkdtemp(prefix=f"riskplan-templates-{worker}-"))
    migrate.command = _TemplateFirstCommands("alembic.command")  # type: ignore[assignment]


def remove_migration_templates() -> None:
    """Put Alembic back and drop the templates (at the end of the test process)."""
    migrate.command = alembic_command
    if _state.folder is not None:
        shutil.rmtree(_state.folder, ignore_errors=True)
        _state.folder = None
    if _state.postgres_template is not None:
        admin = _admin()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{_state.postgres_template}" WITH (FORCE)'))
        except Exception:
            pass
        finally:
            admin.dispose()
        _state.postgres_template = None
