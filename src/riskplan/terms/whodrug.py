"""Loading a user's WHODrug Global release (B3 or C3 format) and looking drugs up.

WHODrug is licensed by the Uppsala Monitoring Centre (UMC); riskplan never ships it. A user loads their
own release with ``riskplan terms load-whodrug DIR --version ...``; ``DIR`` holds the release's ``.txt``
files. The format is told by the files: ``DD.txt`` is B3 (the unique key is the drug code), ``MP.txt`` is
C3 (the unique key is the Medicinal Product ID; C3 holds the B3 information plus country, marketing
authorisation holder, form and strength).

Sources read for the layouts (cited; nothing of them is copied):

* UMC, "WHODrug Implementation Guide B3- and C3-formats" (April 2018, docslib.org copy): the two formats and
  that C3 holds the B3 information plus country, marketing authorisation holder, form and strength;
* UMC news "Upcoming changes to the WHODrug Global files" (who-umc.org, 2021) and Oracle Argus Safety 8.4
  "WHODrug Global dictionary updates": the files are ``.txt``/``.csv``; substance names in ``BNA`` (B3) and
  ``SUN`` (C3) are up to 250 characters from the March 2022 release;
* Oracle Argus Safety 8.4 "Difference between B-format and C-format": the drug code is the B3 key, the
  Medicinal Product ID the C3 key;
* "Drug Code in detail" (onestopknowledgezone, 2010): the drug code is drug record number + sequence
  number 1 (the salt or ester) + sequence number 2 (the trade name or synonym); the drug record number
  identifies the active ingredient(s);
* candelbio "alzabo" drug schema: the drug record number is the first six characters of the drug code, the
  preferred name has seq 1 ``01`` and seq 2 ``001`` (hence widths 6, 2 and 3).

UMC's own file description (the byte layout of every file) is supplied to licensees and could not be read
for this module: the widths of the fields other than those above are riskplan's layout, declared once in
:data:`LAYOUTS`. Check them against the description that comes with your release before loading it; a
record that does not fit is refused with its file and line, never loaded askew. The text files are fixed
width, one record a line, no header. The last field of a line is its name and may be shorter than its full
width (trailing blanks are often trimmed). riskplan reads:

========  ====================================================================================
file      fields (width)
========  ====================================================================================
B3 DD     drug record number (6), seq 1 (2), seq 2 (3), check digit (1), designation (1),
          source year (2), source code (5), company code (5), number of ingredients (2),
          salt/ester code (1), year quarter (3), drug name (up to 1500)
B3 ING    create date (8), drug record number (6), seq 1 (2), seq 2 (3), substance number (10)
B3 BNA    substance number (10), CAS number (10), language code (2), substance name (up to 250)
B3 DDA    drug record number (6), seq 1 (2), seq 2 (3), check digit (1), ATC code (7),
          year quarter (3), official ATC flag (1)
INA       ATC code (7), ATC level (1), ATC text (up to 110)                       (B3 and C3)
C3 MP     Medicinal Product ID (10), drug record number (6), seq 1 (2), seq 2 (3), seq 3 (10),
          seq 4 (3), generic flag (1), drug name (80), name specifier (up to 30)
C3 ING    create date (8), Medicinal Product ID (10), substance number (10)
C3 SUN    substance number (10), CAS number (10), language code (2), substance name (up to 250)
C3 ThG    Medicinal Product ID (10), ATC code (7), create date (8), official ATC flag (1)
========  ====================================================================================

In B3 an ``ING`` or ``DDA`` row names a drug code; its ingredient or ATC class applies to every name with
the same drug record number and seq 1 (the drug record number identifies the active ingredient(s), seq 1
the salt or ester form, seq 2 only the name: trade names and synonyms share their record's ingredients).

Loading is strict, like MedDRA's (:mod:`riskplan.terms.meddra`): every file and record is checked before
anything is written; a missing file, a malformed record or a reference to a record that does not exist
is a :class:`WhodrugLoadError` naming the file and the line. A version already loaded is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.store import record_change, utcnow
from riskplan.terms.drug_names import normalise_drug_name
from riskplan.terms.text import fold_term
from riskplan.terms.whodrug_tables import (
    DRUG_NAME_LENGTH,
    SUBSTANCE_NAME_LENGTH,
    WHODRUG_VERSION_LENGTH,
    WhodrugAtc,
    WhodrugIngredient,
    WhodrugProduct,
    WhodrugRelease,
)

__all__ = [
    "LAYOUTS",
    "WHODRUG_VERSION_PREFIX",
    "WhodrugDrug",
    "WhodrugLoadError",
    "atc_of_products",
    "current_whodrug",
    "get_whodrug_drug",
    "list_whodrug_releases",
    "load_whodrug",
    "whodrug_names",
]

# (field, width); a width of None is the rest of the line (the name that ends a record)
Layout = tuple[tuple[str, int | None], ...]
LAYOUTS: Mapping[str, Mapping[str, Layout]] = {
    "B3": {
        "DD": (
            ("drecno", 6),
            ("seq1", 2),
            ("seq2", 3),
            ("check", 1),
            ("designation", 1),
            ("source_year", 2),
            ("source_code", 5),
            ("company_code", 5),
            ("n_ingredients", 2),
            ("salt", 1),
            ("year_quarter", 3),
            ("drug_name", None),
        ),
        "ING": (("create_date", 8), ("drecno", 6), ("seq1", 2), ("seq2", 3), ("substance", 10)),
        "BNA": (("substance", 10), ("cas", 10), ("language", 2), ("substance_name", None)),
        "DDA": (
            ("drecno", 6),
            ("seq1", 2),
            ("seq2", 3),
            ("check", 1),
            ("atc", 7),
            ("year_quarter", 3),
            ("official", 1),
        ),
        "INA": (("atc", 7), ("level", 1), ("atc_text", None)),
    },
    "C3": {
        "MP": (
            ("mpid", 10),
            ("drecno", 6),
            ("seq1", 2),
            ("seq2", 3),
            ("seq3", 10),
            ("seq4", 3),
            ("generic", 1),
            ("drug_name", 80),
            ("name_specifier", None),
        ),
        "ING": (("create_date", 8), ("mpid", 10), ("substance", 10)),
        "SUN": (("substance", 10), ("cas", 10), ("language", 2), ("substance_name", None)),
        "ThG": (("mpid", 10), ("atc", 7), ("create_date", 8), ("official", 1)),
        "INA": (("atc", 7), ("level", 1), ("atc_text", None)),
    },
}
_MAX_REST = {"drug_name": DRUG_NAME_LENGTH, "substance_name": SUBSTANCE_NAME_LENGTH, "atc_text": 110}
_WIDTHS = {fmt: {name: dict(layout) for name, layout in files.items()} for fmt, files in LAYOUTS.items()}
_NAME_FIELDS = frozenset({"drug_name", "substance_name", "atc_text"})
_ATC = re.compile(r"[A-Z](\d\d([A-Z]([A-Z](\d\d)?)?)?)?")  # WHO ATC levels 1 to 5: A, A10, A10B, A10BA, A10BA02
_CHUNK = 5_000


class WhodrugLoadError(UserInputError):
    """A WHODrug release that cannot be loaded; nothing was written (``file``, ``line``: where)."""

    def __init__(self, reason: str, *, file: str | None = None, line: int | None = None) -> None:
        self.file, self.line, self.reason = file, line, reason
        where = f"{file}, line {line}" if file and line is not None else (file or "")
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True)
class WhodrugDrug:
    """A product of a loaded release with its active ingredients and ATC classes."""

    release: str
    file_format: str
    product_id: str
    drug_code: str
    mpid: str | None
    drug_name: str
    name_specifier: str | None
    ingredients: tuple[str, ...]
    atc: tuple[tuple[str, str | None], ...]


# --- reading -----------------------------------------------------------------------------------------


def _locate(directory: Path) -> tuple[str, dict[str, Path]]:
    if not directory.is_dir():
        raise WhodrugLoadError(f"{directory}: no such directory (give the folder holding DD.txt or MP.txt)")
    files = {p.stem.upper(): p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".txt"}
    fmt = "C3" if "MP" in files else "B3" if "DD" in files else None
    if fmt is None:
        raise WhodrugLoadError(
            f"{directory}: neither DD.txt (B3 format) nor MP.txt (C3 format) is there; is this a WHODrug release?"
        )
    missing = [f"{name}.txt" for name in LAYOUTS[fmt] if name.upper() not in files]
    if missing:
        raise WhodrugLoadError(
            f"{directory}: missing WHODrug {fmt} file(s) {', '.join(missing)}; a {fmt} release needs all of "
            + ", ".join(f"{n}.txt" for n in LAYOUTS[fmt])
        )
    return fmt, {name: files[name.upper()] for name in LAYOUTS[fmt]}


def _decode(raw: Mapping[str, bytes]) -> tuple[dict[str, str], str]:
    """All files as UTF-8 when they all are, else Windows-1252 (older releases)."""
    try:
        return {name: data.decode("utf-8-sig") for name, data in raw.items()}, "utf-8"
    except UnicodeDecodeError:
        return {name: data.decode("cp1252", errors="strict") for name, data in raw.items()}, "cp1252"


def _records(fmt: str, name: str, text: str) -> list[tuple[int, dict[str, str]]]:
    """``(line number, fields)`` of each fixed-width record of ``name``; strict about widths and blanks."""
    layout = LAYOUTS[fmt][name]
    fixed = sum(width or 0 for _, width in layout)
    has_rest = layout[-1][1] is None
    # a record must reach its first name field; trailing blanks of a fixed-width name may be trimmed
    offsets = [sum(width or 0 for _, width in layout[:i]) for i in range(len(layout))]
    named = [offsets[i] for i, (f, _) in enumerate(layout) if f in _NAME_FIELDS]
    minimum = named[0] + 1 if named else fixed
    file = f"{name}.txt"
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out: list[tuple[int, dict[str, str]]] = []
    for number, line in enumerate(lines, start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            raise WhodrugLoadError("empty line; every line must be one record", file=file, line=number)
        if len(line) < minimum or (not has_rest and len(line.rstrip()) > fixed):
            expected = f"at least {minimum}" if named else f"{fixed}"
            raise WhodrugLoadError(
                f"the record is {len(line)} characters long, expected {expected} (WHODrug {fmt} {file} layout)",
                file=file,
                line=number,
            )
        line = line.ljust(fixed)
        fields: dict[str, str] = {}
        at = 0
        for field_name, width in layout:
            value = line[at:] if width is None else line[at : at + width]
            at += width or 0
            if width is None and len(value.rstrip()) > _MAX_REST.get(field_name, 250):
                raise WhodrugLoadError(
                    f"{field_name} is longer than {_MAX_REST.get(field_name, 250)} characters", file=file, line=number
                )
            fields[field_name] = value.strip()
        out.append((number, fields))
    return out


def _digits(fields: Mapping[str, str], names: Sequence[str], fmt: str, name: str, line: int) -> None:
    widths = _WIDTHS[fmt][name]
    for key in names:
        value = fields[key]
        if not (len(value) == widths[key] and value.isdigit() and value.isascii()):
            file = f"{name}.txt"
            raise WhodrugLoadError(f"{key} {value!r} is not a {widths[key]}-digit number", file=file, line=line)


def _atc(value: str, file: str, line: int) -> str:
    if not _ATC.fullmatch(value):
        raise WhodrugLoadError(f"ATC code {value!r} is not a WHO ATC code (e.g. M01AH01)", file=file, line=line)
    return value


def _name(value: str, what: str, file: str, line: int) -> str:
    if not value:
        raise WhodrugLoadError(f"{what} is empty", file=file, line=line)
    return value


@dataclass
class _Parsed:
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    ingredients: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    atcs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def _substances(fmt: str, texts: Mapping[str, str]) -> dict[str, tuple[str, str | None]]:
    name = "BNA" if fmt == "B3" else "SUN"
    file = f"{name}.txt"
    out: dict[str, tuple[str, str | None]] = {}
    for line, f in _records(fmt, name, texts[name]):
        _digits(f, ["substance"], fmt, name, line)
        if f["substance"] in out:
            raise WhodrugLoadError(f"duplicate substance number {f['substance']}", file=file, line=line)
        out[f["substance"]] = (_name(f["substance_name"], "substance name", file, line), f["cas"] or None)
    return out


def _atc_texts(fmt: str, texts: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line, f in _records(fmt, "INA", texts["INA"]):
        code = _atc(f["atc"], "INA.txt", line)
        if code in out:
            raise WhodrugLoadError(f"duplicate ATC code {code}", file="INA.txt", line=line)
        out[code] = _name(f["atc_text"], "ATC text", "INA.txt", line)
    return out


def _parse(fmt: str, texts: Mapping[str, str], version: str) -> _Parsed:
    parsed = _Parsed()
    substances = _substances(fmt, texts)
    atc_texts = _atc_texts(fmt, texts)
    by_code: dict[str, list[str]] = {}
    by_salt: dict[str, list[str]] = {}  # drug record number + seq 1: one substance in one salt / ester form
    main, ing_key = ("DD", ("drecno", "seq1", "seq2")) if fmt == "B3" else ("MP", ("mpid",))
    for line, f in _records(fmt, main, texts[main]):
        file = f"{main}.txt"
        _digits(f, ["drecno", "seq1", "seq2", *(["check"] if fmt == "B3" else ["mpid"])], fmt, main, line)
        drug_code = f["drecno"] + f["seq1"] + f["seq2"]
        product_id = drug_code if fmt == "B3" else f["mpid"]
        if product_id in parsed.products:
            what = "drug code" if fmt == "B3" else "Medicinal Product ID"
            raise WhodrugLoadError(f"duplicate {what} {product_id}", file=file, line=line)
        name = _name(f["drug_name"], "drug name", file, line)
        parsed.products[product_id] = {
            "release_version": version,
            "product_id": product_id,
            "drug_code": drug_code,
            "mpid": f["mpid"] if fmt == "C3" else None,
            "drug_name": name,
            "drug_name_folded": fold_term(name),
            "drug_name_normalised": normalise_drug_name(name) or fold_term(name),
            "name_specifier": (f.get("name_specifier") or None) if fmt == "C3" else None,
            "is_preferred_name": f["seq1"] == "01" and f["seq2"] == "001",
        }
        by_code.setdefault(drug_code, []).append(product_id)
        by_salt.setdefault(f["drecno"] + f["seq1"], []).append(product_id)
    for line, f in _records(fmt, "ING", texts["ING"]):
        _digits(f, [*ing_key, "substance"], fmt, "ING", line)
        key = "".join(f[k] for k in ing_key)
        if key not in (by_code if fmt == "B3" else parsed.products):
            raise WhodrugLoadError(
                f"{'drug code' if fmt == 'B3' else 'Medicinal Product ID'} {key} is not in {main}.txt",
                file="ING.txt",
                line=line,
            )
        if f["substance"] not in substances:
            other = "BNA.txt" if fmt == "B3" else "SUN.txt"
            raise WhodrugLoadError(f"substance number {f['substance']} is not in {other}", file="ING.txt", line=line)
        sub_name, cas = substances[f["substance"]]
        for product_id in by_salt[key[:8]] if fmt == "B3" else [key]:
            parsed.ingredients[(product_id, f["substance"])] = {
                "release_version": version,
                "product_id": product_id,
                "substance_id": f["substance"],
                "substance_name": sub_name,
                "cas_number": cas,
            }
    atc_file, atc_key = ("DDA", ("drecno", "seq1", "seq2")) if fmt == "B3" else ("ThG", ("mpid",))
    for line, f in _records(fmt, atc_file, texts[atc_file]):
        file = f"{atc_file}.txt"
        _digits(f, list(atc_key), fmt, atc_file, line)
        key = "".join(f[k] for k in atc_key)
        code = _atc(f["atc"], file, line)
        if key not in (by_code if fmt == "B3" else parsed.products):
            raise WhodrugLoadError(f"{key} is not in {main}.txt", file=file, line=line)
        if code not in atc_texts:
            raise WhodrugLoadError(f"ATC code {code} is not in INA.txt", file=file, line=line)
        for product_id in by_salt[key[:8]] if fmt == "B3" else [key]:
            parsed.atcs[(product_id, code)] = {
                "release_version": version,
                "product_id": product_id,
                "atc_code": code,
                "atc_text": atc_texts[code][:200],
            }
    return parsed


def load_whodrug(session: Session, directory: Path, *, who: str, version: str) -> WhodrugRelease:
    """Load the WHODrug Global release in ``directory`` (B3 or C3 ``.txt`` files) as ``version``.

    Everything is checked before anything is written; :class:`WhodrugLoadError` names the file and line of
    the first problem. A loaded version is never overwritten. The load is audited (``whodrug_release``).
    """
    version = version.strip()
    if not version or len(version) > WHODRUG_VERSION_LENGTH:
        raise WhodrugLoadError(
            f"release version must be 1 to {WHODRUG_VERSION_LENGTH} characters, e.g. 2026-Mar-01-GLOBALB3"
        )
    directory = Path(directory)
    fmt, files = _locate(directory)
    raw = {name: path.read_bytes() for name, path in files.items()}
    checksums = {f"{name}.txt": hashlib.sha256(data).hexdigest() for name, data in raw.items()}
    texts, encoding = _decode(raw)
    existing = session.get(WhodrugRelease, version)
    if existing is not None:
        raise WhodrugLoadError(
            f"WHODrug {version} is already loaded (on {existing.loaded_at:%Y-%m-%d %H:%M} by {existing.loaded_by}); "
            "a loaded release is never overwritten"
        )
    parsed = _parse(fmt, texts, version)
    release = WhodrugRelease(
        version=version,
        file_format=fmt,
        loaded_at=utcnow(),
        loaded_by=who,
        source_dir=str(directory.resolve()),
        encoding=encoding,
        checksums_json=json.dumps(checksums, sort_keys=True),
        product_count=len(parsed.products),
        ingredient_count=len(parsed.ingredients),
        atc_count=len(parsed.atcs),
    )
    session.add(release)
    try:
        session.flush()
    except IntegrityError:
        raise WhodrugLoadError(f"WHODrug {version} was loaded by someone else meanwhile; nothing was written") from None
    for table, rows in (
        (WhodrugProduct, list(parsed.products.values())),
        (WhodrugIngredient, list(parsed.ingredients.values())),
        (WhodrugAtc, list(parsed.atcs.values())),
    ):
        core = table.__table__  # Core INSERT ... executemany: no ORM objects for 100,000+ rows
        assert isinstance(core, Table)
        for start in range(0, len(rows), _CHUNK):
            session.execute(insert(core), rows[start : start + _CHUNK])
    record_change(
        session,
        who=who,
        entity_type="whodrug_release",
        entity_id=version,
        action="load",
        changes={
            "release": (
                None,
                {
                    "version": version,
                    "format": fmt,
                    "encoding": encoding,
                    "source_dir": release.source_dir,
                    "products": release.product_count,
                    "ingredients": release.ingredient_count,
                    "atc": release.atc_count,
                    "checksums_sha256": checksums,
                },
            )
        },
        reason=f"WHODrug {version} ({fmt}) loaded from {release.source_dir}",
    )
    session.flush()
    return release


# --- querying ----------------------------------------------------------------------------------------


def list_whodrug_releases(session: Session) -> list[WhodrugRelease]:
    return list(session.scalars(select(WhodrugRelease).order_by(WhodrugRelease.loaded_at, WhodrugRelease.version)))


def current_whodrug(session: Session) -> WhodrugRelease | None:
    """The release used for coding: the one loaded last."""
    releases = list_whodrug_releases(session)
    return releases[-1] if releases else None


def get_whodrug_drug(session: Session, identifier: str, release: str | None = None) -> WhodrugDrug | None:
    """The product whose drug code (B3) or Medicinal Product ID (C3) is ``identifier`` (dashes and blanks
    ignored: ``000001-01-001``), or None."""
    rel = session.get(WhodrugRelease, release) if release else current_whodrug(session)
    if rel is None:
        return None
    key = re.sub(r"[\s-]", "", identifier)
    p = WhodrugProduct
    product = session.get(p, (rel.version, key))
    if product is None:
        product = session.scalars(
            select(p).where(p.release_version == rel.version, p.drug_code == key).order_by(p.product_id).limit(1)
        ).first()
    if product is None:
        return None
    ing = WhodrugIngredient
    ingredients = session.scalars(
        select(ing.substance_name)
        .where(ing.release_version == rel.version, ing.product_id == product.product_id)
        .order_by(ing.substance_name)
    ).all()
    atcs = session.execute(
        select(WhodrugAtc.atc_code, WhodrugAtc.atc_text)
        .where(WhodrugAtc.release_version == rel.version, WhodrugAtc.product_id == product.product_id)
        .order_by(WhodrugAtc.atc_code)
    ).all()
    return WhodrugDrug(
        release=rel.version,
        file_format=rel.file_format,
        product_id=product.product_id,
        drug_code=product.drug_code,
        mpid=product.mpid,
        drug_name=product.drug_name,
        name_specifier=product.name_specifier,
        ingredients=tuple(ingredients),
        atc=tuple((code, text) for code, text in atcs),
    )


def whodrug_names(session: Session, release: str) -> list[tuple[str, str, str]]:
    """``(product_id, drug name with its C3 name specifier, normalised name)`` of every product of ``release``."""
    p = WhodrugProduct
    rows = session.execute(
        select(p.product_id, p.drug_name, p.name_specifier, p.drug_name_normalised)
        .where(p.release_version == release)
        .order_by(p.product_id)
    ).all()
    return [(a, f"{b} ({spec})" if spec else b, c) for a, b, spec, c in rows]


WHODRUG_VERSION_PREFIX = "WHODrug "


def atc_of_products(
    session: Session, coded: Sequence[tuple[str | None, str | None]]
) -> dict[tuple[str, str], tuple[str, ...]]:
    """The ATC codes of coded products: ``(G.k.2.1.1a version, G.k.2.1.1b identifier)`` pairs as case drugs
    store them (version ``"WHODrug <release>"``), mapped to their ATC codes in that release. Pairs that are
    not WHODrug codes or whose release is not loaded are left out."""
    wanted: dict[str, set[str]] = {}
    for version, code in coded:
        if version and code and version.startswith(WHODRUG_VERSION_PREFIX):
            wanted.setdefault(version.removeprefix(WHODRUG_VERSION_PREFIX), set()).add(code)
    out: dict[tuple[str, str], list[str]] = {}
    for release, codes in wanted.items():
        rows = session.execute(
            select(WhodrugAtc.product_id, WhodrugAtc.atc_code)
            .where(WhodrugAtc.release_version == release, WhodrugAtc.product_id.in_(sorted(codes)))
            .order_by(WhodrugAtc.product_id, WhodrugAtc.atc_code)
        ).all()
        for product_id, atc in rows:
            out.setdefault((f"{WHODRUG_VERSION_PREFIX}{release}", product_id), []).append(atc)
    return {key: tuple(codes) for key, codes in out.items()}
