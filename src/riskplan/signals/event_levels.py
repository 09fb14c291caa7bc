"""Counting events above the PT: a spontaneous source whose events are regrouped at HLT, HLGT, SOC or
SMQ level with a loaded MedDRA release (:func:`riskplan.terms.event_groups`; CIOMS VIII, grouping terms).

A report counts once per group (DISTINCT report, product, group); PTs that the release does not know, or
that are in no SMQ, are left out and counted in :attr:`GroupedSource.note`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
from sqlalchemy import Engine

from riskplan.errors import UserInputError
from riskplan.signals.sources import SpontaneousSource
from riskplan.store import session_scope
from riskplan.terms import event_groups, resolve_release


@dataclass
class GroupedSource:
    """``inner``'s reports with each PT replaced by its group(s) at ``level`` in the release in use."""

    inner: SpontaneousSource
    engine: Engine
    level: str
    release: str | None = None
    smq_scope: str = "broad"
    note_text: str = field(default="", init=False)

    @property
    def description(self) -> str:
        return f"{self.inner.description}, events grouped by {self.level.upper()}"

    @property
    def strata(self) -> tuple[str, ...]:
        return self.inner.strata

    @property
    def has_period(self) -> bool:
        return self.inner.has_period

    @property
    def note(self) -> str:
        inner = str(getattr(self.inner, "note", "") or "")
        return "; ".join(x for x in (inner, self.note_text) if x)

    def to_relation(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        with session_scope(self.engine) as session:
            release = resolve_release(session, self.release).version
            pairs = event_groups(session, release, self.level, self.smq_scope)
        if not pairs:
            raise UserInputError(
                f"MedDRA {release} has no {self.level.upper()} groups"
                + (" (it was loaded without smq_list.asc / smq_content.asc)" if self.level == "smq" else "")
            )
        rel = self.inner.to_relation(con)
        tag = f"_groups_{id(self):x}"
        con.register(
            f"{tag}_map",
            {
                "pt": np.array([p for p, _ in pairs], dtype=object),
                "grp": np.array([g for _, g in pairs], dtype=object),
            },
        )
        con.register(f"{tag}_in", rel)
        extra = "".join(f', i."{s}"' for s in self.strata) + (", i.period" if self.has_period else "")
        match = "m.pt = lower(trim(regexp_replace(i.event::VARCHAR, '\\s+', ' ', 'g')))"
        grouped = con.sql(
            f"""
            SELECT DISTINCT i.report_id, i.product, m.grp AS event{extra}
            FROM {tag}_in i JOIN {tag}_map m ON {match}
            """
        )
        total, left = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM {tag}_map m WHERE {match})) "
            f"FROM {tag}_in i"
        ).fetchall()[0]
        what = "in no SMQ of" if self.level == "smq" else "not PTs of"
        parts = [f"events grouped by {self.level.upper()} with MedDRA {release}"]
        if left:
            parts.append(f"{left:,} of {total:,} report-product-event rows left out: events {what} MedDRA {release}")
        if self.level == "smq":
            parts.append(f"{self.smq_scope} SMQ term sets; SMQ algorithms are not applied to single events")
        self.note_text = "; ".join(parts)
        return grouped
