"""Assigning a case to a user: who works on it next (the "My work" queues read it).

A case is assigned to one active user of the application (``riskplan user add``) or to nobody. Each
change is recorded in the case's audit trail (action ``assigned``: old and new assignee, who and why,
21 CFR 11.10(e)); the case content and its versions are unchanged, so no reporting clock moves.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases.reads import lock_case
from riskplan.cases.store import ENTITY, case_number, resolve_case_id
from riskplan.cases.tables import CaseRow
from riskplan.errors import UserInputError
from riskplan.store import UserAccount, record_change

__all__ = ["Assignment", "UnknownAssignee", "assign_case", "assignable_users", "assignee_of"]


class UnknownAssignee(UserInputError):
    """The user a case was to be assigned to is no active user of the application."""


@dataclass(frozen=True)
class Assignment:
    case_number: str
    worldwide_id: str
    old: str | None
    new: str | None

    @property
    def changed(self) -> bool:
        return self.old != self.new


def assignable_users(session: Session) -> list[str]:
    """The active users' names, sorted: who a case can be assigned to."""
    return list(
        session.scalars(select(UserAccount.username).where(UserAccount.active.is_(True)).order_by(UserAccount.username))
    )


def _check_user(session: Session, name: str) -> str:
    row = session.execute(select(UserAccount.username, UserAccount.active).where(UserAccount.username == name)).first()
    found, active = (row[0], bool(row[1])) if row is not None else (None, False)
    if found is None or not active:
        users = assignable_users(session)
        known = f"the users are: {', '.join(users)}" if users else "there is no user yet (`riskplan user add`)"
        why = "is not active" if found is not None else "is no user of the application"
        raise UnknownAssignee(f"cannot assign to {name!r}: {name!r} {why}; {known}")
    return found


def assign_case(session: Session, ref: str, to: str | None, *, who: str, reason: str | None = None) -> Assignment:
    """Assign case ``ref`` (RP number or worldwide id) to user ``to``, or to nobody when ``to`` is None or
    blank; audited. :class:`UnknownAssignee` when ``to`` is not an active user (nothing is stored)."""
    name = (to or "").strip() or None
    case_id = resolve_case_id(session, ref)
    if name is not None:
        name = _check_user(session, name)
    lock_case(session, case_id)  # one change of a case at a time
    row = session.get(CaseRow, case_id)
    assert row is not None
    result = Assignment(case_number(case_id), row.worldwide_id, row.assigned_to, name)
    if result.changed:
        row.assigned_to = name
        record_change(
            session,
            who=who,
            entity_type=ENTITY,
            entity_id=row.worldwide_id,
            action="assigned",
            changes={"assigned to": (result.old, name)},
            reason=reason,
        )
    return result


def assignee_of(session: Session, ref: str) -> str | None:
    """Who case ``ref`` is assigned to (None: nobody)."""
    return session.scalar(select(CaseRow.assigned_to).where(CaseRow.id == resolve_case_id(session, ref)))
