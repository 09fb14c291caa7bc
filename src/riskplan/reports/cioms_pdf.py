"""The CIOMS I form drawn directly as PDF (pydyf, WeasyPrint's own PDF library): the fixed one-page layout of
``templates/cioms/cioms_i.html`` (same A4 page, margins, columns, type sizes, box order and labels), then the
continuation pages, without an HTML layout pass.

WeasyPrint spent about 75 ms of CPU on each form, almost all of it laying out and painting the same table
again (cascade, table layout, line breaking); this writer places the boxes itself and wraps text with the
fonts' own advance widths, at a few milliseconds a form, so that 10,000 forms take well under 5 minutes on
2 cores (bench/bench_cioms.py). Anything it cannot draw exactly as the template would (a character DejaVu
Sans lacks, a first page that would not hold every box) returns None and the caller renders that form with
WeasyPrint, so no form loses a word.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pydyf  # type: ignore[import-untyped]

from riskplan.reports.cioms_fonts import BOLD, REGULAR, SubsetFont, font_for

if TYPE_CHECKING:
    from riskplan.reports.cioms import CiomsForm

__all__ = ["draw_cioms_pdf"]

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM  # @page size: A4
LEFT, TOP, BOTTOM = 10 * MM, 10 * MM, 12 * MM  # @page margin: 10mm 10mm 12mm 10mm
WIDTH = PAGE_W - 20 * MM
PAD = 1 * MM  # td padding
BORDER = 0.6
LEADING = 1.164  # line-height: normal for DejaVu Sans ((ascent + descent) / em, hhea)
VALUE, LABEL, CHECK, SECTION, H1, H2, FOOTER = 7.5, 5.8, 6.5, 7.0, 11.0, 9.0, 7.0  # pt, as cioms_i.css
COLUMNS = (14, 10, 16, 8, 6, 14, 32)  # % of the table's width
NARRATIVE_HEIGHT = 62 * MM  # .narrative { height: 62mm }
LABEL_GRAY, SECTION_GRAY = 0x22 / 255, 0xDD / 255


@dataclass(frozen=True)
class _Cell:
    row: int
    col: int
    colspan: int
    rowspan: int
    label: str
    text: str = ""
    checks: tuple[tuple[bool, str], ...] = ()
    section: bool = False
    min_height: float = 0.0


def _cells(b: dict[str, str], c: dict[str, bool], version: int, more: bool) -> list[_Cell]:
    """The table of ``cioms_i.html``, cell by cell (row, column, spans as its ``<td>``)."""
    seriousness = (
        ("died", "Patient died"),
        ("hospitalisation", "Involved or prolonged inpatient hospitalisation"),
        ("disability", "Involved persistent or significant disability or incapacity"),
        ("life_threatening", "Life threatening"),
        ("congenital", "Congenital anomaly"),
        ("other_important", "Other medically important condition"),
    )
    sources = (
        ("source_study", "Study"),
        ("source_literature", "Literature"),
        ("source_professional", "Health professional"),
        ("source_other", "Other"),
    )
    follow = "Follow-up" + (f" (case version {version})" if c["follow_up"] else "")
    narrative = b["7+13"] + (" [continued on a continuation page]" if more else "")
    return [
        _Cell(0, 0, 7, 1, "I. REACTION INFORMATION", section=True),
        _Cell(1, 0, 1, 1, "1. PATIENT INITIALS", b["1"]),
        _Cell(1, 1, 1, 1, "1A. COUNTRY", b["1a"]),
        _Cell(1, 2, 1, 1, "2. DATE OF BIRTH", b["2"]),
        _Cell(1, 3, 1, 1, "2A. AGE (YEARS)", b["2a"]),
        _Cell(1, 4, 1, 1, "3. SEX", b["3"]),
        _Cell(1, 5, 1, 1, "4-6. REACTION ONSET", b["4-6"]),
        _Cell(1, 6, 1, 2, "8-12. CHECK ALL APPROPRIATE TO ADVERSE REACTION", checks=_checks(c, seriousness)),
        _Cell(
            2,
            0,
            6,
            1,
            "7 + 13. DESCRIBE REACTION(S) (INCLUDING RELEVANT TESTS/LAB DATA)",
            narrative,
            min_height=NARRATIVE_HEIGHT,
        ),
        _Cell(3, 0, 7, 1, "II. SUSPECT DRUG(S) INFORMATION", section=True),
        _Cell(4, 0, 5, 1, "14. SUSPECT DRUG(S) (INCLUDE GENERIC NAME)", b["14"]),
        _Cell(4, 5, 2, 2, "20. DID REACTION ABATE AFTER STOPPING DRUG?", b["20"]),
        _Cell(5, 0, 3, 1, "15. DAILY DOSE(S)", b["15"]),
        _Cell(5, 3, 2, 1, "16. ROUTE(S) OF ADMINISTRATION", b["16"]),
        _Cell(6, 0, 5, 1, "17. INDICATION(S) FOR USE", b["17"]),
        _Cell(6, 5, 2, 2, "21. DID REACTION REAPPEAR AFTER REINTRODUCTION?", b["21"]),
        _Cell(7, 0, 3, 1, "18. THERAPY DATES (FROM/TO)", b["18"]),
        _Cell(7, 3, 2, 1, "19. THERAPY DURATION", b["19"]),
        _Cell(8, 0, 7, 1, "III. CONCOMITANT DRUG(S) AND HISTORY", section=True),
        _Cell(
            9,
            0,
            7,
            1,
            "22. CONCOMITANT DRUG(S) AND DATES OF ADMINISTRATION (EXCLUDE THOSE USED TO TREAT REACTION)",
            b["22"],
        ),
        _Cell(
            10,
            0,
            7,
            1,
            "23. OTHER RELEVANT HISTORY (E.G. DIAGNOSTICS, ALLERGIES, PREGNANCY WITH LAST MONTH OF PERIOD, ETC.)",
            b["23"],
        ),
        _Cell(11, 0, 7, 1, "IV. MANUFACTURER INFORMATION", section=True),
        _Cell(12, 0, 3, 2, "24A. NAME AND ADDRESS OF MANUFACTURER", b["24a"]),
        _Cell(12, 3, 3, 1, "24B. MFR CONTROL NO.", b["24b"]),
        _Cell(12, 6, 1, 2, "24D. REPORT SOURCE", checks=_checks(c, sources)),
        _Cell(13, 3, 3, 1, "24C. DATE RECEIVED BY MANUFACTURER", b["24c"]),
        _Cell(14, 0, 3, 1, "DATE OF THIS REPORT", b["25"]),
        _Cell(14, 3, 4, 1, "25A. REPORT TYPE", checks=((c["initial"], "Initial"), (c["follow_up"], follow))),
    ]


def _checks(c: dict[str, bool], names: tuple[tuple[str, str], ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((c[key], text) for key, text in names)


def _wrap(text: str, font: SubsetFont, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (white-space: pre-wrap; overflow-wrap: anywhere)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if font.width(candidate, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            while font.width(word, size) > width:  # a word wider than the box: cut anywhere
                cut = len(word) - 1
                while cut > 1 and font.width(word[:cut], size) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


class _Page:
    def __init__(self) -> None:
        self.ops: list[bytes] = []

    def text(self, font: str, face: SubsetFont, size: float, x: float, top: float, line: str, gray: float = 0) -> None:
        """One line whose line box starts ``top`` points below the page's top edge."""
        if not line:
            return
        baseline = PAGE_H - top - face.ascent * size / 1000 - (LEADING - (face.ascent - face.descent) / 1000) * size / 2
        colour = f"{gray:.3f} g " if gray else ""
        self.ops.append(
            f"BT {colour}/{font} {size:g} Tf {x:.2f} {baseline:.2f} Td ".encode() + face.encode(line) + b" Tj ET"
        )

    def box(self, x: float, top: float, w: float, h: float, fill: float | None = None) -> None:
        rect = f"{x:.2f} {PAGE_H - top - h:.2f} {w:.2f} {h:.2f} re"
        self.ops.append((f"{fill:.3f} g {rect} f 0 g " if fill is not None else "").encode() + rect.encode() + b" S")


@dataclass
class _Fonts:
    regular: SubsetFont
    bold: SubsetFont


def _layout_first_page(form: CiomsForm, fonts: _Fonts, page: _Page, cells: list[_Cell]) -> bool:
    """Boxes 1-25 on ``page``; False when they would not fit on one page."""
    edges = [LEFT]
    for share in COLUMNS:
        edges.append(edges[-1] + WIDTH * share / 100)
    r, b = fonts.regular, fonts.bold
    content: dict[_Cell, list[tuple[SubsetFont, float, str, float]]] = {}
    needed: dict[_Cell, float] = {}
    for cell in cells:
        inner = edges[cell.col + cell.colspan] - edges[cell.col] - 2 * PAD
        lines: list[tuple[SubsetFont, float, str, float]] = []
        if cell.section:
            lines += [(b, SECTION, line, 0.0) for line in _wrap(cell.label, b, SECTION, inner)]
            height = len(lines) * SECTION * LEADING
        else:
            lines += [(r, LABEL, line, LABEL_GRAY) for line in _wrap(cell.label, r, LABEL, inner)]
            height = len(lines) * LABEL * LEADING + 0.6 * MM  # .label { margin-bottom: 0.6mm }
            for checked, text in cell.checks:
                box = "☒" if checked else "☐"
                lines += [(r, CHECK, line, 0.0) for line in _wrap(f"{box} {text}", r, CHECK, inner)]
            if cell.text:
                lines += [(r, VALUE, line, 0.0) for line in _wrap(cell.text, r, VALUE, inner)]
            height += sum(size * LEADING for _, size, _, _ in lines if size != LABEL)
        content[cell] = lines
        needed[cell] = max(height, cell.min_height) + 2 * PAD
    rows = [0.0] * (max(c.row + c.rowspan for c in cells))
    for cell in cells:
        if cell.rowspan == 1:
            rows[cell.row] = max(rows[cell.row], needed[cell])
    for cell in cells:
        if cell.rowspan > 1:
            span = sum(rows[cell.row : cell.row + cell.rowspan])
            rows[cell.row + cell.rowspan - 1] += max(0.0, needed[cell] - span)
    title = "SUSPECT ADVERSE REACTION REPORT" + (" (BLINDED)" if form.blinded else "")
    title_width = b.width(title, H1)
    if title_width > WIDTH:
        return False
    page.text("F2", b, H1, LEFT + (WIDTH - title_width) / 2, TOP, title)
    table_top = TOP + H1 * LEADING + 2 * MM  # h1 { margin: 0 0 2mm 0 }
    if table_top + sum(rows) > PAGE_H - BOTTOM:
        return False
    tops = [table_top]
    for height in rows:
        tops.append(tops[-1] + height)
    for cell in cells:
        x, top = edges[cell.col], tops[cell.row]
        w, h = edges[cell.col + cell.colspan] - x, tops[cell.row + cell.rowspan] - top
        page.box(x, top, w, h, SECTION_GRAY if cell.section else None)
        y = top + PAD
        for i, (face, size, line, gray) in enumerate(content[cell]):
            if not cell.section and i > 0 and content[cell][i - 1][1] == LABEL and size != LABEL:
                y += 0.6 * MM
            page.text("F2" if face is b else "F1", face, size, x + PAD, y, line, gray)
            y += size * LEADING
    return True


def _continuation(form: CiomsForm, fonts: _Fonts) -> list[_Page]:
    """The continuation pages: "CONTINUATION", then each box's rest under its title, over as many pages as
    it takes."""
    r, b = fonts.regular, fonts.bold
    page = _Page()
    pages = [page]
    width = b.width("CONTINUATION", H1)
    page.text("F2", b, H1, LEFT + (WIDTH - width) / 2, TOP, "CONTINUATION")
    y = TOP + H1 * LEADING + 2 * MM
    bottom = PAGE_H - BOTTOM
    for part in form.continued:
        heading = _wrap(f"Box {part.title} (continued)", b, H2, WIDTH)
        y += 3 * MM  # .continued h2 { margin: 3mm 0 1mm 0 }
        if y + len(heading) * H2 * LEADING + 1 * MM + VALUE * LEADING > bottom:
            page = _Page()
            pages.append(page)
            y = TOP
        for line in heading:
            page.text("F2", b, H2, LEFT, y, line)
            y += H2 * LEADING
        y += 1 * MM
        for line in _wrap(part.text, r, VALUE, WIDTH):
            if y + VALUE * LEADING > bottom:
                page = _Page()
                pages.append(page)
                y = TOP
            page.text("F1", r, VALUE, LEFT, y, line)
            y += VALUE * LEADING
        y += 2 * MM
    return pages


def _font_objects(pdf: pydyf.PDF, face: SubsetFont) -> pydyf.Dictionary:
    program = pydyf.Stream([face.program], {"Filter": "/FlateDecode", "Length1": face.program_length})
    pdf.add_object(program)
    to_unicode = pydyf.Stream([face.to_unicode], {"Filter": "/FlateDecode"})
    pdf.add_object(to_unicode)
    name = pydyf.name(face.postscript_name.replace(" ", ""))
    descriptor = pydyf.Dictionary(
        {
            "Type": "/FontDescriptor",
            "FontName": name,
            "Flags": 32,
            "FontBBox": pydyf.Array(face.bbox),
            "ItalicAngle": 0,
            "Ascent": face.ascent,
            "Descent": face.descent,
            "CapHeight": face.ascent,
            "StemV": 80,
            "FontFile2": program.reference,
        }
    )
    pdf.add_object(descriptor)
    cid = pydyf.Dictionary(
        {
            "Type": "/Font",
            "Subtype": "/CIDFontType2",
            "BaseFont": name,
            "CIDSystemInfo": pydyf.Dictionary(
                {"Registry": pydyf.String("Adobe"), "Ordering": pydyf.String("Identity"), "Supplement": 0}
            ),
            "FontDescriptor": descriptor.reference,
            "W": face.w_array,
            "CIDToGIDMap": "/Identity",
        }
    )
    pdf.add_object(cid)
    font = pydyf.Dictionary(
        {
            "Type": "/Font",
            "Subtype": "/Type0",
            "BaseFont": name,
            "Encoding": "/Identity-H",
            "DescendantFonts": pydyf.Array([cid.reference]),
            "ToUnicode": to_unicode.reference,
        }
    )
    pdf.add_object(font)
    return font


def _characters(form: CiomsForm) -> tuple[set[str], set[str]]:
    """The characters drawn in the regular and the bold face."""
    boxes = form.boxes
    regular = set("".join(boxes.values())) | set("☐☒ [](),-–·0123456789") | set("".join(_FIXED_REGULAR))
    regular |= {ch for part in form.continued for ch in part.text}
    regular |= set(f"{form.case_number}")
    bold = set("SUSPECT ADVERSE REACTION REPORT (BLINDED) CONTINUATION IV") | {
        ch for part in form.continued for ch in f"Box {part.title} (continued)"
    }
    bold |= set("".join(_FIXED_BOLD))
    return regular - {"\n"}, bold - {"\n"}


_FIXED_REGULAR = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.+/?",)
_FIXED_BOLD = (
    "I. REACTION INFORMATION",
    "II. SUSPECT DRUG(S) INFORMATION",
    "III. CONCOMITANT DRUG(S) AND HISTORY",
    "IV. MANUFACTURER INFORMATION",
)


def draw_cioms_pdf(form: CiomsForm) -> bytes | None:
    """The PDF of ``form`` (a :class:`~riskplan.reports.cioms.CiomsForm`), or None when this writer cannot draw
    it exactly (render it with WeasyPrint then)."""
    regular_chars, bold_chars = _characters(form)
    regular, bold = font_for(REGULAR, regular_chars), font_for(BOLD, bold_chars)
    if regular is None or bold is None:
        return None
    fonts = _Fonts(regular, bold)
    boxes, checks, continued, version = form.boxes, form.checks, form.continued, form.version
    more = any(part.box == "7+13" for part in continued)
    first = _Page()
    if not _layout_first_page(form, fonts, first, _cells(boxes, checks, version, more)):
        return None
    pages = [first, *(_continuation(form, fonts) if continued else [])]
    blinded = " · BLINDED" if form.blinded else ""
    case = f"CIOMS FORM · {form.case_number} version {version}{blinded}"
    pdf = pydyf.PDF()
    pdf.info["Title"] = pydyf.String(f"CIOMS I {form.case_number} version {version}")
    resources = pydyf.Dictionary(
        {
            "Font": pydyf.Dictionary(
                {"F1": _font_objects(pdf, regular).reference, "F2": _font_objects(pdf, bold).reference}
            )
        }
    )
    pdf.add_object(resources)
    for number, page in enumerate(pages, 1):
        footer = f"{case} · page {number} of {len(pages)}"
        width = regular.width(footer, FOOTER)
        # @bottom-center: centred in the bottom margin
        page.text("F1", regular, FOOTER, LEFT + (WIDTH - width) / 2, PAGE_H - BOTTOM / 2 - FOOTER * LEADING / 2, footer)
        stream = pydyf.Stream([b"0 g 0 G %g w" % BORDER, *page.ops], compress=True)
        pdf.add_object(stream)
        pdf.add_page(
            pydyf.Dictionary(
                {
                    "Type": "/Page",
                    "Parent": pdf.pages.reference,
                    "MediaBox": pydyf.Array([0, 0, round(PAGE_W, 3), round(PAGE_H, 3)]),
                    "Contents": stream.reference,
                    "Resources": resources.reference,
                }
            )
        )
    out = io.BytesIO()
    pdf.write(out, version=b"1.7", compress=True)
    return out.getvalue()
