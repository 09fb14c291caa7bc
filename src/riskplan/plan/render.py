"""Rendering a plan back to text: Markdown, HTML (the layout of the public RMP Part VI summary) and JSON."""

from __future__ import annotations

import re
from enum import StrEnum

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from riskplan.plan.model import (
    ConcernCategory,
    RiskManagementPlan,
    RoutineRiskMinimisation,
    SafetyConcern,
)


class ExportFormat(StrEnum):
    MD = "md"
    HTML = "html"
    JSON = "json"


def join_sections(label: str, sections: list[str]) -> str:
    """``SmPC Sections 4.3 and 4.4`` / ``PL Section 2`` as in the RMP summary template."""
    if not sections:
        return ""
    if len(sections) == 1:
        return f"{label} Section {sections[0]}"
    return f"{label} Sections {', '.join(sections[:-1])} and {sections[-1]}"


_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)]*$")


def as_sentence(text: str) -> str:
    """``text`` with single spaces, ending with a full stop (or other sentence end)."""
    text = " ".join(text.split())
    return text if _SENTENCE_END.search(text) else text + "."


def labelled(label: str, value: str) -> str:
    """``Legal status: prescription only.``; the summary parser strips exactly one full stop from the value."""
    return f"{label}: {' '.join(value.split())}."


def routine_measure_lines(measures: RoutineRiskMinimisation) -> list[str]:
    """The routine risk-minimisation measures (GVP Module XVI.B.1) as the sentences of the summary template.

    Order of the template: SmPC, PL, recommendations, pack size, clinical setting, legal status, then
    any other measure (e.g. packaging). The summary parser reads these sentences back.
    """
    lines: list[str] = []
    if measures.smpc_sections:
        lines.append(join_sections("SmPC", measures.smpc_sections) + ".")
    if measures.pl_sections:
        lines.append(join_sections("PL", measures.pl_sections) + ".")
    for rec in measures.recommendations:
        where = join_sections("SmPC", rec.smpc_sections) if rec.smpc_sections else "SmPC"
        lines.append(f"Recommendations for {' '.join(rec.topic.split())} in {where}.")
    if measures.pack_size:
        lines.append(labelled("Pack size", measures.pack_size))
    if measures.clinical_setting:
        lines.append(labelled("Clinical setting", measures.clinical_setting))
    if measures.legal_status:
        lines.append(labelled("Legal status", measures.legal_status))
    lines.extend(as_sentence(o) for o in measures.other)
    return lines


def concern_heading(plan: RiskManagementPlan, concern: SafetyConcern) -> str:
    """``Important identified risk 1: Infusion Reaction`` (numbered within its category)."""
    number = [c.id for c in plan.concerns_in(concern.category)].index(concern.id) + 1
    return f"{concern.category.heading} {number}: {concern.title}"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("riskplan.plan", "templates"),
        autoescape=select_autoescape(["html.j2", "html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        routine_measure_lines=routine_measure_lines,
        concern_heading=concern_heading,
        join_sections=join_sections,
        categories=list(ConcernCategory),
    )
    return env


def render_plan(plan: RiskManagementPlan, fmt: ExportFormat | str) -> str:
    fmt = ExportFormat(fmt)
    if fmt is ExportFormat.JSON:
        return plan.model_dump_json(indent=2) + "\n"
    template = "plan.html.j2" if fmt is ExportFormat.HTML else "plan.md.j2"
    return _environment().get_template(template).render(plan=plan)
