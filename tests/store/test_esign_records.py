"""Signatures linked to their records (21 CFR 11.70), on SQLite and PostgreSQL: a signature copied to
another record, or a record changed after signing, no longer matches."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from riskplan.plan.approvals import approvals, approve_version
from riskplan.plan.catalogue import load_plan
from riskplan.plan.versions import record_plan
from riskplan.signals.workflow import get_signal, list_signals, new_signal, transition
from riskplan.store.db import session_scope
from riskplan.store.signatures import SignatureMeaning, Signer, content_sha256

QPPV = Signer("qppv1", "Anne Quist", "qppv")


def test_the_hash_covers_the_record_type_id_and_content() -> None:
    content = {"plan": "uplizna", "version": 1}
    base = content_sha256("plan version", "uplizna v1", content)
    assert base == content_sha256("plan version", "uplizna v1", dict(reversed(content.items())))  # canonical
    assert base != content_sha256("plan version", "uplizna v2", content)
    assert base != content_sha256("case assessment", "uplizna v1", content)
    assert base != content_sha256("plan version", "uplizna v1", {**content, "version": 2})


def test_a_signature_copied_to_another_approval_does_not_match(engine: Engine) -> None:
    plan = load_plan("uplizna")
    with session_scope(engine) as s:
        record_plan(s, plan, who="loader")
        record_plan(s, plan.model_copy(update={"rmp_version": "2.0"}), who="loader")
        approve_version(s, "uplizna", 1, signer=QPPV, reason="EMA")
    with engine.begin() as conn:  # an approval of v2 forged from v1's row and signature
        conn.execute(
            text(
                "INSERT INTO plan_approval (plan_name, version, approved_at, approved_by, reason) "
                "SELECT plan_name, 2, approved_at, approved_by, reason FROM plan_approval WHERE version = 1"
            )
        )
        conn.execute(
            text(
                "INSERT INTO electronic_signature (signer_username, printed_name, meaning, signed_at, record_type, "
                "record_id, record_sha256) SELECT signer_username, printed_name, meaning, signed_at, record_type, "
                "'uplizna v2', record_sha256 FROM electronic_signature"
            )
        )
    with session_scope(engine) as s:
        found = approvals(s, "uplizna")
    assert found[1].signature_valid is True and found[1].signature is not None
    assert found[1].signature.meaning is SignatureMeaning.APPROVAL and found[1].signature.signed_at.tzinfo is dt.UTC
    assert found[2].signature_valid is False and found[2].signed.endswith("RECORD CHANGED SINCE SIGNING")


def test_a_closed_signal_shows_its_signature_and_a_changed_closing_breaks_it(engine: Engine) -> None:
    with session_scope(engine) as s:
        record_plan(s, load_plan("uplizna"), who="loader")
        sid = new_signal(
            s, title="PML", who="doc1", product="inebilizumab", event="PML", plan_name="uplizna", source="literature"
        ).id
        for state in ("validated", "prioritised", "assessed"):
            transition(s, sid, state, who="doc1", role="safety_physician", reason=state)
        transition(s, sid, "closed", who="x", role="qppv", reason="labelled", outcome="no action", signer=QPPV)
    with session_scope(engine) as s:
        [listed] = list_signals(s, "closed")
        shown = get_signal(s, sid)
    assert listed.signed == shown.signed and shown.signed.startswith("Anne Quist (qppv1), review, 20")
    assert shown.closed_by == "qppv1"  # the signer, not the ``who`` passed in
    with engine.begin() as conn:
        conn.execute(text("UPDATE signal_transition SET outcome = 'new safety concern' WHERE to_state = 'closed'"))
    with session_scope(engine) as s:
        assert get_signal(s, sid).signed.endswith("RECORD CHANGED SINCE SIGNING")


def test_a_signature_cannot_be_changed_or_removed_in_the_database(engine: Engine) -> None:
    """Like the audit trail, the signature table is append-only (store_0004): a forged printed name or meaning,
    or a signature removed to hide who approved, is refused by the database itself."""
    with session_scope(engine) as s:
        record_plan(s, load_plan("uplizna"), who="loader")
        approve_version(s, "uplizna", 1, signer=QPPV, reason="EMA")
    statements = [
        "UPDATE electronic_signature SET printed_name = 'Someone Else'",
        "UPDATE electronic_signature SET meaning = 'review'",
        "DELETE FROM electronic_signature",
    ]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE electronic_signature")
    for sql in statements:
        with pytest.raises(DBAPIError, match="refused"), engine.begin() as conn:
            conn.execute(text(sql))
    with session_scope(engine) as s:
        [(one, signature)] = [(v, a.signature) for v, a in approvals(s, "uplizna").items()]
    assert one == 1 and signature is not None and signature.printed_name == "Anne Quist"
