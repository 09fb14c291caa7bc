"""Coding a reporter's verbatim term to a MedDRA preferred term.

The rules follow MedDRA Term Selection: Points to Consider (MTS:PTC), general term selection
principles:

* "Always select a Lowest Level Term": a verbatim is coded automatically only when it *is* the name
  of an LLT (or, in the open list, of an entry), ignoring letter case and white space. Anything else
  is left "not coded" for a person to decide ("Use of medical judgement"; "Do not alter MedDRA");
* "Select only current Lowest Level Terms": current LLTs are preferred; a non-current LLT is used
  only when no current LLT has the name, and the result is flagged for review;
* near misses (misspellings, word order) are offered as *suggestions*, never coded.

Two terminologies implement :class:`Terminology`:

* :class:`MeddraTerminology`: a user-loaded MedDRA release (:mod:`riskplan.terms.meddra`);
* :class:`OpenTermList`: what riskplan uses when no MedDRA release is loaded, built from the plan's
  own PT names (concern definitions and reference safety information) and the bundled
  ``data/open_terms.csv`` (lay terms, abbreviations and British/American spellings mapped to PT
  names). PT names are public (FAERS publishes them); the open list carries no MedDRA codes.

Fuzzy suggestions use :func:`rapidfuzz.fuzz.token_sort_ratio` on case-folded names with a cut-off
of :data:`SUGGESTION_CUTOFF` = 80. Why this scorer: it is the edit-distance ratio after sorting the
words, so it tolerates misspellings ("pnuemonia" -> "Pneumonia": 89) and word order ("reaction
infusion related" -> 100) while staying strict about extra or missing words. ``WRatio`` adds partial
matching, which on MedDRA scores every LLT *containing* a short verbatim at 90 (hundreds of ties for
"pain") and takes ~85 ms over 80,000 names; ``token_set_ratio`` scores any superset at 100. The
cut-off 80 lets through about one edit per five characters (one typo in a 9-letter word is 89, two
are 78) and keeps unrelated names out.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.plan import RiskManagementPlan
from riskplan.terms.meddra import iter_llts, resolve_release
from riskplan.terms.tables import MeddraPt, MeddraRelease, MeddraSoc
from riskplan.terms.text import fold_term

__all__ = [
    "OPEN_TERM_LIST",
    "SUGGESTION_CUTOFF",
    "SUGGESTION_LIMIT",
    "CodingResult",
    "CodingStatus",
    "MeddraTerminology",
    "OpenTerm",
    "OpenTermList",
    "Suggestion",
    "TermMatch",
    "Terminology",
    "code_verbatim",
    "read_open_terms",
]

SUGGESTION_CUTOFF = 80.0
SUGGESTION_LIMIT = 5
OPEN_TERM_LIST = "open term list"
_OPEN_TERMS_COLUMNS = ("verbatim", "pt_name", "soc_name", "source")


class CodingStatus(StrEnum):
    CODED = "coded"
    NOT_CODED = "not coded"


@dataclass(frozen=True)
class TermMatch:
    """The term a verbatim matched exactly, with its PT and primary SOC."""

    matched_term: str
    pt_name: str
    llt_code: int | None = None
    llt_name: str | None = None
    pt_code: int | None = None
    soc_code: int | None = None
    soc_name: str | None = None
    non_current: bool = False
    source: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """A near match offered to the person coding; never applied automatically."""

    term: str
    pt_name: str
    score: float
    llt_code: int | None = None
    pt_code: int | None = None


class Terminology(Protocol):
    """What coding needs from a terminology: an exact look-up and fuzzy suggestions."""

    @property
    def name(self) -> str:
        """``"MedDRA"`` or ``"open term list"``."""
        ...

    @property
    def version(self) -> str | None:
        """The MedDRA release, or what the open list was built from."""
        ...

    def lookup(self, folded: str) -> TermMatch | None:
        """The term whose case-folded name is ``folded`` (see :func:`fold_term`)."""
        ...

    def suggest(self, folded: str, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
        """Up to ``limit`` near matches scoring at least :data:`SUGGESTION_CUTOFF`, best first."""
        ...


@dataclass(frozen=True)
class CodingResult:
    """The outcome of coding one verbatim."""

    verbatim: str
    status: CodingStatus
    terminology: str
    terminology_version: str | None
    llt_code: int | None = None
    llt_name: str | None = None
    pt_code: int | None = None
    pt_name: str | None = None
    soc_code: int | None = None
    soc_name: str | None = None
    matched_term: str | None = None
    non_current: bool = False
    source: str | None = None
    suggestions: tuple[Suggestion, ...] = field(default_factory=tuple)
    note: str | None = None

    @property
    def is_coded(self) -> bool:
        return self.status is CodingStatus.CODED

    def to_dict(self) -> dict[str, Any]:
        return {
            "verbatim": self.verbatim,
            "status": self.status.value,
            "terminology": self.terminology,
            "terminology_version": self.terminology_version,
            "llt_code": self.llt_code,
            "llt_name": self.llt_name,
            "pt_code": self.pt_code,
            "pt_name": self.pt_name,
            "soc_code": self.soc_code,
            "soc_name": self.soc_name,
            "matched_term": self.matched_term,
            "non_current": self.non_current,
            "source": self.source,
            "note": self.note,
            "suggestions": [
                {
                    "term": s.term,
                    "pt_name": s.pt_name,
                    "score": round(s.score, 1),
                    "llt_code": s.llt_code,
                    "pt_code": s.pt_code,
                }
                for s in self.suggestions
            ],
        }


def code_verbatim(verbatim: str, terms: Terminology) -> CodingResult:
    """Code ``verbatim`` with ``terms``: an exact (case/white-space-insensitive) match, or suggestions."""
    folded = fold_term(verbatim)
    base: dict[str, Any] = {
        "verbatim": verbatim,
        "terminology": terms.name,
        "terminology_version": terms.version,
    }
    if not folded:
        return CodingResult(status=CodingStatus.NOT_CODED, note="the verbatim is empty", **base)
    match = terms.lookup(folded)
    if match is None:
        suggestions = tuple(terms.suggest(folded, SUGGESTION_LIMIT))
        hint = (
            "no exact match; choose one of the suggestions or code by hand"
            if suggestions
            else f"no exact match and no term scoring {SUGGESTION_CUTOFF:.0f} or more; code by hand"
        )
        return CodingResult(status=CodingStatus.NOT_CODED, suggestions=suggestions, note=hint, **base)
    note: str | None = None
    if match.non_current:
        note = (
            f"matched non-current LLT {match.llt_name!r}: no current LLT has this name; MedDRA Term "
            "Selection: Points to Consider advises choosing a current LLT, so review this coding"
        )
    return CodingResult(
        status=CodingStatus.CODED,
        llt_code=match.llt_code,
        llt_name=match.llt_name,
        pt_code=match.pt_code,
        pt_name=match.pt_name,
        soc_code=match.soc_code,
        soc_name=match.soc_name,
        matched_term=match.matched_term,
        non_current=match.non_current,
        source=match.source,
        note=note,
        **base,
    )


def _extract(folded: str, choices: Sequence[str], limit: int) -> list[tuple[str, float, int]]:
    """Best fuzzy matches of ``folded`` among already case-folded ``choices``: (choice, score, index)."""
    found = process.extract(
        folded,
        choices,
        scorer=fuzz.token_sort_ratio,
        processor=None,
        limit=limit,
        score_cutoff=SUGGESTION_CUTOFF,
    )
    return [(str(choice), float(score), int(index)) for choice, score, index in found]


# --- MedDRA ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Llt:
    code: int
    name: str
    pt_code: int
    current: bool


class MeddraTerminology:
    """A loaded MedDRA release, held in memory for fast coding.

    The LLT names are read once when the object is made (80,000 LLTs take well under a second) so
    exact look-ups are dictionary reads and fuzzy suggestions one :func:`rapidfuzz.process.extract`
    over the current LLT names. Make one per batch of coding, not one per verbatim.
    """

    def __init__(self, session: Session, release: MeddraRelease | str | None = None) -> None:
        rel = resolve_release(session, release)
        self._version = rel.version
        socs = {
            code: name
            for code, name in session.execute(
                select(MeddraSoc.soc_code, MeddraSoc.soc_name).where(MeddraSoc.release_version == rel.version)
            )
        }
        self._pts: dict[int, tuple[str, int, str]] = {
            int(code): (str(name), int(soc), socs[soc])
            for code, name, soc in session.execute(
                select(MeddraPt.pt_code, MeddraPt.pt_name, MeddraPt.primary_soc_code).where(
                    MeddraPt.release_version == rel.version
                )
            )
        }
        self._by_name: dict[str, list[_Llt]] = {}
        self._by_code: dict[int, _Llt] = {}
        folded_current: list[tuple[int, str, int, str, _Llt]] = []
        for code, name, pt_code, is_current in iter_llts(session, rel):
            llt = _Llt(code, name, pt_code, is_current)
            folded = fold_term(name)
            self._by_name.setdefault(folded, []).append(llt)
            self._by_code[code] = llt
            if is_current:
                folded_current.append((len(name), name.casefold(), code, folded, llt))
        for same_name in self._by_name.values():
            if len(same_name) > 1:
                same_name.sort(key=lambda t: (not t.current, t.code))
        # Shorter names first, so that equal scores favour the plainer term (codes are unique: the tuples
        # never compare their last two items).
        folded_current.sort(key=lambda t: t[:3])
        self._choices = [folded for *_, folded, _ in folded_current]
        self._choice_llts = [llt for *_, llt in folded_current]

    @property
    def name(self) -> str:
        return "MedDRA"

    @property
    def version(self) -> str:
        return self._version

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_name.values())

    def lookup(self, folded: str) -> TermMatch | None:
        candidates = self._by_name.get(folded)
        if not candidates:
            return None
        return self._match(candidates[0])  # current first

    def lookup_llt(self, llt_code: int) -> TermMatch | None:
        """The LLT with this code in this release (current or not), with its PT and primary SOC."""
        llt = self._by_code.get(llt_code)
        return self._match(llt) if llt is not None else None

    def _match(self, llt: _Llt) -> TermMatch:
        pt_name, soc_code, soc_name = self._pts[llt.pt_code]
        return TermMatch(
            matched_term=llt.name,
            llt_code=llt.code,
            llt_name=llt.name,
            pt_code=llt.pt_code,
            pt_name=pt_name,
            soc_code=soc_code,
            soc_name=soc_name,
            non_current=not llt.current,
            source=f"MedDRA {self._version} LLT",
        )

    def suggest(self, folded: str, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
        out: list[Suggestion] = []
        for _, score, index in _extract(folded, self._choices, limit):
            llt = self._choice_llts[index]
            out.append(
                Suggestion(
                    term=llt.name,
                    pt_name=self._pts[llt.pt_code][0],
                    score=score,
                    llt_code=llt.code,
                    pt_code=llt.pt_code,
                )
            )
        return out


# --- the open term list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenTerm:
    """One row of the open term list: a verbatim and the PT (and primary SOC) it stands for."""

    verbatim: str
    pt_name: str
    soc_name: str | None
    source: str


def _bundled_csv() -> str:
    resource = resources.files("riskplan.terms") / "data" / "open_terms.csv"
    return resource.read_text(encoding="utf-8")


def read_open_terms(text: str | None = None, where: str = "open_terms.csv") -> list[OpenTerm]:
    """The rows of an open term list CSV (``verbatim,pt_name,soc_name,source``), checked.

    A verbatim may appear once only (ignoring case and white space), and a PT must always carry the
    same SOC; a violation raises :class:`ValueError` naming the line.
    """
    text = _bundled_csv() if text is None else text
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != _OPEN_TERMS_COLUMNS:
        raise ValueError(f"{where}: the header must be {','.join(_OPEN_TERMS_COLUMNS)}")
    rows: list[OpenTerm] = []
    seen: dict[str, int] = {}
    soc_of_pt: dict[str, tuple[str, int]] = {}
    for number, record in enumerate(reader, start=2):
        if not record or not any(v.strip() for v in record):
            continue
        if len(record) != len(_OPEN_TERMS_COLUMNS):
            raise ValueError(f"{where}, line {number}: expected 4 columns, found {len(record)}")
        verbatim, pt_name, soc_name, source = (v.strip() for v in record)
        if not verbatim or not pt_name or not source:
            raise ValueError(f"{where}, line {number}: verbatim, pt_name and source are required")
        key = fold_term(verbatim)
        if key in seen:
            raise ValueError(f"{where}, line {number}: verbatim {verbatim!r} repeats line {seen[key]}")
        seen[key] = number
        if soc_name:
            pt_key = fold_term(pt_name)
            known = soc_of_pt.setdefault(pt_key, (soc_name, number))
            if known[0] != soc_name:
                raise ValueError(
                    f"{where}, line {number}: PT {pt_name!r} has SOC {soc_name!r} here but {known[0]!r} "
                    f"on line {known[1]}"
                )
        rows.append(OpenTerm(verbatim, pt_name, soc_name or None, source))
    return rows


class OpenTermList:
    """Coding without MedDRA: the plan's PT names plus the bundled lay-term list.

    Entries, by precedence: the PT names of the plan's reference safety information (with their
    SOC), the PT names of the plan's concern definitions, then each row of ``open_terms.csv`` and
    each PT name it maps to. Results carry PT and SOC names only; codes stay ``None`` because codes
    come only from a user-loaded MedDRA release.
    """

    def __init__(
        self,
        plan: RiskManagementPlan | None = None,
        rows: Iterable[OpenTerm] | None = None,
    ) -> None:
        bundled = rows is None
        rows = list(read_open_terms() if rows is None else rows)
        content = "\n".join(f"{r.verbatim}|{r.pt_name}|{r.soc_name or ''}|{r.source}" for r in rows)
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:8]
        label = "bundled" if bundled else "own list"
        self._version = f"{label} {digest}" + (f" + plan {plan.name}" if plan else "")

        soc_of_pt: dict[str, str] = {}
        for row in rows:
            if row.soc_name:
                soc_of_pt.setdefault(fold_term(row.pt_name), row.soc_name)
        entries: dict[str, OpenTerm] = {}

        def add(verbatim: str, pt_name: str, soc_name: str | None, source: str) -> None:
            key = fold_term(verbatim)
            if key and key not in entries:
                soc = soc_of_pt.get(fold_term(pt_name)) or soc_name
                shown = pt_name if key == fold_term(pt_name) else verbatim  # the PT's own spelling
                entries[key] = OpenTerm(shown, pt_name, soc, source)

        if plan is not None:
            rsi = plan.reference_safety_information
            if rsi is not None:
                for reaction in rsi.expected_reactions:
                    if reaction.soc:
                        soc_of_pt[fold_term(reaction.pt)] = reaction.soc
                    add(reaction.pt, reaction.pt, reaction.soc, f"plan {plan.name}: reference safety information")
            for concern in plan.safety_concerns:
                for pt in concern.definition.meddra_pts:
                    add(pt, pt, None, f"plan {plan.name}: concern {concern.id}")
        for row in rows:
            add(row.verbatim, row.pt_name, row.soc_name, row.source)
        for row in rows:
            add(row.pt_name, row.pt_name, row.soc_name, "PT name")
        self._entries = entries
        ordered = sorted(entries.values(), key=lambda e: (len(e.verbatim), e.verbatim.casefold()))
        self._choices = [fold_term(e.verbatim) for e in ordered]
        self._ordered = ordered

    @property
    def name(self) -> str:
        return OPEN_TERM_LIST

    @property
    def version(self) -> str:
        return self._version

    def __len__(self) -> int:
        return len(self._entries)

    def pt_names(self) -> set[str]:
        """Every PT name the list can code to."""
        return {e.pt_name for e in self._entries.values()}

    def lookup(self, folded: str) -> TermMatch | None:
        entry = self._entries.get(folded)
        if entry is None:
            return None
        return TermMatch(
            matched_term=entry.verbatim,
            pt_name=entry.pt_name,
            soc_name=entry.soc_name,
            source=entry.source,
        )

    def suggest(self, folded: str, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
        return [
            Suggestion(term=self._ordered[index].verbatim, pt_name=self._ordered[index].pt_name, score=score)
            for _, score, index in _extract(folded, self._choices, limit)
        ]

    @classmethod
    def from_csv(cls, path: Path, plan: RiskManagementPlan | None = None) -> OpenTermList:
        """An open term list from a user's own CSV with the bundled columns."""
        return cls(plan, read_open_terms(path.read_text(encoding="utf-8"), str(path)))
