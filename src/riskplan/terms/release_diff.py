"""What changes between two loaded MedDRA releases, for the data coded with the older one.

MedDRA changes twice a year (MSSO change requests): an LLT can be made non-current, an LLT or PT can
move, a PT can get another HLT or primary SOC, and SMQ content changes. MedDRA Term Selection: Points
to Consider (section 4, "Versioning") asks that coded data be brought to the new version and that the
changes be reviewed; :func:`release_changes` lists them, :func:`concern_changes` says which of a plan's
concern definitions (their HLTs, HLGTs, SMQs) stand for other PTs in the new release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.plan import RiskManagementPlan
from riskplan.terms.concern_terms import expand_concern_terms
from riskplan.terms.tables import MeddraHierarchy, MeddraLlt, MeddraPt, MeddraSmq, MeddraSmqTerm


@dataclass(frozen=True)
class LltChange:
    llt_code: int
    llt_name: str
    old_pt: int
    new_pt: int | None  # None: the LLT is gone from the new release
    made_non_current: bool


@dataclass(frozen=True)
class PtMove:
    pt_code: int
    pt_name: str
    old_hlts: tuple[int, ...]
    new_hlts: tuple[int, ...]
    old_primary_soc: int
    new_primary_soc: int | None


@dataclass(frozen=True)
class SmqChange:
    smq_code: int
    smq_name: str
    added: tuple[int, ...]  # term codes now active in the SMQ
    removed: tuple[int, ...]  # term codes no longer active in it
    changed: tuple[int, ...]  # active in both, scope or category changed


@dataclass(frozen=True)
class ConcernChange:
    concern_id: str
    added_pts: tuple[int, ...]
    removed_pts: tuple[int, ...]


@dataclass(frozen=True)
class ReleaseChanges:
    old: str
    new: str
    llts: tuple[LltChange, ...]
    pts: tuple[PtMove, ...]
    smqs: tuple[SmqChange, ...]

    @property
    def llt_codes(self) -> frozenset[int]:
        """LLTs whose coding changes: made non-current, gone, or moved to another PT."""
        return frozenset(c.llt_code for c in self.llts)

    @property
    def pt_codes(self) -> frozenset[int]:
        """PTs moved to another HLT or primary SOC, and the PTs of LLTs that moved."""
        moved = {p.pt_code for p in self.pts}
        return frozenset(moved | {c.old_pt for c in self.llts if c.new_pt != c.old_pt})


def _llts(session: Session, version: str) -> dict[int, tuple[str, int, bool]]:
    rows = session.execute(
        select(MeddraLlt.llt_code, MeddraLlt.llt_name, MeddraLlt.pt_code, MeddraLlt.is_current).where(
            MeddraLlt.release_version == version
        )
    )
    return {int(c): (str(n), int(p), bool(cur)) for c, n, p, cur in rows}


def _pt_places(session: Session, version: str) -> dict[int, tuple[str, tuple[int, ...], int]]:
    hlts: dict[int, set[int]] = {}
    for pt, hlt in session.execute(
        select(MeddraHierarchy.pt_code, MeddraHierarchy.hlt_code).where(MeddraHierarchy.release_version == version)
    ):
        hlts.setdefault(int(pt), set()).add(int(hlt))
    rows = session.execute(
        select(MeddraPt.pt_code, MeddraPt.pt_name, MeddraPt.primary_soc_code).where(MeddraPt.release_version == version)
    )
    return {int(c): (str(n), tuple(sorted(hlts.get(int(c), ()))), int(s)) for c, n, s in rows}


def _smq_content(session: Session, version: str) -> dict[int, tuple[str, dict[int, tuple[int, str]]]]:
    names = {
        int(c): str(n)
        for c, n in session.execute(
            select(MeddraSmq.smq_code, MeddraSmq.smq_name).where(MeddraSmq.release_version == version)
        )
    }
    out: dict[int, tuple[str, dict[int, tuple[int, str]]]] = {c: (n, {}) for c, n in names.items()}
    for smq, term, scope, category in session.execute(
        select(MeddraSmqTerm.smq_code, MeddraSmqTerm.term_code, MeddraSmqTerm.scope, MeddraSmqTerm.category).where(
            MeddraSmqTerm.release_version == version, MeddraSmqTerm.is_active.is_(True)
        )
    ):
        out[int(smq)][1][int(term)] = (int(scope), str(category))
    return out


def release_changes(session: Session, old: str, new: str) -> ReleaseChanges:
    """LLTs made non-current or moved, PTs moved to another HLT or primary SOC, and SMQ content changed
    between release ``old`` and release ``new`` (both loaded)."""
    old_llts, new_llts = _llts(session, old), _llts(session, new)
    llts = []
    for code, (name, pt, current) in sorted(old_llts.items()):
        after = new_llts.get(code)
        made_non_current = current and (after is None or not after[2])
        new_pt = after[1] if after is not None else None
        if made_non_current or new_pt != pt:
            llts.append(LltChange(code, name, pt, new_pt, made_non_current))
    old_pts, new_pts = _pt_places(session, old), _pt_places(session, new)
    pts = []
    for code, (name, hlts, soc) in sorted(old_pts.items()):
        after_pt = new_pts.get(code)
        if after_pt is None or after_pt[1] != hlts or after_pt[2] != soc:
            pts.append(
                PtMove(code, name, hlts, after_pt[1] if after_pt else (), soc, after_pt[2] if after_pt else None)
            )
    old_smqs, new_smqs = _smq_content(session, old), _smq_content(session, new)
    smqs = []
    nothing: dict[int, tuple[int, str]] = {}
    for code in sorted(set(old_smqs) | set(new_smqs)):
        name, terms_before = old_smqs.get(code, ("", nothing))
        name_after, terms_after = new_smqs.get(code, (name, nothing))
        added = tuple(sorted(set(terms_after) - set(terms_before)))
        removed = tuple(sorted(set(terms_before) - set(terms_after)))
        changed = tuple(sorted(t for t in set(terms_before) & set(terms_after) if terms_before[t] != terms_after[t]))
        if added or removed or changed:
            smqs.append(SmqChange(code, name_after or name, added, removed, changed))
    return ReleaseChanges(old, new, tuple(llts), tuple(pts), tuple(smqs))


def concern_changes(session: Session, plan: RiskManagementPlan, old: str, new: str) -> tuple[ConcernChange, ...]:
    """The concerns of ``plan`` whose MedDRA terms stand for other PTs in ``new`` than in ``old``."""
    out = []
    for concern in plan.safety_concerns:
        if not concern.definition.has_terms:
            continue
        before = expand_concern_terms(session, concern.definition, old).codes
        after = expand_concern_terms(session, concern.definition, new).codes
        if before != after:
            out.append(ConcernChange(concern.id, tuple(sorted(after - before)), tuple(sorted(before - after))))
    return tuple(out)


def changed_pt_codes(changes: ReleaseChanges, concerns: Sequence[ConcernChange]) -> frozenset[int]:
    """PTs whose cases need recoding or a new concern mapping: moved PTs and PTs entering or leaving a
    concern's term set."""
    return changes.pt_codes | frozenset(p for c in concerns for p in (*c.added_pts, *c.removed_pts))
