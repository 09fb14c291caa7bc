"""Effectiveness of the risk-minimisation measures (GVP Module XVI.B.4): process and outcome indicators.

**Process indicators** (was the measure implemented?), from patient records:

* infusions with a completed pre-infusion checklist / all recorded infusions;
* infusions with full premedication (a corticosteroid, an antihistamine and an antipyretic) / all infusions
  (an infusion without a premedication record counts as not fully premedicated);
* treated patients (at least one infusion) with HBsAg and anti-HBc results dated on or before the first
  dose / treated patients;
* treated patients with a patient card issued / treated patients.

Optionally, premedication with each dose of the plan's product from an OMOP CDM
(:func:`premedication_from_cdm`, through :func:`riskplan.studies.drug_utilisation`).

**Outcome indicators** (did the risks fall?), from the case store: cases of the plan's
``analysis.effectiveness_indicators`` concerns (for UPLIZNA infusion reactions and serious infections) by
calendar quarter of receipt, and per 100 patient-years when an exposure figure is given.

Every share carries its numerator, denominator and exact Clopper–Pearson 95% CI; every rate an exact
Poisson 95% CI (:mod:`riskplan.studies.stats`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from riskplan.minimisation.record import PatientRecord
from riskplan.plan import PremedicationCategory, RiskManagementPlan, ScreeningTest
from riskplan.studies import clopper_pearson, rate_per

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from riskplan.studies import Cdm

FULL_PREMEDICATION = frozenset(PremedicationCategory)
HBV_SCREENING = (ScreeningTest.HBSAG, ScreeningTest.ANTI_HBC)


def outcome_concerns(plan: RiskManagementPlan) -> list[str]:
    """The concerns whose cases are the plan's outcome indicators (``analysis.effectiveness_indicators``);
    one the plan no longer has is skipped."""
    known = {c.id for c in plan.safety_concerns}
    wanted = plan.analysis.effectiveness_indicators if plan.analysis is not None else []
    return [cid for cid in wanted if cid in known]


@dataclass(frozen=True)
class Share:
    """A proportion with its exact Clopper–Pearson CI (None when the denominator is 0)."""

    indicator: str
    numerator: int
    denominator: int
    proportion: float | None
    ci_lower: float | None
    ci_upper: float | None
    definition: str

    @classmethod
    def of(cls, indicator: str, numerator: int, denominator: int, definition: str) -> Share:
        ci = clopper_pearson(numerator, denominator)
        return cls(indicator, numerator, denominator, ci.estimate, ci.lower, ci.upper, definition)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _treated(records: Sequence[PatientRecord]) -> list[PatientRecord]:
    return [r for r in records if r.infusions]


def _hbv_screened(record: PatientRecord) -> bool:
    first = record.first_infusion()
    if first is None:
        return False
    done = {s.test for s in record.screenings or () if s.date <= first.date}
    return all(t in done for t in HBV_SCREENING)


def process_indicators(records: Sequence[PatientRecord]) -> list[Share]:
    """The four process indicators over ``records``."""
    infusions = [i for r in records for i in r.infusions]
    treated = _treated(records)
    return [
        Share.of(
            "infusions with a completed pre-infusion checklist",
            sum(1 for i in infusions if i.checklist_completed),
            len(infusions),
            "infusions with checklist_completed / all recorded infusions",
        ),
        Share.of(
            "infusions with full premedication",
            sum(1 for i in infusions if i.premedication_categories() >= FULL_PREMEDICATION),
            len(infusions),
            "infusions premedicated with a corticosteroid, an antihistamine and an antipyretic / all infusions",
        ),
        Share.of(
            "patients screened for hepatitis B before the first dose",
            sum(1 for r in treated if _hbv_screened(r)),
            len(treated),
            "treated patients with HBsAg and anti-HBc results on or before the first dose / treated patients",
        ),
        Share.of(
            "patients with a patient card issued",
            sum(1 for r in treated if r.patient_card_issued is not None),
            len(treated),
            "treated patients with patient_card_issued / treated patients",
        ),
    ]


def premedication_from_cdm(cdm: Cdm, plan: RiskManagementPlan) -> list[Share]:
    """Premedication with each dose of the plan's product in an OMOP CDM (new users; a premedication exposure
    on the dose day or the day before), per class and for all three classes together."""
    from riskplan.studies import build_new_user_cohort, drug_definition, drug_utilisation, product_drug

    substance = product_drug(plan).substance
    cohort = build_new_user_cohort(cdm, drug_definition(product_drug(plan)))
    table = drug_utilisation(cdm, cohort).premedication
    return [
        Share.of(
            f"doses with premedication: {row['premedication']} (OMOP CDM)",
            int(row["doses_with_premedication"]),
            int(row["doses"]),
            f"{substance} doses of new users with {row['premedication']} on the dose day or the day before / doses",
        )
        for row in table.to_dicts()
    ]


# --- outcome indicators ------------------------------------------------------------------------------


def quarter_of(date: dt.date) -> str:
    return f"{date.year}-Q{(date.month - 1) // 3 + 1}"


def _quarters_between(first: str, last: str) -> list[str]:
    year, q = int(first[:4]), int(first[-1])
    out = []
    while (year, q) <= (int(last[:4]), int(last[-1])):
        out.append(f"{year}-Q{q}")
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


@dataclass(frozen=True)
class QuarterCount:
    quarter: str
    cases: int
    patient_years: float | None
    rate_per_100py: float | None
    ci_lower: float | None
    ci_upper: float | None


@dataclass(frozen=True)
class OutcomeIndicator:
    concern_id: str
    quarters: tuple[QuarterCount, ...]
    total_cases: int
    patient_years: float | None
    rate_per_100py: float | None
    ci_lower: float | None
    ci_upper: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rated(quarter: str, cases: int, patient_years: float | None) -> QuarterCount:
    if patient_years is None:
        return QuarterCount(quarter, cases, None, None, None, None)
    rate = rate_per(cases, patient_years)
    return QuarterCount(quarter, cases, patient_years, rate.estimate, rate.lower, rate.upper)


def quarterly_outcomes(
    cases: Iterable[tuple[dt.date, Sequence[str]]],
    concern_ids: Sequence[str],
    exposure_by_quarter: Mapping[str, float] | None = None,
    total_patient_years: float | None = None,
) -> list[OutcomeIndicator]:
    """Cases per concern by calendar quarter from (date received, concern ids) pairs; rates per 100
    patient-years where the quarter's exposure (``exposure_by_quarter``, e.g. ``{"2025-Q1": 12.5}``) or the
    whole period's (``total_patient_years``) is given. Quarters run without gaps from the first to the last
    quarter with a case or an exposure figure."""
    counts: dict[str, Counter[str]] = {cid: Counter() for cid in concern_ids}
    for received, concerns in cases:
        for cid in concerns:
            if cid in counts:
                counts[cid][quarter_of(received)] += 1
    exposure = dict(exposure_by_quarter or {})
    seen = sorted({q for c in counts.values() for q in c} | set(exposure))
    quarters = _quarters_between(seen[0], seen[-1]) if seen else []
    out = []
    for cid in concern_ids:
        total = sum(counts[cid].values())
        years = total_patient_years if total_patient_years is not None else (sum(exposure.values()) or None)
        overall = _rated("all", total, years)
        out.append(
            OutcomeIndicator(
                cid,
                tuple(_rated(q, counts[cid][q], exposure.get(q)) for q in quarters),
                total,
                years,
                overall.rate_per_100py,
                overall.ci_lower,
                overall.ci_upper,
            )
        )
    return out


def outcome_indicators(
    session: Session,
    plan_name: str,
    concern_ids: Sequence[str] | None = None,
    exposure_by_quarter: Mapping[str, float] | None = None,
    total_patient_years: float | None = None,
    valid_only: bool = True,
) -> list[OutcomeIndicator]:
    """:func:`quarterly_outcomes` over the plan's cases in the case store (latest versions, valid only by
    default), by the date each case was received; ``concern_ids`` default to the :func:`outcome_concerns` of
    the plan in force (:func:`riskplan.plan.current_plan`)."""
    from riskplan.cases import list_cases
    from riskplan.plan import current_plan

    if concern_ids is None:
        concern_ids = outcome_concerns(current_plan(session, plan_name).plan)

    listings = [c for c in list_cases(session, plan_name=plan_name) if c.valid or not valid_only]
    return quarterly_outcomes(
        ((c.received, c.concerns) for c in listings), concern_ids, exposure_by_quarter, total_patient_years
    )
