"""New versions of many stored cases at once, set-based: the batched twin of the per-case follow-up path
(:func:`riskplan.cases.store.store_cases` for a known case), for bulk changes such as a MedDRA recoding.

For a batch of cases (each stored once, each at most once in the batch) the case rows are locked, their
latest versions read, their earlier versions' clock facts read, the new versions, their reaction, drug and
concern rows inserted and the cases moved to their new version each with one statement per table (COPY on
PostgreSQL), instead of some eight statements per case. What is stored is exactly what the per-case path
stores: the same version rows (C.1.5 only moves forward, the reporting clock of GVP VI.C.3 worked out over
all versions), the same projections and the same audit rows in the same order (21 CFR 11.10(e): new
version, each changed field with its old and new value, a validity change), appended to the hash chain
through :func:`riskplan.store.insert_audit_rows`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session

from riskplan.cases.clock import VersionFacts, reporting_clock
from riskplan.cases.processing import AssessedCase
from riskplan.cases.store import (
    _CASES,
    _CHUNK,
    _VERSIONS,
    ENTITY,
    IS_LATEST_VERSION,
    StoreOutcome,
    _follow_up_facts,
    _insert_projections,
    _received,
    _refuse_impossible,
    _version_row,
)
from riskplan.cases.tables import CaseRow, CaseVersionRow, SubmissionRow
from riskplan.errors import UserInputError
from riskplan.store import (
    SMALL_BATCH,
    audit_row,
    field_changes,
    insert_audit_rows,
    insert_returning_ids,
    keep_statistics_current,
    utcnow,
)

__all__ = ["store_new_versions"]


def _locked_latest(session: Session, keys: Sequence[str]) -> dict[str, tuple[int, str, int, str, dt.date, bool]]:
    """worldwide id -> (case id, worldwide id, latest version, its ICSR JSON, its C.1.5, its validity), with
    the case rows locked until the transaction ends (in id order, so two batches never deadlock)."""
    found: dict[str, tuple[int, str, int, str, dt.date, bool]] = {}
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        # the same lock as the per-case path (SELECT ... FOR UPDATE): concurrent follow-ups wait
        session.execute(
            select(CaseRow.id).where(CaseRow.worldwide_id.in_(chunk)).order_by(CaseRow.id).with_for_update()
        )
        for case_id, wid, version, text, received, valid in session.execute(
            select(
                CaseRow.id,
                CaseRow.worldwide_id,
                CaseVersionRow.version,
                CaseVersionRow.icsr_json,
                CaseVersionRow.received,
                CaseVersionRow.valid,
            )
            .join(CaseVersionRow, IS_LATEST_VERSION)
            .where(CaseRow.worldwide_id.in_(chunk))
        ):
            found[str(wid)] = (int(case_id), str(wid), int(version), str(text), received, bool(valid))
    return found


def _versions_facts(session: Session, case_ids: Sequence[int]) -> dict[int, list[VersionFacts]]:
    """The clock facts of every stored version of each case (as the per-case path reads them)."""
    submitted = exists().where(SubmissionRow.case_version_id == CaseVersionRow.id)
    out: dict[int, list[VersionFacts]] = {}
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), _CHUNK):
        for case_id, v, r, ok, s, sub, at in session.execute(
            select(
                CaseVersionRow.case_id,
                CaseVersionRow.version,
                CaseVersionRow.received,
                CaseVersionRow.valid,
                CaseVersionRow.serious,
                submitted.label("submitted"),
                CaseVersionRow.recorded_at,
            )
            .where(CaseVersionRow.case_id.in_(ids[start : start + _CHUNK]))
            .order_by(CaseVersionRow.case_id, CaseVersionRow.version)
        ):
            out.setdefault(int(case_id), []).append(
                VersionFacts(v, r, valid=ok, serious=s, submitted=bool(sub), recorded=at.date())
            )
    return out


def store_new_versions(
    session: Session,
    cases: Sequence[AssessedCase],
    *,
    plan_version: int | None,
    who: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> list[StoreOutcome]:
    """Store each of ``cases`` (all already stored, each once) as its case's next version when its content
    changed ("follow-up"), else nothing ("unchanged"); in the caller's transaction, whole or not at all.

    Refused, nothing stored: a case not stored, a case given twice, an impossible value, or a date of most
    recent information (C.1.5) before the stored version's.
    """
    now = now or utcnow()
    _refuse_impossible(cases, now.date())
    keys = [a.icsr.case_key for a in cases]
    if len(set(keys)) != len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        raise UserInputError(f"case(s) {', '.join(twice[:5])} given more than once in one batch; nothing stored")
    if len(cases) > SMALL_BATCH:
        keep_statistics_current(session, (CaseRow.__tablename__, CaseVersionRow.__tablename__))
    latest = _locked_latest(session, keys)
    missing = [k for k in keys if k not in latest]
    if missing:
        raise UserInputError(f"case(s) {', '.join(missing[:5])} not stored: no new version made; nothing stored")
    outcomes: list[StoreOutcome] = []
    changed: list[tuple[AssessedCase, str, tuple[int, str, int, str, dt.date, bool]]] = []
    for a, key in zip(cases, keys, strict=True):
        stored = latest[key]
        case_id, wid, version, text, received_before, _ = stored
        new_json = a.icsr.model_dump_json()
        if new_json == text:
            outcomes.append(StoreOutcome(wid, case_id, version, "unchanged"))
            continue
        received = _received(a.icsr, now)
        if received < received_before:
            # C.1.5 only moves forward: a follow-up reports information received after the stored version's
            raise UserInputError(
                f"case {wid}: follow-up refused, nothing stored: its date of most recent information "
                f"(C.1.5) {received.isoformat()} is before {received_before.isoformat()}, that of the stored "
                f"version {version}; follow-up information cannot be older than what is already stored"
            )
        changed.append((a, new_json, stored))
        outcomes.append(StoreOutcome(wid, case_id, version + 1, "follow-up"))
    if not changed:
        return outcomes
    facts = _versions_facts(session, [s[0] for _, _, s in changed])
    rows: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    why = reason or "follow-up information"
    for a, new_json, (case_id, wid, version, text, _, valid_before) in changed:
        number = version + 1
        changes = field_changes(json.loads(text), json.loads(new_json))
        clock = reporting_clock([*facts[case_id], _follow_up_facts(number, a, now, changes)])
        rows.append(
            _version_row(
                case_id,
                number,
                a,
                clock,
                plan_version=plan_version,
                who=who,
                reason=reason,
                now=now,
                icsr_json=new_json,
            )
        )
        common: dict[str, Any] = {"who": who, "entity_type": ENTITY, "entity_id": wid, "at": now, "reason": why}
        audit.append(audit_row(action="new version", field="version", old=version, new=number, **common))
        audit += [audit_row(action="changed", field=c.path, old=c.old, new=c.new, **common) for c in changes]
        if valid_before != a.validity.valid:
            audit.append(
                audit_row(action="validity changed", field="valid", old=valid_before, new=a.validity.valid, **common)
            )
    version_ids = insert_returning_ids(session, _VERSIONS, rows, "case_id")
    _insert_projections(session, version_ids, [a for a, _, _ in changed])
    session.connection().execute(
        update(_CASES).where(_CASES.c.id == bindparam("case_id")).values(latest_version=bindparam("number")),
        [{"case_id": row["case_id"], "number": row["version"]} for row in rows],
    )
    insert_audit_rows(session, audit)
    return outcomes
