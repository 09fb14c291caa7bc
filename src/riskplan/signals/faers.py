"""Import the FDA Adverse Event Reporting System (FAERS) quarterly ASCII extracts into Parquet.

Input: one or more quarterly extracts, each a zip as published (``faers_ascii_2024q1.zip`` with an
``ASCII/`` folder and a ``Deleted/`` folder) or a folder holding the same files; several quarters at
once. The seven ``$``-delimited files per quarter (``DEMO24Q1.txt``, ``DRUG``, ``REAC``, ``OUTC``,
``RPSR``, ``THER``, ``INDI``) start with a header line; the layout is that of the FDA's ``ASC_NTS``
description (since 2014Q3):

- DEMO: primaryid$caseid$caseversion$i_f_code$event_dt$mfr_dt$init_fda_dt$fda_dt$rept_cod$auth_num$
  mfr_num$mfr_sndr$lit_ref$age$age_cod$age_grp$sex$e_sub$wt$wt_cod$rept_dt$to_mfr$occp_cod$
  reporter_country$occr_country
- DRUG: primaryid$caseid$drug_seq$role_cod$drugname$prod_ai$val_vbm$route$dose_vbm$cum_dose_chr$
  cum_dose_unit$dechal$rechal$lot_num$exp_dt$nda_num$dose_amt$dose_unit$dose_form$dose_freq
- REAC: primaryid$caseid$pt$drug_rec_act
- OUTC: primaryid$caseid$outc_cod;  RPSR: primaryid$caseid$rpsr_cod
- THER: primaryid$caseid$dsg_drug_seq$start_dt$end_dt$dur$dur_cod
- INDI: primaryid$caseid$indi_drug_seq$indi_pt

Columns are matched by the header's names, so older layouts with fewer columns load too (missing
columns are empty). Text is UTF-8, or Latin-1 where a line is not valid UTF-8.

What the import does:

- every data row is checked: the number of fields must match the header (one trailing ``$`` is
  tolerated) and primaryid/caseid must be whole numbers; a failing row is **not loaded but reported**
  (file, line number, reason, the text) — counted per file, the first ``max_listed`` listed;
- the latest version of each case is kept: per caseid the DEMO row with the highest caseversion across
  all quarters given (then the later quarter, then the higher primaryid); the other tables keep the rows
  of the kept primaryid from the same quarter; rows whose primaryid has no DEMO row are counted as
  orphans and left out;
- cases on a deletion list (the files of a ``Deleted`` folder, or ``deleted`` files given; one caseid
  per line) are removed;
- drug names: ``product`` is the normalised active ingredient ``prod_ai`` when present, else the
  normalised ``drugname`` (upper case, trimmed, runs of spaces collapsed, trailing ``. , ; : ! ?``
  removed); ``drugname`` and ``prod_ai`` are kept as given; the role code (PS, SS, C, I) is kept;
- reaction PTs are trimmed with spaces collapsed (case kept).

Output: ``demo.parquet``, ``drug.parquet``, ``reac.parquet``, ``outc.parquet``, ``rpsr.parquet``,
``ther.parquet``, ``indi.parquet`` (each with a ``quarter`` column, e.g. ``2024Q1``) and
``import_report.json`` in the output folder.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import duckdb

from riskplan.errors import UserInputError

FAERS_COLUMNS: dict[str, tuple[str, ...]] = {
    "DEMO": (
        "primaryid",
        "caseid",
        "caseversion",
        "i_f_code",
        "event_dt",
        "mfr_dt",
        "init_fda_dt",
        "fda_dt",
        "rept_cod",
        "auth_num",
        "mfr_num",
        "mfr_sndr",
        "lit_ref",
        "age",
        "age_cod",
        "age_grp",
        "sex",
        "e_sub",
        "wt",
        "wt_cod",
        "rept_dt",
        "to_mfr",
        "occp_cod",
        "reporter_country",
        "occr_country",
    ),
    "DRUG": (
        "primaryid",
        "caseid",
        "drug_seq",
        "role_cod",
        "drugname",
        "prod_ai",
        "val_vbm",
        "route",
        "dose_vbm",
        "cum_dose_chr",
        "cum_dose_unit",
        "dechal",
        "rechal",
        "lot_num",
        "exp_dt",
        "nda_num",
        "dose_amt",
        "dose_unit",
        "dose_form",
        "dose_freq",
    ),
    "REAC": ("primaryid", "caseid", "pt", "drug_rec_act"),
    "OUTC": ("primaryid", "caseid", "outc_cod"),
    "RPSR": ("primaryid", "caseid", "rpsr_cod"),
    "THER": ("primaryid", "caseid", "dsg_drug_seq", "start_dt", "end_dt", "dur", "dur_cod"),
    "INDI": ("primaryid", "caseid", "indi_drug_seq", "indi_pt"),
}
#: Columns converted to numbers in the output (others stay text: FAERS dates may be partial).
_INTEGER_COLUMNS = {"primaryid", "caseid", "caseversion", "drug_seq", "dsg_drug_seq", "indi_drug_seq", "nda_num"}
_DOUBLE_COLUMNS = {"age", "wt", "dose_amt", "dur"}
_FILE_RE = re.compile(r"^(DEMO|DRUG|REAC|OUTC|RPSR|THER|INDI)(\d{2})Q([1-4])\.TXT$", re.IGNORECASE)
_TRAILING_PUNCT = r"[\s.,;:!?]+$"


class ProgressLike(Protocol):
    """The part of ``rich.progress.Progress`` the importer uses."""

    def add_task(self, description: str, total: float | None = ..., **fields: Any) -> Any: ...

    def update(self, task_id: Any, *, advance: float | None = None, **fields: Any) -> None: ...


@dataclass(frozen=True)
class FaersFile:
    """One ASCII file of an extract: its table, quarter, and how to open it."""

    table: str
    quarter: str
    label: str
    size: int
    opener: Callable[[], AbstractContextManager[IO[bytes]]]


@dataclass(frozen=True)
class BadRow:
    file: str
    line: int
    reason: str
    text: str


@dataclass
class ImportReport:
    """What an import read, kept, and refused."""

    output: str
    quarters: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    bad_rows_total: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    blank_lines: int = 0
    deletion_lists: list[str] = field(default_factory=list)
    deleted_caseids: int = 0
    cases: int = 0
    cases_deleted: int = 0
    versions_superseded: int = 0
    reports_kept: int = 0
    orphan_rows: dict[str, int] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


def _quarter(yy: str, q: str) -> str:
    return f"20{yy}Q{q}"


class _ZipMember(AbstractContextManager[IO[bytes]]):
    """A zip member opened for reading; closing it closes the archive too."""

    def __init__(self, path: Path, name: str) -> None:
        self._zip = zipfile.ZipFile(path)
        self._fh: IO[bytes] = self._zip.open(name)

    def __enter__(self) -> IO[bytes]:
        return self._fh

    def __exit__(self, *exc: object) -> None:
        self._fh.close()
        self._zip.close()


def _zip_files(path: Path) -> tuple[list[FaersFile], list[FaersFile]]:
    data: list[FaersFile] = []
    deleted: list[FaersFile] = []
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserInputError(f"{path}: not a readable zip file: {exc}") from None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = info.filename.replace("\\", "/").split("/")
            base = parts[-1]

            def opener(name: str = info.filename) -> AbstractContextManager[IO[bytes]]:
                return _ZipMember(path, name)

            label = f"{path.name}:{info.filename}"
            if any(p.lower() == "deleted" for p in parts[:-1]) and base.lower().endswith(".txt"):
                deleted.append(FaersFile("DELETED", "", label, info.file_size, opener))
                continue
            match = _FILE_RE.match(base)
            if match:
                data.append(
                    FaersFile(
                        match.group(1).upper(), _quarter(match.group(2), match.group(3)), label, info.file_size, opener
                    )
                )
    return data, deleted


def _folder_files(path: Path) -> tuple[list[FaersFile], list[FaersFile]]:
    data: list[FaersFile] = []
    deleted: list[FaersFile] = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel_parts = file.relative_to(path).parts

        def opener(f: Path = file) -> AbstractContextManager[IO[bytes]]:
            return f.open("rb")

        if any(p.lower() == "deleted" for p in rel_parts[:-1]) and file.suffix.lower() == ".txt":
            deleted.append(FaersFile("DELETED", "", str(file), file.stat().st_size, opener))
            continue
        match = _FILE_RE.match(file.name)
        if match:
            data.append(
                FaersFile(
                    match.group(1).upper(),
                    _quarter(match.group(2), match.group(3)),
                    str(file),
                    file.stat().st_size,
                    opener,
                )
            )
    return data, deleted


def discover(inputs: Sequence[Path]) -> tuple[list[FaersFile], list[FaersFile]]:
    """The ASCII data files and the deletion lists in the given zips and folders."""
    if not inputs:
        raise UserInputError("give at least one FAERS quarterly extract (a zip or a folder)")
    data: list[FaersFile] = []
    deleted: list[FaersFile] = []
    for path in inputs:
        if path.is_dir():
            found = _folder_files(path)
        elif path.is_file() and path.suffix.lower() == ".zip":
            found = _zip_files(path)
        elif path.exists():
            raise UserInputError(f"{path}: a FAERS extract must be a .zip file or a folder")
        else:
            raise UserInputError(f"{path}: no such file or folder")
        if not found[0]:
            raise UserInputError(f"{path}: no FAERS ASCII files (DEMOyyQq.txt, DRUGyyQq.txt, REACyyQq.txt, ...) found")
        data.extend(found[0])
        deleted.extend(found[1])
    seen: dict[tuple[str, str], str] = {}
    for f in data:
        key = (f.table, f.quarter)
        if key in seen:
            raise UserInputError(f"{f.table} for {f.quarter} is given twice: {seen[key]} and {f.label}")
        seen[key] = f.label
    tables = {f.table for f in data}
    missing = [t for t in ("DEMO", "DRUG", "REAC") if t not in tables]
    if missing:
        raise UserInputError(f"the FAERS extracts lack the {', '.join(missing)} file(s)")
    return sorted(data, key=lambda f: (f.quarter, f.table)), deleted


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _lines(fh: IO[bytes], on_bytes: Callable[[int], None]) -> Iterator[tuple[int, str]]:
    pending = 0
    for number, raw in enumerate(fh, start=1):
        pending += len(raw)
        if pending >= 1 << 20:
            on_bytes(pending)
            pending = 0
        yield number, _decode(raw).rstrip("\r\n")
    on_bytes(pending)


class _Loader:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        workdir: Path,
        report: ImportReport,
        max_listed: int,
        progress: ProgressLike | None,
    ) -> None:
        self.con = con
        self.workdir = workdir
        self.report = report
        self.max_listed = max_listed
        self.progress = progress
        for table, columns in FAERS_COLUMNS.items():
            cols = ", ".join(f"{c} VARCHAR" for c in columns)
            con.execute(f"CREATE TEMP TABLE stage_{table.lower()} ({cols}, quarter VARCHAR)")

    def bad(self, file: FaersFile, line: int, reason: str, text: str) -> None:
        self.report.bad_rows_total += 1
        if len(self.report.bad_rows) < self.max_listed:
            self.report.bad_rows.append(BadRow(file.label, line, reason, text[:200]))

    def _advance(self, task: Any) -> Callable[[int], None]:
        progress = self.progress
        if progress is None:
            return lambda _n: None
        return lambda n: progress.update(task, advance=n)

    def load(self, file: FaersFile) -> None:
        task = self.progress.add_task(file.label, total=file.size) if self.progress else None
        wanted = FAERS_COLUMNS[file.table]
        clean = self.workdir / f"{file.table}_{file.quarter}.txt"
        rows = bad_before = 0
        bad_before = self.report.bad_rows_total
        with file.opener() as fh, clean.open("w", encoding="utf-8", newline="\n") as out:
            lines = _lines(fh, self._advance(task))
            first = next(lines, None)
            if first is None:
                raise UserInputError(f"{file.label}: the file is empty (no header line)")
            header = [h.strip().lower() for h in first[1].split("$")]
            if header and header[-1] == "":
                header.pop()
            if "primaryid" not in header or "caseid" not in header:
                raise UserInputError(
                    f"{file.label}: line 1 is not a FAERS header with primaryid and caseid: {first[1][:120]!r}"
                )
            positions = [header.index(c) if c in header else -1 for c in wanted]
            id_positions = (header.index("primaryid"), header.index("caseid"))
            width = len(header)
            for number, line in lines:
                if not line.strip():
                    self.report.blank_lines += 1
                    continue
                fields = line.split("$")
                if len(fields) == width + 1 and fields[-1] == "":
                    fields.pop()
                if len(fields) != width:
                    self.bad(file, number, f"{len(fields)} fields, expected {width}", line)
                    continue
                bad_id = next((header[i] for i in id_positions if not fields[i].strip().isdigit()), None)
                if bad_id is not None:
                    value = fields[header.index(bad_id)]
                    self.bad(file, number, f"non-numeric {bad_id} {value!r}", line)
                    continue
                out.write("$".join(fields[i].replace("\t", " ") if i >= 0 else "" for i in positions))
                out.write("$" + file.quarter + "\n")
                rows += 1
        columns = ", ".join(f"'{c}': 'VARCHAR'" for c in (*wanted, "quarter"))
        self.con.execute(
            f"INSERT INTO stage_{file.table.lower()} SELECT * FROM read_csv('{_sql_path(clean)}', delim = '$',"
            f" header = false, quote = '', escape = '', columns = {{{columns}}}, auto_detect = false)"
        )
        clean.unlink()
        self.report.files.append(
            {
                "file": file.label,
                "table": file.table,
                "quarter": file.quarter,
                "rows_loaded": rows,
                "bad_rows": self.report.bad_rows_total - bad_before,
            }
        )


def _file_opener(path: Path) -> Callable[[], AbstractContextManager[IO[bytes]]]:
    def opener() -> AbstractContextManager[IO[bytes]]:
        return path.open("rb")

    return opener


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _read_deleted(lists: Sequence[FaersFile], loader: _Loader) -> list[int]:
    caseids: list[int] = []
    for f in lists:
        loader.report.deletion_lists.append(f.label)
        with f.opener() as fh:
            for number, line in _lines(fh, lambda _n: None):
                text = line.strip().rstrip("$").strip()
                if not text:
                    continue
                if text.isdigit():
                    caseids.append(int(text))
                elif number == 1 and not any(ch.isdigit() for ch in text):
                    continue  # a header line such as "caseid"
                else:
                    loader.bad(f, number, "a deletion list line must be one numeric caseid", line)
    return caseids


def _normalised(expr: str, upper: bool) -> str:
    inner = f"upper(trim({expr}))" if upper else f"trim({expr})"
    collapsed = f"regexp_replace({inner}, '\\s+', ' ', 'g')"
    if upper:
        collapsed = f"regexp_replace({collapsed}, '{_TRAILING_PUNCT}', '')"
    return f"nullif({collapsed}, '')"


def _typed(column: str) -> str:
    if column in _INTEGER_COLUMNS:
        return f"try_cast(trim({column}) AS BIGINT) AS {column}"
    if column in _DOUBLE_COLUMNS:
        return f"try_cast(trim({column}) AS DOUBLE) AS {column}"
    return column


def import_faers(
    inputs: Sequence[Path],
    out_dir: Path,
    deleted: Sequence[Path] = (),
    *,
    progress: ProgressLike | None = None,
    max_listed: int = 50,
) -> ImportReport:
    """Import FAERS quarterly ASCII extracts (zips or folders) into Parquet tables in ``out_dir``."""
    files, deletion_lists = discover(inputs)
    for path in deleted:
        if not path.is_file():
            raise UserInputError(f"{path}: no such deletion list")
        deletion_lists.append(FaersFile("DELETED", "", str(path), path.stat().st_size, _file_opener(path)))
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ImportReport(output=str(out_dir), quarters=sorted({f.quarter for f in files}))
    con = duckdb.connect()
    try:
        with tempfile.TemporaryDirectory(prefix="faers_") as tmp:
            loader = _Loader(con, Path(tmp), report, max_listed, progress)
            for f in files:
                loader.load(f)
            caseids = _read_deleted(deletion_lists, loader)
        report.deleted_caseids = len(set(caseids))
        con.register("deleted_list", {"caseid": _int_array(caseids)})
        _build_outputs(con, out_dir, report)
    finally:
        con.close()
    report.write_json(out_dir / "import_report.json")
    return report


def _int_array(values: Sequence[int]) -> Any:
    import numpy as np

    return np.asarray(sorted(set(values)), dtype=np.int64)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _build_outputs(con: duckdb.DuckDBPyConnection, out_dir: Path, report: ImportReport) -> None:
    con.execute(
        """
        CREATE TEMP TABLE versions AS
        SELECT try_cast(trim(primaryid) AS BIGINT) AS primaryid, try_cast(trim(caseid) AS BIGINT) AS caseid,
               quarter,
               row_number() OVER (PARTITION BY try_cast(trim(caseid) AS BIGINT)
                   ORDER BY try_cast(trim(caseversion) AS BIGINT) DESC NULLS LAST, quarter DESC,
                            try_cast(trim(primaryid) AS BIGINT) DESC) AS rank
        FROM stage_demo
        """
    )
    report.cases = _count(con, "SELECT count(DISTINCT caseid) FROM versions")
    report.versions_superseded = _count(con, "SELECT count(*) FROM versions WHERE rank > 1")
    report.cases_deleted = _count(
        con, "SELECT count(DISTINCT caseid) FROM versions WHERE caseid IN (SELECT caseid FROM deleted_list)"
    )
    con.execute(
        "CREATE TEMP TABLE kept AS SELECT primaryid, quarter FROM versions"
        " WHERE rank = 1 AND caseid NOT IN (SELECT caseid FROM deleted_list)"
    )
    report.reports_kept = _count(con, "SELECT count(*) FROM kept")
    for table, columns in FAERS_COLUMNS.items():
        stage = f"stage_{table.lower()}"
        select = [_typed(c) for c in columns]
        if table == "DRUG":
            select.append(f"coalesce({_normalised('prod_ai', True)}, {_normalised('drugname', True)}) AS product")
            select = [c if c != "role_cod" else "upper(trim(role_cod)) AS role_cod" for c in select]
        if table == "REAC":
            select = [c if c != "pt" else f"{_normalised('pt', False)} AS pt" for c in select]
        if table == "INDI":
            select = [c if c != "indi_pt" else f"{_normalised('indi_pt', False)} AS indi_pt" for c in select]
        typed = f"SELECT {', '.join(select)}, s.quarter FROM {stage} s"
        if table == "DEMO":
            typed += " QUALIFY row_number() OVER (PARTITION BY primaryid, quarter) = 1"
        out = out_dir / f"{table.lower()}.parquet"
        con.execute(
            f"COPY (SELECT t.* FROM ({typed}) t SEMI JOIN kept k ON k.primaryid = t.primaryid"
            f" AND k.quarter = t.quarter ORDER BY t.primaryid) TO '{_sql_path(out)}' (FORMAT parquet)"
        )
        report.tables[table.lower()] = _count(con, f"SELECT count(*) FROM read_parquet('{_sql_path(out)}')")
        if table != "DEMO":
            report.orphan_rows[table.lower()] = _count(
                con,
                f"SELECT count(*) FROM {stage} s ANTI JOIN versions v"
                f" ON v.primaryid = try_cast(trim(s.primaryid) AS BIGINT) AND v.quarter = s.quarter",
            )


def progress_context(enabled: bool) -> AbstractContextManager[Any]:
    """A rich progress display (one bar per file) when ``enabled``, else a null context."""
    if not enabled:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
