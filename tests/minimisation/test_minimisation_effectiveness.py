"""Effectiveness indicators (GVP XVI.B.4) against hand-computed values."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import binom
from sqlalchemy import Engine

from case_factory import make_icsr
from riskplan.cases.codes import Outcome
from riskplan.cases.model import Hl7Timestamp, Reaction
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.minimisation import (
    PatientRecord,
    Share,
    demo_patient_record,
    outcome_concerns,
    outcome_indicators,
    premedication_from_cdm,
    process_indicators,
    quarterly_outcomes,
)
from riskplan.plan.catalogue import load_plan
from riskplan.store.db import session_scope
from riskplan.studies import open_cdm, synthesise_omop
from riskplan.terms.coding import OpenTermList

PATIENTS = Path(__file__).parent.parent / "data" / "patients"


def _records() -> list[PatientRecord]:
    """A: first dose only, full premedication, checklist done, HBV-screened, no card.
    B: the demo patient, 4 infusions all checklist-done and fully premedicated, HBV-screened, card issued.
    C: 3 infusions — no checklist; premedication full, without an antipyretic, not recorded; HBsAg only; card.
    D: no infusion yet (not treated): counts for nothing."""
    a: dict[str, Any] = json.loads((PATIENTS / "first_dose.json").read_text())
    c = copy.deepcopy(a)
    c["patient"]["id"] = "NMO-0301"
    c["screenings"] = [s for s in c["screenings"] if s["test"] != "anti-HBc"]
    full = a["infusions"][0]["premedication"]
    c["infusions"] = [
        {"date": "2025-03-03", "dose_mg": 300, "checklist_completed": False, "premedication": full},
        {"date": "2025-03-17", "dose_mg": 300, "checklist_completed": False, "premedication": full[:2]},
        {"date": "2025-09-03", "dose_mg": 300, "checklist_completed": False},
    ]
    c["patient_card_issued"] = "2025-03-03"
    d = copy.deepcopy(a) | {"infusions": [], "patient_card_issued": "2025-03-01"}
    d["patient"]["id"] = "NMO-0302"
    return [
        PatientRecord.model_validate(a),
        demo_patient_record(),
        PatientRecord.model_validate(c),
        PatientRecord.model_validate(d),
    ]


def _assert_exact_ci(share: Share, k: int, n: int) -> None:
    """The Clopper–Pearson limits solve P(X >= k | lower) = 0.025 and P(X <= k | upper) = 0.025."""
    assert (share.numerator, share.denominator) == (k, n)
    assert share.proportion == pytest.approx(k / n)
    assert share.ci_lower is not None and share.ci_upper is not None
    if k > 0:
        assert binom.sf(k - 1, n, share.ci_lower) == pytest.approx(0.025, abs=1e-9)
    if k < n:
        assert binom.cdf(k, n, share.ci_upper) == pytest.approx(0.025, abs=1e-9)


def test_process_indicators_against_hand_counts() -> None:
    checklist, premedication, hbv, card = process_indicators(_records())
    # infusions: A 1 + B 4 + C 3 = 8; checklist done: 1 + 4 + 0 = 5; full premedication: 1 + 4 + 1 = 6
    _assert_exact_ci(checklist, 5, 8)
    _assert_exact_ci(premedication, 6, 8)
    # treated patients A, B, C; HBsAg and anti-HBc before the first dose: A, B; card issued: B, C
    _assert_exact_ci(hbv, 2, 3)
    _assert_exact_ci(card, 2, 3)
    assert premedication.indicator == "infusions with full premedication"
    assert (round(premedication.ci_lower or 0, 4), round(premedication.ci_upper or 0, 4)) == (0.3491, 0.9681)


def test_all_or_nothing_shares_have_the_closed_form_limits() -> None:
    [a, b, *_] = _records()
    checklist, premedication, hbv, card = process_indicators([a, b])
    # 5 of 5 infusions: lower = 0.025 ** (1/5), upper 1; 2 of 2 HBV-screened: lower = 0.025 ** (1/2);
    # 1 of 2 cards (B): lower = 1 - 0.975 ** (1/2), upper = 0.975 ** (1/2)
    for share in (checklist, premedication):
        assert share.ci_lower == pytest.approx(0.025 ** (1 / 5)) and share.ci_upper == 1.0
    assert hbv.ci_lower == pytest.approx(0.025**0.5) and hbv.ci_upper == 1.0
    assert card.ci_lower == pytest.approx(1 - 0.975**0.5) and card.ci_upper == pytest.approx(0.975**0.5)
    empty = process_indicators([])
    assert all(s.denominator == 0 and s.proportion is None and s.ci_lower is None for s in empty)


OUTCOMES = outcome_concerns(load_plan("uplizna"))  # the plan's analysis.effectiveness_indicators
CASES = [
    (dt.date(2025, 1, 15), ("infusion-reaction",)),
    (dt.date(2025, 2, 20), ("serious-infections", "neutropenia")),
    (dt.date(2025, 3, 31), ("infusion-reaction", "serious-infections")),
    (dt.date(2025, 5, 5), ("pml",)),
    (dt.date(2025, 7, 1), ("serious-infections",)),
]


def test_outcome_counts_by_quarter_with_rates_per_100_patient_years() -> None:
    exposure = {"2025-Q1": 10.0, "2025-Q2": 12.0, "2025-Q3": 12.5}
    reactions, infections = quarterly_outcomes(CASES, OUTCOMES, exposure_by_quarter=exposure)
    assert [(q.quarter, q.cases) for q in reactions.quarters] == [("2025-Q1", 2), ("2025-Q2", 0), ("2025-Q3", 0)]
    assert [(q.quarter, q.cases) for q in infections.quarters] == [("2025-Q1", 2), ("2025-Q2", 0), ("2025-Q3", 1)]
    q1 = reactions.quarters[0]
    # 2 cases in 10 PY: 20 per 100 PY; exact Poisson limits of 2 are 0.2422 and 7.2247 (Ulm 1990)
    assert q1.rate_per_100py == pytest.approx(20.0)
    assert (q1.ci_lower, q1.ci_upper) == (pytest.approx(2.422, abs=1e-3), pytest.approx(72.247, abs=1e-3))
    q2 = reactions.quarters[1]
    assert q2.rate_per_100py == 0 and q2.ci_lower == 0 and q2.ci_upper == pytest.approx(368.89 / 12, abs=1e-2)
    # whole period: 3 serious infections in 34.5 PY; limits of 3 are 0.6187 and 8.7673
    assert infections.total_cases == 3 and infections.patient_years == pytest.approx(34.5)
    assert infections.rate_per_100py == pytest.approx(300 / 34.5)
    assert infections.ci_lower == pytest.approx(61.87 / 34.5, abs=1e-3)
    assert infections.ci_upper == pytest.approx(876.73 / 34.5, abs=1e-2)


def test_outcome_counts_without_exposure_have_no_rates() -> None:
    [reactions, _] = quarterly_outcomes(CASES, OUTCOMES)
    assert reactions.total_cases == 2 and reactions.rate_per_100py is None
    assert all(q.patient_years is None and q.rate_per_100py is None for q in reactions.quarters)
    assert quarterly_outcomes([], OUTCOMES)[0].quarters == ()


def _reaction(verbatim: str, onset: str, **seriousness: bool) -> Reaction:
    return Reaction(verbatim_term=verbatim, start_date=Hl7Timestamp(onset), outcome=Outcome.RECOVERED, **seriousness)


def test_outcome_indicators_read_the_case_store(sqlite_engine: Engine) -> None:
    plan = load_plan("uplizna")
    processor = CaseProcessor(plan, OpenTermList(plan))
    icsrs = [
        make_icsr("DE-RP-2025-1", received="20250115", reactions=(_reaction("infusion related reaction", "20250110"),)),
        make_icsr(
            "DE-RP-2025-2", received="20250402", reactions=(_reaction("pneumonia", "20250325", hospitalisation=True),)
        ),
        make_icsr("DE-RP-2025-3", received="20250620", reactions=(_reaction("infusion related reaction", "20250618"),)),
    ]
    with session_scope(sqlite_engine) as session:
        store_cases(session, [processor.assess(i) for i in icsrs], plan_name="uplizna", plan_version=1, who="test")
    with session_scope(sqlite_engine) as session:
        reactions, infections = outcome_indicators(session, "uplizna", total_patient_years=50.0)
    assert [(q.quarter, q.cases) for q in reactions.quarters] == [("2025-Q1", 1), ("2025-Q2", 1)]
    assert [(q.quarter, q.cases) for q in infections.quarters] == [("2025-Q1", 0), ("2025-Q2", 1)]
    assert reactions.rate_per_100py == pytest.approx(4.0) and infections.rate_per_100py == pytest.approx(2.0)


def test_premedication_from_an_omop_cdm(tmp_path: Path) -> None:
    synthesise_omop(40, 11, tmp_path / "cdm")
    with open_cdm(tmp_path / "cdm") as cdm:
        shares = premedication_from_cdm(cdm, load_plan("uplizna"))
    assert [s.indicator.split(": ")[1] for s in shares] == [
        "corticosteroid (OMOP CDM)",
        "antihistamine (OMOP CDM)",
        "antipyretic (OMOP CDM)",
        "all classes (OMOP CDM)",
    ]
    doses = {s.denominator for s in shares}
    assert len(doses) == 1 and doses.pop() > 0
    *classes, every = shares
    assert every.numerator <= min(s.numerator for s in classes)
    for s in shares:
        _assert_exact_ci(s, s.numerator, s.denominator)
