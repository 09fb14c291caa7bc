"""The patient card: a one- or two-page PDF with the plan's key messages and the patient's treatment details."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from riskplan.errors import UserInputError
from riskplan.minimisation import card_languages, demo_patient_record, render_card_html, write_patient_card
from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import RiskManagementPlan


@pytest.fixture(scope="module")
def plan() -> RiskManagementPlan:
    return load_plan("uplizna")


def _squash(text: str) -> str:
    """Text without whitespace or list bullets: PDF line breaks fall anywhere."""
    return re.sub(r"[\s•]+", "", text)


@pytest.mark.parametrize(("language", "start"), [("en", "5 February 2024"), ("de", "05.02.2024")])
def test_the_card_pdf_carries_the_treatment_start_and_every_key_message(
    plan: RiskManagementPlan, tmp_path: Path, language: str, start: str
) -> None:
    record = demo_patient_record()
    path = write_patient_card(record, plan, tmp_path / "cards" / f"card-{language}.pdf", language)
    assert path.read_bytes().startswith(b"%PDF")
    reader = PdfReader(path)
    assert 1 <= len(reader.pages) <= 2
    text = _squash(" ".join(page.extract_text() for page in reader.pages))
    assert _squash(start) in text
    assert _squash("NMO-0042") in text and _squash("Dr. Anna Berger") in text and _squash("+49 30 555 0142") in text
    assert plan.patient_card is not None
    for message in plan.patient_card.messages[language]:
        assert _squash(message.text) in text, message.text
    # the page footer of the stylesheet (quotes once escaped by the HTML template, so WeasyPrint dropped it)
    assert f"1/{len(reader.pages)}" in text


def test_the_card_stylesheet_reaches_weasyprint_unescaped(
    plan: RiskManagementPlan, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    html = render_card_html(demo_patient_record(), plan, "de")
    assert "&#34;" not in html and 'content: counter(page) " / " counter(pages)' in html
    with caplog.at_level("WARNING", logger="weasyprint"):
        write_patient_card(demo_patient_record(), plan, tmp_path / "card.pdf", "de")
    assert [r.getMessage() for r in caplog.records if r.name == "weasyprint"] == []


def test_card_languages_are_english_and_german() -> None:
    assert {"en", "de"} <= set(card_languages())


def test_a_card_without_prescriber_shows_placeholders(plan: RiskManagementPlan) -> None:
    record = demo_patient_record().model_copy(update={"prescriber": None})
    html = render_card_html(record, plan, "en")
    assert "<th>Prescriber</th><td>—</td>" in html


def test_a_language_without_messages_or_template_is_a_user_error(plan: RiskManagementPlan, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="no patient card messages in 'fr'; it has de, en"):
        write_patient_card(demo_patient_record(), plan, tmp_path / "fr.pdf", "fr")
    no_card = plan.model_copy(update={"patient_card": None})
    with pytest.raises(UserInputError, match="has no patient_card block"):
        render_card_html(demo_patient_record(), no_card, "en")
