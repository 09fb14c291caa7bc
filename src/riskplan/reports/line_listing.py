"""Line listings of cases in the CIOMS II layout (CIOMS Working Group II, 1992; ICH E2C(R2) appendix and
GVP Module VII), as CSV, XLSX and PDF.

Which cases: those a periodic report counts at the data lock point ``end`` (:func:`riskplan.cases.versions_at_dlp`:
each case's latest version received on or before the DLP, valid), first received within ``start`` to ``end``;
with ``serious``, serious cases only; with ``concerns``, cases linked to any of these safety concerns. One
line per case, in order of first receipt; its reactions, drugs and assessments as the version states them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases import (
    CaseConcernRow,
    CaseReactionRow,
    CaseVersionRow,
    Icsr,
    case_number,
    drug_label,
    format_date,
    report_kind,
    version_icsrs,
    versions_at_dlp,
    worldwide_ids,
)

__all__ = ["COLUMNS", "ListingLine", "line_listing", "listing_csv", "listing_html", "listing_xlsx"]


@dataclass(frozen=True)
class ListingLine:
    """One case of a CIOMS II line listing (the columns in CIOMS II order)."""

    company_case_id: str
    case_number: str
    first_received: dt.date  # C.1.4 (else C.1.5): the date the company first knew of the case
    country: str
    source: str
    age_sex: str
    reactions: str
    onset: str
    treatment_dates: str
    dose_route_form: str
    indication: str
    outcome: str
    comments: str


COLUMNS: tuple[str, ...] = (
    "Company case id",
    "Case number",
    "First received",
    "Country",
    "Source",
    "Age/sex",
    "Reaction (PT)",
    "Onset date / time to onset",
    "Dates of treatment",
    "Daily dose; route; formulation",
    "Indication",
    "Outcome",
    "Comments (seriousness, causality)",
)


def _age_sex(age: float | None, sex: str | None) -> str:
    age_text = "" if age is None else (f"{age:.0f}" if float(age).is_integer() else f"{age:.1f}")
    sex_text = {"male": "M", "female": "F"}.get(sex or "", sex or "")
    return f"{age_text or '?'}/{sex_text or '?'}"


def _source(icsr: Icsr) -> str:
    kind = report_kind(icsr)
    q = icsr.primary_source.qualification if icsr.primary_source else None
    return kind + (f", {q.label.lower()}" if q is not None else "")


def _as_date(value: Any) -> dt.date:
    """A date column as read back (SQLite returns ``coalesce`` of two dates as text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _line(
    row: CaseVersionRow, icsr: Icsr, wid: str, first: dt.date, reactions: Sequence[CaseReactionRow]
) -> ListingLine:
    suspects = [d for d in icsr.drugs if d.is_suspect]
    terms = [r.pt_name or r.verbatim for r in reactions]
    onset = []
    for reaction, coded in zip(icsr.reactions, reactions, strict=False):
        intervals = [
            f"{a.time_from_start.value} {a.time_from_start.unit}"
            for d in suspects
            for a in d.reaction_assessments
            if a.reaction_id == reaction.id and a.time_from_start is not None
        ]
        when = format_date(reaction.start_date) or "?"
        onset.append(f"{coded.pt_name or coded.verbatim}: {when}" + (f" ({', '.join(intervals)})" if intervals else ""))
    dates, doses, indications = [], [], []
    for d in suspects:
        name = drug_label(d) or "?"
        for x in d.dosages:
            if x.start_date or x.end_date:
                dates.append(f"{name}: {format_date(x.start_date) or '?'} to {format_date(x.end_date) or '?'}")
            dose = f"{x.dose.value} {x.dose.unit}" if x.dose else "?"
            route = x.route_text or (x.route.code if x.route else "?")
            form = x.dose_form_text or (x.dose_form.code if x.dose_form else "?")
            doses.append(f"{name}: {dose}; {route}; {form}")
        indications += [f"{name}: {i.text}" for i in d.indications if i.text]
    outcomes = [
        f"{c.pt_name or c.verbatim}: {r.outcome.label}"
        for r, c in zip(icsr.reactions, reactions, strict=False)
        if r.outcome
    ]
    comments = [f"serious: {c.seriousness_criteria}" for c in reactions if c.serious and c.seriousness_criteria]
    comments += [
        f"{drug_label(d)} / {icsr.reaction(a.reaction_id).label}: {r.result} ({r.source or 'source not given'})"
        for d in suspects
        for a in d.reaction_assessments
        for r in a.assessments
        if r.result
    ]
    return ListingLine(
        company_case_id=wid,
        case_number=case_number(row.case_id),
        first_received=first,
        country=row.country or "",
        source=_source(icsr),
        age_sex=_age_sex(row.age_years, row.sex),
        reactions="; ".join(terms),
        onset="; ".join(onset),
        treatment_dates="; ".join(dates),
        dose_route_form=" | ".join(doses),
        indication="; ".join(sorted(set(indications))),
        outcome="; ".join(outcomes),
        comments="; ".join(comments),
    )


def line_listing(
    session: Session,
    plan_name: str,
    start: dt.date,
    end: dt.date,
    *,
    concerns: Sequence[str] = (),
    serious: bool = False,
) -> list[ListingLine]:
    """The CIOMS II lines of the cases first received from ``start`` to ``end`` (the DLP), see the module."""
    counted = versions_at_dlp(session, plan_name, end).subquery("counted")
    stmt = select(counted.c.version_id, counted.c.first_received).where(counted.c.first_received >= start)
    if serious:
        stmt = stmt.where(counted.c.serious.is_(True))
    if concerns:
        linked = select(CaseConcernRow.case_version_id).where(CaseConcernRow.concern_id.in_(list(concerns)))
        stmt = stmt.where(counted.c.version_id.in_(linked))
    found = session.execute(stmt).all()
    ids = [r.version_id for r in found]
    rows = {r.id: r for r in session.scalars(select(CaseVersionRow).where(CaseVersionRow.id.in_(ids)))} if ids else {}
    icsrs = version_icsrs(session, ids)
    wids = worldwide_ids(session, {r.case_id for r in rows.values()})
    reactions: dict[int, list[CaseReactionRow]] = {}
    for start_at in range(0, len(ids), 500):
        chunk = ids[start_at : start_at + 500]
        for reaction in session.scalars(
            select(CaseReactionRow).where(CaseReactionRow.case_version_id.in_(chunk)).order_by(CaseReactionRow.seq)
        ):
            reactions.setdefault(reaction.case_version_id, []).append(reaction)
    order = sorted(found, key=lambda r: (_as_date(r.first_received), wids[rows[r.version_id].case_id]))
    return [
        _line(
            rows[r.version_id],
            icsrs[r.version_id],
            wids[rows[r.version_id].case_id],
            _as_date(r.first_received),
            reactions.get(r.version_id, []),
        )
        for r in order
    ]


def listing_csv(lines: Sequence[ListingLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(astuple(line) for line in lines)
    return out.getvalue()


#: Column widths in the workbook (characters), one per column of :data:`COLUMNS`.
XLSX_WIDTHS: tuple[int, ...] = (24, 11, 12, 8, 16, 8, 28, 32, 32, 36, 24, 28, 40)
#: The workbook's fixed document times: the same listing gives the same bytes (docProps/core.xml, zip entries).
_FIXED_TIME = dt.datetime(2000, 1, 1)


def listing_xlsx(lines: Sequence[ListingLine], title: str) -> bytes:
    """The listing as an Office Open XML workbook written with openpyxl, titled ``title``: one sheet, the header
    row bold and frozen, column widths set, the first-received column as dates (``yyyy-mm-dd``), every other
    cell text. The same lines give the same bytes (fixed document and zip times)."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "Line listing"  # a sheet name holds 31 characters: the full title is the workbook's
    book.properties.title = title
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    date_column = [f.name for f in fields(ListingLine)].index("first_received") + 1
    for line in lines:
        sheet.append(list(astuple(line)))
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
        row[date_column - 1].number_format = "yyyy-mm-dd"
    for index, width in enumerate(XLSX_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    book.properties.creator = "riskplan"
    book.properties.created = _FIXED_TIME
    out = io.BytesIO()
    book.save(out)
    return _fixed_times(out.getvalue())


def _fixed_times(data: bytes) -> bytes:
    """The workbook with openpyxl's save time (docProps/core.xml ``modified``) and the zip entries' times fixed,
    so that the same listing gives the same bytes."""
    import re
    import zipfile

    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    content,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return out.getvalue()


_NONE = " No case matching the selection was first received in the interval."


def listing_html(lines: Sequence[ListingLine], title: str, subtitle: str) -> str:
    """The listing as an A4 landscape HTML page for WeasyPrint (header row repeated on each page)."""
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in astuple(line)) + "</tr>" for line in lines)
    widths = (12, 7, 6, 5, 7, 4, 8, 8, 9, 9, 8, 8, 9)  # a worldwide case id (C.1.8.1) and 'Country' on one line
    cols = "".join(f'<col style="width:{w}%">' for w in widths)
    assert len(widths) == len(fields(ListingLine))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
        f"{escape(title)}</title><style>"
        "@page { size: A4 landscape; margin: 10mm;"
        " @bottom-center { content: 'page ' counter(page) ' of ' counter(pages); font-size: 7pt; } }"
        "body { font-family: 'DejaVu Sans', sans-serif; font-size: 6.5pt; }"
        "h1 { font-size: 11pt; margin: 0; } p { margin: 1mm 0 3mm 0; }"
        "table { width: 100%; border-collapse: collapse; table-layout: fixed; }"
        "th, td { border: 0.5pt solid #444; padding: 0.8mm; vertical-align: top; overflow-wrap: anywhere;"
        " } th { background: #ddd; text-align: left; } thead { display: table-header-group; }"
        "tr { page-break-inside: avoid; }"
        f"</style></head><body><h1>{escape(title)}</h1><p>{escape(subtitle)}</p>"
        f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<p>{len(lines)} case(s).{_NONE if not lines else ''}</p></body></html>"
    )
