"""Plan versions in the store, on SQLite and PostgreSQL: new content makes a new version, nothing is lost."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, select

from riskplan.errors import NotFoundError
from riskplan.plan.catalogue import load_plan
from riskplan.plan.diff import diff_plans
from riskplan.plan.model import AdditionalRiskMinimisation, RiskManagementPlan
from riskplan.plan.versions import get_version, latest_version, list_versions, record_plan
from riskplan.store.audit import AuditEvent, history
from riskplan.store.db import session_scope
from riskplan.store.migrate import is_current, upgrade


def test_migrations_create_the_tables_and_are_idempotent(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"plan_version", "audit_event", "alembic_version"} <= tables
    assert is_current(engine)
    upgrade(engine)  # a second run changes nothing
    assert is_current(engine)


def test_versions_are_added_only_when_the_content_changes(engine: Engine) -> None:
    plan = load_plan("uplizna")
    with session_scope(engine) as s:
        v1, created = record_plan(s, plan, who="qppv", source="bundled", reason="initial")
    assert (v1.version, created) == (1, True)
    with session_scope(engine) as s:
        again, created = record_plan(s, plan, who="qppv")
    assert (again.version, created) == (1, False)

    concern = plan.concern("pml")
    changed_concern = concern.model_copy(
        update={"additional_measures": [*concern.additional_measures, AdditionalRiskMinimisation(name="DHPC")]}
    )
    changed = plan.model_copy(
        update={"safety_concerns": [changed_concern if c.id == "pml" else c for c in plan.safety_concerns]}
    )
    with session_scope(engine) as s:
        v2, created = record_plan(s, changed, who="qppv", reason="signal outcome")
    assert (v2.version, created) == (2, True)

    with session_scope(engine) as s:
        assert [v.version for v in list_versions(s, "uplizna")] == [1, 2]
        assert get_version(s, "uplizna", 1).plan == plan  # the earlier version is intact
        assert get_version(s, "uplizna", 2).plan == changed
        latest = latest_version(s, "uplizna")
        assert latest is not None and latest.version == 2
        events = history(s, "plan", "uplizna")
    assert [(e.action, e.who, e.reason) for e in events if e.field == "version"] == [
        ("version created", "qppv", "initial"),
        ("version created", "qppv", "signal outcome"),
    ]
    result = diff_plans(get_version_plan(engine, 1), get_version_plan(engine, 2))
    [item] = result.items
    assert (item.id, item.change) == ("pml", "changed")
    assert item.fields[0].path == "additional_measures"


def get_version_plan(engine: Engine, number: int) -> RiskManagementPlan:
    with session_scope(engine) as s:
        return get_version(s, "uplizna", number).plan


def test_unknown_version_names_the_versions_that_exist(engine: Engine) -> None:
    with session_scope(engine) as s:
        record_plan(s, load_plan("uplizna"), who="qppv")
    with session_scope(engine) as s, pytest.raises(NotFoundError, match=r"no version 3 \(versions: 1\)"):
        get_version(s, "uplizna", 3)


def test_a_failed_transaction_leaves_nothing_behind(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        record_plan(s, load_plan("uplizna"), who="qppv")
        raise RuntimeError("crash before commit")
    with session_scope(engine) as s:
        assert list_versions(s) == []
        assert s.scalars(select(AuditEvent)).all() == []


def test_migrations_match_the_table_models(engine: Engine) -> None:
    """Every folder's Alembic branch creates exactly the tables its models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from riskplan.schema import metadata

    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata())
    assert differences == []


def test_current_plan_is_the_latest_approved_then_latest_stored_then_bundled(engine: Engine) -> None:
    from riskplan.plan import current_plan
    from riskplan.plan.approvals import approve_version
    from riskplan.store.signatures import Signer

    qppv = Signer("qppv", "Anne Quist", "qppv")

    bundled = load_plan("uplizna")
    with session_scope(engine) as session:
        found = current_plan(session, "uplizna")
        assert (found.origin, found.version) == ("bundled file", None)
        record_plan(session, bundled, who="tester", reason="v1")
        approve_version(session, "uplizna", 1, signer=qppv, reason="approved")
        changed = bundled.model_copy(update={"rmp_version": "changed"})
        record_plan(session, changed, who="tester", reason="v2")
    with session_scope(engine) as session:
        found = current_plan(session, "uplizna")
        assert (found.origin, found.version) == ("approved version", 1)
        assert found.plan == bundled
        approve_version(session, "uplizna", 2, signer=qppv, reason="approved")
    with session_scope(engine) as session:
        assert current_plan(session, "uplizna").version == 2
