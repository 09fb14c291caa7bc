"""The analysis-ready view of a case: what the assessment rules need, independent of E2B's shape.

Processing steps (listedness, safety-concern mapping, duplicate detection, clocks) read
:class:`CaseFacts`; :func:`riskplan.cases.extract.facts_from_icsr` builds it from an
:class:`~riskplan.cases.model.Icsr`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReactionFacts:
    verbatim: str
    pt_name: str | None = None
    pt_code: str | None = None
    llt_code: str | None = None  # E.i.2.1b, in the MedDRA version of E.i.2.1a
    soc_name: str | None = None
    serious: bool = False
    seriousness_criteria: tuple[str, ...] = ()
    onset: dt.date | None = None


@dataclass(frozen=True)
class DrugFacts:
    characterisation: str  # suspect | concomitant | interacting | not administered
    product: str | None = None
    substances: tuple[str, ...] = ()
    start: dt.date | None = None
    product_code: str | None = None  # G.k.2.1.1b (e.g. a WHODrug MPID)
    product_code_version: str | None = None  # G.k.2.1.1a (e.g. "WHODrug 2026-Mar-C3")

    @property
    def names(self) -> tuple[str, ...]:
        """Product and substance names, case-folded, for matching."""
        names = [s.casefold() for s in self.substances]
        if self.product:
            names.append(self.product.casefold())
        return tuple(names)


@dataclass(frozen=True)
class LabFacts:
    test: str
    value: float | None
    unit: str | None
    date: dt.date | None = None


@dataclass(frozen=True)
class CaseFacts:
    case_key: str
    reactions: tuple[ReactionFacts, ...] = ()
    drugs: tuple[DrugFacts, ...] = ()
    labs: tuple[LabFacts, ...] = ()
    patient_initials: str | None = None
    age_years: float | None = None
    age_group: str | None = None  # E2B D.2.3: neonate, infant, child, adolescent, adult, elderly
    sex: str | None = None  # "male" | "female"
    birth_date: dt.date | None = None
    pregnant: bool = False
    lactation_exposure: bool = False
    parent_child: bool = False  # E2B(R3) D.10: a report about a foetus or breast-fed child
    reporter_qualification: str | None = None
    reporter_country: str | None = None
    first_received: dt.date | None = None
    latest_received: dt.date | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def suspect_drugs(self) -> tuple[DrugFacts, ...]:
        return tuple(d for d in self.drugs if d.characterisation in ("suspect", "interacting"))

    @property
    def is_serious(self) -> bool:
        return any(r.serious for r in self.reactions)

    @property
    def pt_names(self) -> frozenset[str]:
        return frozenset(r.pt_name.casefold() for r in self.reactions if r.pt_name)
