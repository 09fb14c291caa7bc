"""Seeded synthetic ICSRs for UPLIZNA (inebilizumab): realistic cases for tests, demos and benchmarks.

:func:`synthesise_cases` draws ``count`` validated :class:`~riskplan.cases.model.Icsr` objects the way a
company safety database fills up for an anti-CD19 B-cell-depleting antibody given by IV infusion
(300 mg on day 1 and day 15, then every 6 months) to adults with NMOSD:

* **who reports**: mostly spontaneous reports (physicians, pharmacists, infusion nurses, consumers) from
  16 countries, and reports from the plan's studies (SPHERES registry, the European real-world study,
  the post-authorisation safety study, the pregnancy registry) and a US patient support programme
  (solicited, C.5.4 "other studies"). The sender is the fictional MAH "Riskplan Demo Pharma";
  worldwide ids read ``DE-RPDEMO-2026-000123`` and C.1.1 equals C.1.8.1;
* **the patient**: mostly women (NMOSD), age at onset mostly 20-65 with some over 65, weight and
  history; pregnancies (LMP and the PT "Exposure during pregnancy"), parent-child reports (a neonate with
  "B-lymphocyte count decreased" and the mother in D.10), breast-feeding exposures;
* **what happened**: an index event drawn from :data:`~riskplan.cases.synth_data.PROFILES` (weights and
  their sources are documented there), its usual companions, dated after the last infusion on the
  schedule, with seriousness (criteria only ever ``True``), outcome, lab results (F.r), causality and
  the action taken; verbatims code through the open term list, a few native-language verbatims carry
  an English translation (E.i.1.2) and a few misspellings do not code at all;
* **what a validity step and a duplicate detector must find**: ``invalid_share`` of the cases miss one
  ICH minimum criterion, and ``duplicate_share`` are second reports of another case (the ground truth
  is in :func:`synthesise_cases_with_truth`).

:func:`follow_up_of` makes the next version of a case (same C.1.4 and worldwide id, later C.1.5).

Everything is drawn from one ``random.Random(seed)``: the same arguments give the same cases, down to
every UUID.

The steps, one module each (functions taking the state of the draw, :class:`~riskplan.cases.synth_specs.Draw`):
the specs, shares and helpers (:mod:`~riskplan.cases.synth_specs`), a regular case
(:mod:`~riskplan.cases.synth_draw`), lab results (:mod:`~riskplan.cases.synth_labs`), the special kinds,
invalid cases and duplicates (:mod:`~riskplan.cases.synth_special`), the ICSR and its narrative from a spec
(:mod:`~riskplan.cases.synth_build`) and follow-up versions (:mod:`~riskplan.cases.synth_followup`); this
module draws the whole set in order (:func:`_run`).

Speed (the cases feed a 100,000-case import benchmark): a case is first drawn as a plain, frozen
:class:`CaseSpec`, then validated *once* with ``Icsr.model_validate`` from nested field dicts, so each
sub-model built for that case is validated exactly once (a model instance handed to a parent has its
``after`` validators run again). Immutable sub-objects shared between cases (sender, studies,
substances, consumers, pooled reporters, concomitant regimens, quantities, timestamps) are built once
and cached. The cyclic garbage collector is paused during a run (see :func:`_collector_paused`). About
0.2 ms of CPU per case: 100,000 cases in about 21 s of CPU time and 1.6 GB of memory.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final

from riskplan.cases.model import (
    Icsr,
    NullFlavor,
    RegionalElement,
)
from riskplan.cases.synth_build import (
    build_icsr,
)
from riskplan.cases.synth_data import (
    COMPANY_CODE,
    Weighted,
)
from riskplan.cases.synth_draw import (
    draw_regular,
)
from riskplan.cases.synth_followup import (
    FollowUp,
)
from riskplan.cases.synth_special import (
    draw_duplicate,
    draw_lactation,
    draw_make_invalid,
    draw_neonate,
    draw_pregnancy,
)
from riskplan.cases.synth_specs import (
    INVALID_KINDS,
    INVALID_WEIGHTS,
    KINDS,
    CaseSpec,
    Draw,
)

__all__ = ["INVALID_KINDS", "SyntheticCaseSet", "follow_up_of", "synthesise_cases", "synthesise_cases_with_truth"]


@dataclass(frozen=True)
class SyntheticCaseSet:
    """Synthetic cases with their ground truth.

    ``duplicate_pairs`` are (original, second report) worldwide ids; ``invalid`` maps the worldwide id
    of each invalid case to the minimum criterion it misses (one of :data:`INVALID_KINDS`).
    """

    cases: list[Icsr]
    duplicate_pairs: list[tuple[str, str]] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def synthesise_cases(
    count: int,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2025, 1, 1),
    end: dt.date = dt.date(2026, 11, 1),
    duplicate_share: float = 0.02,
    invalid_share: float = 0.03,
    invalid_kinds: Sequence[str] = INVALID_KINDS,
    fda_regional: bool = False,
) -> list[Icsr]:
    """``count`` synthetic UPLIZNA ICSRs received between ``start`` and ``end`` (see the module docstring).

    ``fda_regional``: every case also carries the FDA regional elements FAERS requires of a postmarketing
    ICSR (:func:`with_fda_regional`), so that it can be sent to the US as well as to the EU and the UK.
    """
    cases = synthesise_cases_with_truth(
        count,
        seed=seed,
        start=start,
        end=end,
        duplicate_share=duplicate_share,
        invalid_share=invalid_share,
        invalid_kinds=invalid_kinds,
    ).cases
    return [with_fda_regional(c) for c in cases] if fda_regional else cases


_NCI: Final = "2.16.840.1.113883.3.26.1.1"  # NCI Thesaurus, FDA's code system for these elements
_FDA_REPORT_TYPE: Final = "2.16.840.1.113883.3.989.5.1.2.2.1.1.1"
_XSI: Final = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
_RACES: Final = (("C41261", "White"), ("C16352", "Black or African American"), ("C41260", "Asian"))
_ETHNICITIES: Final = (("C41222", "Not Hispanic or Latino"), ("C17459", "Hispanic or Latino"))


def _fda_observation(wrapper: str, tag: str, code: str, name: str, value: str) -> str:
    head = f'<{wrapper} xmlns="urn:hl7-org:v3" typeCode="{"COMP" if wrapper == "component" else "SBJ"}">'
    return (
        f'{head}<{tag} classCode="OBS" moodCode="EVN"><code code="{code}" codeSystem="{_NCI}" displayName="{name}"/>'
        f"<value {_XSI} {value}/></{tag}></{wrapper}>"
    )


def with_fda_regional(icsr: Icsr) -> Icsr:
    """``icsr`` with the FDA regional elements required for a postmarketing ICSR (FDA ICSR data elements
    and business rules): FDA.C.1.7.1 local criteria report type (1 = 15-Day when C.1.7 is true, else
    2 = Non-Expedited AE), FDA.C.1.12 combination product (false), FDA.D.11.r.1 race and FDA.D.12
    ethnicity (drawn from the case's number, so the same case always gets the same)."""
    expedited = bool(icsr.local_expedited)
    report_type = ("1", "15-Day") if expedited else ("2", "Non-Expedited AE")
    pick = sum(icsr.worldwide_case_id.encode())
    race = _RACES[pick % len(_RACES)]
    ethnicity = _ETHNICITIES[(pick // 3) % len(_ETHNICITIES)]
    case = (
        RegionalElement(
            element="FDA.C.1.7.1",
            value=report_type[1],
            xml=_fda_observation(
                "component",
                "observationEvent",
                "C54588",
                "localCriteriaReportType",
                f'code="{report_type[0]}" codeSystem="{_FDA_REPORT_TYPE}" displayName="{report_type[1]}" xsi:type="CE"',
            ),
        ),
        RegionalElement(
            element="FDA.C.1.12",
            value="false",
            xml=_fda_observation(
                "component",
                "observationEvent",
                "C156384",
                "Combination Product Report Indicator",
                'value="false" xsi:type="BL"',
            ),
        ),
    )
    patient = (
        RegionalElement(
            element="FDA.D.11.r.1",
            value=race[1],
            xml=_fda_observation(
                "subjectOf2",
                "observation",
                "C17049",
                "Race",
                f'code="{race[0]}" codeSystem="{_NCI}" displayName="{race[1]}" xsi:type="CE"',
            ),
        ),
        RegionalElement(
            element="FDA.D.12",
            value=ethnicity[1],
            xml=_fda_observation(
                "subjectOf2",
                "observation",
                "C16564",
                "Ethnic Group",
                f'code="{ethnicity[0]}" codeSystem="{_NCI}" displayName="{ethnicity[1]}" xsi:type="CE"',
            ),
        ),
    )
    kept = tuple(e for e in icsr.regional if e.element not in ("FDA.C.1.7.1", "FDA.C.1.12"))
    kept_patient = tuple(e for e in icsr.patient.regional if not e.element.startswith(("FDA.D.11", "FDA.D.12")))
    # FDA.E.i.3.2h required intervention (nullFlavor NI allowed), per reaction
    reactions = tuple(
        r
        if any(e.element == "FDA.E.i.3.2h" for e in r.regional)
        else r.model_copy(update={"regional": (*r.regional, _REQUIRED_INTERVENTION)})
        for r in icsr.reactions
    )
    # FDA.C.2.r.2.8 reporter e-mail, required (nullFlavor ASKU: asked, unknown); C.3.3 / C.3.4 sender, required
    sources = tuple(
        s if s.email else s.model_copy(update={"email_null_flavor": NullFlavor.ASKU}) for s in icsr.primary_sources
    )
    sender = icsr.sender
    if sender is not None:
        sender = sender.model_copy(update={k: v for k, v in _FDA_SENDER.items() if getattr(sender, k) is None})
    return icsr.model_copy(
        update={
            "regional": (*kept, *case),
            "patient": icsr.patient.model_copy(update={"regional": (*kept_patient, *patient)}),
            "reactions": reactions,
            "primary_sources": sources,
            "sender": sender,
        }
    )


_REQUIRED_INTERVENTION: Final = RegionalElement(
    element="FDA.E.i.3.2h",
    value=None,
    xml=(
        '<outboundRelationship2 xmlns="urn:hl7-org:v3" typeCode="PERT"><observation classCode="OBS" moodCode="EVN">'
        '<code code="7" codeSystem="2.16.840.1.113883.3.989.5.1.2.2.1.3" displayName="requiredIntervention"/>'
        f'<value {_XSI} nullFlavor="NI" xsi:type="BL"/></observation></outboundRelationship2>'
    ),
)
#: The sender details FDA requires (C.3.3.2-C.3.3.5, C.3.4.3, C.3.4.6, C.3.4.7) for the invented company.
_FDA_SENDER: Final = {
    "title": "Dr",
    "given_name": "Ada",
    "family_name": "Example",
    "state": "Noord-Holland",
    "telephone": "+31 20 000 0000",
    "fax": "+31 20 000 0001",
}


def synthesise_cases_with_truth(
    count: int,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2025, 1, 1),
    end: dt.date = dt.date(2026, 11, 1),
    duplicate_share: float = 0.02,
    invalid_share: float = 0.03,
    invalid_kinds: Sequence[str] = INVALID_KINDS,
) -> SyntheticCaseSet:
    """Like :func:`synthesise_cases`, with the duplicate pairs and the invalid cases as ground truth.

    Cases come in order of C.1.4; C.1.2 lies up to a few days after C.1.5, so pick ``end`` a week or
    more before today when the cases are to be exported (E2B refuses dates in the future).
    """
    _check_arguments(count, start, end, duplicate_share, invalid_share, invalid_kinds)
    draw = Draw(random.Random(seed), seed, count, start, end, tuple(invalid_kinds))
    with _collector_paused():
        return _run(draw, round(count * duplicate_share), round(count * invalid_share))


def follow_up_of(icsr: Icsr, rng: random.Random, received: dt.date) -> Icsr:
    """The next version of ``icsr``: same C.1.1, C.1.8.1 and C.1.4, C.1.5 = ``received``.

    An invalid case gets what it missed (the reporter's details, the patient's, or the reaction); a
    valid one gets one or two of: an outcome update (e.g. not recovered -> recovered), a seriousness
    criterion (hospitalisation), a lab result. The narrative says what the follow-up brought.
    """
    first = icsr.first_received.earliest_date() if icsr.first_received else received
    if received < first:
        raise ValueError(f"a follow-up cannot be received ({received}) before the case was first received ({first})")
    return FollowUp(icsr, rng, received).build()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the cases are built, then restore its state.

    The cases are millions of small, long-lived, acyclic objects; every generation-2 collection would
    rescan all of them (a third of the run time at 20,000 cases, more as the heap grows). Nothing here
    makes reference cycles, so nothing is left for the collector to find.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_arguments(
    count: int, start: dt.date, end: dt.date, duplicate_share: float, invalid_share: float, kinds: Sequence[str]
) -> None:
    if count < 0:
        raise ValueError("count must not be negative")
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    if not (0.0 <= duplicate_share <= 0.5 and 0.0 <= invalid_share <= 0.5):
        raise ValueError("duplicate_share and invalid_share must each be between 0 and 0.5")
    unknown = set(kinds) - set(INVALID_KINDS)
    if unknown or (invalid_share > 0 and not kinds):
        raise ValueError(f"invalid_kinds must be a non-empty subset of {INVALID_KINDS}")


# --------------------------------------------------------------------------------------------------
# The whole set
# --------------------------------------------------------------------------------------------------


def _run(d: Draw, duplicates: int, invalid: int) -> SyntheticCaseSet:
    base = d.count - duplicates
    if invalid + duplicates > base:
        raise ValueError("too many duplicates and invalid cases for this count")
    rng = d.rng
    invalid_at = set(rng.sample(range(base), invalid))
    specs = [_case(d, _invalid_kind(d) if i in invalid_at else None) for i in range(base)]
    originals = rng.sample([i for i in range(base) if i not in invalid_at], duplicates)
    pairs = [(i, len(specs) + n) for n, i in enumerate(originals)]
    specs += [draw_duplicate(d, specs[i]) for i in originals]
    order = sorted(range(len(specs)), key=lambda i: (specs[i].received, i))
    ids = _worldwide_ids(specs, order)
    cases = [build_icsr(d, specs[i], ids[i]) for i in order]
    return SyntheticCaseSet(
        cases=cases,
        duplicate_pairs=sorted((ids[a], ids[b]) for a, b in pairs),
        invalid={ids[i]: kind for i, spec in enumerate(specs) if (kind := spec.invalid) is not None},
    )


def _invalid_kind(d: Draw) -> str:
    return Weighted([(k, INVALID_WEIGHTS[k]) for k in d.kinds]).pick(d.rng)


def _worldwide_ids(specs: Sequence[CaseSpec], order: Sequence[int]) -> dict[int, str]:
    numbers: dict[int, int] = {}
    ids = {}
    for i in order:
        year = specs[i].received.year
        numbers[year] = numbers.get(year, 0) + 1
        ids[i] = f"{specs[i].country.code}-{COMPANY_CODE}-{year}-{numbers[year]:06d}"
    return ids


def _case(d: Draw, invalid: str | None) -> CaseSpec:
    kind = "regular" if invalid else KINDS.pick(d.rng)
    if kind == "pregnancy":
        return draw_pregnancy(d)
    if kind == "neonate":
        return draw_neonate(d)
    if kind in ("lactation-mother", "lactation-infant"):
        return draw_lactation(d, kind)
    spec = draw_regular(d)
    return draw_make_invalid(d, spec, invalid) if invalid else spec
