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
from riskplan.submissions import case_views, destinations_in_force, owed_now
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


def test_cases_alike_owe_the_same_each_under_its_own_identity(engine: Engine, processor: CaseProcessor) -> None:
    """Cases that read alike to the rules are decided once: each must still owe what it owes alone."""
    alike = [make_icsr(f"GB-RPDEMO-2026-00010{n}") for n in range(3)]
    with session_scope(engine) as s:
        store_cases(
            s,
            [processor.assess(i) for i in [*alike, *synthesise_cases(20, seed=3)]],
            plan_name="uplizna",
            plan_version=1,
            who="cp1",
        )
    with session_scope(engine) as s:
        destinations = list(destinations_in_force(s).values())
        together = owed_now(s, destinations, include_periodic=True)
        alone = [
            o
            for case_id in {o.case_id for o in together}
            for o in owed_now(s, destinations, include_periodic=True, case_ids={case_id})
        ]
    key = lambda o: (o.case_id, o.destination)  # noqa: E731
    assert sorted(together, key=key) == sorted(alone, key=key)
    mine = [o for o in together if o.worldwide_id.startswith("GB-RPDEMO-2026-00010")]
    assert mine and len({(o.case_id, o.version_id) for o in mine}) == 3
    assert len({(o.due, o.rule, o.destination) for o in mine}) == len(mine) // 3
