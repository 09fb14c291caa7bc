"""``/api/submissions``: submissions with their states and ACKs, and reporting compliance."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from riskplan.submissions import (
    Compliance,
    DueReport,
    LateReport,
    Submission,
    compliance_period,
    compliance_report,
    list_submissions,
)
from riskplan.web.api.schemas import (
    ComplianceMonthOut,
    ComplianceOut,
    DueOut,
    DueSoonOut,
    LateReportOut,
    SubmissionOut,
)
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, require
from riskplan.web.roles import Permission

router = APIRouter(prefix="/submissions", tags=["submissions"])
Reader = Annotated[Principal, Depends(require(Permission.SUBMISSION_READ))]


def day(value: str | None, name: str, default: dt.date) -> dt.date:
    """A query parameter as a date; 400 with the parameter's name when it is not one."""
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} {value!r}: expected a date as YYYY-MM-DD") from None


def due_out(r: DueReport, today: dt.date) -> DueOut:
    o = r.obligation
    return DueOut(
        case_number=o.case_number,
        worldwide_id=o.worldwide_id,
        version=o.version,
        destination=o.destination,
        kind=o.kind.value,
        report=o.report,
        day_zero=o.day_zero,
        due=o.due,
        days_left=r.days_left(today),
        overdue=r.overdue(today),
        rule=o.rule,
        cites=o.cites,
        rejected=r.rejection,
    )


def submission_out(s: Submission) -> SubmissionOut:
    return SubmissionOut(
        id=s.id,
        case_number=s.case_number,
        worldwide_id=s.worldwide_id,
        version=s.version,
        destination=s.destination,
        attempt=s.attempt,
        kind=s.kind,
        report=s.report,
        rule=s.rule,
        due=s.due,
        state=s.state,
        batch=s.batch_id,
        message=s.message_id,
        sent_at=s.sent_at,
        acknowledged_at=s.acknowledged_at,
        ack=s.ack_code,
        ack_text=s.ack_text,
        late_reason=s.late_reason,
    )


def compliance_out(c: Compliance) -> ComplianceOut:
    return ComplianceOut(
        start=c.start,
        end=c.end,
        as_of=c.today,
        months=[
            ComplianceMonthOut(
                destination=m.destination,
                month=m.month,
                due=m.due,
                on_time=m.on_time,
                late=m.late,
                pending=m.pending,
                share_on_time=m.share_on_time,
            )
            for m in c.months
        ],
        late=[
            LateReportOut(
                case=x.case,
                worldwide_id=x.worldwide_id,
                version=x.version,
                destination=x.destination,
                due=x.due,
                accepted=x.done,
                days_late=x.days_late,
                state=x.state,
                reason=x.reason,
            )
            for x in c.late
        ],
        due_next_7_days=[
            DueSoonOut(
                case=x.case if isinstance(x, LateReport) else x.case_number,
                version=x.version,
                destination=x.destination,
                due=x.due,
            )
            for x in c.due_soon
        ],
    )


@router.get("", response_model=list[SubmissionOut])
def submissions(
    ctx: Ctx,
    _: Reader,
    state: Annotated[list[str] | None, Query(max_length=20, description="Only these states (repeatable)")] = None,
    destination: Annotated[str | None, Query(max_length=30, description="Destination code, e.g. EU")] = None,
) -> list[SubmissionOut]:
    """Every submission (each attempt) with its state, batch, message number and the authority's ACK."""
    found = ctx.read(lambda s: list_submissions(s, states=state or (), destination=destination))
    return [submission_out(s) for s in found]


@router.get("/compliance", response_model=ComplianceOut)
def compliance(
    ctx: Ctx,
    _: Reader,
    start: Annotated[str | None, Query(alias="from", max_length=10, description="First due date (YYYY-MM-DD)")] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10, description="Last due date (YYYY-MM-DD)")] = None,
    as_of: Annotated[str | None, Query(max_length=10, description="Today, for open reports (YYYY-MM-DD)")] = None,
) -> ComplianceOut:
    """Per destination and month: share of expedited reports accepted by their due date; late ones with
    days late and reason; reports due in the next 7 days (GVP VI.C.3)."""
    today = day(as_of, "as_of", ctx.today())
    first, last = compliance_period(today)
    first, last = day(start, "from", first), day(end, "to", last)
    return compliance_out(ctx.read(lambda s: compliance_report(s, first, last, today)))
