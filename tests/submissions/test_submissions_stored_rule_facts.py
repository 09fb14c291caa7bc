"""The reporting rules see the same versions whether they read the facts stored beside each ICSR
(cases_0013) or, for a version written without them, the ICSR itself."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update

from case_factory import make_icsr
from riskplan.cases.codes import NullificationCode
from riskplan.cases.model import LiteratureReference, Reaction
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.cases.synth import synthesise_cases
from riskplan.cases.tables import CaseVersionRow
from riskplan.plan.catalogue import load_plan
from riskplan.store.db import session_scope
from riskplan.submissions import case_views
from riskplan.terms.coding import OpenTermList


@pytest.fixture(scope="module")
def processor() -> CaseProcessor:
    plan = load_plan("uplizna")
    return CaseProcessor(plan, OpenTermList(plan))


def test_views_from_stored_facts_equal_views_from_the_icsrs(engine: Engine, processor: CaseProcessor) -> None:
    literature = make_icsr(
        "DE-RPDEMO-2026-000002",
        literature=(LiteratureReference(reference="Doe J. A case. J Neurol. 2026;1:1."),),
        reactions=(Reaction(verbatim_term="Kopfschmerz", verbatim_term_english="headache", country="AT"),),
    )
    first = [*synthesise_cases(30, seed=11), make_icsr(), literature]
    later = [
        first[-1].model_copy(update={"nullification": NullificationCode.NULLIFICATION}),
        first[-2].model_copy(update={"reactions": (Reaction(verbatim_term="rash", country="FR", disabling=True),)}),
    ]
    for batch in (first, later):
        with session_scope(engine) as s:
            store_cases(s, [processor.assess(i) for i in batch], plan_name="uplizna", plan_version=1, who="cp1")
    with session_scope(engine) as s:
        stored = case_views(s)
    with session_scope(engine) as s:  # as if written outside the store: the rules read each ICSR
        s.execute(
            update(CaseVersionRow).values(
                occurrence_country=None, report_source=None, nullified=None, rule_reactions=None
            )
        )
    with session_scope(engine) as s:
        from_icsrs = case_views(s)
    assert len(stored) == len(first)
    assert any(v.nullified for _, views in stored.values() for v in views)
    assert stored == from_icsrs
