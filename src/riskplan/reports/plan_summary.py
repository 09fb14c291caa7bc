"""The public "Summary of the risk management plan" (RMP Part VI) rendered from a plan version.

This is the inverse of :mod:`riskplan.plan.parser`: it writes the headings and the wording of the EU
RMP template (Rev. 2.0.1, Part VI; GVP Module V.C.3) as published in EPARs, so that a plan changed by a
signal outcome (GVP Module IX.C.5: a new or changed safety concern, measure or study) can be republished:

* the title "Summary of risk management plan for <PRODUCT> (<active substance>)" and the template's
  introduction;
* Part VI.I "The medicine and what it is used for" (indication, active substance, route, EPAR);
* Part VI.II with the routine risk-minimisation and routine pharmacovigilance statements (GVP Module
  XVI.B.1, V.B.9);
* II.A "List of important risks and missing information", Table II.A.1 (GVP Module V.B.8);
* II.B "Summary of important risks", Table II.B.1: "Important identified risk 1: <title>" with
  "Evidence for linking the risk to the medicine", "Risk factors and risk groups" and "Risk minimisation
  measures", routine (GVP Module XVI.B.1) and additional (XVI.B.2);
* II.C "Post-authorisation development plan": II.C.1 studies which are conditions of the marketing
  authorisation (categories 1 and 2), II.C.2 other studies (category 3).

Formats: ``txt`` (one paragraph or table cell per line, readable by
:func:`riskplan.plan.parser.parse_summary_text`, which gives back the plan's product, concerns,
measures and studies), ``html`` (the same text in the layout of the published tables) and ``pdf``
(the HTML through WeasyPrint; its extracted text parses too).

What the public format cannot carry, and so does not come back from a parse: the concern
``definition`` blocks, the reference safety information, the RMP version and date, study status and
milestones, and routine pharmacovigilance activities other than the standard statement. A study's
links to safety concerns are not written either: the parser infers them from the concern names the
study's text mentions.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, overload

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from riskplan.plan import (
    AdditionalRiskMinimisation,
    ConcernCategory,
    PharmacovigilanceStudy,
    RiskManagementPlan,
    RoutineRiskMinimisation,
    StudyCategory,
    as_sentence,
    concern_heading,
    routine_measure_lines,
)

__all__ = [
    "SummaryFormat",
    "environment",
    "html_to_pdf",
    "render_plan_summary",
    "summary_view",
]

_ROUTINE_PV_START = re.compile(r"^information about adverse reactions is collected\b", re.IGNORECASE)
# Routes written "given as a <dosage form>" rather than "given by <route> administration".
_FORM_NOUNS = frozenset(
    {
        "injection",
        "infusion",
        "tablet",
        "tablets",
        "capsule",
        "capsules",
        "solution",
        "suspension",
        "spray",
        "patch",
        "implant",
        "inhalation",
        "pen",
        "syringe",
    }
)


class SummaryFormat(StrEnum):
    TXT = "txt"
    HTML = "html"
    PDF = "pdf"


def route_phrase(route: str) -> str:
    """How Part VI.I says the medicine is given: "by mouth", "as a subcutaneous injection", "by IV
    administration"."""
    route = " ".join(route.split())
    if route.casefold() in ("oral", "by mouth", "orally"):
        return "by mouth"
    words = route.casefold().split()
    if words and words[-1] in _FORM_NOUNS:
        article = "an" if route[:1].casefold() in "aeiou" else "a"
        return f"as {article} {route}"
    return f"by {route} administration"


def routine_lines(measures: RoutineRiskMinimisation) -> list[str]:
    """The routine measures one statement per line as in the seed; ``["None"]`` when there are none."""
    return routine_measure_lines(measures) or ["None"]


@dataclass(frozen=True)
class AdditionalView:
    """An additional risk-minimisation measure (GVP Module XVI.B.2): a name line and its key messages."""

    line: str
    bullets: tuple[str, ...]


def additional_views(measures: list[AdditionalRiskMinimisation]) -> list[AdditionalView]:
    out = []
    for m in measures:
        name = " ".join(m.name.split())
        line = f"{name}: {' '.join(m.description.split())}" if m.description else name
        out.append(AdditionalView(line, tuple(as_sentence(c) for c in m.content)))
    return out


@dataclass(frozen=True)
class ConcernView:
    """One entry of Table II.B.1."""

    id: str
    heading: str
    evidence: str | None
    risk_factors: str | None
    routine: tuple[str, ...]
    additional: tuple[AdditionalView, ...]


@dataclass(frozen=True)
class StudyView:
    """A study of Part VI.II.C: heading, title line, purpose and objectives."""

    id: str
    short_name: str
    title_line: str
    purpose: str
    objectives: tuple[str, ...]


@dataclass(frozen=True)
class CategoryRow:
    """A row of Table II.A.1: the category label and its concerns (list titles)."""

    label: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class SummaryView:
    """Everything the templates print, already worded (see :func:`summary_view`)."""

    title: str
    product: str
    substance: str
    indication_sentence: str
    epar_url: str | None
    routine_pv_statement: str | None
    other_pv_activities: tuple[str, ...]
    categories: tuple[CategoryRow, ...]
    concerns: tuple[ConcernView, ...]
    imposed_preamble: str | None
    imposed_statement: str | None
    imposed_studies: tuple[StudyView, ...]
    other_studies: tuple[StudyView, ...]
    other_studies_statement: str | None


def _study_view(study: PharmacovigilanceStudy) -> StudyView:
    title = " ".join(study.title.split())
    if study.sponsor:
        title = f"{title} (Sponsored by {' '.join(study.sponsor.split())})"
    return StudyView(
        id=study.id,
        short_name=" ".join(study.short_name.split()).rstrip(".:;!?"),
        title_line=as_sentence(title),
        purpose=as_sentence(study.purpose),
        objectives=tuple(as_sentence(o) for o in study.objectives),
    )


def _imposed_preamble(studies: list[PharmacovigilanceStudy], product: str) -> str:
    """The sentence before the studies of II.C.1; "specific obligation" makes them category 2 when read."""
    one = len(studies) == 1
    if all(s.category is StudyCategory.SPECIFIC_OBLIGATION for s in studies):
        what = "study is a specific obligation" if one else "studies are specific obligations"
    else:
        what = "study is a condition" if one else "studies are conditions"
    return f"The following {what} of the marketing authorisation of {product}:"


def summary_view(plan: RiskManagementPlan) -> SummaryView:
    """The plan worded as the RMP Part VI template words it."""
    p = plan.product
    name = " ".join(p.name.split())
    indication = " ".join(p.indication.split()).rstrip(".")
    sentence = (
        f"{name} is authorised for the {indication} (see SmPC for the full indication). It contains "
        f"{' '.join(p.active_substance.split())} as the active substance and it is given {route_phrase(p.route)}."
    )
    activities = [" ".join(a.split()) for a in plan.routine_pharmacovigilance.activities]
    standard = next((a for a in activities if _ROUTINE_PV_START.match(a)), None)
    statement = as_sentence(standard[0].lower() + standard[1:]) if standard else None
    categories = tuple(
        CategoryRow(category.list_heading, tuple(c.list_title for c in plan.concerns_in(category)))
        for category in ConcernCategory
    )
    concerns = tuple(
        ConcernView(
            id=c.id,
            heading=concern_heading(plan, c),
            evidence=" ".join(c.evidence.split()) if c.evidence else None,
            risk_factors=" ".join(c.risk_factors.split()) if c.risk_factors else None,
            routine=tuple(routine_lines(c.routine_measures)),
            additional=tuple(additional_views(c.additional_measures)),
        )
        for category in ConcernCategory
        for c in plan.concerns_in(category)
    )
    imposed = [s for s in plan.studies if s.category is not StudyCategory.REQUIRED]
    others = [s for s in plan.studies if s.category is StudyCategory.REQUIRED]
    conditions = plan.studies_conditions_of_authorisation
    return SummaryView(
        title=f"Summary of risk management plan for {name} ({' '.join(p.active_substance.split())})",
        product=name,
        substance=" ".join(p.active_substance.split()),
        indication_sentence=sentence,
        epar_url=p.epar_url,
        routine_pv_statement=statement,
        other_pv_activities=tuple(as_sentence(a) for a in activities if a is not standard),
        categories=categories,
        concerns=concerns,
        imposed_preamble=_imposed_preamble(imposed, name) if imposed else None,
        imposed_statement=" ".join(conditions.split()) if conditions and not imposed else None,
        imposed_studies=tuple(_study_view(s) for s in imposed),
        other_studies=tuple(_study_view(s) for s in others),
        other_studies_statement=None if others else f"There are no studies required for {name}.",
    )


def environment() -> Environment:
    """The Jinja environment of riskplan's report templates (``reports/templates``)."""
    return Environment(
        loader=PackageLoader("riskplan.reports", "templates"),
        autoescape=select_autoescape(["html.j2", "html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def html_to_pdf(html: str) -> bytes:
    """An HTML document as PDF bytes through WeasyPrint (plots must be embedded as data URIs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # WeasyPrint's notes about optional system libraries
        from weasyprint import HTML  # type: ignore[import-untyped]

        pdf: bytes = HTML(string=html).write_pdf()
    return pdf


@overload
def render_plan_summary(plan: RiskManagementPlan, fmt: Literal["txt", "html"]) -> str: ...
@overload
def render_plan_summary(plan: RiskManagementPlan, fmt: Literal["pdf"]) -> bytes: ...
@overload
def render_plan_summary(plan: RiskManagementPlan, fmt: SummaryFormat | str) -> str | bytes: ...
def render_plan_summary(plan: RiskManagementPlan, fmt: SummaryFormat | str) -> str | bytes:
    """The public RMP Part VI summary of ``plan`` as ``txt`` or ``html`` text, or ``pdf`` bytes."""
    try:
        kind = SummaryFormat(str(fmt).lower().lstrip("."))
    except ValueError:
        raise ValueError(f"unknown summary format {fmt!r}: expected txt, html or pdf") from None
    view = summary_view(plan)
    env = environment()
    if kind is SummaryFormat.TXT:
        return env.get_template("plan_summary/summary.txt.j2").render(s=view)
    html = env.get_template("plan_summary/summary.html.j2").render(s=view)
    return html if kind is SummaryFormat.HTML else html_to_pdf(html)
