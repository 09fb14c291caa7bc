"""Backups of the whole database and their restore (``riskplan db backup`` / ``riskplan db restore``).

SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot while the
application keeps running (readers and writers are not stopped); the backup is itself a SQLite file.
PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot, one transaction) and ``pg_restore``; both
must be on PATH and at least as new as the server (pg_dump refuses an older client).

A restore replaces the whole database. It refuses a database that holds data unless ``force`` is given,
and says what it replaced. A backup taken at an older schema is migrated to the latest revision after it
is restored (Alembic, every folder's branch), so the restored database is ready to use.
EU GVP Module I (I.B.10, record management: "business continuity ... back-up") and 21 CFR 11.10(c)
(protection of records to enable their accurate and ready retrieval throughout the retention period).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL, make_url

from riskplan.errors import UserInputError
from riskplan.store.db import make_engine, normalise_url
from riskplan.store.faults import shown_url

SQLITE_MAGIC: Final = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC: Final = b"PGDMP"
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")
#: Tables that every database has rows in from its creation on: not "data" when deciding whether a restore
#: would replace something (the audit trail's head row starts at the genesis hash).
_BOOKKEEPING: Final = frozenset({"audit_head"})


@dataclass(frozen=True)
class TableCounts:
    """Rows per table of a database (Alembic's own version table left out)."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        """Rows of data (bookkeeping rows every new database has are not counted)."""
        return sum(n for name, n in self.rows.items() if name not in _BOOKKEEPING)

    def describe(self) -> str:
        filled = {name: n for name, n in self.rows.items() if n and name not in _BOOKKEEPING}
        if not filled:
            return "no data"
        cases = filled.get("icsr_case")
        head = f"{cases} case(s), " if cases is not None else ""
        return f"{head}{self.total} row(s) in {len(filled)} table(s)"


@dataclass(frozen=True)
class BackupDone:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    size: int  # bytes
    seconds: float
    counts: TableCounts


@dataclass(frozen=True)
class RestoreDone:
    source: Path
    kind: str
    seconds: float
    replaced: TableCounts  # what the database held before (empty when it was empty or absent)
    counts: TableCounts  # what it holds now
    migrated: bool  # the backup was at an older schema and has been upgraded
    sha256: str = ""  # of the backup file restored (recorded in the restored audit trail)


def table_counts(engine: Engine) -> TableCounts:
    """Row count of every table in the database (whatever its schema version)."""
    names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
    rows: dict[str, int] = {}
    with engine.connect() as conn:
        for name in sorted(names):
            quoted = engine.dialect.identifier_preparer.quote(name)
            rows[name] = int(conn.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one())
    return TableCounts(rows)


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise UserInputError(f"database {shown_url(url)}: backups are made for SQLite and PostgreSQL, not {backend}")
    return backend


def _sqlite_file(url: URL) -> Path:
    if url.database in (None, "", ":memory:") or url.query.get("uri") == "true":
        raise UserInputError(f"database {shown_url(url)}: only a SQLite database in a file can be backed up")
    return Path(str(url.database))


def _refuse_existing(out: Path, force: bool) -> None:
    if out.exists() and not force:
        raise UserInputError(f"--out {out}: the file exists; give another name or --force to overwrite it")
    if not out.parent.is_dir():
        raise UserInputError(f"--out {out}: the folder {out.parent} does not exist")


def backup(url: str, out: Path, *, force: bool = False) -> BackupDone:
    """Write a consistent backup of the database at ``url`` to ``out``."""
    parsed = make_url(normalise_url(url))
    kind = _kind(parsed)
    _refuse_existing(out, force)
    start = time.perf_counter()
    engine = make_engine(url)
    try:
        counts = table_counts(engine)
        if kind == "sqlite":
            source = _sqlite_file(parsed)
            if not source.is_file():
                raise UserInputError(f"database {shown_url(parsed)}: the file {source} does not exist")
            _sqlite_copy(source, out)
        else:
            _pg_dump(engine, parsed, out)
    finally:
        engine.dispose()
    return BackupDone(out, kind, out.stat().st_size, time.perf_counter() - start, counts)


def _sqlite_copy(source: Path, out: Path) -> None:
    """SQLite's online backup of ``source`` into a new file, renamed onto ``out`` once complete."""
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst, pages=4096)  # in steps, so writers are not held off for the whole copy
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()
    os.replace(partial, out)


def restore(url: str, source: Path, *, force: bool = False, who: str = "riskplan") -> RestoreDone:
    """Replace the database at ``url`` by the backup ``source``, then migrate it to the latest schema, and
    append to the restored audit trail who restored which backup file (its SHA-256) over what."""
    from riskplan.store.migrate import is_current, upgrade

    parsed = make_url(normalise_url(url))
    kind = _kind(parsed)
    found = backup_kind(source)
    if found != kind:
        raise UserInputError(f"{source}: a {found} backup cannot be restored into {kind} database {shown_url(parsed)}")
    start = time.perf_counter()
    digest = _sha256(source)
    engine = make_engine(url)
    try:
        replaced = _existing_counts(engine, parsed, kind)
        if replaced.total and not force:
            raise UserInputError(
                f"database {shown_url(parsed)} holds data ({replaced.describe()}); a restore replaces all of it: "
                "give --force to go ahead (take a backup of it first)"
            )
        if kind == "sqlite":
            engine.dispose()
            _sqlite_restore(source, _sqlite_file(parsed))
        else:
            _pg_restore(engine, parsed, source)
        engine.dispose()
        migrated = not is_current(engine)
        if migrated:
            upgrade(engine)
        counts = table_counts(engine)  # what the backup brought back, before the restore's own audit row
        _record_restore(engine, source, digest, replaced, who=who, target=shown_url(parsed), migrated=migrated)
    finally:
        engine.dispose()
    return RestoreDone(source, kind, time.perf_counter() - start, replaced, counts, migrated, digest)


def _sha256(path: Path) -> str:
    found = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            found.update(block)
    return found.hexdigest()


def _record_restore(
    engine: Engine, source: Path, digest: str, replaced: TableCounts, *, who: str, target: str, migrated: bool
) -> None:
    """The restore itself, appended to the restored database's hash chain (21 CFR 11.10(e): a record of
    operator actions that create, modify or delete records): the backup file, its SHA-256, what it replaced."""
    from riskplan.store.audit import record_change
    from riskplan.store.db import session_scope

    with session_scope(engine) as session:
        record_change(
            session,
            who=who,
            entity_type="database",
            entity_id=target,
            action="restore",
            changes={
                "backup file": (None, str(source.resolve())),
                "backup sha256": (None, digest),
                "replaced": (replaced.describe() if replaced.total else "no data", None),
                **({"schema": (None, "migrated to the latest")} if migrated else {}),
            },
            reason="riskplan db restore",
        )


def backup_kind(source: Path) -> str:
    """``sqlite`` or ``postgresql``, from the file's first bytes; anything else is refused."""
    if not source.is_file():
        raise UserInputError(f"{source}: no such backup file")
    with source.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise UserInputError(
        f"{source}: not a riskplan backup (neither a SQLite database nor a pg_dump custom-format archive)"
    )


def _existing_counts(engine: Engine, url: URL, kind: str) -> TableCounts:
    if kind == "sqlite" and not _sqlite_file(url).is_file():
        return TableCounts({})
    return table_counts(engine)


def _sqlite_restore(source: Path, target: Path) -> None:
    """Copy the backup into the target file with the backup API (the target's pages are all replaced)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        quick = src.execute("PRAGMA quick_check").fetchone()
        if quick is None or quick[0] != "ok":
            raise UserInputError(f"{source}: the SQLite backup is damaged ({quick[0] if quick else 'no answer'})")
        src.backup(dst)
    except sqlite3.DatabaseError as exc:
        raise UserInputError(f"{source}: cannot be read as a SQLite database ({exc})") from None
    finally:
        dst.close()
        src.close()


# --- PostgreSQL -------------------------------------------------------------------------------------


def _pg_tool(name: str, engine: Engine) -> str:
    """The path of pg_dump/pg_restore, checked to be at least as new as the server's major version."""
    found = shutil.which(name)
    if found is None:
        raise UserInputError(
            f"{name} is not on PATH: install the PostgreSQL client tools of the server's version "
            "(Debian: postgresql-client) or back up with the commands in docs/DEPLOYMENT.md"
        )
    client = _major(subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout)
    with engine.connect() as conn:
        server = _major(str(conn.execute(text("SHOW server_version")).scalar_one()))
    if client < server:
        raise UserInputError(
            f"{found} is version {client} but the server is version {server}: use a {name} >= {server}"
        )
    return found


def _major(version_text: str) -> int:
    # "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" or a server's "15.20 (Debian ...)"
    match = _VERSION.search(version_text.partition("(PostgreSQL)")[2] or version_text)
    if match is None:
        raise UserInputError(f"cannot read a PostgreSQL version from {version_text!r}")
    return int(match.group(1))


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq connection string (no password in it) and the environment carrying the password."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise UserInputError(f"{what} failed (exit {done.returncode}): {detail[0] if detail else 'no message'}")


def _pg_dump(engine: Engine, url: URL, out: Path) -> None:
    tool = _pg_tool("pg_dump", engine)
    dsn, env = _libpq(url)
    partial = out.with_name(f".{out.name}.partial")
    _run([tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", dsn], env, "pg_dump")
    os.replace(partial, out)


def _pg_restore(engine: Engine, url: URL, source: Path) -> None:
    """Empty the public schema and load the archive into it, in one transaction: all or nothing.

    ``pg_restore`` writes the archive as SQL and ``psql --single-transaction`` runs the drop, the create
    and that SQL together, so a failed restore leaves the database as it was.
    """
    tool = _pg_tool("pg_restore", engine)
    psql = shutil.which("psql")
    if psql is None:
        raise UserInputError("psql is not on PATH: install the PostgreSQL client tools (Debian: postgresql-client)")
    dsn, env = _libpq(url)
    with tempfile.TemporaryDirectory() as scratch:
        listing = Path(scratch) / "list"
        _run([tool, "--list", f"--file={listing}", str(source)], env, "pg_restore --list")
        # the archive's own "SCHEMA public" entry is left out: the schema is recreated empty below
        kept = [line for line in listing.read_text().splitlines() if " SCHEMA - public " not in line]
        listing.write_text("\n".join(kept) + "\n")
        psql_argv = [psql, "--quiet", "--no-psqlrc", "--single-transaction", "--set=ON_ERROR_STOP=1"]
        psql_argv += [f"--dbname={dsn}", "--command=DROP SCHEMA public CASCADE", "--command=CREATE SCHEMA public"]
        errors = Path(scratch) / "pg_restore.err"
        with errors.open("wb") as err:
            dump = subprocess.Popen(
                [tool, "--no-owner", "--no-privileges", f"--use-list={listing}", "--file=-", str(source)],
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
            )
            load = subprocess.run(
                [*psql_argv, "--file=-"], stdin=dump.stdout, capture_output=True, text=True, env=env, check=False
            )
            if dump.stdout is not None:
                dump.stdout.close()
            dump.wait()
        if dump.returncode != 0:
            detail = errors.read_text(errors="replace").strip()[:300]
            raise UserInputError(f"pg_restore failed (exit {dump.returncode}), nothing changed: {detail}")
        if load.returncode != 0:
            lines = [ln for ln in load.stderr.splitlines() if ln.strip()]
            raise UserInputError(
                f"restore into {shown_url(url)} failed, nothing changed: {lines[0] if lines else load.returncode}"
            )
