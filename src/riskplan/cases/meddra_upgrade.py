"""Bringing stored cases to a new MedDRA release: what changes (preview) and the recoding (apply).

MedDRA Term Selection: Points to Consider (section 4, "Versioning") asks that data be coded with the
current version and that version changes be applied to stored data in a traceable way. The preview
lists, for the releases the stored coding uses, the LLTs made non-current or moved, PTs moved to another
HLT or primary SOC, SMQ content changed, the plan concerns whose definitions stand for other PTs, and how
many case versions are affected. Applying recodes each affected case as a new case version (the earlier
version is kept unchanged) with E.i.2.1a set to the new release, re-maps it to the plan's concerns with
the new release's terms, and adds an audit row citing the release (21 CFR 11.10(e)). The date of most
recent information (C.1.5) is unchanged: recoding is no new information (GVP VI.C.6.2.2.7), so no
reporting clock restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from riskplan.cases.intake import IntakeContext, intake, plan_for_intake
from riskplan.cases.model import Icsr, MeddraTerm
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import ENTITY, IS_LATEST_VERSION, version_icsrs
from riskplan.cases.tables import CaseReactionRow, CaseRow, CaseVersionRow
from riskplan.cases.version_batch import store_new_versions
from riskplan.errors import UserInputError
from riskplan.plan import current_plan
from riskplan.store import audit_row, insert_audit_rows, utcnow
from riskplan.terms import (
    ConcernChange,
    MeddraTerminology,
    ReleaseChanges,
    changed_pt_codes,
    concern_changes,
    expand_plan_terms,
    get_release,
    list_releases,
    release_changes,
    release_sort_key,
)

__all__ = ["UpgradeApplied", "UpgradePreview", "apply_upgrade", "preview_upgrade"]

_BATCH = 500


@dataclass(frozen=True)
class UpgradePreview:
    """What upgrading the stored coding to MedDRA ``to`` changes."""

    to: str
    coded_with: dict[str, int]  # older release -> latest case versions coded with it
    changes: tuple[ReleaseChanges, ...]
    concerns: dict[str, tuple[ConcernChange, ...]]  # plan name -> its concerns whose terms change
    affected: tuple[int, ...]  # case ids whose latest version is recoded

    @property
    def affected_count(self) -> int:
        return len(self.affected)


def _prefix(version: str) -> str:
    return f"MedDRA {version}"


def _coded_with(session: Session) -> dict[str, int]:
    """Older-or-newer releases used by the latest versions' coding: release -> case versions."""
    r = CaseReactionRow
    rows = session.execute(
        select(r.terminology, func.count(func.distinct(CaseVersionRow.id)))
        .join(CaseVersionRow, r.case_version_id == CaseVersionRow.id)
        .join(CaseRow, IS_LATEST_VERSION)
        .where(r.terminology.like("MedDRA %"))
        .group_by(r.terminology)
    )
    return {str(t).removeprefix("MedDRA "): int(n) for t, n in rows}


def preview_upgrade(session: Session, to: str, *, progress: Callable[[str], None] | None = None) -> UpgradePreview:
    """The changes for stored data of recoding to release ``to`` (loaded): see the module docstring."""
    target = get_release(session, to).version
    loaded = {r.version for r in list_releases(session)}
    coded = {v: n for v, n in _coded_with(session).items() if v != target}
    newer = sorted(v for v in coded if release_sort_key(v) > release_sort_key(target))
    if newer:
        raise UserInputError(
            f"stored cases are coded with MedDRA {', '.join(newer)}, newer than {target}: a case is never "
            "recoded to an older release"
        )
    not_loaded = sorted(v for v in coded if v not in loaded)
    if not_loaded:
        raise UserInputError(
            f"stored cases are coded with MedDRA {', '.join(not_loaded)}, which is not loaded: load that release "
            "too (`riskplan terms load-meddra DIR`) so the changes can be worked out"
        )
    plans = sorted(str(p) for p in session.scalars(select(CaseRow.plan_name).distinct()))
    changes: list[ReleaseChanges] = []
    concerns: dict[str, tuple[ConcernChange, ...]] = {}
    affected: set[int] = set()
    for old in sorted(coded, key=release_sort_key):
        if progress is not None:
            progress(f"comparing MedDRA {old} with {target}")
        diff = release_changes(session, old, target)
        changes.append(diff)
        for plan_name in plans:
            plan = current_plan(session, plan_name).plan
            moved = concern_changes(session, plan, old, target)
            if moved:
                concerns[plan_name] = concerns.get(plan_name, ()) + moved
            pts = sorted(str(p) for p in changed_pt_codes(diff, moved))
            llts = sorted(str(c) for c in diff.llt_codes)
            if not pts and not llts:
                continue
            r = CaseReactionRow
            conditions = []
            for start in range(0, max(len(pts), len(llts)), 5_000):
                if pts[start : start + 5_000]:
                    conditions.append(r.pt_code.in_(pts[start : start + 5_000]))
                if llts[start : start + 5_000]:
                    conditions.append(r.llt_code.in_(llts[start : start + 5_000]))
            stmt = (
                select(CaseRow.id)
                .join(CaseVersionRow, IS_LATEST_VERSION)
                .join(r, r.case_version_id == CaseVersionRow.id)
                .where(CaseRow.plan_name == plan_name, r.terminology == _prefix(old), or_(*conditions))
                .distinct()
            )
            affected.update(int(i) for i in session.scalars(stmt))
    return UpgradePreview(target, coded, tuple(changes), concerns, tuple(sorted(affected)))


@dataclass(frozen=True)
class UpgradeApplied:
    preview: UpgradePreview
    new_versions: int


def _recode(icsr: Icsr, to: str, terms: MeddraTerminology) -> Icsr:
    """The ICSR with every reaction coded in another release moved to ``to`` (same LLT code, its PT in ``to``)."""
    reactions = []
    for reaction in icsr.reactions:
        if reaction.meddra is None or reaction.meddra.version == to:
            reactions.append(reaction)
            continue
        match = terms.lookup_llt(int(reaction.meddra.code))
        update: dict[str, object] = {"meddra": MeddraTerm(version=to, code=reaction.meddra.code)}
        if match is not None:
            update |= {"pt_name": match.pt_name, "pt_code": f"{match.pt_code:08d}", "llt_name": match.llt_name}
        reactions.append(reaction.model_copy(update=update))
    return icsr.model_copy(update={"reactions": tuple(reactions)})


def apply_upgrade(
    session: Session,
    to: str,
    *,
    who: str,
    reason: str,
    progress: Callable[[int, int], None] | None = None,
    preview: UpgradePreview | None = None,
    batched: bool = True,
) -> UpgradeApplied:
    """Recode every affected case (see :func:`preview_upgrade`) to release ``to``: one new case version each,
    in the caller's transaction, with an audit row citing the release and ``reason``. ``preview``: one
    made in the same transaction, to reuse (else it is worked out again).

    The new versions are stored a batch at a time, set-based (:func:`store_new_versions`: a few statements
    per table and batch); ``batched=False`` stores them one case at a time through intake's follow-up path,
    which stores the same rows (kept to check the batched path against it). All in the caller's one
    transaction: the recoding is stored whole or not at all, never leaving the data half in one release and
    half in the other; should it fail, nothing changed and running it again starts from the same cases."""
    if not reason.strip():
        raise UserInputError("give the reason for the recoding (--reason), it goes to the audit trail")
    if preview is None or preview.to != to:
        preview = preview_upgrade(session, to)
    release = get_release(session, preview.to)
    terms = MeddraTerminology(session, release)
    contexts: dict[str, IntakeContext] = {}
    cited = (
        f"MedDRA {release.version} (loaded {release.loaded_at:%Y-%m-%d} by {release.loaded_by} "
        f"from {release.source_dir})"
    )
    new_versions = 0
    ids = list(preview.affected)
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        rows = session.execute(
            select(CaseRow.id, CaseRow.plan_name, CaseRow.worldwide_id, CaseVersionRow.id)
            .join(CaseVersionRow, IS_LATEST_VERSION)
            .where(CaseRow.id.in_(chunk))
        ).all()
        icsrs = version_icsrs(session, [v for *_, v in rows])
        by_plan: dict[str, list[tuple[str, Icsr, Icsr]]] = {}
        for _, plan_name, worldwide_id, version_id in rows:
            before = icsrs[version_id]
            by_plan.setdefault(str(plan_name), []).append(
                (str(worldwide_id), before, _recode(before, release.version, terms))
            )
        audit = []
        for plan_name, items in by_plan.items():
            context = contexts.get(plan_name)
            if context is None:
                plan, plan_version = plan_for_intake(session, plan_name, who)
                processor = CaseProcessor(plan, terms, concern_terms=expand_plan_terms(session, plan, release.version))
                context = contexts[plan_name] = IntakeContext(plan, plan_version, processor)
            why = f"recoded to MedDRA {release.version}: {reason}"
            if batched:
                outcomes = store_new_versions(
                    session,
                    [context.processor.assess(after) for _, _, after in items],
                    plan_version=context.plan_version,
                    who=who,
                    reason=why,
                )
            else:
                outcomes = intake(session, [after for _, _, after in items], context=context, who=who, reason=why)
            for (worldwide_id, before, _), outcome in zip(items, outcomes, strict=True):
                if outcome.status == "unchanged":
                    continue
                new_versions += 1
                old = sorted({r.meddra.version for r in before.reactions if r.meddra is not None})
                audit.append(
                    audit_row(
                        who=who,
                        entity_type=ENTITY,
                        entity_id=worldwide_id,
                        action="MedDRA recoded",
                        at=utcnow(),
                        field="MedDRA version (E.i.2.1a)",
                        old=", ".join(old),
                        new=cited,
                        reason=reason,
                    )
                )
        insert_audit_rows(session, audit)
        if progress is not None:
            progress(min(start + _BATCH, len(ids)), len(ids))
    return UpgradeApplied(preview, new_versions)
