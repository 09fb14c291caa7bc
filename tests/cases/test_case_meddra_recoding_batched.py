"""The batched MedDRA recoding stores exactly what the per-case follow-up path stores.

Two databases get the same 240 synthetic cases coded with the invented MedDRA 90.1 (tests/data/meddra_fixture;
40 of them with a second version), the same plan (concerns by SMQ and HLT) and then 91.0; ``apply_upgrade``
runs batched in one and one case at a time (``batched=False``, intake's follow-up path) in the other. Every
new case version row, its reaction, drug and concern rows, and every new audit row must be equal (all but
ids, time stamps and hashes), and both audit chains must verify. On SQLite and on PostgreSQL (where the
batched path stores with COPY and appends the audit rows with ``riskplan_audit_append``).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from conftest import POSTGRES_ADMIN_URL, postgres_unreachable
from riskplan.cases import apply_upgrade, intake, intake_context, synthesise_cases
from riskplan.cases.codes import Outcome
from riskplan.plan import ConcernCategory, ConcernDefinition, SafetyConcern, SmqReference, current_plan, record_plan
from riskplan.store import audited_transaction, make_engine, session_scope, upgrade, verify_chain
from riskplan.store.db import normalise_url
from riskplan.terms import load_meddra

DATA = Path(__file__).parent.parent / "data"
VERBATIMS = ["Lung infection", "Pleurisy", "Bronchitis", "Neutropenia", "Pneumonia", "Cystitis", "Anaemia", "UTI"]
N_CASES = 240
FOLLOWED_UP = 40


def _cases(seed: int) -> list[Any]:
    rng = random.Random(seed)
    out = []
    for icsr in synthesise_cases(N_CASES, seed=seed):
        reactions = tuple(
            r.model_copy(update={"verbatim_term": rng.choice(VERBATIMS), "verbatim_term_english": None})
            for r in icsr.reactions
        )
        out.append(icsr.model_copy(update={"reactions": reactions}))
    return out


def _fill(engine: Engine) -> int:
    """The same content in every database; returns the audit trail's row count before the upgrade."""
    with session_scope(engine) as session:
        load_meddra(session, DATA / "meddra_fixture", who="tester")
        plan = current_plan(session, "uplizna").plan
        extra = [
            SafetyConcern(
                id="pneumonia-smq",
                title="Infective pneumonia",
                category=ConcernCategory.IMPORTANT_POTENTIAL_RISK,
                definition=ConcernDefinition(
                    meddra_smqs=[SmqReference(name="Infective pneumonia (SMQ)", scope="narrow")]
                ),
            ),
            SafetyConcern(
                id="lower-respiratory-hlt",
                title="Lower respiratory infections",
                category=ConcernCategory.IMPORTANT_POTENTIAL_RISK,
                definition=ConcernDefinition(meddra_hlts=["Lower respiratory tract and lung infections"]),
            ),
        ]
        plan = plan.model_copy(update={"safety_concerns": [*plan.safety_concerns, *extra]})
        record_plan(session, plan, who="tester", source="test", reason="concerns by SMQ and HLT")
    cases = _cases(7)
    with session_scope(engine) as session:
        context = intake_context(session, "uplizna", "tester")
        intake(session, cases, context=context, who="tester", reason="initial")
    followed = []
    for icsr in cases[:FOLLOWED_UP]:  # a second version, outcome changed, still coded with 90.1
        reactions = tuple(r.model_copy(update={"outcome": Outcome.RECOVERED}) for r in icsr.reactions)
        followed.append(icsr.model_copy(update={"reactions": reactions}))
    with session_scope(engine) as session:
        context = intake_context(session, "uplizna", "tester")
        intake(session, followed, context=context, who="tester", reason="follow-up")
    with session_scope(engine) as session:
        load_meddra(session, DATA / "meddra_fixture_91", who="tester")
        count = session.execute(text("select row_count from audit_head")).scalar_one()
    return int(count)


_VERSION_COLUMNS = (
    "v.version, v.icsr_json, v.sender_report_id, v.first_received, v.received, v.recorded_by, v.reason, v.valid, "
    "v.invalid_reasons, v.serious, v.plan_version, v.day_zero, v.due, v.clock_version, v.age_years, v.sex, "
    "v.country, v.meddra_version"
)
_REACTION_COLUMNS = (
    "r.seq, r.verbatim, r.llt_code, r.pt_code, r.pt_name, r.soc_name, r.coding_status, r.terminology, "
    "r.coding_note, r.coding_suggestions, r.serious, r.seriousness_criteria, r.listedness, r.onset, r.outcome"
)
_DRUG_COLUMNS = "d.seq, d.characterisation, d.product, d.substances, d.product_code, d.product_code_version"


def _stored(engine: Engine, audit_before: int) -> dict[str, list[tuple[Any, ...]]]:
    """What the upgrade stored, by worldwide id and version (independent SQL)."""
    new = "join icsr_case c on c.id = v.case_id where v.reason like 'recoded to MedDRA%'"
    queries = {
        "versions": f"select c.worldwide_id, {_VERSION_COLUMNS} from icsr_case_version v {new}",
        "latest": "select worldwide_id, latest_version from icsr_case",
        "reactions": f"select c.worldwide_id, v.version, {_REACTION_COLUMNS} from icsr_reaction r "
        f"join icsr_case_version v on v.id = r.case_version_id {new}",
        "drugs": f"select c.worldwide_id, v.version, {_DRUG_COLUMNS} from icsr_drug d "
        f"join icsr_case_version v on v.id = d.case_version_id {new}",
        "concerns": "select c.worldwide_id, v.version, k.concern_id, k.reasons from icsr_case_concern k "
        f"join icsr_case_version v on v.id = k.case_version_id {new}",
    }
    with engine.connect() as conn:
        out = {name: sorted(tuple(r) for r in conn.execute(text(q))) for name, q in queries.items()}
        # in the order appended: the same rows in the same order, whatever the ids and stamps
        out["audit"] = [
            tuple(r)
            for r in conn.execute(
                text(
                    "select who, entity_type, entity_id, action, field, old_value, new_value, reason "
                    "from audit_event where id > :n order by id"
                ),
                {"n": audit_before},
            )
        ]
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def both_paths(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    made: list[Engine] = []
    results = []
    for batched in (True, False):
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('recoding') / 'riskplan.db'}"
        else:
            # the postgres_database fixture is per test: the module's two databases are made here like it does
            reason = postgres_unreachable()
            if reason:
                pytest.skip(reason)
            url, cleanup = _postgres(POSTGRES_ADMIN_URL)
            request.addfinalizer(cleanup)
        engine = make_engine(url)
        made.append(engine)
        upgrade(engine)
        before = _fill(engine)
        with audited_transaction(engine) as session:
            applied = apply_upgrade(session, "91.0", who="tester", reason="91.0 in force", batched=batched)
        with session_scope(engine) as session:
            check = verify_chain(session)
        results.append({"applied": applied, "stored": _stored(engine, before), "chain": check})
    yield results[0], results[1]
    for engine in made:
        engine.dispose()


def _postgres(admin_url: str) -> tuple[str, Callable[[], None]]:
    name = f"riskplan_t_recode_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(normalise_url(admin_url)).set(database=name).render_as_string(hide_password=False), drop


def test_batched_recoding_stores_what_the_per_case_path_stores(
    both_paths: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    batched, per_case = both_paths
    assert batched["applied"].preview.affected == per_case["applied"].preview.affected
    assert batched["applied"].new_versions == per_case["applied"].new_versions > 50
    for table in ("versions", "latest", "reactions", "drugs", "concerns", "audit"):
        assert batched["stored"][table] == per_case["stored"][table], table
    stored = batched["stored"]
    assert len(stored["versions"]) == batched["applied"].new_versions
    assert all(row[-1] == "91.0" for row in stored["versions"])  # meddra_version of every new version
    recoded = [row for row in stored["audit"] if row[3] == "MedDRA recoded"]
    assert len(recoded) == batched["applied"].new_versions
    assert all(row[6].startswith('"MedDRA 91.0 (loaded') and row[7] == "91.0 in force" for row in recoded)
    assert batched["chain"].intact and per_case["chain"].intact
