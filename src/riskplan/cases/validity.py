"""Validity of a case: the four ICH minimum criteria (ICH E2D 4.1; GVP Module VI.B.2).

A valid ICSR has at least one identifiable reporter, one identifiable patient, one suspected
medicinal product and one suspected adverse reaction. A case missing any of them is still stored —
as invalid, with the reasons — and never dropped: follow-up may complete it, and its day 0 is then
the date the last criterion is met (GVP VI.B.7).
"""

from __future__ import annotations

from dataclasses import dataclass

from riskplan.cases.model import Icsr, Patient, PrimarySource


@dataclass(frozen=True)
class Validity:
    valid: bool
    missing: tuple[str, ...]


def _reporter_identifiable(source: PrimarySource) -> bool:
    # GVP VI.B.2: identifiable by name or initials, address, or qualification (or a country of report).
    return any(
        value is not None
        for value in (
            source.given_name,
            source.family_name,
            source.organisation,
            source.street,
            source.city,
            source.postcode,
            source.telephone,
            source.email,
            source.qualification,
            source.country,
        )
    )


def _patient_identifiable(patient: Patient) -> bool:
    # GVP VI.B.2: initials, patient identification number, date of birth, age, age group, gestation or sex.
    return any(
        value is not None
        for value in (
            patient.name,
            patient.gp_record_number,
            patient.specialist_record_number,
            patient.hospital_record_number,
            patient.investigation_number,
            patient.birth_date,
            patient.age,
            patient.gestation_period,
            patient.age_group,
            patient.sex,
        )
    ) or (patient.parent is not None)


def assess_validity(icsr: Icsr) -> Validity:
    missing = []
    if not any(_reporter_identifiable(s) for s in icsr.primary_sources):
        missing.append("no identifiable reporter (C.2.r: name, address, qualification or country)")
    if not _patient_identifiable(icsr.patient):
        missing.append("no identifiable patient (D: initials, identifier, birth date, age, age group or sex)")
    if not any(d.name or d.substances or d.product_id for d in icsr.suspect_drugs):
        missing.append("no suspect medicinal product (G.k.1 suspect or interacting, with a name or substance)")
    if not any(r.verbatim_term or r.verbatim_term_english or r.meddra for r in icsr.reactions):
        missing.append("no adverse reaction (E.i.1 verbatim or E.i.2.1 MedDRA term)")
    return Validity(valid=not missing, missing=tuple(missing))
