"""The OMOP CDM v5.4 tables riskplan's studies read, with their standard columns and types.

Source: OHDSI Common Data Model v5.4 specification (https://ohdsi.github.io/CommonDataModel/cdm54.html).
Only the tables the analyses use are listed; every column of each is kept so that a table that is
absent from a source can be created empty with its standard columns.
"""

from __future__ import annotations

from typing import Final

Column = tuple[str, str]

_ID = "BIGINT"
_CONCEPT = "BIGINT"

CDM_TABLES: Final[dict[str, tuple[Column, ...]]] = {
    "person": (
        ("person_id", _ID),
        ("gender_concept_id", _CONCEPT),
        ("year_of_birth", "INTEGER"),
        ("month_of_birth", "INTEGER"),
        ("day_of_birth", "INTEGER"),
        ("birth_datetime", "TIMESTAMP"),
        ("race_concept_id", _CONCEPT),
        ("ethnicity_concept_id", _CONCEPT),
        ("location_id", _ID),
        ("provider_id", _ID),
        ("care_site_id", _ID),
        ("person_source_value", "VARCHAR"),
        ("gender_source_value", "VARCHAR"),
        ("gender_source_concept_id", _CONCEPT),
        ("race_source_value", "VARCHAR"),
        ("race_source_concept_id", _CONCEPT),
        ("ethnicity_source_value", "VARCHAR"),
        ("ethnicity_source_concept_id", _CONCEPT),
    ),
    "observation_period": (
        ("observation_period_id", _ID),
        ("person_id", _ID),
        ("observation_period_start_date", "DATE"),
        ("observation_period_end_date", "DATE"),
        ("period_type_concept_id", _CONCEPT),
    ),
    "drug_exposure": (
        ("drug_exposure_id", _ID),
        ("person_id", _ID),
        ("drug_concept_id", _CONCEPT),
        ("drug_exposure_start_date", "DATE"),
        ("drug_exposure_start_datetime", "TIMESTAMP"),
        ("drug_exposure_end_date", "DATE"),
        ("drug_exposure_end_datetime", "TIMESTAMP"),
        ("verbatim_end_date", "DATE"),
        ("drug_type_concept_id", _CONCEPT),
        ("stop_reason", "VARCHAR"),
        ("refills", "INTEGER"),
        ("quantity", "DOUBLE"),
        ("days_supply", "INTEGER"),
        ("sig", "VARCHAR"),
        ("route_concept_id", _CONCEPT),
        ("lot_number", "VARCHAR"),
        ("provider_id", _ID),
        ("visit_occurrence_id", _ID),
        ("visit_detail_id", _ID),
        ("drug_source_value", "VARCHAR"),
        ("drug_source_concept_id", _CONCEPT),
        ("route_source_value", "VARCHAR"),
        ("dose_unit_source_value", "VARCHAR"),
    ),
    "condition_occurrence": (
        ("condition_occurrence_id", _ID),
        ("person_id", _ID),
        ("condition_concept_id", _CONCEPT),
        ("condition_start_date", "DATE"),
        ("condition_start_datetime", "TIMESTAMP"),
        ("condition_end_date", "DATE"),
        ("condition_end_datetime", "TIMESTAMP"),
        ("condition_type_concept_id", _CONCEPT),
        ("condition_status_concept_id", _CONCEPT),
        ("stop_reason", "VARCHAR"),
        ("provider_id", _ID),
        ("visit_occurrence_id", _ID),
        ("visit_detail_id", _ID),
        ("condition_source_value", "VARCHAR"),
        ("condition_source_concept_id", _CONCEPT),
        ("condition_status_source_value", "VARCHAR"),
    ),
    "measurement": (
        ("measurement_id", _ID),
        ("person_id", _ID),
        ("measurement_concept_id", _CONCEPT),
        ("measurement_date", "DATE"),
        ("measurement_datetime", "TIMESTAMP"),
        ("measurement_time", "VARCHAR"),
        ("measurement_type_concept_id", _CONCEPT),
        ("operator_concept_id", _CONCEPT),
        ("value_as_number", "DOUBLE"),
        ("value_as_concept_id", _CONCEPT),
        ("unit_concept_id", _CONCEPT),
        ("range_low", "DOUBLE"),
        ("range_high", "DOUBLE"),
        ("provider_id", _ID),
        ("visit_occurrence_id", _ID),
        ("visit_detail_id", _ID),
        ("measurement_source_value", "VARCHAR"),
        ("measurement_source_concept_id", _CONCEPT),
        ("unit_source_value", "VARCHAR"),
        ("unit_source_concept_id", _CONCEPT),
        ("value_source_value", "VARCHAR"),
        ("measurement_event_id", _ID),
        ("meas_event_field_concept_id", _CONCEPT),
    ),
    "observation": (
        ("observation_id", _ID),
        ("person_id", _ID),
        ("observation_concept_id", _CONCEPT),
        ("observation_date", "DATE"),
        ("observation_datetime", "TIMESTAMP"),
        ("observation_type_concept_id", _CONCEPT),
        ("value_as_number", "DOUBLE"),
        ("value_as_string", "VARCHAR"),
        ("value_as_concept_id", _CONCEPT),
        ("qualifier_concept_id", _CONCEPT),
        ("unit_concept_id", _CONCEPT),
        ("provider_id", _ID),
        ("visit_occurrence_id", _ID),
        ("visit_detail_id", _ID),
        ("observation_source_value", "VARCHAR"),
        ("observation_source_concept_id", _CONCEPT),
        ("unit_source_value", "VARCHAR"),
        ("qualifier_source_value", "VARCHAR"),
        ("value_source_value", "VARCHAR"),
        ("observation_event_id", _ID),
        ("obs_event_field_concept_id", _CONCEPT),
    ),
    "death": (
        ("person_id", _ID),
        ("death_date", "DATE"),
        ("death_datetime", "TIMESTAMP"),
        ("death_type_concept_id", _CONCEPT),
        ("cause_concept_id", _CONCEPT),
        ("cause_source_value", "VARCHAR"),
        ("cause_source_concept_id", _CONCEPT),
    ),
    "visit_occurrence": (
        ("visit_occurrence_id", _ID),
        ("person_id", _ID),
        ("visit_concept_id", _CONCEPT),
        ("visit_start_date", "DATE"),
        ("visit_start_datetime", "TIMESTAMP"),
        ("visit_end_date", "DATE"),
        ("visit_end_datetime", "TIMESTAMP"),
        ("visit_type_concept_id", _CONCEPT),
        ("provider_id", _ID),
        ("care_site_id", _ID),
        ("visit_source_value", "VARCHAR"),
        ("visit_source_concept_id", _CONCEPT),
        ("admitted_from_concept_id", _CONCEPT),
        ("admitted_from_source_value", "VARCHAR"),
        ("discharged_to_concept_id", _CONCEPT),
        ("discharged_to_source_value", "VARCHAR"),
        ("preceding_visit_occurrence_id", _ID),
    ),
    "concept": (
        ("concept_id", _CONCEPT),
        ("concept_name", "VARCHAR"),
        ("domain_id", "VARCHAR"),
        ("vocabulary_id", "VARCHAR"),
        ("concept_class_id", "VARCHAR"),
        ("standard_concept", "VARCHAR"),
        ("concept_code", "VARCHAR"),
        ("valid_start_date", "DATE"),
        ("valid_end_date", "DATE"),
        ("invalid_reason", "VARCHAR"),
    ),
    "concept_ancestor": (
        ("ancestor_concept_id", _CONCEPT),
        ("descendant_concept_id", _CONCEPT),
        ("min_levels_of_separation", "INTEGER"),
        ("max_levels_of_separation", "INTEGER"),
    ),
    # Other names of a concept ("GI bleeding" for Gastrointestinal hemorrhage): read by `study concepts`.
    "concept_synonym": (
        ("concept_id", _CONCEPT),
        ("concept_synonym_name", "VARCHAR"),
        ("language_concept_id", _CONCEPT),
    ),
}

REQUIRED_TABLES: Final[tuple[str, ...]] = ("person", "observation_period")
"""Tables without which no study can run; every other table is optional and created empty if absent."""

PERSON_TABLES: Final[tuple[str, ...]] = (
    "observation_period",
    "drug_exposure",
    "condition_occurrence",
    "measurement",
    "observation",
    "death",
    "visit_occurrence",
)
"""Tables whose rows belong to a person; rows for persons absent from ``person`` are dropped and counted."""


def columns(table: str) -> tuple[Column, ...]:
    return CDM_TABLES[table]


def storage_table(table: str) -> str:
    """The table holding a CDM table's rows; the CDM name itself is a view over it (see below)."""
    return f"_cdm_{table}"


def create_empty_sql(table: str, name: str | None = None) -> str:
    """``CREATE TABLE`` with the standard columns of ``table`` (optionally under another name)."""
    cols = ", ".join(f"{c} {t}" for c, t in CDM_TABLES[table])
    return f"CREATE OR REPLACE TABLE {name or table} ({cols})"


def create_view_sql(table: str, stored: set[str] | None = None) -> str:
    """The CDM table as a view over its storage table, standard columns absent from storage as typed NULLs.

    Storing only the columns a source has keeps memory low (a 1-million-person CDM has tens of millions
    of drug and measurement rows, most standard columns empty) while every query sees all columns.
    """
    parts = [c if stored is None or c in stored else f"CAST(NULL AS {t}) AS {c}" for c, t in CDM_TABLES[table]]
    return f"CREATE OR REPLACE VIEW {table} AS SELECT {', '.join(parts)} FROM {storage_table(table)}"
