"""What the reporting rules read of each case version (occurrence country, kind of report, nullification,
reactions) is stored beside its ICSR by every path that writes a version (intake of new cases and follow-ups,
which the CLI, e2b import, edits and synth go through; the batched follow-ups of terms upgrades), and filled
in by migration cases_0013 for the versions stored before it; each stored value is what the ICSR says, read
here from the ICSR's JSON independently of ``rule_facts``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select, text

from case_factory import make_icsr
from riskplan.cases.codes import NullificationCode, ReportType
from riskplan.cases.model import Icsr, LiteratureReference, Reaction
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.cases.synth import synthesise_cases
from riskplan.cases.tables import CaseVersionRow
from riskplan.cases.version_batch import store_new_versions
from riskplan.plan.catalogue import load_plan
from riskplan.store.db import session_scope
from riskplan.store.migrate import alembic_config, upgrade
from riskplan.terms.coding import OpenTermList


@pytest.fixture(scope="module")
def processor() -> CaseProcessor:
    plan = load_plan("uplizna")
    return CaseProcessor(plan, OpenTermList(plan))


SERIOUSNESS = (  # E.i.3.2a-f
    "results_in_death",
    "life_threatening",
    "hospitalisation",
    "disabling",
    "congenital_anomaly",
    "other_medically_important",
)


def _expected(doc: str) -> dict[str, Any]:
    """The facts from the ICSR's JSON, as E2B names them (independent of riskplan.cases.rule_facts)."""
    data = json.loads(doc)
    countries = [r.get("country") for r in data.get("reactions", [])]
    sources = data.get("primary_sources") or []
    regulatory = [s for s in sources if s.get("primary_for_regulatory_purposes")]
    primary = (regulatory or sources or [{}])[0]
    country = (
        next((c for c in countries if c), None) or primary.get("country") or (data.get("sender") or {}).get("country")
    )
    kinds = {"1": "spontaneous", "2": "study"}
    source = "literature" if data.get("literature") else kinds.get(data.get("report_type") or "", "other")
    reactions = [
        [
            r.get("pt_name"),
            r.get("verbatim_term_english") or r.get("verbatim_term") or "",
            any(r.get(flag) is True for flag in SERIOUSNESS),
        ]
        for r in data.get("reactions", [])
    ]
    return {
        "occurrence_country": country,
        "report_source": source,
        "nullified": data.get("nullification") == "1",
        "rule_reactions": reactions,
    }


def _stored(engine: Engine) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(
                CaseVersionRow.icsr_json,
                CaseVersionRow.occurrence_country,
                CaseVersionRow.report_source,
                CaseVersionRow.nullified,
                CaseVersionRow.rule_reactions,
            ).order_by(CaseVersionRow.id)
        ).all()
    return [
        (
            {
                "occurrence_country": country,
                "report_source": source,
                "nullified": nullified,
                "rule_reactions": None if reactions is None else json.loads(reactions),
            },
            _expected(doc),
        )
        for doc, country, source, nullified, reactions in rows
    ]


def _cases(processor: CaseProcessor) -> list[Icsr]:
    literature = make_icsr(
        "DE-RPDEMO-2026-000002",
        literature=(LiteratureReference(reference="Doe J. A case. J Neurol. 2026;1:1."),),
        reactions=(Reaction(verbatim_term="Kopfschmerz", verbatim_term_english="headache", country="AT"),),
    )
    study = make_icsr("US-RPDEMO-2026-000003").model_copy(update={"report_type": ReportType.STUDY})
    return [*synthesise_cases(40, seed=5), make_icsr(), literature, study]


def _store(engine: Engine, processor: CaseProcessor, icsrs: list[Icsr]) -> None:
    with session_scope(engine) as s:
        store_cases(s, [processor.assess(i) for i in icsrs], plan_name="uplizna", plan_version=1, who="cp1")


def test_every_stored_version_holds_what_its_icsr_says_for_the_rules(engine: Engine, processor: CaseProcessor) -> None:
    cases = _cases(processor)
    _store(engine, processor, cases)  # intake: new cases
    first = cases[-3]
    nullified = first.model_copy(
        update={"nullification": NullificationCode.NULLIFICATION, "most_recent_info": None}
    )  # follow-up
    amended = cases[-2].model_copy(update={"reactions": (Reaction(verbatim_term="rash", country="FR"),)})
    _store(engine, processor, [nullified, amended])
    # the batched follow-up path (terms upgrades: riskplan.cases.version_batch)
    changed = [
        c.model_copy(update={"reactions": (Reaction(verbatim_term="nausea", country="IT", life_threatening=True),)})
        for c in cases[:5]
    ]
    with session_scope(engine) as s:
        outcomes = store_new_versions(s, [processor.assess(c) for c in changed], plan_version=1, who="cp1")
    assert [o.status for o in outcomes] == ["follow-up"] * 5
    stored = _stored(engine)
    assert len(stored) == len(cases) + 2 + 5
    assert {s["report_source"] for s, _ in stored} >= {"spontaneous", "study", "literature"}
    assert any(s["nullified"] for s, _ in stored)
    for found, expected in stored:
        assert found == expected


def test_migration_fills_the_versions_stored_before_it(engine: Engine, processor: CaseProcessor) -> None:
    _store(engine, processor, _cases(processor))
    command.downgrade(alembic_config(engine), "cases_0012")
    with engine.connect() as c:
        columns = c.execute(text("SELECT * FROM icsr_case_version")).keys()
    assert "rule_reactions" not in columns
    upgrade(engine)
    stored = _stored(engine)
    assert len(stored) == len(_cases(processor))
    for found, expected in stored:
        assert found == expected
