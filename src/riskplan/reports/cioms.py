"""The CIOMS I form (Council for International Organizations of Medical Sciences, "Suspect adverse reaction
report", boxes 1-25) of one case version, as PDF: drawn directly (``cioms_pdf``, the layout of
``templates/cioms/cioms_i.html``), through WeasyPrint where the direct writer cannot draw the text.

The one-page layout keeps every box at its printed size; text longer than a box holds is cut at a word and
continues on continuation pages ("continued: box 13"), never shrunk or clipped. Each box is read from one
E2B(R3) field of the version (mapping as in the ICH E2B(R3)/CIOMS I correspondence used by Argus and
Vault Safety); boxes 20 and 21 follow CIOMS I's own instructions:

- 20 (reaction abated after stopping drug?): ``yes`` / ``no`` only where G.k.8 says the drug was withdrawn
  and E.i.7 gives the outcome; ``NA`` where G.k.8 says not applicable; otherwise left empty.
- 21 (reaction reappeared after reintroduction?): from G.k.9.i.4.

The blinded variant (ICH E2A III.A.3, ICH E2B(R3) G.k.2.5: the sponsor's copy for a blinded trial) shows
no treatment arm: in a study case the suspect drugs' names, substances, batches and doses are replaced by
"blinded study drug", also where the narrative names them.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from riskplan.cases import (
    ActionTaken,
    Dosage,
    Drug,
    DrugRole,
    Icsr,
    Outcome,
    Qualification,
    Recurrence,
    ReportType,
    Sex,
    StoredCase,
    case_icsr,
    draft_narrative,
    drug_label,
    format_date,
    get_case,
    narrative_at_version,
    report_kind,
)
from riskplan.errors import UserInputError

__all__ = ["BLINDED_DRUG", "CiomsForm", "case_cioms_form", "cioms_form", "render_cioms_html", "render_cioms_pdf"]

BLINDED_DRUG = "Blinded study drug"
#: Characters each box holds on the one-page form before the rest goes to a continuation page (A4, 8 pt).
BOX_CHARACTERS = {"7+13": 1500, "14": 220, "15": 110, "16": 90, "17": 160, "18": 120, "19": 60, "22": 500, "23": 420}
#: Lines each box holds (a paragraph or a drug per line).
BOX_LINES = {"7+13": 12, "14": 4, "15": 3, "16": 3, "17": 4, "18": 3, "19": 3, "22": 6, "23": 6}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass(frozen=True)
class Continued:
    box: str
    title: str
    text: str


@dataclass
class CiomsForm:
    """The boxes of one CIOMS I form, as printed (strings; empty where the case says nothing)."""

    case_number: str
    version: int
    blinded: bool
    boxes: dict[str, str] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    continued: list[Continued] = field(default_factory=list)


def _cioms_date(value: str | None) -> str:
    """``2026-03-05`` -> ``05 MAR 2026`` (the form's day-month-year), at the date's own precision."""
    if not value:
        return ""
    parts = value.split(" ")[0].split("-")
    if len(parts) == 1:
        return parts[0]
    month = _MONTHS[int(parts[1]) - 1]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{parts[2]} {month} {parts[0]}"


def _number(value: object) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _age_years(icsr: Icsr) -> str:
    age = icsr.patient.age
    if age is None:
        return ""
    if age.unit == "a":
        return _number(age.value)
    return f"{_number(age.value)} {age.unit}"


def _dose(d: Dosage) -> str:
    parts = []
    if d.dose is not None:
        parts.append(f"{_number(d.dose.value)} {d.dose.unit}")
    if d.period is not None:
        parts.append(f"every {_number(d.period.value) + ' ' if d.period.value is not None else ''}{d.period.unit}")
    return " ".join(parts) or (d.text or "")


def _lines(items: list[str]) -> str:
    return "\n".join(i for i in items if i)


def _dechallenge(drug: Drug, icsr: Icsr) -> str:
    # CIOMS I box 20: only what G.k.8 and E.i.7 state
    if drug.action_taken is ActionTaken.NOT_APPLICABLE:
        return "NA"
    if drug.action_taken is not ActionTaken.WITHDRAWN:
        return ""
    outcomes = {r.outcome for r in icsr.reactions if r.outcome is not None}
    if not outcomes:
        return ""
    abated = {Outcome.RECOVERED, Outcome.RECOVERING, Outcome.RECOVERED_WITH_SEQUELAE}
    if outcomes <= abated:
        return "yes"
    if outcomes & {Outcome.NOT_RECOVERED}:
        return "no"
    return ""


def _rechallenge(drug: Drug) -> str:
    recurrences = {a.recurrence for a in drug.reaction_assessments if a.recurrence is not None}
    if Recurrence.RECHALLENGE_RECURRED in recurrences:
        return "yes"
    if Recurrence.RECHALLENGE_DID_NOT_RECUR in recurrences:
        return "no"
    if Recurrence.NO_RECHALLENGE in recurrences:
        return "NA"
    return ""


def _split(text: str, limit: int, max_lines: int) -> tuple[str, str]:
    """``text`` cut after ``max_lines`` lines or at the last space before ``limit`` characters, and the rest
    ("" when it fits)."""
    lines = text.split("\n")
    if len(lines) > max_lines:
        head, tail = "\n".join(lines[:max_lines]), "\n".join(lines[max_lines:])
        shown, rest = _split(head, limit, max_lines)
        return shown, "\n".join(x for x in (rest, tail) if x)
    if len(text) <= limit:
        return text, ""
    cut = text.rfind(" ", 0, limit - 30)
    cut = cut if cut > limit // 2 else limit - 30
    return text[:cut].rstrip(), text[cut:].lstrip()


def _invented_name(name: str) -> str:
    """The product's invented name without its strength and form ("UPLIZNA 100 mg concentrate for solution"
    -> "UPLIZNA", ISO 11615 / EU IDMP name parts): narratives name the product so, and would unblind it."""
    invented = re.split(r"\s+(?=\d)", name.strip(), maxsplit=1)[0]
    return invented if len(invented) >= 3 else ""  # a one- or two-letter word would blank out common words


def _blind(text: str, names: list[str]) -> str:
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = re.sub(re.escape(name), BLINDED_DRUG.lower(), text, flags=re.IGNORECASE)
    # a product named with its substance ("Uplizna (inebilizumab)") would read "blinded study drug (blinded
    # study drug)": say it once
    blinded = re.escape(BLINDED_DRUG.lower())
    return re.sub(rf"{blinded}\s*\(\s*{blinded}\s*\)", BLINDED_DRUG.lower(), text)


def _report_source(icsr: Icsr) -> dict[str, bool]:
    kind = report_kind(icsr)
    source = icsr.primary_source
    professional = source is not None and source.qualification in (
        Qualification.PHYSICIAN,
        Qualification.PHARMACIST,
        Qualification.OTHER_HEALTH_PROFESSIONAL,
    )
    study = icsr.report_type is ReportType.STUDY or icsr.study is not None
    literature = kind == "literature"
    return {
        "source_study": study,
        "source_literature": literature,
        "source_professional": professional,
        "source_other": not (study or literature or professional) and source is not None,
    }


def cioms_form(stored: StoredCase, icsr: Icsr, narrative: str, *, blinded: bool = False) -> CiomsForm:
    """The CIOMS I boxes of one case version; ``narrative`` fills box 7+13."""
    if blinded and not (icsr.report_type is ReportType.STUDY or icsr.study is not None):
        raise UserInputError(
            f"{stored.case_number} is not a study case (C.1.3 and C.5): the blinded CIOMS I is for study cases"
        )
    p = icsr.patient
    suspects = [d for d in icsr.drugs if d.is_suspect]
    concomitants = [d for d in icsr.drugs if d.role is DrugRole.CONCOMITANT]
    hidden = (
        [n for d in suspects for n in (d.name, _invented_name(d.name or ""), *(s.name for s in d.substances))]
        if blinded
        else []
    )
    text = _blind(narrative, [n for n in hidden if n]) if blinded else narrative
    first = icsr.reactions[0] if icsr.reactions else None
    source = icsr.primary_source
    sender = icsr.sender

    def name(d: Drug) -> str:
        return BLINDED_DRUG if blinded else (drug_label(d) or "")

    boxes = {
        "1": p.name or "",
        "1a": (first.country if first and first.country else None) or (source.country if source else "") or "",
        "2": _cioms_date(format_date(p.birth_date)),
        "2a": _age_years(icsr),
        "3": {Sex.MALE: "M", Sex.FEMALE: "F"}.get(p.sex, "") if p.sex else "",
        "4-6": _cioms_date(format_date(first.start_date)) if first else "",
        "7+13": text,
        "14": _lines([f"#{n} {name(d)}" for n, d in enumerate(suspects, 1)]),
        "15": _lines(
            [f"#{n} " + ("" if blinded else "; ".join(_dose(x) for x in d.dosages)) for n, d in enumerate(suspects, 1)]
        ),
        "16": _lines(
            [
                f"#{n} "
                + "; ".join(sorted({x.route_text or (x.route.code if x.route else "") for x in d.dosages} - {""}))
                for n, d in enumerate(suspects, 1)
            ]
        ),
        "17": _lines(
            [f"#{n} " + "; ".join(i.text or "" for i in d.indications if i.text) for n, d in enumerate(suspects, 1)]
        ),
        "18": _lines(
            [
                f"#{n} "
                + "; ".join(
                    f"{_cioms_date(format_date(x.start_date)) or '?'} - {_cioms_date(format_date(x.end_date)) or '?'}"
                    for x in d.dosages
                    if x.start_date or x.end_date
                )
                for n, d in enumerate(suspects, 1)
            ]
        ),
        "19": _lines(
            [
                f"#{n} " + "; ".join(f"{_number(x.duration.value)} {x.duration.unit}" for x in d.dosages if x.duration)
                for n, d in enumerate(suspects, 1)
            ]
        ),
        "20": _lines([f"#{n} {v}" for n, d in enumerate(suspects, 1) if (v := _dechallenge(d, icsr))]),
        "21": _lines([f"#{n} {v}" for n, d in enumerate(suspects, 1) if (v := _rechallenge(d))]),
        "22": _lines(
            [
                f"{drug_label(d)}"
                + "".join(
                    f", {_cioms_date(format_date(x.start_date)) or '?'} - {_cioms_date(format_date(x.end_date)) or '?'}"
                    for x in d.dosages
                    if x.start_date or x.end_date
                )
                for d in concomitants
            ]
        ),
        "23": _lines(
            [
                p.medical_history_text or "",
                *(
                    f"MedDRA {e.term.version} {e.term.code}"
                    + (f" from {_cioms_date(format_date(e.start_date))}" if e.start_date else "")
                    + (f" ({e.comments})" if e.comments else "")
                    for e in p.medical_history
                ),
                f"Last menstrual period: {_cioms_date(format_date(p.last_menstrual_period))}"
                if p.last_menstrual_period
                else "",
            ]
        ),
        "24a": _lines(
            [
                sender.organisation or "",
                sender.street or "",
                " ".join(x for x in (sender.postcode, sender.city) if x),
                sender.country or "",
            ]
            if sender
            else []
        ),
        "24b": stored.worldwide_id,
        "24c": _cioms_date(format_date(icsr.most_recent_info or icsr.first_received)),
        "25": _cioms_date(stored.recorded_at.date().isoformat()),
    }
    criteria = {c for r in icsr.reactions for c in r.seriousness_criteria}
    checks = {
        "died": any(c.value == "results in death" for c in criteria),
        "hospitalisation": any(c.value == "caused/prolonged hospitalisation" for c in criteria),
        "disability": any(c.value == "disabling/incapacitating" for c in criteria),
        "life_threatening": any(c.value == "life threatening" for c in criteria),
        "congenital": any(c.value == "congenital anomaly/birth defect" for c in criteria),
        "other_important": any(c.value == "other medically important condition" for c in criteria),
        "initial": stored.version == 1,
        "follow_up": stored.version > 1,
        **_report_source(icsr),
    }
    form = CiomsForm(stored.case_number, stored.version, blinded, {}, checks)
    titles = {
        "7+13": "7 + 13 Describe reaction(s) (including relevant tests/lab data)",
        "14": "14 Suspect drug(s)",
        "15": "15 Daily dose(s)",
        "16": "16 Route(s) of administration",
        "17": "17 Indication(s) for use",
        "18": "18 Therapy dates (from/to)",
        "19": "19 Therapy duration",
        "22": "22 Concomitant drug(s) and dates of administration",
        "23": "23 Other relevant history",
    }
    for box, value in boxes.items():
        limit = BOX_CHARACTERS.get(box)
        if limit is None:
            form.boxes[box] = value
            continue
        shown, rest = _split(value, limit, BOX_LINES[box])
        form.boxes[box] = shown
        if rest:
            form.continued.append(Continued(box, titles[box], rest))
    return form


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("riskplan.reports", "templates/cioms"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_cioms_html(form: CiomsForm, *, standalone: bool = True) -> str:
    """The form as one HTML document; ``standalone=False`` leaves out the shared style (``cioms_i.css``), which
    ``render_cioms_pdf`` passes to WeasyPrint already parsed."""
    template = _environment().get_template("cioms_i.html")
    return template.render(form=form, b=form.boxes, c=form.checks, standalone=standalone)


_shared = threading.local()


def _shared_style() -> tuple[Any, Any]:
    """The form's stylesheet parsed once and the font configuration it uses, per thread (WeasyPrint's font map is
    not shared between threads). Re-parsing them for every form cost about a sixth of its time."""
    style = getattr(_shared, "style", None)
    if style is None:
        from weasyprint import CSS  # type: ignore[import-untyped]
        from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]

        fonts = FontConfiguration()
        source = _environment().loader.get_source(_environment(), "cioms_i.css")[0]  # type: ignore[union-attr]
        style = _shared.style = (CSS(string=source, font_config=fonts), fonts)
    return style


def render_cioms_pdf(form: CiomsForm) -> bytes:
    """The form as PDF: drawn directly (:mod:`riskplan.reports.cioms_pdf`, a few ms), or through WeasyPrint
    from :func:`render_cioms_html` when the direct writer cannot draw it exactly."""
    from riskplan.reports.cioms_pdf import draw_cioms_pdf

    drawn = draw_cioms_pdf(form)
    return drawn if drawn is not None else render_cioms_pdf_html(form)


def render_cioms_pdf_html(form: CiomsForm) -> bytes:
    """The form as PDF through WeasyPrint (HTML layout of ``cioms_i.html``)."""
    from weasyprint import HTML

    stylesheet, fonts = _shared_style()
    html = HTML(string=render_cioms_html(form, standalone=False))
    pdf: bytes = html.write_pdf(stylesheets=[stylesheet], font_config=fonts)
    return pdf


def case_cioms_form(session: Session, ref: str, version: int | None = None, *, blinded: bool = False) -> CiomsForm:
    """The CIOMS I form of case ``ref`` at ``version`` (default: the latest).

    Box 7+13 holds the narrative as it stood for that version (``riskplan case narrative``), else the H.1
    narrative received with the case, else the narrative drafted from the version's data.
    """
    if version is not None and version < 1:
        raise UserInputError(f"--version must be 1 or more, not {version}")
    stored = get_case(session, ref, version)
    icsr = case_icsr(session, stored.case_id, stored.version)
    narrative = (
        narrative_at_version(session, stored.case_id, stored.version) or icsr.narrative or draft_narrative(icsr, "en")
    )
    return cioms_form(stored, icsr, narrative, blinded=blinded)
