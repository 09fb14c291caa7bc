"""Case lists a case processor works from: filtered, sorted and paged in the database.

``riskplan case list`` and ``riskplan case due`` (and any other reader) ask for one page of the latest
versions of the cases that pass the filters; every filter, the sort and the page are applied in SQL
(SQLite and PostgreSQL), so a list of 10,000 cases costs one page of rows, not 10,000.

The **state** of a case comes from its latest version and its submissions:

* ``invalid``: the four minimum criteria are not met (GVP VI.B.2), no reporting clock runs;
* ``submitted``: a version at or after the one that started the clock was sent to at least one destination
  (a submission record in state sent, delivered or accepted; with ``CaseFilters.destination``, to that
  destination). A report generated but not handed over, rejected, or nullified does not count;
* ``overdue``: the due date (GVP VI.C.3: 15 days serious, 90 days non-serious) has passed unmet;
* ``open``: due and not yet overdue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, column, exists, func, literal, or_, select, table
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from riskplan.cases.store import IS_LATEST_VERSION, case_number
from riskplan.cases.tables import CaseConcernRow, CaseDrugRow, CaseReactionRow, CaseRow, CaseVersionRow
from riskplan.errors import UserInputError

_CHUNK = 500
# The submissions folder's records (riskplan.submissions.tables.SubmissionRow, table "submission"), read
# here by name: cases sits below submissions and does not import it. The legacy icsr_submission table is
# no longer read (its rows were carried into "submission" by migration submissions_0001).
_SUBMISSION = table("submission", column("case_version_id"), column("destination"), column("state"))
_SENT_STATES = ("sent", "delivered", "accepted")  # riskplan.submissions.records.COUNTS_AS_SENT


class CaseState(StrEnum):
    """Where a case stands (see the module docstring)."""

    INVALID = "invalid"
    OPEN = "open"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"


class CaseSort(StrEnum):
    """Orders of a case list: ``id`` (case number), ``received`` (newest first), ``due`` (soonest first)."""

    ID = "id"
    RECEIVED = "received"
    DUE = "due"


@dataclass(frozen=True)
class CaseFilters:
    """What a list keeps; None means "any"."""

    plan_name: str | None = None
    states: tuple[CaseState, ...] = ()
    serious: bool | None = None
    concern: str | None = None
    due_within: int | None = None  # days from ``as_of``; overdue cases are within any window
    product: str | None = None  # part of a suspect or concomitant product or substance name, any case
    obligation_open: bool = False  # only cases whose reporting obligation is open (``case due``)
    destination: str | None = None  # ``submitted`` means sent to this destination (code, e.g. EU); default any
    synthetic: bool | None = None  # True: only synthetic cases (riskplan synth, the demo); False: only real ones


@dataclass(frozen=True)
class CaseLine:
    """One case of a list: its latest version, state, due date and what it is about."""

    case_id: int
    worldwide_id: str
    version: int
    received: dt.date
    valid: bool
    serious: bool
    day_zero: dt.date | None
    due: dt.date | None
    state: CaseState
    days_left: int | None
    concerns: tuple[str, ...]
    pts: tuple[str, ...]
    products: tuple[str, ...]
    synthetic: bool = False

    @property
    def case_number(self) -> str:
        return case_number(self.case_id)

    @property
    def overdue(self) -> bool:
        return self.state is CaseState.OVERDUE


@dataclass(frozen=True)
class CasePage:
    """One page of a case list and the number of cases the filters keep in all."""

    lines: tuple[CaseLine, ...]
    total: int
    offset: int
    limit: int | None

    @property
    def first(self) -> int:
        return self.offset + 1 if self.lines else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.lines) if self.lines else 0


def _obligation_met(destination: str | None = None) -> ColumnElement[bool]:
    """A version at or after the one that started the clock was sent (sent, delivered or accepted) to a
    destination, or to ``destination`` when given."""
    later = aliased(CaseVersionRow)
    s = _SUBMISSION.c
    found = (
        exists()
        .where(s.case_version_id == later.id)
        .where(s.state.in_(_SENT_STATES))
        .where(later.case_id == CaseVersionRow.case_id)
        .where(later.version >= CaseVersionRow.clock_version)
    )
    return found.where(s.destination == destination.upper()) if destination else found


def _state(as_of: dt.date, destination: str | None = None) -> ColumnElement[str]:
    v = CaseVersionRow
    return case(
        (v.valid.is_(False), literal(CaseState.INVALID.value)),
        (_obligation_met(destination), literal(CaseState.SUBMITTED.value)),
        (and_(v.due.is_not(None), v.due < as_of), literal(CaseState.OVERDUE.value)),
        else_=literal(CaseState.OPEN.value),
    )


def _where(filters: CaseFilters, as_of: dt.date) -> list[ColumnElement[bool]]:
    v = CaseVersionRow
    state = _state(as_of, filters.destination)
    conditions: list[ColumnElement[bool]] = []
    if filters.plan_name:
        conditions.append(CaseRow.plan_name == filters.plan_name)
    if filters.synthetic is not None:
        conditions.append(CaseRow.synthetic.is_(filters.synthetic))
    if filters.states:
        conditions.append(state.in_([s.value for s in filters.states]))
    if filters.serious is not None:
        conditions.append(v.serious.is_(filters.serious))
    if filters.concern:
        conditions.append(
            exists().where(CaseConcernRow.case_version_id == v.id, CaseConcernRow.concern_id == filters.concern)
        )
    if filters.obligation_open or filters.due_within is not None:
        conditions += [v.due.is_not(None), ~_obligation_met()]
    if filters.due_within is not None:
        conditions.append(v.due <= as_of + dt.timedelta(days=filters.due_within))
    if filters.product:
        needle = f"%{_escape_like(filters.product.strip().casefold())}%"
        conditions.append(
            exists().where(
                CaseDrugRow.case_version_id == v.id,
                or_(
                    func.lower(CaseDrugRow.product).like(needle, escape="\\"),
                    func.lower(CaseDrugRow.substances).like(needle, escape="\\"),
                ),
            )
        )
    return conditions


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _order(sort: CaseSort) -> tuple[Any, ...]:
    v = CaseVersionRow
    if sort is CaseSort.RECEIVED:
        return (v.received.desc(), v.case_id.desc())
    if sort is CaseSort.DUE:
        return (v.due.is_(None), v.due, v.case_id)
    return (v.case_id,)


def case_page(
    session: Session,
    filters: CaseFilters = CaseFilters(),
    *,
    as_of: dt.date,
    sort: CaseSort = CaseSort.ID,
    limit: int | None = None,
    offset: int = 0,
) -> CasePage:
    """The latest versions of the cases that pass ``filters`` (states and due dates as of ``as_of``), in
    ``sort`` order, ``limit`` of them from ``offset``; with the number the filters keep in all."""
    if limit is not None and limit < 1:
        raise UserInputError(f"--limit must be at least 1, not {limit}")
    if offset < 0:
        raise UserInputError(f"--offset must be 0 or more, not {offset}")
    if filters.due_within is not None and filters.due_within < 0:
        raise UserInputError(f"--due-within must be 0 or more days, not {filters.due_within}")
    v = CaseVersionRow
    conditions = _where(filters, as_of)
    total = session.scalar(select(func.count()).select_from(v).join(CaseRow, IS_LATEST_VERSION).where(*conditions))
    stmt = (
        select(
            v.id,
            v.case_id,
            CaseRow.worldwide_id,
            v.version,
            v.received,
            v.valid,
            v.serious,
            v.day_zero,
            v.due,
            _state(as_of, filters.destination).label("state"),
            CaseRow.synthetic,
        )
        .join(CaseRow, IS_LATEST_VERSION)
        .where(*conditions)
        .order_by(*_order(sort))
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()
    ids = [r.id for r in rows]
    concerns = _grouped(session, CaseConcernRow.case_version_id, CaseConcernRow.concern_id, CaseConcernRow.id, ids)
    pts = _grouped(session, CaseReactionRow.case_version_id, CaseReactionRow.pt_name, CaseReactionRow.seq, ids)
    products = _grouped(session, CaseDrugRow.case_version_id, CaseDrugRow.product, CaseDrugRow.seq, ids)
    lines = tuple(
        CaseLine(
            case_id=r.case_id,
            worldwide_id=r.worldwide_id,
            version=r.version,
            received=r.received,
            valid=r.valid,
            serious=r.serious,
            day_zero=r.day_zero,
            due=r.due,
            state=CaseState(r.state),
            days_left=(r.due - as_of).days if r.due is not None else None,
            concerns=tuple(concerns.get(r.id, ())),
            pts=tuple(dict.fromkeys(p for p in pts.get(r.id, ()) if p)),
            products=tuple(dict.fromkeys(p for p in products.get(r.id, ()) if p)),
            synthetic=bool(r.synthetic),
        )
        for r in rows
    )
    return CasePage(lines, int(total or 0), offset, limit)


def _grouped(session: Session, key: Any, value: Any, order: Any, ids: Sequence[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for i in range(0, len(ids), _CHUNK):
        stmt = select(key, value).where(key.in_(ids[i : i + _CHUNK])).order_by(key, order)
        for k, v in session.execute(stmt):
            out.setdefault(k, []).append(v)
    return out
