"""Roles of the safety team and what each may do.

=================  ===========================================================================
role               may
=================  ===========================================================================
case_processor     read plans and cases; enter, follow up, import and export cases; case audit trails;
                   read submissions and reporting compliance
safety_physician   everything a case processor may, plus assess cases, link duplicates, read
                   signals and move them through the workflow (not close them), read studies,
                   produce and read the PSUR / PBRER
qppv               everything; the only role that closes signals and approves plan versions
epidemiologist     read plans and cases; run studies and read their reports; read signals
auditor            read-only everywhere, including every audit trail, submissions and compliance
=================  ===========================================================================
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CASE_PROCESSOR = "case_processor"
    SAFETY_PHYSICIAN = "safety_physician"
    QPPV = "qppv"
    EPIDEMIOLOGIST = "epidemiologist"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return {
            Role.CASE_PROCESSOR: "Case processor",
            Role.SAFETY_PHYSICIAN: "Safety physician",
            Role.QPPV: "QPPV",
            Role.EPIDEMIOLOGIST: "Epidemiologist",
            Role.AUDITOR: "Auditor",
        }[self]


class Permission(StrEnum):
    PLAN_READ = "plan:read"
    PLAN_APPROVE = "plan:approve"
    CASE_READ = "case:read"
    CASE_WRITE = "case:write"  # enter, follow up, import
    CASE_EXPORT = "case:export"
    CASE_HISTORY = "case:history"
    CASE_ASSESS = "case:assess"
    CASE_LINK = "case:link"
    SIGNAL_READ = "signal:read"
    SIGNAL_TRANSITION = "signal:transition"
    SIGNAL_CLOSE = "signal:close"
    STUDY_READ = "study:read"
    STUDY_RUN = "study:run"
    AUDIT_READ = "audit:read"  # the whole audit trail, not only a case's
    SUBMISSION_READ = "submission:read"  # submissions, ACKs and reporting compliance
    PSUR = "report:psur"  # produce and read the PSUR / PBRER (GVP VII: QPPV, safety physician)


_P = Permission
_CASE_PROCESSOR = frozenset(
    {_P.PLAN_READ, _P.CASE_READ, _P.CASE_WRITE, _P.CASE_EXPORT, _P.CASE_HISTORY, _P.SUBMISSION_READ}
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CASE_PROCESSOR: _CASE_PROCESSOR,
    Role.SAFETY_PHYSICIAN: _CASE_PROCESSOR
    | {_P.CASE_ASSESS, _P.CASE_LINK, _P.SIGNAL_READ, _P.SIGNAL_TRANSITION, _P.STUDY_READ, _P.PSUR},
    Role.QPPV: frozenset(Permission),
    Role.EPIDEMIOLOGIST: frozenset({_P.PLAN_READ, _P.CASE_READ, _P.SIGNAL_READ, _P.STUDY_READ, _P.STUDY_RUN}),
    Role.AUDITOR: frozenset(
        {_P.PLAN_READ, _P.CASE_READ, _P.CASE_HISTORY, _P.SIGNAL_READ, _P.STUDY_READ, _P.AUDIT_READ, _P.SUBMISSION_READ}
    ),
}


def allows(role: Role | str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[Role(role)]


def parse_role(text: str) -> Role:
    """A role from its name, ignoring case, spaces and hyphens (``"Safety physician"``, ``qppv``)."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Role(key)
    except ValueError:
        raise ValueError(f"unknown role {text!r}; roles: {', '.join(r.value for r in Role)}") from None
