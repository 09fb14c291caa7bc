"""Migrations across folders, on SQLite and PostgreSQL: plan approvals and medical assessments of cases,
once kept in web tables, move to the plan and cases folders without losing a record.

The database is built at the revisions before the move (plan_0001, cases_0001, web_0001), filled through
SQL the way the web application wrote it then, and upgraded with ``riskplan db upgrade``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from typer.testing import CliRunner

from riskplan.cases.assessments import Assessment, Causality, assessments, record_assessment
from riskplan.cli import app
from riskplan.errors import UserInputError
from riskplan.plan.approvals import AlreadyApproved, Approval, approvals, approve_version
from riskplan.settings import get_settings
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import alembic_config, is_current, upgrade
from riskplan.store.signatures import Signer

runner = CliRunner()

APPROVED_AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
ASSESSED_AT = dt.datetime(2026, 3, 4, 14, 5, tzinfo=dt.UTC)
OLD_REVISIONS = ("store_0001", "plan_0001", "cases_0001", "web_0001")


@pytest.fixture
def old_engine(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    """A database at the revisions before the move, which the CLI is configured to use."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", database_url)
    monkeypatch.setenv("RISKPLAN_USER", "tester")
    monkeypatch.delenv("RISKPLAN_CONFIG", raising=False)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    cfg = alembic_config(engine)
    for target in OLD_REVISIONS:
        command.upgrade(cfg, target)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _fill_as_the_web_did(engine: Engine) -> None:
    """One approved plan version and one assessed case, with their audit rows, as web_0001 stored them."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plan_version (id, plan_name, version, content_sha256, content_json, loaded_at, "
                "loaded_by) VALUES (1, 'uplizna', 1, :sha, '{}', :at, 'qppv-1')"
            ),
            {"sha": "0" * 64, "at": APPROVED_AT - dt.timedelta(days=1)},
        )
        conn.execute(
            text(
                "INSERT INTO web_plan_approval (id, plan_name, version, approved_at, approved_by, reason) "
                "VALUES (3, 'uplizna', 1, :at, 'qppv-1', 'signed')"
            ),
            {"at": APPROVED_AT},
        )
        conn.execute(
            text(
                "INSERT INTO icsr_case (id, worldwide_id, plan_name, latest_version, created_at, created_by) "
                "VALUES (1, 'IT-MIG-1', 'uplizna', 2, :at, 'cp-1')"
            ),
            {"at": ASSESSED_AT - dt.timedelta(days=3)},
        )
        conn.execute(
            text(
                "INSERT INTO web_case_assessment (id, case_id, version, causality, comment, assessed_at, "
                "assessed_by) VALUES (5, 1, 2, 'probable', 'positive rechallenge', :at, 'physician-1')"
            ),
            {"at": ASSESSED_AT},
        )
        audit = (
            "INSERT INTO audit_event (at, who, entity_type, entity_id, action, field, old_value, new_value, reason) "
            "VALUES (:at, :who, :type, :id, :action, :field, NULL, :new, :reason)"
        )
        conn.execute(
            text(audit),
            [
                {
                    "at": APPROVED_AT,
                    "who": "qppv-1",
                    "type": "plan",
                    "id": "uplizna",
                    "action": "version approved",
                    "field": "approved_version",
                    "new": "1",
                    "reason": "signed",
                },
                {
                    "at": ASSESSED_AT,
                    "who": "physician-1",
                    "type": "case",
                    "id": "IT-MIG-1",
                    "action": "medically assessed",
                    "field": "causality",
                    "new": '"probable"',
                    "reason": "assessment of version 2",
                },
                {
                    "at": ASSESSED_AT,
                    "who": "physician-1",
                    "type": "case",
                    "id": "IT-MIG-1",
                    "action": "medically assessed",
                    "field": "comment",
                    "new": '"positive rechallenge"',
                    "reason": "assessment of version 2",
                },
            ],
        )


def _audit_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT id, at, who, entity_type, entity_id, action, field, old_value, new_value, reason "
                    "FROM audit_event ORDER BY id"
                )
            )
        ]


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_approvals_and_assessments_move_to_their_folders_without_loss(old_engine: Engine) -> None:
    engine = old_engine
    _fill_as_the_web_did(engine)
    audit_before = _audit_rows(engine)
    assert {"web_plan_approval", "web_case_assessment"} <= _tables(engine)
    assert not is_current(engine)

    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 1 and "needs `riskplan db upgrade`" in status.output
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "is at the latest revision" in result.output
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 0 and "up to date" in status.output
    assert is_current(engine)

    tables = _tables(engine)
    assert {"plan_approval", "case_assessment"} <= tables
    assert not {"web_plan_approval", "web_case_assessment"} & tables
    with session_scope(engine) as s:
        assert approvals(s, "uplizna") == {1: Approval("uplizna", 1, APPROVED_AT, "qppv-1", "signed")}
        assert assessments(s, 1) == [Assessment(2, "probable", "positive rechallenge", ASSESSED_AT, "physician-1")]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM plan_approval")).scalars().all() == [3]
        assert conn.execute(text("SELECT id FROM case_assessment")).scalars().all() == [5]
    assert _audit_rows(engine) == audit_before

    # new records get ids after the copied ones (PostgreSQL's sequences were moved on)
    with session_scope(engine) as s:
        record_assessment(
            s, 1, Causality.POSSIBLE, None, signer=Signer("physician-2", "Dr physician-2", "safety_physician")
        )
        with pytest.raises(AlreadyApproved, match="already approved"):
            approve_version(s, "uplizna", 1, signer=Signer("qppv-2", "QPPV qppv-2", "qppv"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM case_assessment ORDER BY id")).scalars().all()[0] == 5
        assert conn.execute(text("SELECT max(id) FROM case_assessment")).scalar_one() > 5
    assert _audit_rows(engine)[: len(audit_before)] == audit_before


def test_the_move_is_undone_by_the_downgrade(old_engine: Engine) -> None:
    engine = old_engine
    _fill_as_the_web_did(engine)
    upgrade(engine)
    cfg = alembic_config(engine)
    command.downgrade(cfg, "web_0001")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, approved_by FROM web_plan_approval")).all() == [(3, "qppv-1")]
        assert conn.execute(text("SELECT id, causality FROM web_case_assessment")).all() == [(5, "probable")]
        assert conn.execute(text("SELECT count(*) FROM plan_approval")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM case_assessment")).scalar_one() == 0
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine)
    with session_scope(engine) as s:
        assert [a.approved_by for a in approvals(s, "uplizna").values()] == ["qppv-1"]
        assert [a.causality for a in assessments(s, 1)] == ["probable"]


def test_approvals_are_recorded_once_per_stored_version(engine: Engine) -> None:
    from riskplan.plan.catalogue import load_plan
    from riskplan.plan.versions import record_plan
    from riskplan.store.audit import history

    with session_scope(engine) as s:
        record_plan(s, load_plan("uplizna"), who="qppv-1")
        approved = approve_version(
            s, "uplizna", 1, signer=Signer("qppv-1", "QPPV qppv-1", "qppv"), reason="signed", at=APPROVED_AT
        )
    assert approved.signature is not None and approved.signature_valid
    assert dataclasses.replace(approved, signature=None, signature_valid=None) == Approval(
        "uplizna", 1, APPROVED_AT, "qppv-1", "signed"
    )
    with session_scope(engine) as s:
        with pytest.raises(AlreadyApproved):
            approve_version(s, "uplizna", 1, signer=Signer("qppv-2", "QPPV qppv-2", "qppv"))
        with pytest.raises(UserInputError, match="has no version 2"):
            approve_version(s, "uplizna", 2, signer=Signer("qppv-1", "QPPV qppv-1", "qppv"))
        assert list(approvals(s, "uplizna")) == [1]
        [event] = [e for e in history(s, "plan", "uplizna") if e.action == "version approved"]
        assert (event.who, event.field, event.new_value, event.reason) == ("qppv-1", "approved_version", "1", "signed")


def test_an_unknown_causality_or_case_is_refused(engine: Engine) -> None:
    with session_scope(engine) as s, pytest.raises(UserInputError, match="unknown causality 'maybe'"):
        record_assessment(s, 1, "maybe", None, signer=Signer("physician-1", "Dr physician-1", "safety_physician"))
    with session_scope(engine) as s, pytest.raises(UserInputError, match="no case RP0000042"):
        record_assessment(s, 42, "possible", None, signer=Signer("physician-1", "Dr physician-1", "safety_physician"))
