"""Submission pages: the submissions with their states and ACK error text, and reporting compliance
(per destination and month: share on time, late ones with days late and reason, due in the next 7 days).

Both are lists fit for work, as the case list: filters, a sort, pages of :data:`PAGE` rows with Previous
and Next, and the same list as JSON (``/api/submissions``, ``/api/submissions/compliance``) or CSV
(``/submissions.csv``); the reports owed and due soon show the first few, the whole queue one link away.

The pages show what :mod:`riskplan.submissions` computes (:func:`~riskplan.submissions.list_submissions`,
:func:`~riskplan.submissions.compliance_report`, :func:`~riskplan.submissions.due_reports`); no rule here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, Response

from riskplan.submissions import (
    STATES,
    LateReport,
    MonthLine,
    Submission,
    compliance_period,
    compliance_report,
    due_reports,
    list_submissions,
    state_counts,
)
from riskplan.web.api.submissions import day
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, page_require
from riskplan.web.roles import Permission
from riskplan.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 50  # rows of a list per page
LATE_PAGE = 25  # late reports per page of the compliance page
FIRST = 10  # reports owed / due soon shown before the link to the whole queue
PageNumber = Annotated[int, Query(ge=1, le=100_000)]


def need(permission: Permission) -> Any:
    return Depends(page_require(permission))


class SubmissionSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    DUE = "due"


@dataclass(frozen=True)
class Paged:
    """One page of a list: its rows, where they are in the whole, and the links to the pages around it."""

    rows: Sequence[Any]
    total: int
    number: int
    first: int
    last: int
    previous: str | None
    next: str | None


def paged(rows: Sequence[Any], number: int, path: str, query: dict[str, Any], size: int = PAGE) -> Paged:
    """Page ``number`` (from 1) of ``rows``; the links keep the filters in ``query``."""
    start = (number - 1) * size
    shown = rows[start : start + size]

    def link(n: int) -> str:
        kept = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{path}?{urlencode({**kept, 'page': n})}"

    return Paged(
        rows=shown,
        total=len(rows),
        number=number,
        first=start + 1 if shown else 0,
        last=start + len(shown),
        previous=link(number - 1) if number > 1 else None,
        next=link(number + 1) if start + size < len(rows) else None,
    )


def _submissions(
    session: Session, state: str | None, destination: str | None, case: str | None, sort: SubmissionSort
) -> list[Submission]:
    rows = list_submissions(session, states=[state] if state else (), destination=destination or None)
    if case:
        wanted = case.strip().upper()
        rows = [s for s in rows if wanted in s.case_number or wanted in s.worldwide_id.upper()]
    if sort is SubmissionSort.NEWEST:
        return rows[::-1]
    if sort is SubmissionSort.DUE:
        return sorted(rows, key=lambda s: (s.due is None, s.due or dt.date.max, s.id))
    return rows


@router.get("/submissions")
def submissions_page(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.SUBMISSION_READ)],
    state: Annotated[str | None, Query(max_length=20)] = None,
    destination: Annotated[str | None, Query(max_length=30)] = None,
    case: Annotated[str | None, Query(max_length=200)] = None,
    sort: SubmissionSort = SubmissionSort.NEWEST,
    page: PageNumber = 1,
) -> HTMLResponse:
    today = ctx.today()
    wanted = state or None
    query = {"state": wanted, "destination": destination, "case": case, "sort": sort.value}

    def work(session: Session) -> dict[str, object]:
        counts = state_counts(session)
        owed = due_reports(session)
        return {
            "found": paged(_submissions(session, wanted, destination, case, sort), page, "/submissions", query),
            "counts": counts,
            "destinations": sorted({d for d, _ in counts}),
            "states": STATES,
            "sorts": list(SubmissionSort),
            "state": wanted,
            "destination": destination,
            "case": case,
            "sort": sort.value,
            "owed": owed[:FIRST],
            "owed_total": len(owed),
            "today": today,
            "json_link": "/api/submissions?"
            + urlencode({k: v for k, v in {"state": wanted, "destination": destination}.items() if v}),
            "csv_link": "/submissions.csv?" + urlencode({k: v for k, v in query.items() if v}),
        }

    return render(request, "submissions.html", user, ctx.read(work))


CSV_COLUMNS = (
    "case_number",
    "worldwide_id",
    "version",
    "destination",
    "attempt",
    "kind",
    "report",
    "rule",
    "due",
    "state",
    "batch_id",
    "message_id",
    "sent_at",
    "acknowledged_at",
    "ack_code",
    "ack_text",
    "late_reason",
)


@router.get("/submissions.csv")
def submissions_csv(
    ctx: Ctx,
    _: Annotated[Principal, need(Permission.SUBMISSION_READ)],
    state: Annotated[str | None, Query(max_length=20)] = None,
    destination: Annotated[str | None, Query(max_length=30)] = None,
    case: Annotated[str | None, Query(max_length=200)] = None,
    sort: SubmissionSort = SubmissionSort.NEWEST,
) -> Response:
    """Every submission the filters keep (not one page), one line each, identifiers whole."""
    rows = ctx.read(lambda s: _submissions(s, state or None, destination, case, sort))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(CSV_COLUMNS)
    for s in rows:
        writer.writerow(["" if (v := getattr(s, c)) is None else v for c in CSV_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="submissions.csv"'},
    )


@router.get("/submissions/compliance")
def compliance_page(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.SUBMISSION_READ)],
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    destination: Annotated[str | None, Query(max_length=30)] = None,
    page: PageNumber = 1,
) -> HTMLResponse:
    today = ctx.today()
    first, last = compliance_period(today)
    first, last = day(start, "from", first), day(end, "to", last)
    report = ctx.read(lambda s: compliance_report(s, first, last, today))
    wanted = (destination or "").strip().upper() or None
    months = [m for m in report.months if wanted is None or m.destination == wanted]
    late = [x for x in report.late if wanted is None or x.destination == wanted]
    soon = [
        {
            "case": x.case if isinstance(x, LateReport) else x.case_number,
            "version": x.version,
            "destination": x.destination,
            "due": x.due,
            "days_left": (x.due - today).days if x.due else None,
        }
        for x in report.due_soon
        if wanted is None or x.destination == wanted
    ]
    query = {"from": first.isoformat(), "to": last.isoformat(), "destination": wanted}
    # one row per destination, one column per month: a year fits the page (one line per month did not)
    grid: dict[str, dict[str, MonthLine]] = {}
    for m in months:
        grid.setdefault(m.destination, {})[m.month] = m
    totals = {
        d: MonthLine(
            d, "total", *(sum(getattr(m, f) for m in by.values()) for f in ("due", "on_time", "late", "pending"))
        )
        for d, by in grid.items()
    }
    return render(
        request,
        "compliance.html",
        user,
        report=report,
        months=months,
        month_names=sorted({m.month for m in months}),
        grid=grid,
        totals=totals,
        late=paged(late, page, "/submissions/compliance", query, LATE_PAGE),
        due_soon=soon[:FIRST],
        due_soon_total=len(soon),
        destinations=sorted({m.destination for m in report.months} | {x.destination for x in report.late}),
        destination=wanted,
        start=first,
        end=last,
        json_link="/api/submissions/compliance?" + urlencode({"from": first.isoformat(), "to": last.isoformat()}),
    )
