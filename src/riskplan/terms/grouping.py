"""Grouping MedDRA PTs at a higher level for counting: HLT, HLGT, SOC (along each PT's primary path) or
SMQ (every SMQ a PT is an active term of, in the narrow or the broad scope).

Disproportionality at HLT, HLGT, SOC or SMQ level (CIOMS Working Group VIII, "Practical aspects of
signal detection", 5: grouping terms) counts a report once per group whatever the number of its PTs in
the group. A PT is counted in the HLT, HLGT and SOC of its primary SOC path (MedDRA Introductory Guide:
the primary SOC is used for data output, so that a PT is counted once). An SMQ group is "name (narrow)"
for its narrow terms or "name (broad)" for narrow and broad terms; algorithms cannot be applied to a
single event and are not: a case-level search (concern mapping) applies them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.terms.smq import smq_terms
from riskplan.terms.tables import MeddraHierarchy, MeddraHlgt, MeddraHlt, MeddraPt, MeddraSmq, MeddraSoc
from riskplan.terms.text import fold_term

EVENT_LEVELS = ("pt", "hlt", "hlgt", "soc", "smq")


def event_groups(session: Session, release: str, level: str, smq_scope: str = "broad") -> list[tuple[str, str]]:
    """``(folded PT name, group name)`` pairs of ``release`` at ``level`` (hlt, hlgt, soc or smq; for smq
    the terms of ``smq_scope``, narrow or broad: one scope per analysis, so no report counts twice in
    one SMQ)."""
    pts = {
        int(c): fold_term(str(n))
        for c, n in session.execute(
            select(MeddraPt.pt_code, MeddraPt.pt_name).where(MeddraPt.release_version == release)
        )
    }
    if level in ("hlt", "hlgt", "soc"):
        models: dict[str, type[MeddraHlt] | type[MeddraHlgt] | type[MeddraSoc]] = {
            "hlt": MeddraHlt,
            "hlgt": MeddraHlgt,
            "soc": MeddraSoc,
        }
        model = models[level]
        code = getattr(model, f"{level}_code")
        name = getattr(model, f"{level}_name")
        path_code = getattr(MeddraHierarchy, f"{level}_code")
        rows = session.execute(
            select(MeddraHierarchy.pt_code, name)
            .join(model, (model.release_version == MeddraHierarchy.release_version) & (code == path_code))
            .where(MeddraHierarchy.release_version == release, MeddraHierarchy.is_primary.is_(True))
            .distinct()
        )
        return sorted({(pts[int(pt)], str(group)) for pt, group in rows})
    if level == "smq":
        out: set[tuple[str, str]] = set()
        for smq in session.scalars(
            select(MeddraSmq).where(MeddraSmq.release_version == release, MeddraSmq.is_active.is_(True))
        ):
            for pt in smq_terms(session, release, smq, smq_scope).pts:
                out.add((pts[pt], f"{smq.smq_name} ({smq_scope})"))
        return sorted(out)
    raise ValueError(f"event level {level!r}: use one of {', '.join(EVENT_LEVELS)}")
