"""Engine and sessions: SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with foreign keys enforced. Sessions are explicit (SQLAlchemy 2 style):
``with session_scope(engine) as s: ...`` commits on success and rolls back on any error, so a failed
command leaves stored data untouched.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, MetaData, Table, create_engine, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every table of riskplan; each folder declares its own tables on it."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and use the psycopg 3 driver for it."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, *, pool_size: int | None = None, max_overflow: int | None = None) -> Engine:
    """An engine for ``url``; creates the folder of a file-based SQLite database.

    ``pool_size`` and ``max_overflow`` size the connection pool of a server database (SQLAlchemy's
    defaults, 5 and 10, when not given): a connection beyond the pool size is closed when given back, so
    a pool smaller than the number of concurrent requests opens a new database connection again and again.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and parsed.query.get("uri") != "true":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    sizes = {k: v for k, v in (("pool_size", pool_size), ("max_overflow", max_overflow)) if v is not None}
    engine = create_engine(url, **sizes)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


#: A pooled connection unused for longer than this is tested before it is handed out (see _ping_if_idle).
PING_AFTER_IDLE_SECONDS = 2.0
_CHECKED_IN = "riskplan.checked_in"


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(dialect: Dialect, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Test a pooled connection that sat unused for a while before handing it out; a dead one is replaced.

    SQLAlchemy's ``pool_pre_ping`` tests every connection at every checkout: a round trip and about 3 % of a
    web write's server CPU (two checkouts a request; 2026-12-04), for connections in use a few milliseconds
    before. Here only a connection idle longer than :data:`PING_AFTER_IDLE_SECONDS` is tested (the ones a
    database restart or an idle timeout may have closed); a failed test raises ``DisconnectionError``,
    on which the pool opens a new connection (SQLAlchemy, "Disconnect Handling - Pessimistic", custom
    ping). A connection lost while in steady use fails its statement instead: SQLAlchemy then
    invalidates the pool, the transaction is rolled back, nothing of it is stored or acknowledged.
    """
    last = record.info.get(_CHECKED_IN)
    if last is not None and time.monotonic() - last < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError(f"a pooled connection no longer answers: {exc}") from exc


_FACTORIES: WeakKeyDictionary[Engine, sessionmaker[Session]] = WeakKeyDictionary()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The engine's session factory, made once: each ``sessionmaker`` makes a Session subclass of its own,
    whose event dispatch SQLAlchemy builds again for its first session."""
    factory = _FACTORIES.get(engine)
    if factory is None:
        factory = _FACTORIES.setdefault(engine, sessionmaker(bind=engine, expire_on_commit=False))
    return factory


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A transaction: commit when the block ends normally, roll back on any exception."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def bulk_insert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows in the session's transaction: PostgreSQL COPY, elsewhere a Core executemany.

    COPY avoids building and parsing one huge multi-row INSERT (psycopg parses every placeholder of it);
    on SQLite the executemany is already a prepared statement run per row.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(rows) <= SMALL_BATCH:
        # a few rows (a case entered in the web application): one INSERT, where COPY costs two round trips
        connection.execute(table.insert(), list(rows))
        return
    columns = list(rows[0].keys())
    raw = connection.connection.driver_connection
    assert raw is not None
    column_list = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def insert_returning_ids(session: Session, table: Table, rows: list[dict[str, Any]], key: str) -> list[int]:
    """Insert ``rows`` and return their new ids in the rows' order (``key`` is unique within the rows).

    PostgreSQL, more than :data:`SMALL_BATCH` rows: ids are drawn from the table's sequence first and the
    rows copied in with COPY. Otherwise: one INSERT ... RETURNING, matched back by ``key`` (SQLite could
    keep parameter order only row by row).
    """
    if not rows:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql" and len(rows) > SMALL_BATCH:
        sequence = f"{table.name}_id_seq"
        ids = [
            int(i)
            for (i,) in connection.execute(
                text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"),
                {"seq": sequence, "n": len(rows)},
            )
        ]
        bulk_insert(session, table, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    result = connection.execute(table.insert().returning(table.c.id, table.c[key]), rows)
    by_key = {k: int(i) for i, k in result.all()}
    return [by_key[row[key]] for row in rows]


#: Up to this many rows are inserted with one INSERT rather than PostgreSQL COPY (three round trips with
#: drawing the ids), and a transaction storing no more cases than this does not check planner statistics.
SMALL_BATCH = 50


def keep_statistics_current(session: Session, tables: Sequence[str], *, min_changes: int = 1000) -> None:
    """ANALYZE tables whose planner statistics lag far behind bulk inserts (PostgreSQL only).

    PostgreSQL docs, "Populating a Database" (14.4): run ANALYZE after loading much data. Without it a
    freshly filled table still looks empty to the planner, which then scans it whole for every look-up by
    key. Autovacuum catches up only on its own schedule; a bulk intake checks ``n_mod_since_analyze``
    (a catalogue read) and analyzes when more than ``min_changes`` rows and a fifth of the table changed.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    rows = connection.execute(
        text(
            "SELECT s.relname, s.n_mod_since_analyze, c.reltuples FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE s.relname = ANY(:names)"
        ),
        {"names": list(tables)},
    ).all()
    for name, changed, tuples in rows:
        if changed > max(min_changes, 0.2 * max(tuples, 0)):
            connection.execute(text(f'ANALYZE "{name}"'))
