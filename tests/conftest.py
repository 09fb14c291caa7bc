"""Shared fixtures: a fresh database on SQLite and on PostgreSQL, and a CLI environment.

PostgreSQL tests use the server at 127.0.0.1:5432 (trust auth, database ``test``), or the URL in
``RISKPLAN_TEST_POSTGRES_URL``; each test gets a database of its own, dropped afterwards. Where no
server is reachable they are skipped with the reason.

Speed (see ``migration_templates``): the migrations run once per test process into a template database
(a SQLite file, a PostgreSQL template database); a new database that a test, the CLI or the web app
migrates to the latest revision is made as a copy of it, and migrating a database that is already at the
latest revision skips Alembic's no-op run. What the database holds afterwards is the same. Tests run in
parallel with pytest-xdist (``make test``): names of databases carry the worker's id.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from migration_templates import install_migration_templates, postgres_template, remove_migration_templates
from riskplan.settings import get_settings
from riskplan.store.db import make_engine, normalise_url
from riskplan.store.migrate import upgrade
from shared_data import missing_shared

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SEED_SUMMARY = SHARED / "seeds" / "000_87823eff0a2665f8.txt"
POSTGRES_ADMIN_URL = os.environ.get("RISKPLAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1... under pytest-xdist

_pg_unreachable_reason: str | None = None
_pg_checked = False


#: Cheap argon2id parameters for every test and every process a test starts (through the existing
#: ``RISKPLAN_WEB_ARGON2_*`` settings): the production ones (3 passes, 64 MiB) take a core for a fifth of
#: a second per hash. The defaults are unchanged; test_web_security checks them.
TEST_ARGON2 = {"RISKPLAN_WEB_ARGON2_TIME_COST": "1", "RISKPLAN_WEB_ARGON2_MEMORY_KIB": "1024"}


def pytest_configure(config: pytest.Config) -> None:
    for key, value in TEST_ARGON2.items():
        os.environ.setdefault(key, value)
    # No test may read or change the user's own database, settings or data folder: a test that names no
    # database gets one in a data folder of its own process, never $XDG_DATA_HOME/riskplan of the user.
    for key in ("RISKPLAN_DATABASE_URL", "RISKPLAN_CONFIG", "RISKPLAN_OUTPUT_DIR"):
        os.environ.pop(key, None)
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix=f"riskplan-tests-{WORKER}-")
    install_migration_templates(POSTGRES_ADMIN_URL, WORKER)


def pytest_unconfigure(config: pytest.Config) -> None:
    remove_migration_templates()


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """How ``make test`` shares the tests between its processes (``--dist loadfile``): each test file runs whole
    in one process (its module fixtures are made once), and the Spark test files (``*_spark.py``) all run in the
    same process, so that the suite starts one JVM, not one per process (each takes seconds of both cores to start
    and about 1.5 GB). pytest-xdist's own ``--dist loadgroup`` would do this with marks, but does not group under
    pytest 9.2 (it renames the node id through an attribute pytest no longer reads)."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class OneSparkProcess(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "spark" if path.endswith("_spark.py") else path

    return OneSparkProcess(config, log)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test reads the settings its own environment gives: a process reads them once and caches
    them, and a test must not see those an earlier test of the same worker left behind."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None when it can (checked once per run)."""
    global _pg_checked, _pg_unreachable_reason
    if not _pg_checked:
        _pg_checked = True
        try:
            engine = create_engine(normalise_url(POSTGRES_ADMIN_URL), connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
        except Exception as exc:
            _pg_unreachable_reason = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}"
    return _pg_unreachable_reason


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        missing_shared(f"{path} is absent: the shared data folder ../shared is needed for this test")
    return path


@pytest.fixture
def seed_summary() -> Path:
    return shared_file("seeds", "000_87823eff0a2665f8.txt")


# Fixtures that migrate their database to the latest revision before the test starts: for them the
# PostgreSQL database is made as a copy of the migrated template at once (the same database, sooner).
MIGRATED_BEFORE_THE_TEST = frozenset({"engine", "web", "w", "audit_db"})


@pytest.fixture
def postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    name = f"riskplan_t_{WORKER}_{uuid.uuid4().hex[:12]}"
    template = postgres_template() if MIGRATED_BEFORE_THE_TEST & set(request.fixturenames) else None
    admin = create_engine(normalise_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    url = make_url(normalise_url(POSTGRES_ADMIN_URL)).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'riskplan.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database engine, on SQLite and on PostgreSQL."""
    eng = make_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'riskplan.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run CLI commands in an empty working directory with their own SQLite database (and user data folder)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'riskplan.db'}")
    monkeypatch.setenv("RISKPLAN_OUTPUT_DIR", str(tmp_path / "var" / "out"))
    monkeypatch.setenv("RISKPLAN_USER", "tester")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the demo's own database and outputs
    monkeypatch.delenv("RISKPLAN_CONFIG", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def spark() -> Any:
    """The test process's one Spark session (local mode, 2 cores): started once, shared by every Spark
    test of the process (starting a JVM takes seconds). In CI a missing PySpark or Java fails the test."""
    from riskplan.store import spark_session

    return spark_session("local[2]")
