"""The patient card (an additional risk-minimisation measure, GVP XVI.B.2): a PDF per patient.

The card's key messages come from the plan's ``patient_card`` block (per language, each with its source);
the patient's id, treatment start and prescriber contact from the patient record. One HTML template per
language lives in ``templates/card/<language>.html``; WeasyPrint renders it to an A6 PDF.
"""

from __future__ import annotations

import datetime as dt
import warnings
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, select_autoescape
from markupsafe import Markup

from riskplan.errors import UserInputError
from riskplan.minimisation.record import PatientRecord
from riskplan.plan import CardMessage, RiskManagementPlan

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def card_languages() -> list[str]:
    """The languages with a card template."""
    folder = resources.files("riskplan.minimisation") / "templates" / "card"
    return sorted(p.name.removesuffix(".html") for p in folder.iterdir() if p.name.endswith(".html"))


def format_date(date: dt.date | None, language: str) -> str:
    if date is None:
        return "—"
    if language == "en":
        return f"{date.day} {_MONTHS_EN[date.month - 1]} {date.year}"
    if language == "de":
        return date.strftime("%d.%m.%Y")
    return date.isoformat()


def card_messages(plan: RiskManagementPlan, language: str) -> list[CardMessage]:
    """The plan's key messages for the card in ``language``."""
    card = plan.patient_card
    if card is None:
        raise UserInputError(f"plan {plan.name!r} has no patient_card block with the card's key messages")
    if language not in card.messages:
        raise UserInputError(
            f"plan {plan.name!r} has no patient card messages in {language!r}; it has {', '.join(card.languages())}"
        )
    return card.messages[language]


def card_sources(plan: RiskManagementPlan, language: str) -> str:
    """The card's source line in ``language``: the plan's card-level ``source`` is written in the language of
    its first message list (the plan's source language, e.g. English) and is used for that language only; any
    other language lists the sources of its own messages, which the plan gives in that language (GVP XVI.B.2:
    the material in the language of the patient)."""
    card = plan.patient_card
    assert card is not None
    messages = card_messages(plan, language)
    first = next(iter(card.messages))
    if card.source and language == first:
        return card.source
    parts = (part.strip() for m in messages for part in m.source.split(";"))
    return "; ".join(dict.fromkeys(p for p in parts if p))


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("riskplan.minimisation", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_card_html(
    record: PatientRecord, plan: RiskManagementPlan, language: str = "en", issued: dt.date | None = None
) -> str:
    """The card as HTML in ``language``: the plan's key messages with the record's patient details."""
    messages = card_messages(plan, language)
    env = _environment()
    try:
        template = env.get_template(f"card/{language}.html")
    except TemplateNotFound:
        raise UserInputError(
            f"no patient card template for language {language!r}; available: {', '.join(card_languages())}"
        ) from None
    # the package's own stylesheet, not user text: marked safe, else autoescape turns its quotes into &#34;
    # and WeasyPrint drops the page numbers and the font (a test checks the card's warnings are none)
    css = Markup(
        (resources.files("riskplan.minimisation") / "templates" / "card" / "card.css").read_text(encoding="utf-8")
    )
    prescriber = record.prescriber
    assert plan.patient_card is not None  # card_messages checked it
    return template.render(
        css=css,
        product=plan.product.name,
        substance=plan.product.active_substance,
        patient_id=record.patient.id,
        treatment_start=format_date(record.start_date(), language),
        prescriber={
            "name": prescriber.name if prescriber else None,
            "institution": prescriber.institution if prescriber else None,
            "phone": prescriber.phone if prescriber else None,
            "email": prescriber.email if prescriber else None,
        },
        issued=format_date(issued or record.patient_card_issued or dt.date.today(), language),
        messages=messages,
        sources=card_sources(plan, language),
    )


def write_patient_card(record: PatientRecord, plan: RiskManagementPlan, out_path: Path, language: str = "en") -> Path:
    """Write the patient's card as a PDF to ``out_path`` (folders created) and return the path."""
    html = render_card_html(record, plan, language)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # WeasyPrint's notes about optional libraries
        from weasyprint import HTML  # type: ignore[import-untyped]

        HTML(string=html).write_pdf(str(out_path))
    return out_path
