"""Approvals of stored plan versions by the QPPV, electronically signed.

A stored version is approved at most once; approvals are only ever added, and each is recorded in the
plan's audit trail (action ``version approved``) with who approved it and why. An approval is signed by
a QPPV whose password was checked at the moment of signing (21 CFR 11.200), meaning ``approval``; the
signature holds the SHA-256 of the approved version's content (21 CFR 11.70). The web application, the
command line and the other folders record and read approvals through these functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.plan.tables import PlanApprovalRow, PlanVersionRow
from riskplan.plan.versions import get_version, version_sha256
from riskplan.store import Signature, SignatureMeaning, Signer, record_change, require_role, sign, signatures, utcnow

SIGNED_RECORD = "plan version"
APPROVER_ROLES = ("qppv",)  # the QPPV approves the RMP (GVP Module I and V)

__all__ = ["AlreadyApproved", "Approval", "approvals", "approve_version", "approved_versions"]


class AlreadyApproved(UserInputError):
    """The plan version is already approved (a version is approved once)."""


@dataclass(frozen=True)
class Approval:
    plan_name: str
    version: int
    approved_at: dt.datetime
    approved_by: str
    reason: str | None
    signature: Signature | None = None
    signature_valid: bool | None = None  # whether the version still matches what was signed

    @property
    def signed(self) -> str:
        """The signature as shown (printed name, meaning, UTC time), or that there is none."""
        if self.signature is None:
            return "not electronically signed"
        return self.signature.manifestation + ("" if self.signature_valid else " — RECORD CHANGED SINCE SIGNING")


def _record_id(plan_name: str, version: int) -> str:
    return f"{plan_name} v{version}"


def _stored_sha256(session: Session, plan_name: str, version: int) -> str | None:
    """SHA-256 of the version's content as stored (its JSON text), so that an edit of the stored row
    breaks the signature even when its ``content_sha256`` column is left as it was."""
    text = session.scalar(
        select(PlanVersionRow.content_json).where(
            PlanVersionRow.plan_name == plan_name, PlanVersionRow.version == version
        )
    )
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def _signed_content(plan_name: str, version: int, stored_sha256: str | None, reason: str | None) -> dict[str, object]:
    """What an approval signs: the version, the SHA-256 of its stored content, and the reason given."""
    return {"plan": plan_name, "version": version, "stored_content_sha256": stored_sha256, "reason": reason}


def approve_version(
    session: Session,
    plan_name: str,
    version: int,
    *,
    signer: Signer,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> Approval:
    """Approve stored version ``version`` of plan ``plan_name``, signed by ``signer`` (verified at the
    moment of signing), and record it in the audit trail.

    NotFoundError when the version is not stored; :class:`AlreadyApproved` when it is already approved;
    SigningRefused when the signer is not the QPPV.
    """
    require_role(signer, APPROVER_ROLES, "a plan approval")
    who = signer.username
    if version_sha256(session, plan_name, version) is None:
        get_version(session, plan_name, version)  # raises NotFoundError naming the stored versions
    if session.scalar(
        select(PlanApprovalRow.id).where(PlanApprovalRow.plan_name == plan_name, PlanApprovalRow.version == version)
    ):
        raise AlreadyApproved(f"plan {plan_name} version {version} is already approved")
    now = at or utcnow()
    session.add(PlanApprovalRow(plan_name=plan_name, version=version, approved_at=now, approved_by=who, reason=reason))
    record_change(
        session,
        who=who,
        entity_type="plan",
        entity_id=plan_name,
        action="version approved",
        changes={"approved_version": (None, version)},
        reason=reason,
        at=now,
    )
    signature = sign(
        session,
        signer,
        SignatureMeaning.APPROVAL,
        SIGNED_RECORD,
        _record_id(plan_name, version),
        _signed_content(plan_name, version, _stored_sha256(session, plan_name, version), reason),
        at=now,
    )
    return Approval(plan_name, version, now, who, reason, signature, True)


def approvals(session: Session, plan_name: str) -> dict[int, Approval]:
    """The approvals of the plan's stored versions, by version number, with their signatures checked
    against the versions' content."""
    rows = list(
        session.scalars(
            select(PlanApprovalRow).where(PlanApprovalRow.plan_name == plan_name).order_by(PlanApprovalRow.version)
        )
    )
    signed = signatures(session, SIGNED_RECORD, [_record_id(plan_name, r.version) for r in rows])
    found: dict[int, Approval] = {}
    for r in rows:
        signature = next(iter(signed.get(_record_id(plan_name, r.version), [])), None)
        valid = None
        if signature is not None:
            content = _signed_content(plan_name, r.version, _stored_sha256(session, plan_name, r.version), r.reason)
            valid = signature.matches(content)
        found[r.version] = Approval(r.plan_name, r.version, r.approved_at, r.approved_by, r.reason, signature, valid)
    return found


def approved_versions(session: Session) -> dict[str, tuple[int, ...]]:
    """The approved version numbers of every plan that has any, in ascending order."""
    found: dict[str, list[int]] = {}
    stmt = select(PlanApprovalRow.plan_name, PlanApprovalRow.version).order_by(
        PlanApprovalRow.plan_name, PlanApprovalRow.version
    )
    for name, version in session.execute(stmt):
        found.setdefault(name, []).append(version)
    return {name: tuple(numbers) for name, numbers in found.items()}
