"""Draft a case narrative (ICH E2B(R3) H.1) from the case's structured data.

ICH E2D(R1) 6.4 and CIOMS VIII ("Practical aspects of signal detection", the case narrative): patient,
history, suspect and concomitant drugs with dates and doses, the course of the events, tests, outcome,
dechallenge and rechallenge, the reporter's and the company's causality. One Jinja2 template per kind of
report (spontaneous, study, literature, pregnancy) and language (``templates/narrative/<lang>/``). Every
sentence states fields of the case (:func:`riskplan.cases.narrative_facts.narrative_facts`); a field that
is absent gives no sentence: the draft never supposes a fact.

A follow-up (a new case version) does not redraft what the processor may have edited: it adds a dated
paragraph with the sentences that the new version's draft has and the previous version's had not.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from riskplan.cases.model import Icsr
from riskplan.cases.narrative_facts import format_date, narrative_facts
from riskplan.cases.narrative_words import LANGUAGES
from riskplan.errors import UserInputError

__all__ = ["draft_narrative", "draft_sentences", "follow_up_paragraph"]

_TEMPLATES = Path(__file__).parent / "templates" / "narrative"
_FOLLOW_UP = {
    "en": (
        "Follow-up information received on {date} (case version {version}):",
        "Follow-up information (case version {version}):",
    ),
    "de": ("Nachtragsinformation vom {date} (Fallversion {version}):", "Nachtragsinformation (Fallversion {version}):"),
}
_NO_NEW_FACT = {"en": "no new fact in the structured data.", "de": "keine neue Angabe in den strukturierten Daten."}


@cache
def _environment() -> Environment:
    # Plain text, not HTML: nothing to escape; StrictUndefined so a misspelt fact fails loudly in the tests
    return Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=StrictUndefined,
    )


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise UserInputError(f"no narrative template in language {language!r}; there are: {', '.join(LANGUAGES)}")


def _paragraphs(rendered: str) -> list[str]:
    """The template's lines joined into paragraphs (a blank line ends one), spaces made single."""
    blocks = re.split(r"\n\s*\n", rendered)
    return [text for block in blocks if (text := " ".join(block.split()))]


def draft_narrative(icsr: Icsr, language: str = "en") -> str:
    """The narrative of ``icsr`` drafted in ``language`` from its fields, paragraphs separated by a blank line."""
    _check_language(language)
    facts = narrative_facts(icsr, language)
    template = _environment().get_template(f"{language}/{facts['kind']}.j2")
    return "\n\n".join(_paragraphs(template.render(f=facts)))


def draft_sentences(icsr: Icsr, language: str = "en") -> list[str]:
    """The drafted narrative cut into its sentences (one template line each), in order."""
    _check_language(language)
    facts = narrative_facts(icsr, language)
    rendered = _environment().get_template(f"{language}/{facts['kind']}.j2").render(f=facts)
    return [" ".join(line.split()) for line in rendered.splitlines() if line.strip()]


def follow_up_paragraph(previous: Icsr, current: Icsr, version: int, language: str = "en") -> str:
    """The dated paragraph a follow-up adds: the sentences ``current`` states that ``previous`` did not.

    Dated with C.1.5 (date of most recent information) of the follow-up, else C.1.4.
    """
    _check_language(language)
    before = set(draft_sentences(previous, language))
    new = [s for s in draft_sentences(current, language) if s not in before]
    date = format_date(current.most_recent_info or current.first_received)
    dated, undated = _FOLLOW_UP[language]
    opening = (dated if date else undated).format(date=date, version=version)
    return " ".join([opening, *(new or [_NO_NEW_FACT[language]])])
