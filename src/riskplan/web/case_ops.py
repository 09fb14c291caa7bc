"""Case work as the web application does it (shared by the JSON API and the pages)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select
from sqlalchemy.orm import Session

from riskplan.cases import (
    REJECTED,
    SKIPPED,
    CaseExists,
    CausalityRequest,
    DrugReactionPair,
    E2bError,
    Icsr,
    IntakeContext,
    PairAssessment,
    Rejection,
    StoreOutcome,
    VersionRecord,
    case_history,
    case_number,
    causality_assessments,
    choose_pair,
    export_cases,
    find_case_id,
    get_case,
    import_e2b,
    intake,
    intake_context,
    link_cases,
    lock_case_ref,
    marked_synthetic,
    record_assessment,
    record_causality,
    record_rejected_import,
    resolve_case_id,
    suspect_pairs,
    version_assessment,
    version_records,
)
from riskplan.cases import Assessment as Assessment
from riskplan.cases import Causality as Causality
from riskplan.cases import assessments as _assessments
from riskplan.errors import NotFoundError, UserInputError
from riskplan.plan import latest_version_query, version_sha256
from riskplan.store import AuditEvent, Signer
from riskplan.terms import current_release, release_loaded
from riskplan.web.context import Conflict, WebContext


@dataclass(frozen=True)
class CaseSummary:
    """What an intake answers with: the stored version's assessment."""

    valid: bool
    invalid_reasons: tuple[str, ...]
    serious: bool
    due: dt.date | None
    concerns: tuple[str, ...]


@dataclass(frozen=True)
class Entered:
    outcome: StoreOutcome
    case: CaseSummary


def _plan(ctx: WebContext, plan: str | None) -> str:
    return plan or ctx.settings.default_plan


_MAX_CHECKS = 64


class IntakeContexts:
    """Intake contexts kept between requests while neither the plan version nor the terminology changes.

    Building one means loading the plan and indexing the open term list (milliseconds per request);
    with a MedDRA release loaded the terminology reads the request's session, so it is built each time.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int, str], IntakeContext] = {}
        self._lock = threading.Lock()
        #: the check's statement per plan name, built once (it runs before every intake and follow-up)
        self._checks: dict[str, Select[int, str, bool]] = {}

    def get(self, session: Session, plan_name: str, who: str) -> IntakeContext:
        # one statement: the plan's latest version and whether a MedDRA release is loaded
        query = self._checks.get(plan_name)
        if query is None:
            query = latest_version_query(plan_name).add_columns(release_loaded())
            with self._lock:
                if len(self._checks) < _MAX_CHECKS:  # plan names come from requests: keep the cache bounded
                    self._checks[plan_name] = query
        latest = session.connection().execute(query).first()
        if latest is not None and not latest[2]:
            version, sha256, _ = latest
            cached = self._cache.get((plan_name, version, sha256))
            if cached is not None:
                return cached
        if current_release(session) is not None:
            return intake_context(session, plan_name, who)
        context = intake_context(session, plan_name, who)  # stores a bundled plan as version 1 first
        sha = version_sha256(session, plan_name, context.plan_version)
        if sha is not None:
            with self._lock:
                self._cache[(plan_name, context.plan_version, sha)] = context
        return context


def _summary(session: Session, outcome: StoreOutcome) -> CaseSummary:
    # the store returns the assessment it wrote; only an unchanged follow-up reads the stored version's
    a = outcome.assessment or version_assessment(session, outcome.case_id, outcome.version)
    return CaseSummary(a.valid, a.invalid_reasons, a.serious, a.due, a.concerns)


def enter_case(ctx: WebContext, icsr: Icsr, *, who: str, plan: str | None = None, reason: str | None = None) -> Entered:
    """A new case (version 1); a worldwide case id already stored is a conflict (send a follow-up)."""

    def conflict(known: int) -> Conflict:
        return Conflict(
            f"case {icsr.worldwide_case_id!r} already exists as {case_number(known)}; "
            f"send follow-up information to /api/cases/{case_number(known)}/follow-ups"
        )

    def work(session: Session) -> Entered:
        # the insert of the case row finds a stored worldwide case id (no look-up before it, one statement
        # less per intake); a refused request is checked for it, so that a stored case is answered with the
        # conflict whatever else is wrong with the request, as when the look-up came first
        try:
            context = ctx.intake_contexts.get(session, _plan(ctx, plan), who)
            synthetic = marked_synthetic([icsr])
            [outcome] = intake(
                session,
                [icsr],
                context=context,
                who=who,
                reason=reason,
                now=ctx.now(),
                synthetic=synthetic,
                only_new=True,
            )
        except CaseExists as exc:
            raise conflict(exc.case_id) from None
        except (UserInputError, E2bError):
            known = find_case_id(session, icsr.worldwide_case_id)
            if known is not None:
                raise conflict(known) from None
            raise
        return Entered(outcome, _summary(session, outcome))

    return ctx.write(work)


def follow_up(ctx: WebContext, ref: str, icsr: Icsr, *, who: str, reason: str | None = None) -> Entered:
    """Follow-up information for a stored case: a new version when the content changed."""

    def work(session: Session) -> Entered:
        # one follow-up of a case at a time: a second waits here (PostgreSQL row lock; SQLite
        # transactions here hold the database's write lock already) and then numbers its version after
        case = lock_case_ref(session, ref)
        if icsr.worldwide_case_id != case.worldwide_id:
            raise UserInputError(
                f"worldwide_case_id {icsr.worldwide_case_id!r} is not that of case {case_number(case.case_id)} "
                f"({case.worldwide_id!r})"
            )
        context = ctx.intake_contexts.get(session, case.plan_name, who)
        [outcome] = intake(
            session,
            [icsr],
            context=context,
            who=who,
            reason=reason or "follow-up information",
            now=ctx.now(),
            stored={case.worldwide_id: case},  # locked above: not locked again
        )
        return Entered(outcome, _summary(session, outcome))

    return ctx.write(work)


@dataclass(frozen=True)
class Imported:
    file_name: str
    outcomes: list[StoreOutcome]
    rejected: list[Rejection]


def import_batch(
    ctx: WebContext,
    data: bytes,
    *,
    file_name: str,
    who: str,
    skip_invalid: bool = False,
    plan: str | None = None,
) -> Imported:
    """An E2B(R3) batch, stored whole in one transaction (or not at all); E2bError for a refused file.

    A refused file (and the messages skipped with ``skip_invalid``) is recorded in the audit trail in a
    transaction of its own.
    """

    def audit(reason: str, action: str = REJECTED) -> None:
        ctx.write(
            lambda s: record_rejected_import(s, file_name=file_name, data=data, reason=reason, who=who, action=action)
        )

    try:
        result = import_e2b(
            data, skip_invalid=skip_invalid, max_bytes=ctx.web.max_upload_mib * 1024 * 1024, today=ctx.today()
        )
        if not result.icsrs:
            raise E2bError("the file holds no case that could be imported", rejections=result.rejected)
        ids = [i.worldwide_case_id for i in result.icsrs]
        if len(set(ids)) != len(ids):
            raise E2bError("the batch holds the same worldwide case id (C.1.8.1) more than once")

        def work(session: Session) -> list[StoreOutcome]:
            context = ctx.intake_contexts.get(session, _plan(ctx, plan), who)
            return intake(
                session,
                result.icsrs,
                context=context,
                who=who,
                reason=f"E2B(R3) import of {file_name}",
                now=ctx.now(),
                synthetic=marked_synthetic(result.icsrs),
            )

        outcomes = ctx.write(work)
    except (E2bError, UserInputError) as exc:
        audit(str(exc))
        raise
    if result.rejected:
        audit("; ".join(str(r) for r in result.rejected), SKIPPED)
    return Imported(file_name, outcomes, list(result.rejected))


@dataclass(frozen=True)
class Exported:
    batch_id: str
    file_name: str
    data: bytes
    cases: list[tuple[int, int]]  # (case id, version)


def export_batch(ctx: WebContext, refs: Sequence[str] | None, *, who: str) -> Exported:
    """The given cases as one E2B(R3) batch: a manual export, in each case's audit trail, not a submission.

    What each authority is owed and what was sent are the submissions' records (the Submissions page,
    ``riskplan submission send``); an export never marks a case as sent."""
    now = ctx.now()
    if not refs:
        raise NotFoundError(
            "nothing to export: give the cases; the reports owed to each authority are sent with "
            "`riskplan submission send`"
        )

    def work(session: Session) -> Exported:
        [file] = export_cases(
            session,
            refs,
            sender_id=ctx.settings.e2b_sender_id,
            receiver_id=ctx.settings.e2b_receiver_id,
            now=now,
            who=who,
        )
        return Exported(file.batch_id, file.file_name, file.data, list(file.cases))

    return ctx.write(work)


def case_versions(session: Session, ref: str) -> list[VersionRecord]:
    """Every version of the case ``ref`` (RP number or worldwide case id), oldest first."""
    return version_records(session, resolve_case_id(session, ref))


def history(session: Session, ref: str) -> list[AuditEvent]:
    return case_history(session, ref)


def assessments(session: Session, ref: str) -> list[Assessment]:
    return _assessments(session, resolve_case_id(session, ref))


def assess(ctx: WebContext, ref: str, causality: Causality, comment: str | None, *, signer: Signer) -> Assessment:
    """Record a medical assessment of the latest version of a case, signed by its author (and in its
    audit trail)."""

    def work(session: Session) -> Assessment:
        case_id = resolve_case_id(session, ref)
        return record_assessment(session, case_id, causality, comment, signer=signer, at=ctx.now())

    return ctx.write(work)


def assess_pair(
    ctx: WebContext,
    ref: str,
    drug: int | None,
    reaction: int | None,
    request: CausalityRequest,
    comment: str | None,
    *,
    signer: Signer,
) -> PairAssessment:
    """Record the causality of one drug-reaction pair of the latest version of a case (E2B(R3)
    G.k.9.i.2.r), signed by its author and in the case's audit trail."""

    def work(session: Session) -> PairAssessment:
        case_id = resolve_case_id(session, ref)
        pair = choose_pair(get_case(session, ref).icsr, case_number(case_id), drug, reaction)
        return record_causality(session, case_id, pair, request, comment, signer=signer, at=ctx.now())

    return ctx.write(work)


def pair_causality(session: Session, ref: str) -> list[tuple[DrugReactionPair, list[PairAssessment]]]:
    """Each suspect drug-reaction pair of the latest version of a case (E2B(R3) G.k.9.i.2.r), with the
    assessments recorded for it (on any version), oldest first."""
    case_id = resolve_case_id(session, ref)
    recorded = causality_assessments(session, case_id)
    return [
        (p, [a for a in recorded if (a.drug_uid, a.reaction_uid) == (p.drug_uid, p.reaction_uid)])
        for p in suspect_pairs(get_case(session, ref).icsr)
    ]


def link_duplicate(ctx: WebContext, ref: str, other: str, reason: str, *, who: str) -> None:
    ctx.write(lambda session: link_cases(session, ref, other, kind="duplicate", who=who, reason=reason))
