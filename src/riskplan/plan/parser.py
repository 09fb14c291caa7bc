"""Read a public "Summary of the risk management plan" (RMP Part VI) into a :class:`RiskManagementPlan`.

The summary follows the EU RMP template (Rev. 2.0.1, Part VI "Summary of the risk management plan";
GVP Module V.C.3):

* the title "Summary of risk management plan for <PRODUCT> (<active substance>)";
* Part VI.I "The medicine and what it is used for": indication, active substance, route, EPAR address;
* Part VI.II, with the routine pharmacovigilance statement ("information about adverse reactions is
  collected continuously and regularly analysed ...", GVP Module V.B.9);
* II.A "List of important risks and missing information" (Table II.A.1): the safety concerns by
  category, "Important identified risks", "Important potential risks", "Missing information" (GVP
  Module V.A, V.B.8);
* II.B "Summary of important risks" (Table II.B.1): an entry per concern, "Important identified risk 1:
  <title>", with "Evidence for linking the risk to the medicine", "Risk factors and risk groups" and
  "Risk minimisation measures", routine (GVP Module XVI.B.1) and additional (XVI.B.2);
* II.C "Post-authorisation development plan": II.C.1 studies which are conditions of the marketing
  authorisation (category 1, or 2 for specific obligations; RMP Part III.3, GVP Module V.B.6.3) and
  II.C.2 other studies (category 3).

The public summary holds no concern definitions, reference safety information, infusion checks, patient
card, RMP version or date. The first four are named in the plan's ``absent`` list (unknown, not empty), so
that ``riskplan plan load`` keeps them from the current version (:mod:`riskplan.plan.loading`). Blank
lines carry no meaning here (see :mod:`riskplan.plan.summary_text`): a converted PDF may lose them or add
them at page breaks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskplan.errors import UserInputError
from riskplan.plan.model import (
    AdditionalRiskMinimisation,
    ConcernCategory,
    PlanPart,
    Recommendation,
    RiskManagementPlan,
    RoutineRiskMinimisation,
    StudyCategory,
    slugify,
)
from riskplan.plan.summary_text import (
    BULLET,
    SENTENCE_END,
    Line,
    Segment,
    UnreadablePdfError,
    bullet_split,
    clean_item,
    extend_unique,
    extract_pdf_text,
    join_text,
    normalise_lines,
    rx,
    section_numbers,
    segment,
    split_labelled,
    strip_stop,
)

__all__ = ["SummaryParseError", "parse_summary_file", "parse_summary_text"]

ACCEPTED_SUFFIXES = (".txt", ".pdf")
_ID_MAX = 76  # riskplan.plan.model.Identifier allows 80, leaving room for a "-2" suffix


class SummaryParseError(UserInputError):
    """The text is not an RMP summary, or a part the RMP template requires is missing or inconsistent."""


# Headings of the RMP template Part VI.
_TITLE_START = r"Summary of (?:the )?risk management plan(?: \(RMP\))? for\s+(?P<name>[^()\n]+?)"
_TITLES = (
    rx(_TITLE_START + r"\s*\((?P<substance>(?:[^()]|\([^()]*\))+)\)"),
    rx(_TITLE_START + r"(?P<substance>)$"),  # no substance in the title: Part I names it
)
_PART_I = rx(r"^(?:Part VI:? )?I\.? The medicine and what it is used for")
_PART_II = rx(r"^(?:Part VI:? )?II\.? Risks associated with the medicine")
_II_A = rx(r"^II\.?\s?A\.? List of important risks and missing information")
_II_A_TABLE = rx(r"List of important risks and missing information")
_II_B = rx(r"^II\.?\s?B\.? Summary of important risks")
_II_C = rx(r"^II\.?\s?C\.? Post-?\s?authori[sz]ation development plan")
_II_C_1 = rx(r"^II\.?\s?C\.?\s?1\.? Studies which are conditions of the marketing authori[sz]ation")
_II_C_2 = rx(r"^II\.?\s?C\.?\s?2\.? Other studies in (?:the )?post-?\s?authori[sz]ation development plan")
_TABLE_CAPTION = rx(r"^Table (?:II\.)?[A-C](?:\.\d+)+\b\s*[:.–—-]?\s*")

# II.A / II.B labels (GVP Module V.B.8 categories).
_II_A_LABEL = rx(
    r"^(?P<label>Important identified risks?|Important potential risks?|Missing information)"
    r"(?!\s+(?:refers|is|are|can|means|on)\b)\s*:?"
)
_II_B_HEADING = rx(
    r"^(?P<label>Important identified risk|Important potential risk|Missing information)s?"
    r"(?:\s+\d+\s*[:.–—-]?|\s*[:.–—-])\s*"
)
_EVIDENCE, _RISK_FACTORS, _RMM, _ROUTINE, _ADDITIONAL = "evidence", "risk factors", "rmm", "routine", "arm"
_II_B_LABELS = {
    _EVIDENCE: rx(r"^(?:Evidence for linking the risk to the medicine|Evidence source(?:\(s\))?)\s*:?"),
    _RISK_FACTORS: rx(r"^Risk factors and risk groups\s*:?"),
    _RMM: rx(r"^Risk minimi[sz]ation measures\s*:?"),
    _ROUTINE: rx(r"^Routine risk minimi[sz]ation measures\s*:?"),
    _ADDITIONAL: rx(r"^Additional risk minimi[sz]ation measures\s*:?"),
    "additional pharmacovigilance": rx(r"^Additional pharmacovigilance activities\s*:?"),
}
_NONE = re.compile(
    r"^(?:none|not applicable|no (?:additional |routine )?risk minimi[sz]ation measures?(?: proposed)?)\.?$",
    re.IGNORECASE,
)

# Routine risk minimisation (GVP Module XVI.B.1): product information, legal status, pack size.
_KEYWORD = r"(?:SmPC\b|PL\b|Package leaflet\b|Recommendations? (?:for|on|about|regarding)\b)"
_LABEL = r"(?:Clinical setting|Legal status|Pack size)\s*:"
_ITEM_START = rx(rf"^(?:{_KEYWORD}|{_LABEL})")
_LABEL_START = rx(rf"^{_LABEL}")
_INLINE_ITEM = rx(rf"(?<=[.;]) (?=(?:{_KEYWORD}|{_LABEL}))")
_SUBHEADING = rx(r"^Other routine risk minimi[sz]ation measures[^:]*:\s*")
_RECOMMENDATION = rx(
    r"^Recommendations? (?:for|on|about|regarding) (?P<topic>.+?)"
    r" (?:(?:is|are) )?(?:(?:included|provided|given) )?in (?:the )?SmPC\b(?P<rest>.*)$",
    re.DOTALL,
)
_SMPC = rx(r"^(?:SmPC|Summary of product characteristics)\b")
_PL = rx(r"^(?:PL|Package leaflet|Patient information leaflet)\b")
_PL_INSIDE = rx(r"[,;]?\s*\b(?:PL|Package leaflet|Patient information leaflet)\b")
_SMPC_INSIDE = rx(r"[,;]?\s*\b(?:SmPC|Summary of product characteristics)\b")
_LABELLED = rx(r"^(?P<label>Clinical setting|Legal status|Pack size)\s*:\s*(?P<value>.*)$", re.DOTALL)

# Studies (RMP Part III, Part VI.II.C).
_PURPOSE = rx(r"^Purpose of the study\s*:?")
_SHORT_NAME_LABEL = rx(r"^Study (?:short )?name(?: and title)?\s*:")
_STUDY_TITLE_LABEL = rx(r"^(?:Study )?title\s*:")
_SPONSOR = rx(r"\(\s*Sponsored (?:and managed )?by (?P<sponsor>[^()]+?)\s*\)")
_OBJECTIVES_INTRO = rx(
    r"(?:The )?(?:(?:specific|main|primary|secondary|key) )?objectives?"
    r"(?: of (?:the|this) (?:study|registry))?(?: (?:are|is|include|will be)(?: to)?)?\s*:"
)
_SPECIFIC_OBLIGATION = rx(r"specific obligations?")

# Part VI.I.
_INDICATION = rx(
    r"\b(?:is|are) (?:authori[sz]ed|indicated|approved)(?: in the (?:EU|European Union))?"
    r" (?:for|in) (?:the )?(?P<indication>.+?)(?:\s*\(see (?:the )?SmPC|\.(?=\s+[A-Z(]|\s*$))",
    re.DOTALL,
)
_SUBSTANCE = rx(r"\bcontains (?P<substance>.+?) as (?:the|its) active substances?")
_GIVEN = r"\b(?:given|taken|administered)"
_ROUTES = (
    rx(rf"{_GIVEN} (?:by|via) (?:the )?(?P<route>\w[\w\s/-]*?) (?:administration|route)\b"),
    rx(rf"{_GIVEN} (?P<route>by mouth|orally)\b"),
    rx(rf"{_GIVEN} as (?:an? )?(?P<route>[^.();]+?)\s*(?:\(|\.(?:\s|$)|;|$)"),
    rx(rf"{_GIVEN} (?:by|via) (?:an? )?(?P<route>[^.();]+?)\s*(?:\(|\.(?:\s|$)|;|$)"),
)
_ORAL = rx(r"^(?:by mouth|orally)$")
_URL = re.compile(r"https?://[^\s<>\"']+")
_ROUTINE_PV = rx(r"\binformation about adverse reactions is collected[^.]*\.")

# Study -> concern links: a concern's name phrase is mentioned in the study's text.
_STOP_WORDS = frozenset(
    {"use", "during", "in", "of", "the", "a", "an", "and", "or", "with", "other", "patients", "safety"}
    | {"particularly", "to", "for", "by", "on", "at", "as", "exposed"}
)
_PREFIX = 6


@dataclass(frozen=True)
class _ListItem:
    """An item of Table II.A.1; ``lines``: a cell without bullets or ';' split one item per line."""

    category: ConcernCategory
    text: str
    line: int
    lines: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class _Entry:
    """An entry of Table II.B.1: heading and the values of its labelled cells."""

    category: ConcernCategory
    title: str
    line: int
    fields: dict[str, Segment]


@dataclass(frozen=True)
class _Study:
    short_name: str
    title: str
    sponsor: str | None
    category: StudyCategory
    purpose: str
    objectives: list[str]


def parse_summary_text(text: str, *, name: str | None = None, source: str | None = None) -> RiskManagementPlan:
    """Parse the text of an RMP summary (RMP Part VI) into a plan.

    ``name`` is the plan's short name (default: the slug of the product name); ``source`` describes the
    document (default: its title). Raises :class:`SummaryParseError` when the text is not an RMP summary
    or a part the template requires is missing.
    """
    return _parse(text, name=name, source=source, origin=None)


def parse_summary_file(path: Path, *, name: str | None = None) -> RiskManagementPlan:
    """Parse an RMP summary from a ``.txt`` (UTF-8) or ``.pdf`` file (text extracted with pypdf)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        raise SummaryParseError(
            f"unsupported file type {path.suffix or '(no suffix)'!r} for {path.name}: "
            f"expected an RMP summary as {' or '.join(ACCEPTED_SUFFIXES)}"
        )
    if not path.is_file():
        raise SummaryParseError(f"summary file not found: {path} (expected an existing {suffix} file)")
    if suffix == ".pdf":
        try:
            text = extract_pdf_text(path)
        except UnreadablePdfError as exc:
            raise SummaryParseError(f"cannot read {path.name} as a PDF of an RMP summary: {exc}") from exc
    else:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SummaryParseError(
                f"{path.name} is not UTF-8 text (byte {exc.start}): expected a UTF-8 .txt RMP summary"
            ) from exc
    try:
        return _parse(text, name=name, source=None, origin=path.name)
    except SummaryParseError as exc:
        message = str(exc)
        raise SummaryParseError(message if path.name in message else f"{path}: {message}") from None


def _parse(text: str, *, name: str | None, source: str | None, origin: str | None) -> RiskManagementPlan:
    lines = normalise_lines(text)
    if not lines:
        raise SummaryParseError(
            f"empty summary: {origin or 'the text'} has no text; expected a "
            '"Summary of risk management plan for <product>" (RMP Part VI)'
        )
    doc = segment(lines)
    title = next((m for p in _TITLES if (m := p.search(doc.text))), None)
    # The last II.A heading is the section itself, not an entry of a table of contents.
    ii_a = _last(_II_A, doc.text, 0, len(doc.text))
    if title is None or ii_a is None:
        found = "neither" if title is ii_a else ("only the title" if ii_a is None else "only the II.A heading")
        raise SummaryParseError(
            'not an RMP summary: expected the heading "Summary of risk management plan for <product>" and '
            f'"II.A List of important risks and missing information", found {found}'
        )
    ii_b = _II_B.search(doc.text, ii_a.end())
    if ii_b is None:
        raise SummaryParseError(
            'expected the heading "II.B Summary of important risks" after "II.A List of important risks '
            f'and missing information" (line {doc.line_number(ii_a.start())}), not found'
        )
    c_1 = _II_C_1.search(doc.text, ii_b.end())
    c_2 = _II_C_2.search(doc.text, c_1.end() if c_1 else ii_b.end())
    c_starts = [m.start() for m in (_II_C.search(doc.text, ii_b.end()), c_1, c_2) if m is not None]

    product = _product(doc, title, ii_a.start())
    items = _parse_list(doc.slice(ii_a.end(), ii_b.start()))
    entries = _parse_entries(doc.slice(ii_b.end(), min(c_starts, default=None)))
    concerns = _build_concerns(items, entries, doc.line_number(ii_a.start()))

    studies: list[_Study] = []
    conditions: str | None = None
    if c_1 is not None:
        sec = doc.slice(c_1.end(), c_2.start() if c_2 else None)
        studies += _parse_studies(sec, StudyCategory.IMPOSED_CONDITION)
        conditions = (sec.joined() or None) if not studies else None
    if c_2 is not None:
        studies += _parse_studies(doc.slice(c_2.end()), StudyCategory.REQUIRED)

    activities = []
    if statement := _ROUTINE_PV.search(doc.text, 0, ii_a.start()) or _ROUTINE_PV.search(doc.text):
        sentence = " ".join(statement.group(0).split())
        activities.append(sentence[0].upper() + sentence[1:])

    document = f"Summary of risk management plan for {product['name']} ({product['active_substance']}), RMP Part VI"
    data: dict[str, Any] = {
        "name": name if name is not None else slugify(product["name"], _ID_MAX),
        "source": source or (f"{document}, parsed from {origin}" if origin else document),
        "absent": list(PlanPart),  # RMP Part VI carries none of them
        "product": product,
        "safety_concerns": concerns,
        "studies": _build_studies(studies, concerns),
        "studies_conditions_of_authorisation": conditions,
        "routine_pharmacovigilance": {"activities": activities},
    }
    try:
        return RiskManagementPlan.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(plan)'}: {err['msg']}" for err in exc.errors()
        )
        raise SummaryParseError(f"the parsed summary is not a valid plan: {problems}") from None


def _product(doc: Segment, title: re.Match[str], ii_a_start: int) -> dict[str, Any]:
    """The product from the title and Part VI.I "The medicine and what it is used for"."""
    heading = _last(_PART_I, doc.text, title.end(), ii_a_start)
    start = heading.end() if heading else title.end()
    part_ii = _last(_PART_II, doc.text, start, ii_a_start)
    sec = doc.slice(start, part_ii.start() if part_ii else ii_a_start)
    text = sec.joined()
    where = f"Part I (line {sec.first_line or doc.line_number(start)})"
    substance = title["substance"] or ((m := _SUBSTANCE.search(text)) and m["substance"])
    if not substance:
        raise SummaryParseError(
            f"{where}: expected the active substance, in the title '... for <product> (<substance>)' or as "
            "'It contains <substance> as the active substance', not found"
        )
    indication = _INDICATION.search(text)
    if indication is None:
        raise SummaryParseError(
            f"{where}: expected the indication as '<product> is authorised for ...' or '... is indicated "
            "for ...', not found"
        )
    route = next((m["route"].strip() for p in _ROUTES if (m := p.search(text))), None)
    if route is None:
        raise SummaryParseError(
            f"{where}: expected how the medicine is given, e.g. 'it is given by <route> administration' or "
            "'given as <form>', not found"
        )
    urls = [u.rstrip(".,;:)") for u in _URL.findall(text)]
    return {
        "name": " ".join(title["name"].split()),
        "active_substance": " ".join(substance.split()),
        "indication": " ".join(indication["indication"].split()),
        "route": "oral" if _ORAL.match(route) else route,
        "epar_url": next((u for u in urls if "ema.europa.eu" in u), urls[0] if urls else None),
    }


def _last(pattern: re.Pattern[str], text: str, start: int, end: int) -> re.Match[str] | None:
    matches = list(pattern.finditer(text, start, end))
    return matches[-1] if matches else None


def _category(label: str) -> ConcernCategory:
    label = label.lower()
    if "identified" in label:
        return ConcernCategory.IMPORTANT_IDENTIFIED_RISK
    if "potential" in label:
        return ConcernCategory.IMPORTANT_POTENTIAL_RISK
    return ConcernCategory.MISSING_INFORMATION


def _parse_list(sec: Segment) -> list[_ListItem]:
    """Table II.A.1: the items under each category label (bullets, ';'-separated text, or one item)."""
    tables = list(_II_A_TABLE.finditer(sec.text))
    if tables:
        sec = sec.slice(tables[-1].end())
    labels = list(_II_A_LABEL.finditer(sec.text))
    items: list[_ListItem] = []
    for i, m in enumerate(labels):
        value = sec.slice(m.end(), labels[i + 1].start() if i + 1 < len(labels) else None)
        if BULLET in value.text:
            parts = bullet_split(value)
        elif ";" in value.text:
            parts = [(join_text(p.group(0)), value.line_number(p.start())) for p in re.finditer(r"[^;]+", value.text)]
        else:
            parts = [(value.joined(), value.first_line or 0)]
        values = [(c, line) for text, line in parts if (c := clean_item(text)) and not _NONE.match(c)]
        plain = len(values) == 1 and len(parts) == 1 and len(value.lines) > 1
        per_line = tuple((clean_item(x.text), x.number) for x in value.lines) if plain else ()
        items += [_ListItem(_category(m["label"]), text, line, per_line) for text, line in values]
    return items


def _parse_entries(sec: Segment) -> list[_Entry]:
    """Table II.B.1: one entry per concern, from its heading to the next heading."""
    sec = _drop_captions(sec)
    headings = list(_II_B_HEADING.finditer(sec.text))
    entries = []
    for i, m in enumerate(headings):
        body = sec.slice(m.end(), headings[i + 1].start() if i + 1 < len(headings) else None)
        lead, labelled = split_labelled(body, _II_B_LABELS)
        line = sec.line_number(m.start())
        title = strip_stop(lead.joined())
        if not title:
            raise SummaryParseError(f"II.B entry at line {line}: expected a title after {m.group(0).strip()!r}")
        fields: dict[str, Segment] = {}
        for key, value, _ in labelled:
            fields[key] = Segment(fields[key].lines + value.lines) if key in fields else value
        entries.append(_Entry(_category(m["label"]), title, line, fields))
    return entries


def _drop_captions(sec: Segment) -> Segment:
    """Without table captions ("Table II.B.1: Summary of important risks"); a caption that carries an
    entry heading ("Table II.B.2: Important potential risk 1: PML") keeps the heading."""
    kept = []
    for line in sec.lines:
        caption = _TABLE_CAPTION.match(line.text)
        if caption is None:
            kept.append(line)
        elif _II_B_HEADING.match(rest := line.text[caption.end() :]):
            kept.append(Line(line.number, rest))
    return Segment(tuple(kept))


def _build_concerns(items: list[_ListItem], entries: list[_Entry], ii_a_line: int) -> list[dict[str, Any]]:
    """II.A items and II.B entries matched by category and order (RMP template Part VI.II.A and II.B).

    ``short_title`` is the II.A item where it differs from the II.B title; the id is the slug of the
    (short) title up to its first comma, made unique with "-2", "-3".
    """
    if not entries:
        raise SummaryParseError(
            "II.B describes no concerns: expected entries headed 'Important identified risk 1: <title>', "
            "'Important potential risk ...' or 'Missing information ...'"
        )
    matched: dict[int, _ListItem] = {}
    for category in ConcernCategory:
        listed = [item for item in items if item.category is category]
        described = [i for i, e in enumerate(entries) if e.category is category]
        if len(listed) == 1 and len(listed[0].lines) == len(described) > 1:
            listed = [_ListItem(category, text, line) for text, line in listed[0].lines]
        if len(listed) != len(described):
            raise SummaryParseError(_mismatch(category, listed, [entries[i] for i in described], ii_a_line))
        matched.update(zip(described, listed, strict=True))

    concerns: list[dict[str, Any]] = []
    used: set[str] = set()
    for i, entry in enumerate(entries):
        listed_title = strip_stop(matched[i].text)
        short = listed_title if listed_title != entry.title else None
        # "Risk minimisation measures: SmPC section 4.4 ..." without the "Routine ..." label is routine too.
        routine = entry.fields.get(_ROUTINE, entry.fields.get(_RMM) or None)
        if routine is None:
            raise SummaryParseError(
                f"{entry.category.heading} {entry.title!r} (II.B, line {entry.line}): expected a "
                "'Routine risk minimisation measures' block, not found"
            )
        concerns.append(
            {
                "id": _unique(slugify((short or entry.title).split(",")[0], _ID_MAX), used),
                "title": entry.title,
                "short_title": short,
                "category": entry.category,
                "evidence": _text_or_none(entry.fields.get(_EVIDENCE)),
                "risk_factors": _text_or_none(entry.fields.get(_RISK_FACTORS)),
                "routine_measures": _parse_routine(routine),
                "additional_measures": _parse_additional(entry.fields.get(_ADDITIONAL)),
            }
        )
    return concerns


def _mismatch(category: ConcernCategory, listed: list[_ListItem], described: list[_Entry], line: int) -> str:
    kind = category.value + ("" if category is ConcernCategory.MISSING_INFORMATION else "s")
    listed_names = {strip_stop(i.text).casefold() for i in listed}
    described_names = {e.title.casefold() for e in described}
    details = [
        f"II.A lists {i.text!r} (line {i.line}) but II.B has no entry for it"
        for i in listed
        if strip_stop(i.text).casefold() not in described_names
    ] + [
        f"II.B describes {e.title!r} (line {e.line}) but II.A does not list it"
        for e in described
        if e.title.casefold() not in listed_names
    ]
    return (
        f"II.A (line {line}) lists {len(listed)} {kind} but II.B describes {len(described)}: expected a "
        "II.B entry for each II.A item, in the same order" + (f" ({'; '.join(details)})" if details else "")
    )


def _unique(base: str, used: set[str]) -> str:
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate


def _text_or_none(seg: Segment | None) -> str | None:
    return (seg.joined() or None) if seg else None


def _parse_routine(seg: Segment) -> RoutineRiskMinimisation:
    """Routine measures (GVP Module XVI.B.1): SmPC / PL sections, recommendations, clinical setting,
    legal status, pack size; any other sentence is kept in ``other``."""
    smpc: list[str] = []
    pl: list[str] = []
    recommendations: list[Recommendation] = []
    labelled: dict[str, str] = {}
    other: list[str] = []
    for raw in _routine_items(seg):
        item = _SUBHEADING.sub("", raw).strip()
        if not item or _NONE.match(item):
            continue
        if rec := _RECOMMENDATION.match(item):
            topic = " ".join(rec["topic"].split())
            recommendations.append(Recommendation(topic=topic, smpc_sections=section_numbers(rec["rest"])))
        elif _SMPC.match(item) or _PL.match(item):
            is_smpc = bool(_SMPC.match(item))
            split = (_PL_INSIDE if is_smpc else _SMPC_INSIDE).search(item, 1)
            first, second = (item[: split.start()], item[split.end() :]) if split else (item, "")
            extend_unique(smpc if is_smpc else pl, section_numbers(first))
            extend_unique(pl if is_smpc else smpc, section_numbers(second))
        elif field := _LABELLED.match(item):
            labelled[field["label"].lower().replace(" ", "_")] = strip_stop(field["value"])
        else:
            other += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", item) if s.strip()]
    return RoutineRiskMinimisation(
        smpc_sections=smpc,
        pl_sections=pl,
        recommendations=recommendations,
        clinical_setting=labelled.get("clinical_setting"),
        legal_status=labelled.get("legal_status"),
        pack_size=labelled.get("pack_size"),
        other=other,
    )


def _routine_items(seg: Segment) -> list[str]:
    """The routine block cut into items. An item starts at a line beginning with a keyword (SmPC, PL,
    Recommendations, Clinical setting:, ...) after a finished line, or at a new sentence."""
    groups: list[list[str]] = []
    for line in seg.lines:
        text = line.text
        previous = groups[-1][-1] if groups else ""
        finished = bool(SENTENCE_END.search(previous))
        keyword = _ITEM_START.match(text) and (finished or previous[-1:].isdigit() or _LABEL_START.match(text))
        if not groups or keyword or (finished and text[:1].isupper()):
            groups.append([text])
        else:
            groups[-1].append(text)
    return [item for group in groups for item in _INLINE_ITEM.split(join_text("\n".join(group)))]


def _parse_additional(seg: Segment | None) -> list[AdditionalRiskMinimisation]:
    """Additional measures (GVP Module XVI.B.2): one per line, bullet, or ';' / ', '-separated name.

    A name followed by bullets is a tool with its key messages (``content``); "Name: text" is a tool with
    a description.
    """
    if not seg:
        return []
    has_plain = any(not line.text.startswith(BULLET) for line in seg.lines)
    groups: list[tuple[str, list[str]]] = []  # name, bullets under it
    for line in seg.lines:
        text = line.text
        if text.startswith(BULLET):
            body = text[len(BULLET) :].strip()
            if has_plain and groups:
                groups[-1][1].append(body)
            else:
                groups.append((body, []))
        elif groups and text[:1].islower():
            name, bullets = groups[-1]
            if bullets:
                bullets[-1] = join_text(f"{bullets[-1]}\n{text}")
            else:
                groups[-1] = (join_text(f"{name}\n{text}"), bullets)
        else:
            groups.append((text, []))
    measures: list[AdditionalRiskMinimisation] = []
    for name, bullets in groups:
        content = [c for c in map(clean_item, bullets) if c]
        head, sep, description = name.partition(":")
        if bullets or (sep and description.strip()):
            named = [(head, description.strip() or None)]
        else:
            named = [(n, None) for n in re.split(r";\s*|,\s+(?=[A-Z])", head)]
        for each, desc in named:
            each = clean_item(each)
            if each and not _NONE.match(each):
                measures.append(AdditionalRiskMinimisation(name=each, description=desc, content=content))
    return measures


def _parse_studies(sec: Segment, category: StudyCategory) -> list[_Study]:
    """Studies of II.C.1 or II.C.2: a heading line, the title, "Purpose of the study:", the purpose and
    objectives.

    Blank lines carry no meaning in a converted summary, so a study's heading is taken as the first line
    after the previous study's last finished sentence or bullet (or at a "Study short name:" label).
    """
    markers = list(_PURPOSE.finditer(sec.text))
    if not markers:
        return []
    ends = [m.start() for m in markers[1:]] + [len(sec.text)]
    preamble, head = _split_head(sec.slice(0, markers[0].start()))
    if category is StudyCategory.IMPOSED_CONDITION and _SPECIFIC_OBLIGATION.search(preamble.text):
        category = StudyCategory.SPECIFIC_OBLIGATION
    studies = []
    for i, (marker, end) in enumerate(zip(markers, ends, strict=True)):
        chunk = sec.slice(marker.end(), end)
        body, next_head = _split_head(chunk) if i + 1 < len(markers) else (chunk, Segment(()))
        line = sec.line_number(marker.start())
        short_name, title, sponsor = _study_head(head, line)
        purpose, objectives = _purpose_and_objectives(body)
        if not purpose:
            raise SummaryParseError(f"study {short_name!r} (line {line}): expected text after 'Purpose of the study:'")
        own = category
        if own is StudyCategory.IMPOSED_CONDITION and _SPECIFIC_OBLIGATION.search(f"{title} {purpose}"):
            own = StudyCategory.SPECIFIC_OBLIGATION
        studies.append(_Study(short_name, title, sponsor, own, purpose, objectives))
        head = next_head
    return studies


def _split_head(chunk: Segment) -> tuple[Segment, Segment]:
    """The text before "Purpose of the study:" split into what precedes the study and its heading."""
    if label := _SHORT_NAME_LABEL.search(chunk.text):
        return chunk.slice(0, label.start()), chunk.slice(label.start())
    cut = 0
    for i, line in enumerate(chunk.lines[:-1]):
        if SENTENCE_END.search(line.text) or line.text.startswith(BULLET):
            cut = i + 1
    return Segment(chunk.lines[:cut]), Segment(chunk.lines[cut:])


def _study_head(head: Segment, line: int) -> tuple[str, str, str | None]:
    """Short name, title and sponsor; "(Sponsored [and managed] by X)" is taken out of the title."""
    if not head:
        raise SummaryParseError(f"study at line {line}: expected a study name and title before 'Purpose of the study:'")
    if label := _SHORT_NAME_LABEL.match(head.text):
        head = head.slice(label.end())
        if title_label := _STUDY_TITLE_LABEL.search(head.text):
            short_name = head.slice(0, title_label.start()).joined()
            title = head.slice(title_label.end()).joined()
        else:
            short_name, title = head.lines[0].text, Segment(head.lines[1:]).joined()
    else:
        short_name, title = head.lines[0].text, Segment(head.lines[1:]).joined()
    title = title or short_name
    sponsor = None
    if found := _SPONSOR.search(title):
        sponsor = " ".join(found["sponsor"].split())
        title = title[: found.start()] + title[found.end() :]
    title = re.sub(r"\s+([.,;:])", r"\1", " ".join(title.split()))
    return strip_stop(short_name), strip_stop(title), sponsor


def _purpose_and_objectives(body: Segment) -> tuple[str, list[str]]:
    """The purpose, and the objectives after "The specific objectives are:" (bullets or a ';' list)."""
    text = body.joined()
    at = text.find(BULLET)
    purpose, bullets = (text, "") if at < 0 else (text[:at], text[at:])
    intros = list(_OBJECTIVES_INTRO.finditer(purpose))
    listed = ""
    if intros:
        listed = purpose[intros[-1].end() :] + " " + bullets
        purpose = purpose[: intros[-1].start()]
    elif bullets and purpose.strip():
        listed = bullets
    elif bullets:
        purpose = " ".join(p.strip() for p in bullets.split(BULLET))
    parts = listed.split(BULLET) if BULLET in listed else listed.split(";")
    return " ".join(purpose.split()), [c for c in map(clean_item, parts) if c]


def _build_studies(studies: Sequence[_Study], concerns: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Studies with their concern links: a study addresses a concern whose name phrase it mentions."""
    phrases = [(c["id"], _name_phrases(c["short_title"] or c["title"])) for c in concerns]
    used: set[str] = set()
    out = []
    for study in studies:
        tokens = _tokens(" ".join([study.title, study.purpose, *study.objectives]))
        out.append(
            {
                "id": _unique(slugify(study.short_name, _ID_MAX), used),
                "short_name": study.short_name,
                "title": study.title,
                "sponsor": study.sponsor,
                "category": study.category,
                "purpose": study.purpose,
                "objectives": study.objectives,
                "safety_concerns": [
                    cid for cid, options in phrases if any(all(w in tokens for w in p) for p in options)
                ],
            }
        )
    return out


def _name_phrases(name: str) -> list[list[str]]:
    """The content words (first 6 characters) of each phrase of a concern name, split at ',' and 'and'.

    "Serious infections, viral reactivation, and opportunistic infections" gives [seriou, infect],
    [viral, reacti], [opport, infect]; "Use during pregnancy and lactation" gives [pregna], [lactat].
    """
    phrases = []
    for part in re.split(r",|\band\b", name, flags=re.IGNORECASE):
        words = [w[:_PREFIX] for w in re.findall(r"[a-z0-9]+", part.lower()) if w not in _STOP_WORDS]
        if words:
            phrases.append(words)
    return phrases


def _tokens(text: str) -> set[str]:
    return {w[:_PREFIX] for w in re.findall(r"[a-z0-9]+", text.lower())}
