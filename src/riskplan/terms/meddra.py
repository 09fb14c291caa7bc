"""Loading a user's MedDRA release from the MedDRA ASCII distribution files, and looking terms up.

MedDRA is licensed by the ICH through the MSSO; riskplan never ships it. A user loads their own
release with ``riskplan terms load-meddra DIR`` where ``DIR`` holds the files of the release's
``MedAscii`` folder (or is the folder above it). The layout of each file follows the MedDRA ASCII
file specification ("MedDRA Distribution File Format"): one record per line, every field followed by
a ``$`` (so a line ends with ``$``), no header. The fields riskplan reads are:

================  ============================================================================
file              fields (in order; ``*`` = read, the rest are legacy cross-references)
================  ============================================================================
llt.asc           llt_code*, llt_name*, pt_code*, llt_whoart_code, llt_harts_code,
                  llt_costart_sym, llt_icd9_code, llt_icd9cm_code, llt_icd10_code,
                  llt_currency*, llt_jart_code                                       (11)
pt.asc            pt_code*, pt_name*, null_field, pt_soc_code*, pt_whoart_code, pt_harts_code,
                  pt_costart_sym, pt_icd9_code, pt_icd9cm_code, pt_icd10_code, pt_jart_code (11)
hlt.asc           hlt_code*, hlt_name*, + 7 legacy fields                             (9)
hlgt.asc          hlgt_code*, hlgt_name*, + 7 legacy fields                           (9)
soc.asc           soc_code*, soc_name*, soc_abbrev*, + 7 legacy fields                (10)
hlt_pt.asc        hlt_code*, pt_code*                                                 (2)
hlgt_hlt.asc      hlgt_code*, hlt_code*                                               (2)
soc_hlgt.asc      soc_code*, hlgt_code*                                               (2)
mdhier.asc        pt_code*, hlt_code*, hlgt_code*, soc_code*, pt_name, hlt_name, hlgt_name,
                  soc_name, soc_abbrev, null_field, pt_soc_code*, primary_soc_fg*     (12)
meddra_release    version*, language* (optional file)
smq_list.asc,     the Standardised MedDRA Queries (optional, but both or neither): see
smq_content.asc   :mod:`riskplan.terms.smq`
================  ============================================================================

Codes are 8-digit numbers; ``llt_currency`` and ``primary_soc_fg`` are ``Y`` or ``N``. The files are
in the release's own encoding: UTF-8 for recent releases, Windows-1252 (a superset of Latin-1 for
printable characters) for older ones; one release uses one encoding.

Loading validates everything before writing anything, and writes in the caller's transaction, so a
broken release leaves the database as it was (:class:`MeddraLoadError` names the file, the line and
the reason). Releases are never overwritten: loading a version that is already loaded is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Table, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from riskplan.errors import NotFoundError, UserInputError
from riskplan.store import Base, record_change, utcnow
from riskplan.terms.smq import SMQ_FILES, ParsedSmqs, parse_smqs
from riskplan.terms.tables import (
    NAME_LENGTH,
    VERSION_LENGTH,
    MeddraHierarchy,
    MeddraHlgt,
    MeddraHlt,
    MeddraLlt,
    MeddraPt,
    MeddraRelease,
    MeddraSmq,
    MeddraSmqTerm,
    MeddraSoc,
)
from riskplan.terms.text import fold_term

__all__ = [
    "FIELD_COUNTS",
    "RELEASE_FILE",
    "LoadProgress",
    "MeddraLoadError",
    "SocOfPt",
    "current_release",
    "find_llt",
    "get_release",
    "iter_llts",
    "list_releases",
    "load_meddra",
    "primary_soc_of_pt",
    "pt_by_name",
    "pt_of_llt",
    "release_counts",
    "release_sort_key",
    "resolve_release",
    "socs_of_pt",
]

# Number of $-terminated fields per record, MedDRA ASCII file specification.
FIELD_COUNTS: Mapping[str, int] = {
    "llt.asc": 11,
    "pt.asc": 11,
    "hlt.asc": 9,
    "hlt_pt.asc": 2,
    "hlgt.asc": 9,
    "hlgt_hlt.asc": 2,
    "soc.asc": 10,
    "soc_hlgt.asc": 2,
    "mdhier.asc": 12,
}
RELEASE_FILE = "meddra_release.asc"
_VERSION_PATTERN = re.compile(r"\d{1,3}\.\d{1,2}")
_CHUNK = 5_000


class MeddraLoadError(UserInputError):
    """A MedDRA release that cannot be loaded; nothing was written.

    ``file`` and ``line`` (1-based) say where, ``reason`` says what is wrong.
    """

    def __init__(self, reason: str, *, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = file or ""
        if file and line is not None:
            where = f"{file}, line {line}"
        super().__init__(f"{where}: {reason}" if where else reason)


class LoadProgress(Protocol):
    """Called while loading: ``stage`` ("reading", "checking", "writing"), work done and total."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...


# --- reading the files -----------------------------------------------------------------------------


def _locate(directory: Path) -> tuple[Path, dict[str, Path]]:
    """The folder holding the ``.asc`` files and each file by its lower-case name.

    File names are matched case-insensitively (old releases shipped ``LLT.ASC``); a ``MedAscii``
    sub-folder, as in the MSSO download, is used when ``directory`` itself has no ``.asc`` files.
    """
    if not directory.exists():
        raise MeddraLoadError(f"{directory}: no such directory")
    if not directory.is_dir():
        raise MeddraLoadError(f"{directory}: not a directory (give the folder holding llt.asc, pt.asc, ...)")

    def asc_files(folder: Path) -> dict[str, Path]:
        return {p.name.lower(): p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".asc"}

    files = asc_files(directory)
    if not files:
        for sub in directory.iterdir():
            if sub.is_dir() and sub.name.lower() == "medascii":
                directory, files = sub, asc_files(sub)
                break
    missing = [name for name in FIELD_COUNTS if name not in files]
    smq_present = [name for name in SMQ_FILES if name in files]
    if smq_present and len(smq_present) < len(SMQ_FILES):
        missing += [name for name in SMQ_FILES if name not in files]
    if missing:
        raise MeddraLoadError(
            f"{directory}: missing MedDRA ASCII file(s) {', '.join(missing)}; a release needs all of "
            f"{', '.join(FIELD_COUNTS)}, and {' and '.join(SMQ_FILES)} together or neither"
        )
    return directory, files


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode_release(raw: Mapping[str, bytes]) -> tuple[dict[str, str], str]:
    """Decode every file with one encoding: UTF-8 if all files are UTF-8, else Windows-1252.

    A release mixing encodings (one file with UTF-8 accents, another with Windows-1252 bytes) is
    refused with the file and line of the first byte that is not UTF-8.
    """
    failures: dict[str, UnicodeDecodeError] = {}
    utf8_with_accents: list[str] = []
    texts: dict[str, str] = {}
    for name, data in raw.items():
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            failures[name] = exc
            continue
        texts[name] = text
        if not data.isascii():
            utf8_with_accents.append(name)
    if not failures:
        return texts, "utf-8"
    if utf8_with_accents:
        bad_name, bad = next(iter(failures.items()))
        raise MeddraLoadError(
            f"byte 0x{raw[bad_name][bad.start]:02x} is not UTF-8, but {', '.join(utf8_with_accents)} "
            "of the same release are UTF-8 with non-ASCII characters; a release must use one encoding",
            file=bad_name,
            line=_line_of(raw[bad_name], bad.start),
        )
    texts = {}
    for name, data in raw.items():
        try:
            texts[name] = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise MeddraLoadError(
                f"byte 0x{data[exc.start]:02x} is neither UTF-8 nor Windows-1252 text",
                file=name,
                line=_line_of(data, exc.start),
            ) from None
    return texts, "cp1252"


def _records(name: str, text: str, n_fields: int | None) -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` of each record; ``n_fields`` None accepts any count (release file)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last record
    out: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            raise MeddraLoadError("empty line; every line must be one $-delimited record", file=name, line=number)
        parts = line.split("$")
        if parts[-1] != "":
            raise MeddraLoadError(
                f"the record does not end with '$' (found {parts[-1][:20]!r} after the last '$'); "
                "every field is followed by '$' in the MedDRA ASCII format",
                file=name,
                line=number,
            )
        fields = parts[:-1]
        if n_fields is not None and len(fields) != n_fields:
            raise MeddraLoadError(
                f"found {len(fields)} $-delimited fields, expected {n_fields}", file=name, line=number
            )
        out.append((number, fields))
    return out


def _code(value: str, what: str, name: str, line: int) -> int:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        raise MeddraLoadError(f"{what} {value!r} is not an 8-digit MedDRA code", file=name, line=line)
    return int(value)


def _name(value: str, what: str, name: str, line: int) -> str:
    text = value.strip()
    if not text:
        raise MeddraLoadError(f"{what} is empty", file=name, line=line)
    if len(text) > NAME_LENGTH:
        raise MeddraLoadError(f"{what} is longer than {NAME_LENGTH} characters", file=name, line=line)
    return text


def _flag(value: str, what: str, name: str, line: int) -> bool:
    if value not in ("Y", "N"):
        raise MeddraLoadError(f"{what} {value!r} must be 'Y' or 'N'", file=name, line=line)
    return value == "Y"


def _unique(seen: dict[Any, int], key: Any, what: str, name: str, line: int) -> None:
    first = seen.setdefault(key, line)
    if first != line:
        raise MeddraLoadError(f"duplicate {what} (first on line {first})", file=name, line=line)


def _known(code: int, known: Mapping[int, Any], what: str, defined_in: str, name: str, line: int) -> None:
    if code not in known:
        raise MeddraLoadError(f"{what} {code} is not in {defined_in}", file=name, line=line)


@dataclass
class _Parsed:
    """A validated release in memory, ready to insert."""

    version: str
    language: str | None
    encoding: str
    socs: dict[int, dict[str, Any]] = field(default_factory=dict)
    hlgts: dict[int, dict[str, Any]] = field(default_factory=dict)
    hlts: dict[int, dict[str, Any]] = field(default_factory=dict)
    pts: dict[int, dict[str, Any]] = field(default_factory=dict)
    llts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[dict[str, Any]] = field(default_factory=list)


def _parse_release_file(text: str | None, version: str | None, language: str | None) -> tuple[str, str | None]:
    """Version and language from ``meddra_release.asc`` (``version$language$...``) and/or the caller."""
    file_version: str | None = None
    file_language: str | None = None
    if text is not None:
        records = _records(RELEASE_FILE, text, None)
        if not records:
            raise MeddraLoadError("empty file; expected 'version$language$'", file=RELEASE_FILE, line=1)
        line, fields = records[0]
        file_version = fields[0].strip() if fields else ""
        file_language = fields[1].strip() or None if len(fields) > 1 else None
        if not _VERSION_PATTERN.fullmatch(file_version):
            raise MeddraLoadError(
                f"release version {file_version!r} is not a MedDRA version such as '27.1'",
                file=RELEASE_FILE,
                line=line,
            )
    if version is not None:
        version = version.strip()
        if not _VERSION_PATTERN.fullmatch(version):
            raise MeddraLoadError(f"release version {version!r} is not a MedDRA version such as '27.1'")
        if file_version is not None and file_version != version:
            raise MeddraLoadError(
                f"the release file says version {file_version}, but version {version} was given",
                file=RELEASE_FILE,
                line=1,
            )
    chosen = version or file_version
    if chosen is None:
        raise MeddraLoadError(f"no {RELEASE_FILE} in the release folder: give the version (e.g. --version 27.1)")
    assert len(chosen) <= VERSION_LENGTH
    return chosen, language or file_language


def _parse(texts: Mapping[str, str], version: str, language: str | None, encoding: str) -> _Parsed:
    """Validate every record and every cross-reference; raise on the first problem."""
    rel = _Parsed(version=version, language=language, encoding=encoding)

    seen: dict[Any, int] = {}
    for line, f in _records("soc.asc", texts["soc.asc"], FIELD_COUNTS["soc.asc"]):
        code = _code(f[0], "soc_code", "soc.asc", line)
        _unique(seen, code, f"soc_code {code}", "soc.asc", line)
        soc_name = _name(f[1], "soc_name", "soc.asc", line)
        abbrev = f[2].strip()
        if not abbrev or len(abbrev) > 20:
            raise MeddraLoadError(f"soc_abbrev {f[2]!r} must be 1 to 20 characters", file="soc.asc", line=line)
        rel.socs[code] = {
            "release_version": version,
            "soc_code": code,
            "soc_name": soc_name,
            "soc_name_folded": fold_term(soc_name),
            "soc_abbrev": abbrev,
        }

    for level, target in (("hlgt", rel.hlgts), ("hlt", rel.hlts)):
        file = f"{level}.asc"
        seen = {}
        for line, f in _records(file, texts[file], FIELD_COUNTS[file]):
            code = _code(f[0], f"{level}_code", file, line)
            _unique(seen, code, f"{level}_code {code}", file, line)
            term = _name(f[1], f"{level}_name", file, line)
            target[code] = {
                "release_version": version,
                f"{level}_code": code,
                f"{level}_name": term,
                f"{level}_name_folded": fold_term(term),
            }

    seen = {}
    for line, f in _records("pt.asc", texts["pt.asc"], FIELD_COUNTS["pt.asc"]):
        code = _code(f[0], "pt_code", "pt.asc", line)
        _unique(seen, code, f"pt_code {code}", "pt.asc", line)
        term = _name(f[1], "pt_name", "pt.asc", line)
        soc = _code(f[3], "pt_soc_code", "pt.asc", line)
        _known(soc, rel.socs, "primary SOC (pt_soc_code)", "soc.asc", "pt.asc", line)
        rel.pts[code] = {
            "release_version": version,
            "pt_code": code,
            "pt_name": term,
            "pt_name_folded": fold_term(term),
            "primary_soc_code": soc,
        }

    seen = {}
    for line, f in _records("llt.asc", texts["llt.asc"], FIELD_COUNTS["llt.asc"]):
        code = _code(f[0], "llt_code", "llt.asc", line)
        _unique(seen, code, f"llt_code {code}", "llt.asc", line)
        term = _name(f[1], "llt_name", "llt.asc", line)
        pt = _code(f[2], "pt_code", "llt.asc", line)
        _known(pt, rel.pts, "PT", "pt.asc", "llt.asc", line)
        rel.llts.append(
            {
                "release_version": version,
                "llt_code": code,
                "llt_name": term,
                "llt_name_folded": fold_term(term),
                "pt_code": pt,
                "is_current": _flag(f[9], "llt_currency", "llt.asc", line),
            }
        )

    # The link files: each pair must name existing terms (MedDRA ASCII specification, 2-field files).
    links: dict[str, set[tuple[int, int]]] = {}
    for file, (upper, upper_known, upper_file), (lower, lower_known, lower_file) in (
        ("soc_hlgt.asc", ("soc", rel.socs, "soc.asc"), ("hlgt", rel.hlgts, "hlgt.asc")),
        ("hlgt_hlt.asc", ("hlgt", rel.hlgts, "hlgt.asc"), ("hlt", rel.hlts, "hlt.asc")),
        ("hlt_pt.asc", ("hlt", rel.hlts, "hlt.asc"), ("pt", rel.pts, "pt.asc")),
    ):
        pairs: set[tuple[int, int]] = set()
        seen = {}
        for line, f in _records(file, texts[file], FIELD_COUNTS[file]):
            a = _code(f[0], f"{upper}_code", file, line)
            b = _code(f[1], f"{lower}_code", file, line)
            _known(a, upper_known, upper.upper(), upper_file, file, line)
            _known(b, lower_known, lower.upper(), lower_file, file, line)
            _unique(seen, (a, b), f"link {a} -> {b}", file, line)
            pairs.add((a, b))
        links[file] = pairs

    # mdhier.asc: every path must exist in the link files and the primary SOC must be the PT's own.
    primary_seen: set[int] = set()
    seen = {}
    for line, f in _records("mdhier.asc", texts["mdhier.asc"], FIELD_COUNTS["mdhier.asc"]):
        pt = _code(f[0], "pt_code", "mdhier.asc", line)
        hlt = _code(f[1], "hlt_code", "mdhier.asc", line)
        hlgt = _code(f[2], "hlgt_code", "mdhier.asc", line)
        soc = _code(f[3], "soc_code", "mdhier.asc", line)
        pt_soc = _code(f[10], "pt_soc_code", "mdhier.asc", line)
        primary = _flag(f[11], "primary_soc_fg", "mdhier.asc", line)
        _known(pt, rel.pts, "PT", "pt.asc", "mdhier.asc", line)
        _known(hlt, rel.hlts, "HLT", "hlt.asc", "mdhier.asc", line)
        _known(hlgt, rel.hlgts, "HLGT", "hlgt.asc", "mdhier.asc", line)
        _known(soc, rel.socs, "SOC", "soc.asc", "mdhier.asc", line)
        for pair, file in (
            ((hlt, pt), "hlt_pt.asc"),
            ((hlgt, hlt), "hlgt_hlt.asc"),
            ((soc, hlgt), "soc_hlgt.asc"),
        ):
            if pair not in links[file]:
                raise MeddraLoadError(
                    f"path PT {pt} -> HLT {hlt} -> HLGT {hlgt} -> SOC {soc}: link {pair[0]} -> {pair[1]} "
                    f"is not in {file}",
                    file="mdhier.asc",
                    line=line,
                )
        own_soc = rel.pts[pt]["primary_soc_code"]
        if pt_soc != own_soc:
            raise MeddraLoadError(
                f"pt_soc_code {pt_soc} of PT {pt} differs from its pt_soc_code {own_soc} in pt.asc",
                file="mdhier.asc",
                line=line,
            )
        if primary and soc != own_soc:
            raise MeddraLoadError(
                f"path of PT {pt} is flagged primary but its SOC {soc} is not the PT's primary SOC {own_soc}",
                file="mdhier.asc",
                line=line,
            )
        _unique(seen, (pt, hlt, hlgt, soc), f"path {pt} -> {hlt} -> {hlgt} -> {soc}", "mdhier.asc", line)
        if primary:
            primary_seen.add(pt)
        rel.paths.append(
            {
                "release_version": version,
                "pt_code": pt,
                "hlt_code": hlt,
                "hlgt_code": hlgt,
                "soc_code": soc,
                "is_primary": primary,
            }
        )
    without_primary = [code for code in rel.pts if code not in primary_seen]
    if without_primary:
        shown = ", ".join(str(c) for c in without_primary[:5])
        more = f" and {len(without_primary) - 5} more" if len(without_primary) > 5 else ""
        raise MeddraLoadError(
            f"{len(without_primary)} PT(s) of pt.asc have no primary SOC path (primary_soc_fg 'Y'): {shown}{more}",
            file="mdhier.asc",
        )
    return rel


# --- loading ---------------------------------------------------------------------------------------


def _insert_chunks(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    progress: LoadProgress | None,
    done: int,
    total: int,
) -> int:
    """Core INSERT ... executemany in chunks: no ORM objects for 100,000+ rows."""
    table = model.__table__
    assert isinstance(table, Table)
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        session.execute(insert(table), list(chunk))
        done += len(chunk)
        if progress is not None:
            progress("writing", done, total)
    return done


def load_meddra(
    session: Session,
    directory: Path,
    *,
    who: str,
    version: str | None = None,
    language: str | None = None,
    progress: LoadProgress | None = None,
) -> MeddraRelease:
    """Load the MedDRA release in ``directory`` (its ASCII files) and return its release row.

    Every file and every record is checked before anything is written; on any problem
    :class:`MeddraLoadError` says which file, which line and why, and the session is left without
    any of the release's rows. The version comes from ``meddra_release.asc`` (or ``version`` when
    the release has no such file). A version already loaded is refused: releases are never
    overwritten. The load is recorded in the audit trail (entity type ``meddra_release``).
    """
    directory = Path(directory)
    folder, files = _locate(directory)
    wanted = [*FIELD_COUNTS, *(name for name in (*SMQ_FILES, RELEASE_FILE) if name in files)]
    raw: dict[str, bytes] = {}
    for index, name in enumerate(wanted, start=1):
        raw[name] = files[name].read_bytes()
        if progress is not None:
            progress("reading", index, len(wanted))
    checksums = {name: hashlib.sha256(data).hexdigest() for name, data in raw.items()}
    texts, encoding = _decode_release(raw)

    version, language = _parse_release_file(texts.get(RELEASE_FILE), version, language)
    existing = session.get(MeddraRelease, version)
    if existing is not None:
        raise MeddraLoadError(
            f"MedDRA {version} is already loaded (on {existing.loaded_at:%Y-%m-%d %H:%M} by "
            f"{existing.loaded_by}, from {existing.source_dir}); a loaded release is never overwritten"
        )
    if progress is not None:
        progress("checking", 0, 1)
    rel = _parse(texts, version, language, encoding)
    smqs = ParsedSmqs()
    if "smq_list.asc" in texts:
        smqs = parse_smqs(
            lambda file: _records(file, texts[file], SMQ_FILES[file]),
            MeddraLoadError,
            version,
            rel.pts,
            {row["llt_code"] for row in rel.llts},
        )
    if progress is not None:
        progress("checking", 1, 1)

    release = MeddraRelease(
        version=version,
        language=language,
        loaded_at=utcnow(),
        loaded_by=who,
        source_dir=str(folder.resolve()),
        encoding=encoding,
        checksums_json=json.dumps(checksums, sort_keys=True),
        soc_count=len(rel.socs),
        hlgt_count=len(rel.hlgts),
        hlt_count=len(rel.hlts),
        pt_count=len(rel.pts),
        llt_count=len(rel.llts),
        hierarchy_count=len(rel.paths),
    )
    session.add(release)
    try:
        session.flush()
    except IntegrityError:  # another process loaded the same version a moment ago
        raise MeddraLoadError(
            f"MedDRA {version} was loaded by someone else while this load was running; "
            "a loaded release is never overwritten"
        ) from None
    batches: list[tuple[type[Base], Sequence[dict[str, Any]]]] = [
        (MeddraSoc, list(rel.socs.values())),
        (MeddraHlgt, list(rel.hlgts.values())),
        (MeddraHlt, list(rel.hlts.values())),
        (MeddraPt, list(rel.pts.values())),
        (MeddraLlt, rel.llts),
        (MeddraHierarchy, rel.paths),
        (MeddraSmq, list(smqs.smqs.values())),
        (MeddraSmqTerm, smqs.terms),
    ]
    total = sum(len(rows) for _, rows in batches)
    done = 0
    for table, rows in batches:
        done = _insert_chunks(session, table, rows, progress, done, total)
    record_change(
        session,
        who=who,
        entity_type="meddra_release",
        entity_id=version,
        action="load",
        changes={
            "release": (
                None,
                {
                    "version": version,
                    "language": language,
                    "encoding": encoding,
                    "source_dir": release.source_dir,
                    "counts": release_counts(release),
                    "checksums_sha256": checksums,
                },
            )
        },
        reason=f"MedDRA {version} loaded from {release.source_dir}",
    )
    session.flush()
    return release


def release_counts(release: MeddraRelease) -> dict[str, int]:
    """Terms per level of a loaded release, as stored when it was loaded."""
    return {
        "SOC": release.soc_count,
        "HLGT": release.hlgt_count,
        "HLT": release.hlt_count,
        "PT": release.pt_count,
        "LLT": release.llt_count,
        "hierarchy paths": release.hierarchy_count,
        **_smq_counts(release),
    }


def _smq_counts(release: MeddraRelease) -> dict[str, int]:
    session = object_session(release)
    if session is None:
        return {}
    smqs = session.scalar(select(func.count()).where(MeddraSmq.release_version == release.version)) or 0
    terms = session.scalar(select(func.count()).where(MeddraSmqTerm.release_version == release.version)) or 0
    return {"SMQ": int(smqs), "SMQ terms": int(terms)}


# --- querying --------------------------------------------------------------------------------------


def release_sort_key(version: str) -> tuple[int, ...]:
    """``"9.1" < "10.0" < "27.1"``: versions compare as numbers, not strings."""
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def list_releases(session: Session) -> list[MeddraRelease]:
    """All loaded releases, newest MedDRA version first."""
    releases = list(session.scalars(select(MeddraRelease)))
    return sorted(releases, key=lambda r: release_sort_key(r.version), reverse=True)


def release_loaded() -> ColumnElement[bool]:
    """A SQL expression: whether any MedDRA release is loaded (:func:`current_release` is not None)."""
    return exists(select(MeddraRelease.version))


def current_release(session: Session) -> MeddraRelease | None:
    """The release used by default: the highest MedDRA version loaded (None when none is loaded).

    MedDRA Term Selection: Points to Consider recommends coding with the latest MedDRA version; an
    older release stays loaded for data coded with it and can be named explicitly.
    """
    releases = list_releases(session)
    return releases[0] if releases else None


def get_release(session: Session, version: str) -> MeddraRelease:
    release = session.get(MeddraRelease, version)
    if release is None:
        loaded = ", ".join(r.version for r in list_releases(session)) or "none"
        raise NotFoundError(f"MedDRA {version} is not loaded (loaded: {loaded})")
    return release


def resolve_release(session: Session, release: MeddraRelease | str | None = None) -> MeddraRelease:
    """The named release, or the current one; a clear error when none is loaded."""
    if isinstance(release, MeddraRelease):
        return release
    if release is not None:
        return get_release(session, release)
    current = current_release(session)
    if current is None:
        raise NotFoundError("no MedDRA release is loaded; load one with `riskplan terms load-meddra DIR`")
    return current


def find_llt(session: Session, name_or_code: str | int, release: MeddraRelease | str | None = None) -> MeddraLlt | None:
    """The LLT with this code, or with this name ignoring case and white space.

    When a name is shared by a current and a non-current LLT, the current one is returned.
    """
    rel = resolve_release(session, release)
    text = str(name_or_code).strip()
    stmt = select(MeddraLlt).where(MeddraLlt.release_version == rel.version)
    if text.isascii() and text.isdigit():
        return session.scalars(stmt.where(MeddraLlt.llt_code == int(text))).first()
    stmt = stmt.where(MeddraLlt.llt_name_folded == fold_term(text)).order_by(
        MeddraLlt.is_current.desc(), MeddraLlt.llt_code
    )
    return session.scalars(stmt).first()


def pt_of_llt(session: Session, llt_code: int, release: MeddraRelease | str | None = None) -> MeddraPt | None:
    """The PT an LLT belongs to."""
    rel = resolve_release(session, release)
    stmt = (
        select(MeddraPt)
        .join(
            MeddraLlt,
            (MeddraLlt.release_version == MeddraPt.release_version) & (MeddraLlt.pt_code == MeddraPt.pt_code),
        )
        .where(MeddraLlt.release_version == rel.version, MeddraLlt.llt_code == llt_code)
    )
    return session.scalars(stmt).first()


def pt_by_name(session: Session, name: str, release: MeddraRelease | str | None = None) -> MeddraPt | None:
    """The PT with this name, ignoring case and white space."""
    rel = resolve_release(session, release)
    stmt = select(MeddraPt).where(MeddraPt.release_version == rel.version, MeddraPt.pt_name_folded == fold_term(name))
    return session.scalars(stmt).first()


def primary_soc_of_pt(session: Session, pt_code: int, release: MeddraRelease | str | None = None) -> MeddraSoc | None:
    """The primary SOC of a PT (MedDRA Introductory Guide: each PT has exactly one primary SOC)."""
    rel = resolve_release(session, release)
    stmt = (
        select(MeddraSoc)
        .join(
            MeddraPt,
            (MeddraPt.release_version == MeddraSoc.release_version) & (MeddraPt.primary_soc_code == MeddraSoc.soc_code),
        )
        .where(MeddraPt.release_version == rel.version, MeddraPt.pt_code == pt_code)
    )
    return session.scalars(stmt).first()


@dataclass(frozen=True)
class SocOfPt:
    """A SOC a PT is linked to through the hierarchy, and whether it is the PT's primary SOC."""

    soc_code: int
    soc_name: str
    soc_abbrev: str
    is_primary: bool


def socs_of_pt(session: Session, pt_code: int, release: MeddraRelease | str | None = None) -> list[SocOfPt]:
    """Every SOC of a multi-axial PT (through ``mdhier.asc``), the primary SOC first, then by name."""
    rel = resolve_release(session, release)
    stmt = (
        select(MeddraSoc, MeddraHierarchy.is_primary)
        .join(
            MeddraHierarchy,
            (MeddraHierarchy.release_version == MeddraSoc.release_version)
            & (MeddraHierarchy.soc_code == MeddraSoc.soc_code),
        )
        .where(MeddraHierarchy.release_version == rel.version, MeddraHierarchy.pt_code == pt_code)
    )
    found: dict[int, SocOfPt] = {}
    for soc, primary in session.execute(stmt).all():
        known = found.get(soc.soc_code)
        found[soc.soc_code] = SocOfPt(
            soc.soc_code,
            soc.soc_name,
            soc.soc_abbrev,
            bool(primary) or (known is not None and known.is_primary),
        )
    return sorted(found.values(), key=lambda s: (not s.is_primary, s.soc_name))


def iter_llts(session: Session, release: MeddraRelease) -> Iterable[tuple[int, str, int, bool]]:
    """``(llt_code, llt_name, pt_code, is_current)`` of every LLT of a release, streamed."""
    stmt = select(MeddraLlt.llt_code, MeddraLlt.llt_name, MeddraLlt.pt_code, MeddraLlt.is_current).where(
        MeddraLlt.release_version == release.version
    )
    for code, term, pt, current in session.execute(stmt):
        yield int(code), str(term), int(pt), bool(current)
