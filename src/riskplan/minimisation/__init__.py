"""Risk minimisation (GVP Module XVI): the pre-infusion checklist, the patient card and the effectiveness
indicators of the plan's additional measures.

    from riskplan.minimisation import *
    record = load_patient_record(Path("patient.json"))          # or demo_patient_record()
    result = evaluate_infusion(record, load_plan("uplizna"), dt.date(2025, 2, 5))
    result.status, [(r.id, r.status, r.smpc_section, r.message) for r in result.results]
    write_patient_card(record, plan, Path("card.pdf"), language="de")
    process_indicators([record, ...]); outcome_indicators(session, "uplizna", total_patient_years=42.0)
"""

from riskplan.minimisation.card import card_languages, render_card_html, write_patient_card
from riskplan.minimisation.checklist import EXIT_CODES, ChecklistResult, CheckStatus, RuleResult, evaluate_infusion
from riskplan.minimisation.cli import app as cli_app
from riskplan.minimisation.effectiveness import (
    OutcomeIndicator,
    QuarterCount,
    Share,
    outcome_concerns,
    outcome_indicators,
    premedication_from_cdm,
    process_indicators,
    quarterly_outcomes,
)
from riskplan.minimisation.record import (
    PatientRecord,
    demo_patient_record,
    load_patient_record,
    load_patient_records,
    parse_patient_record,
    patient_record_schema,
)
from riskplan.minimisation.rules import RULES

__all__ = [
    "EXIT_CODES",
    "RULES",
    "CheckStatus",
    "ChecklistResult",
    "OutcomeIndicator",
    "PatientRecord",
    "QuarterCount",
    "RuleResult",
    "Share",
    "card_languages",
    "cli_app",
    "demo_patient_record",
    "evaluate_infusion",
    "load_patient_record",
    "load_patient_records",
    "outcome_concerns",
    "outcome_indicators",
    "parse_patient_record",
    "patient_record_schema",
    "premedication_from_cdm",
    "process_indicators",
    "quarterly_outcomes",
    "render_card_html",
    "write_patient_card",
]
