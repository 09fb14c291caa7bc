"""Hand-built ICSRs for tests: cases a safety physician would recognise."""

from __future__ import annotations

from typing import Any

from riskplan.cases.codes import DrugRole, Outcome, Qualification, ReportType, Sex
from riskplan.cases.model import (
    DiagnosticTest,
    Dosage,
    Drug,
    Hl7Timestamp,
    Icsr,
    Patient,
    PrimarySource,
    Quantity,
    Reaction,
    Substance,
    TestResult,
)


def inebilizumab(start: str = "20260301") -> Drug:
    return Drug(
        role=DrugRole.SUSPECT,
        name="UPLIZNA",
        substances=(Substance(name="inebilizumab"),),
        dosages=(Dosage(dose=Quantity(value="300", unit="mg"), start_date=Hl7Timestamp(start)),),
    )


def concomitant(name: str, substance: str) -> Drug:
    return Drug(role=DrugRole.CONCOMITANT, name=name, substances=(Substance(name=substance),))


def make_icsr(
    wid: str = "GB-RPDEMO-2026-000001",
    *,
    received: str = "20261102",
    first_received: str | None = None,
    reactions: tuple[Reaction, ...] | None = None,
    drugs: tuple[Drug, ...] | None = None,
    patient: Patient | None = None,
    reporter: PrimarySource | None = None,
    tests: tuple[DiagnosticTest, ...] = (),
    **extra: Any,
) -> Icsr:
    return Icsr(
        sender_report_id=wid,
        worldwide_case_id=wid,
        report_type=ReportType.SPONTANEOUS,
        created=Hl7Timestamp(received),
        first_received=Hl7Timestamp(first_received or received),
        most_recent_info=Hl7Timestamp(received),
        primary_sources=(reporter or PrimarySource(country="GB", qualification=Qualification.PHYSICIAN),),
        patient=patient or Patient(name="JD", age=Quantity(value="67", unit="a"), sex=Sex.FEMALE),
        reactions=reactions
        if reactions is not None
        else (
            Reaction(
                verbatim_term="pneumonia",
                hospitalisation=True,
                start_date=Hl7Timestamp("20261020"),
                outcome=Outcome.RECOVERING,
            ),
        ),
        drugs=drugs if drugs is not None else (inebilizumab(), concomitant("Imurel", "azathioprine")),
        tests=tests,
        **extra,
    )


def neutrophil_test(value: str, unit: str = "10*9/L") -> DiagnosticTest:
    return DiagnosticTest(
        name="Neutrophil count", date=Hl7Timestamp("20261015"), result=TestResult(value=value, unit=unit)
    )
