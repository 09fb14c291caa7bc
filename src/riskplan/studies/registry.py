"""Registry exports (one CSV per form) mapped onto the OMOP CDM through a declarative YAML mapping.

A mapping names, for each form, its file, the columns the export must have, and what CDM rows each
input row *emits*: the target table, an optional condition (``when``), and for each target column
where its value comes from — a source ``column`` (cast to the CDM type; dates read with the mapping's
``date_format``), a ``column`` passed through a ``map`` (a code map to concept ids; the key ``"*"``
maps every other code), or a constant ``value``. Row ids (``*_id`` of the target table) are
generated. Unknown codes, missing columns and unreadable values are user errors naming the form,
column and values.

The shipped mapping ``studies/mappings/nmosd_registry.yaml`` documents the NMOSD registry export
layout (forms patients, treatments, infusions, adverse_events, labs, pregnancies).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from riskplan.errors import UserInputError
from riskplan.studies import vocabulary as v
from riskplan.studies.cdm import Cdm, _finish, create_empty
from riskplan.studies.schema import CDM_TABLES, storage_table


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldSource(_M):
    """Where a CDM column's value comes from: a column (optionally through a code map) or a constant."""

    column: str | None = None
    map: str | None = None
    value: int | float | str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> FieldSource:
        if (self.column is None) == (self.value is None):
            raise ValueError("give exactly one of 'column' or 'value'")
        if self.map is not None and self.column is None:
            raise ValueError("'map' needs a 'column'")
        return self


class When(_M):
    """Emit only rows whose ``column`` is non-empty, equals a value, or is one of values."""

    column: str
    equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    not_empty: bool = False


class Emit(_M):
    table: Literal[
        "person",
        "observation_period",
        "drug_exposure",
        "condition_occurrence",
        "measurement",
        "observation",
        "death",
        "visit_occurrence",
    ]
    when: When | None = None
    fields: dict[str, FieldSource]

    @model_validator(mode="after")
    def _known_columns(self) -> Emit:
        known = {c for c, _ in CDM_TABLES[self.table]}
        unknown = sorted(set(self.fields) - known)
        if unknown:
            raise ValueError(f"{self.table} has no column(s) {', '.join(unknown)}")
        return self


class Form(_M):
    name: str
    file: str
    description: str = ""
    optional: bool = False
    columns: dict[str, str] = Field(description="column name -> what it holds")
    emit: list[Emit]


class RegistryMapping(_M):
    name: str
    version: str
    description: str = ""
    date_format: str = "%Y-%m-%d"
    vocabulary: Literal["riskplan-nmosd", "none"] = "riskplan-nmosd"
    code_maps: dict[str, dict[str, int]] = Field(default_factory=dict)
    forms: list[Form]

    @model_validator(mode="after")
    def _maps_exist(self) -> RegistryMapping:
        for form in self.forms:
            for emit in form.emit:
                for target, src in emit.fields.items():
                    if src.map is not None and src.map not in self.code_maps:
                        raise ValueError(f"form {form.name}: {emit.table}.{target} uses unknown code map {src.map!r}")
                    if src.column is not None and src.column not in form.columns:
                        raise ValueError(f"form {form.name}: column {src.column!r} is not declared in its columns")
        return self


def load_registry_mapping(path: Path | None = None) -> RegistryMapping:
    """The shipped NMOSD registry mapping, or a mapping file of the same shape."""
    if path is None:
        text = (resources.files("riskplan.studies") / "mappings" / "nmosd_registry.yaml").read_text("utf-8")
        where = "nmosd_registry.yaml"
    else:
        if not path.is_file():
            raise UserInputError(f"{path}: no such mapping file")
        text, where = path.read_text("utf-8"), str(path)
    try:
        data = yaml.safe_load(text)
        return RegistryMapping.model_validate(data)
    except yaml.YAMLError as exc:
        raise UserInputError(f"{where}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        raise UserInputError(f"{where}: not a valid registry mapping:\n{exc}") from None


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _expr(src: FieldSource, target_type: str, mapping: RegistryMapping) -> str:
    if src.value is not None:
        return f"CAST({_q(str(src.value))} AS {target_type})"
    assert src.column is not None
    col = f"NULLIF(trim({_ident(src.column)}), '')"
    if src.map is not None:
        codes = mapping.code_maps[src.map]
        cases = " ".join(f"WHEN {_q(k)} THEN {int(cid)}" for k, cid in codes.items() if k != "*")
        other = f" ELSE {int(codes['*'])}" if "*" in codes else ""
        return f"CAST(CASE {col} {cases}{other} END AS {target_type})"
    if target_type == "DATE":
        return f"CAST(strptime({col}, {_q(mapping.date_format)}) AS DATE)"
    return f"CAST({col} AS {target_type})"


def _where(when: When | None) -> str:
    if when is None:
        return ""
    col = f"NULLIF(trim({_ident(when.column)}), '')"
    if when.equals is not None:
        return f" WHERE {col} = {_q(when.equals)}"
    if when.in_ is not None:
        return f" WHERE {col} IN ({', '.join(_q(x) for x in when.in_)})"
    return f" WHERE {col} IS NOT NULL"


def load_registry_export(folder: Path, mapping: RegistryMapping | Path | None = None) -> Cdm:
    """Read a registry export folder (one CSV per form) into a CDM in DuckDB through ``mapping``."""
    if not isinstance(mapping, RegistryMapping):
        mapping = load_registry_mapping(mapping)
    if not folder.is_dir():
        raise UserInputError(f"{folder}: no such registry export folder")
    con = duckdb.connect()
    for table in CDM_TABLES:
        create_empty(con, table)
    emitted: set[str] = set()
    for form in mapping.forms:
        path = folder / form.file
        if not path.is_file():
            if form.optional:
                continue
            con.close()
            raise UserInputError(f"{path}: the export has no {form.name} form ({form.file})")
        src = f"src_{form.name}"
        try:
            con.execute(
                f"CREATE TEMP TABLE {src} AS SELECT * FROM read_csv({_q(str(path))}, header = true, all_varchar = true)"
            )
        except duckdb.Error as exc:
            con.close()
            raise UserInputError(f"{path}: cannot be read as CSV: {exc}") from None
        present = {r[0] for r in con.execute(f"DESCRIBE {src}").fetchall()}
        missing = [c for c in form.columns if c not in present]
        if missing:
            con.close()
            raise UserInputError(f"{path}: missing column(s) {', '.join(missing)} of form {form.name}")
        _check_codes(con, mapping, form, src, path)
        for emit in form.emit:
            _emit(con, mapping, form, emit, src, path)
            emitted.add(emit.table)
    if mapping.vocabulary == "riskplan-nmosd":
        _insert_vocabulary(con)
        emitted |= {"concept", "concept_ancestor"}
    return _finish(
        con,
        f"registry export {folder} (mapping {mapping.name} {mapping.version})",
        [t for t in CDM_TABLES if t in emitted],
    )


def _check_codes(con: duckdb.DuckDBPyConnection, mapping: RegistryMapping, form: Form, src: str, path: Path) -> None:
    for emit in form.emit:
        for source in emit.fields.values():
            if source.map is None or source.column is None:
                continue
            known = mapping.code_maps[source.map]
            if "*" in known:
                continue
            col = f"NULLIF(trim({_ident(source.column)}), '')"
            keys = ", ".join(_q(k) for k in known) or "NULL"
            bad = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT {col} FROM {src}{_where(emit.when)}"
                    f"{' AND' if emit.when else ' WHERE'} {col} IS NOT NULL AND {col} NOT IN ({keys}) "
                    "ORDER BY 1 LIMIT 10"
                ).fetchall()
            ]
            if bad:
                raise UserInputError(
                    f"{path}: column {source.column}: unknown code(s) {', '.join(repr(b) for b in bad)} "
                    f"(code map {source.map}: {', '.join(known)})"
                )


def _emit(
    con: duckdb.DuckDBPyConnection, mapping: RegistryMapping, form: Form, emit: Emit, src: str, path: Path
) -> None:
    types = dict(CDM_TABLES[emit.table])
    cols: list[str] = []
    exprs: list[str] = []
    id_col = CDM_TABLES[emit.table][0][0]
    if id_col != "person_id" and id_col.endswith("_id") and id_col not in emit.fields:
        cols.append(id_col)
        exprs.append(f"(SELECT COALESCE(max({id_col}), 0) FROM {storage_table(emit.table)}) + row_number() OVER ()")
    for target, source in emit.fields.items():
        cols.append(target)
        exprs.append(_expr(source, types[target], mapping))
    target = storage_table(emit.table)
    sql = f"INSERT INTO {target} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {src}{_where(emit.when)}"
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        raise UserInputError(f"{path}: form {form.name} -> {emit.table}: a value does not fit: {exc}") from None


def _insert_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    rows: list[Any] = v.concept_rows()
    con.executemany(
        "INSERT INTO _cdm_concept (concept_id, concept_name, domain_id, vocabulary_id, concept_class_id, "
        "standard_concept, concept_code) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.executemany(
        "INSERT INTO _cdm_concept_ancestor (ancestor_concept_id, descendant_concept_id, min_levels_of_separation, "
        "max_levels_of_separation) VALUES (?, ?, ?, ?)",
        v.ancestor_rows(),
    )
