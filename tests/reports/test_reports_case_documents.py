"""The documents sent out per case: the CIOMS I form (PDF) of any case version, blinded for study cases, and
the CIOMS II line listing (PDF, CSV, XLSX), checked against the case data and independent SQL, and laid out
within the page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from case_factory import concomitant, inebilizumab, make_icsr
from pdf_pixels import ink_in_right_margin, right_margins
from riskplan.cases import Icsr, ReportType, intake, intake_context, synthesise_cases
from riskplan.cases.codes import ActionTaken, Outcome
from riskplan.cases.model import Hl7Timestamp, Reaction, Sender, Study
from riskplan.cli import app
from riskplan.reports import case_cioms_form
from riskplan.reports.cioms import render_cioms_html
from riskplan.reports.line_listing import line_listing, listing_html
from riskplan.settings import get_settings
from riskplan.store import session_scope
from riskplan.store.db import make_engine
from riskplan.store.migrate import upgrade

runner = CliRunner()
SENDER = Sender(organisation="Riskplan Demo Pharma", street="1 Example Way", city="Cambridge", country="GB")


def _study_case() -> Icsr:
    drug = inebilizumab().model_copy(update={"blinded": True})
    placebo = concomitant("Placebo saline", "sodium chloride")
    icsr = make_icsr("US-RPDEMO-2026-000777", drugs=(drug, placebo), sender=SENDER)
    return icsr.model_copy(
        update={"report_type": ReportType.STUDY, "study": Study(name="N-MOMENTUM", sponsor_study_number="1155")}
    )


def _hand_cases() -> list[Icsr]:
    withdrawn = inebilizumab().model_copy(update={"action_taken": ActionTaken.WITHDRAWN})
    return [
        make_icsr("GB-RPDEMO-2026-000001", sender=SENDER, drugs=(withdrawn, concomitant("Imurel", "azathioprine"))),
        _study_case(),
        make_icsr("DE-RPDEMO-2026-000002", sender=SENDER, received="20261104"),
    ]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("case_documents")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{folder / 'riskplan.db'}")
        mp.setenv("RISKPLAN_USER", "processor1")
        mp.setenv("XDG_DATA_HOME", str(folder / "data"))
        mp.delenv("RISKPLAN_CONFIG", raising=False)
        get_settings.cache_clear()
        engine = make_engine(f"sqlite:///{folder / 'riskplan.db'}")
        upgrade(engine)
        with session_scope(engine) as session:
            ctx = intake_context(session, "uplizna", "tester")
            intake(session, [*_hand_cases(), *synthesise_cases(60, seed=21)], context=ctx, who="tester")
        follow = make_icsr(
            "GB-RPDEMO-2026-000001",
            received="20261112",
            first_received="20261102",
            sender=SENDER,
            drugs=(inebilizumab().model_copy(update={"action_taken": ActionTaken.WITHDRAWN}),),
            reactions=(Reaction(verbatim_term="pneumonia", hospitalisation=True, start_date=Hl7Timestamp("20261020"),
                                outcome=Outcome.RECOVERED),),
        )  # fmt: skip
        with session_scope(engine) as session:
            intake(session, [follow], context=intake_context(session, "uplizna", "tester"), who="tester")
        engine.dispose()
        yield folder
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def engine(db: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{db / 'riskplan.db'}")
    yield eng
    eng.dispose()


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def _pdf_text(path: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(str(path)).pages]


def _widest(html: str, pdf: Path | None = None, png_dir: Path | None = None) -> tuple[float, float]:
    """The right edge of the widest laid-out box over all pages, and the page width (CSS px). With ``pdf`` (a
    PDF written by the command from the same template) and ``png_dir``: its pages rendered to PNG show no ink in
    the right margin of this layout's pages."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    document = HTML(string=html).render()
    if pdf is not None and png_dir is not None:
        assert ink_in_right_margin(pdf.read_bytes(), right_margins(document)[0], png_dir, pdf.stem) == []
    right = 0.0
    for page in document.pages:
        for box in page._page_box.descendants():
            if getattr(box, "width", None) is not None and getattr(box, "position_x", None) is not None:
                right = max(right, box.position_x + box.margin_width())
    return right, document.pages[0].width


def _case_id(engine: Engine, wid: str) -> str:
    with engine.connect() as c:
        return f"RP{c.execute(text('SELECT id FROM icsr_case WHERE worldwide_id = :w'), {'w': wid}).scalar():07d}"


# --- CIOMS I ----------------------------------------------------------------------------------------------


def test_cioms_boxes_come_from_the_case_version(db: Path, engine: Engine) -> None:
    ref = _case_id(engine, "GB-RPDEMO-2026-000001")
    result = _run("case", "cioms", ref, "--version", "1", "--out", "v1.pdf")
    assert result.exit_code == 0, result.output
    pages = _pdf_text(db / "v1.pdf")
    assert len(pages) == 1  # the one-page form
    page = pages[0]
    for value in ("JD", "GB", "67", "20 OCT 2026", "#1 UPLIZNA (inebilizumab)", "#1 300 mg", "Imurel (azathioprine)",
                  "GB-RPDEMO-2026-000001", "02 NOV 2026", "Riskplan Demo Pharma", "1 Example Way"):  # fmt: skip
        assert value in page, value
    assert "☒ Involved or prolonged inpatient hospitalisation" in page
    assert "☐ Patient died" in page and "☒ Initial" in page and "☒ Health professional" in page
    with engine.connect() as c:  # independent: box 2a and 3 from the stored projection of version 1
        age, sex = c.execute(
            text("SELECT v.age_years, v.sex FROM icsr_case_version v JOIN icsr_case c ON c.id = v.case_id "
                 "WHERE c.worldwide_id = 'GB-RPDEMO-2026-000001' AND v.version = 1")
        ).one()  # fmt: skip
    assert f"(YEARS) {age:.0f}" in page and f"3. SEX {sex[0].upper()}" in page
    assert "20. DID REACTION ABATE AFTER STOPPING DRUG?" in page
    with session_scope(engine) as session:
        boxes = case_cioms_form(session, ref, 1).boxes
    assert boxes["20"] == "#1 yes"  # G.k.8 withdrawn, E.i.7 recovering: the reaction abated
    assert boxes["21"] == ""  # no G.k.9.i.4: nothing said about a rechallenge

    assert _run("case", "cioms", ref, "--out", "v2.pdf").exit_code == 0
    v2 = _pdf_text(db / "v2.pdf")[0]
    assert "☒ Follow-up (case version 2)" in v2 and "12 NOV 2026" in v2
    assert "Imurel" not in v2  # the follow-up no longer lists it


def test_cioms_long_narrative_continues_and_nothing_is_wider_than_the_page(
    db: Path, engine: Engine, tmp_path: Path
) -> None:
    ref = _case_id(engine, "DE-RPDEMO-2026-000002")
    long_text = " ".join(f"Sentence {n} of a long clinical course written by the processor." for n in range(1, 80))
    (db / "long.txt").write_text(long_text + " The last words.", encoding="utf-8")
    edited = _run("case", "narrative", ref, "--edit", "long.txt", "--reason", "full clinical course")
    assert edited.exit_code == 0, edited.output
    result = _run("case", "cioms", ref, "--out", "long.pdf")
    assert result.exit_code == 0 and "1 box(es) continued" in result.output
    pages = _pdf_text(db / "long.pdf")
    assert len(pages) == 2
    assert "Sentence 1 of" in pages[0] and "[continued on a continuation page]" in pages[0]
    assert "CONTINUATION" in pages[1] and "The last words." in pages[1] and "The last words." not in pages[0]
    with session_scope(engine) as session:
        form = case_cioms_form(session, ref)
    shown = form.boxes["7+13"] + " " + form.continued[0].text
    assert " ".join(shown.split()) == long_text + " The last words."  # nothing lost at the cut
    right, width = _widest(render_cioms_html(form), db / "long.pdf", tmp_path)
    assert right <= width + 0.5
    assert len(list(tmp_path.glob("long-*.png"))) == 2


def test_blinded_cioms_shows_no_treatment_arm(db: Path, engine: Engine) -> None:
    ref = _case_id(engine, "US-RPDEMO-2026-000777")
    assert _run("case", "cioms", ref, "--blinded", "--out", "blind.pdf").exit_code == 0
    page = " ".join(_pdf_text(db / "blind.pdf"))
    assert "(BLINDED)" in page and "#1 Blinded study drug" in page and "☒ Study" in page
    for arm in ("UPLIZNA", "inebilizumab", "Inebilizumab"):
        assert arm not in page
    assert "blinded study drug (blinded study drug)" not in page.casefold()  # "UPLIZNA (inebilizumab)" said once
    assert _run("case", "cioms", ref, "--out", "open.pdf").exit_code == 0
    assert "UPLIZNA" in " ".join(_pdf_text(db / "open.pdf"))


def test_blinded_cioms_hides_the_invented_name_the_narrative_uses_for_a_product_named_with_strength(
    engine: Engine,
) -> None:
    # the demo's study cases name the drug "UPLIZNA 100 mg concentrate for solution" and their narratives
    # "UPLIZNA": the blinded form showed "Action taken with UPLIZNA"
    from riskplan.cases import get_case
    from riskplan.reports.cioms import cioms_form

    ref = _case_id(engine, "US-RPDEMO-2026-000777")
    with session_scope(engine) as session:
        stored = get_case(session, ref)
    drug = inebilizumab().model_copy(update={"blinded": True, "name": "UPLIZNA 100 mg concentrate for solution"})
    icsr = stored.icsr.model_copy(update={"drugs": (drug,)})
    narrative = "The patient started UPLIZNA 300 mg IV. Action taken with Uplizna: not applicable. A rash."
    form = cioms_form(stored, icsr, narrative, blinded=True)
    shown = " ".join([*form.boxes.values(), *(c.text for c in form.continued)])
    assert "uplizna" not in shown.casefold() and "inebilizumab" not in shown.casefold()
    assert "Action taken with blinded study drug: not applicable. A rash." in form.boxes["7+13"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["RP0009999", "--out", "x.pdf"], "no case 'RP0009999'"),
        (["GB-RPDEMO-2026-000001", "--version", "7", "--out", "x.pdf"], "has no version 7 (versions 1 to 2)"),
        (["GB-RPDEMO-2026-000001", "--version", "0", "--out", "x.pdf"], "--version must be 1 or more"),
        (["GB-RPDEMO-2026-000001", "--out", "x.txt"], "end the file name in .pdf"),
        (["GB-RPDEMO-2026-000001", "--out", "no/such/folder/x.pdf"], "does not exist"),
        (["GB-RPDEMO-2026-000001", "--out", "afile/x.pdf"], "afile is a file, not a folder"),  # said "does not exist"
        (["GB-RPDEMO-2026-000001", "--blinded", "--out", "x.pdf"], "is not a study case"),
    ],
)
def test_cioms_bad_input_exits_2(db: Path, args: list[str], message: str) -> None:
    (db / "afile").write_text("a file where a folder should be")
    result = _run("case", "cioms", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not (db / "x.pdf").exists()


# --- CIOMS II line listing --------------------------------------------------------------------------------

START, END = dt.date(2025, 1, 1), dt.date(2026, 11, 30)


def _expected(engine: Engine, start: dt.date, end: dt.date, *, serious: bool = False) -> dict[str, set[str]]:
    """Independent SQL: each case's latest version received by the DLP, valid, first received in the interval;
    the case's worldwide id -> its reactions' PT (else verbatim)."""
    sql = """
        SELECT c.worldwide_id, coalesce(r.pt_name, r.verbatim)
        FROM icsr_case c
        JOIN icsr_case_version v ON v.case_id = c.id
        LEFT JOIN icsr_reaction r ON r.case_version_id = v.id
        WHERE v.version = (SELECT max(v2.version) FROM icsr_case_version v2
                           WHERE v2.case_id = c.id AND v2.received <= :end)
          AND v.valid AND coalesce(v.first_received, v.received) BETWEEN :start AND :end
    """ + (" AND v.serious" if serious else "")
    found: dict[str, set[str]] = {}
    with engine.connect() as c:
        for wid, term in c.execute(text(sql), {"start": start, "end": end}):
            found.setdefault(wid, set()).update({term} if term else set())
    return found


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


@pytest.mark.parametrize("serious", [False, True])
def test_line_listing_csv_counts_match_independent_sql(db: Path, engine: Engine, serious: bool) -> None:
    args = ["report", "line-listing", "--from", str(START), "--to", str(END), "--out", "l.csv"]
    result = _run(*args, *(["--serious"] if serious else []))
    assert result.exit_code == 0, result.output
    rows = _csv(db / "l.csv")
    expected = _expected(engine, START, END, serious=serious)
    assert len(rows) == len(expected) > 0
    assert f"{len(expected)} case(s)" in result.output
    for row in rows:
        assert set(row["Reaction (PT)"].split("; ")) == expected[row["Company case id"]]
    by_id = {r["Company case id"]: r for r in rows}
    # the version as of the DLP: version 2 (received 12 Nov) says recovered, version 1 said recovering
    assert by_id["GB-RPDEMO-2026-000001"]["Outcome"].endswith(": recovered/resolved")
    if not serious:
        assert by_id["DE-RPDEMO-2026-000002"]["Age/sex"] == "67/F"
        assert by_id["DE-RPDEMO-2026-000002"]["Country"] == "GB"
        early = _run("report", "line-listing", "--from", str(START), "--to", "2026-11-10", "--out", "early.csv")
        assert early.exit_code == 0
        earlier = {r["Company case id"]: r for r in _csv(db / "early.csv")}
        assert earlier["GB-RPDEMO-2026-000001"]["Outcome"].endswith(": recovering/resolving")


def test_line_listing_xlsx_reads_back_and_pdf_fits_the_page(db: Path, engine: Engine, tmp_path: Path) -> None:
    base = ["report", "line-listing", "--from", str(START), "--to", str(END)]
    assert _run(*base, "--out", "l.csv").exit_code == 0
    assert _run(*base, "--out", "l.xlsx").exit_code == 0
    assert _run(*base, "--serious", "--out", "listing.out", "--format", "pdf").exit_code == 0
    book = openpyxl.load_workbook(db / "l.xlsx")
    sheet = book.active
    assert sheet is not None and sheet.freeze_panes == "A2"  # the header row stays in view
    assert all(cell.font.b for cell in sheet[1]) and not sheet["A2"].font.b
    assert all(sheet.column_dimensions[c].width >= 8 for c in "ABCDEFGHIJKLM")
    received = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert received and all(isinstance(v, dt.datetime) for v in received)  # dates as dates, not text
    cells = [[v.date().isoformat() if isinstance(v, dt.datetime) else ("" if v is None else str(v)) for v in row]
             for row in sheet.iter_rows(values_only=True)]  # fmt: skip
    with (db / "l.csv").open(encoding="utf-8") as f:
        assert cells == list(csv.reader(f))
    first_received = text(
        "SELECT c.worldwide_id, coalesce(v.first_received, v.received) FROM icsr_case c "
        "JOIN icsr_case_version v ON v.case_id = c.id WHERE v.version = (SELECT max(v2.version) "
        "FROM icsr_case_version v2 WHERE v2.case_id = c.id AND v2.received <= :end)"
    )
    with engine.connect() as c:  # independent: C.1.4 (else C.1.5) of the version counted, per case
        first = dict(c.execute(first_received, {"end": END}).all())
    assert {row[0]: row[2] for row in cells[1:]} == {w: str(first[w])[:10] for w in (row[0] for row in cells[1:])}
    again = db / "l2.xlsx"
    assert _run(*base, "--out", str(again)).exit_code == 0
    assert again.read_bytes() == (db / "l.xlsx").read_bytes()  # same data, same bytes
    pdf = _pdf_text(db / "listing.out")
    assert "Line listing uplizna" in pdf[0] and "Company case id" in pdf[0] and "Country" in pdf[0]
    assert _run(*base, "--out", "all.pdf").exit_code == 0
    every = " ".join(_pdf_text(db / "all.pdf"))
    # each worldwide case id on one line, not "GB-RPDEMO-2026-0" / "00001"
    assert {row[0] for row in cells[1:] if row[0] not in every} == set()
    with session_scope(engine) as session:
        lines = line_listing(session, "uplizna", START, END)
    longest = sorted(lines, key=lambda line: -max(len(str(v)) for v in vars(line).values()))[:12]
    right, width = _widest(listing_html(longest, "t", "s"), db / "listing.out", tmp_path)
    assert list(tmp_path.glob("listing-*.png"))
    assert right <= width + 0.5


def test_line_listing_concern_filter(db: Path, engine: Engine) -> None:
    with engine.connect() as c:
        concern = c.execute(
            text("SELECT concern_id FROM icsr_case_concern GROUP BY concern_id ORDER BY count(*) DESC")
        ).scalar()
    result = _run(
        "report", "line-listing", "--from", str(START), "--to", str(END), "--concern", concern, "--out", "c.csv"
    )
    assert result.exit_code == 0, result.output
    expected = _expected(engine, START, END)
    with engine.connect() as c:
        linked = {w for (w,) in c.execute(text(
            "SELECT DISTINCT c.worldwide_id FROM icsr_case c JOIN icsr_case_version v ON v.case_id = c.id "
            "JOIN icsr_case_concern k ON k.case_version_id = v.id WHERE k.concern_id = :k AND v.version = "
            "(SELECT max(v2.version) FROM icsr_case_version v2 WHERE v2.case_id = c.id AND v2.received <= :end)"),
            {"k": concern, "end": END})}  # fmt: skip
    assert {r["Company case id"] for r in _csv(db / "c.csv")} == set(expected) & linked


def test_an_empty_line_listing_says_no_case_was_received(db: Path) -> None:
    assert (
        _run("report", "line-listing", "--from", "2020-01-01", "--to", "2020-12-31", "--out", "none.pdf").exit_code == 0
    )
    [page] = _pdf_text(db / "none.pdf")
    assert "0 case(s). No case matching the selection was first received in the interval." in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-13-01", "--to", "2025-12-31", "--out", "x.csv"], "--from"),
        (["--from", "2025-06-01", "--to", "2025-01-01", "--out", "x.csv"], "is before --from"),
        (["--from", "2025-01-01", "--to", "2025-12-31", "--out", "x.doc"], "give a .pdf, .csv or .xlsx"),
        (["--from", "2025-01-01", "--to", "2025-12-31", "--out", "x.csv", "--format", "txt"], "--format txt: not a"),
        (["--from", "2025-01-01", "--to", "2025-12-31", "--out", "x.csv", "--concern", "nope"], "not a safety concern"),
        (["--from", "2025-01-01", "--to", "2025-12-31", "--out", "missing/x.csv"], "does not exist"),
    ],
)
def test_line_listing_bad_input_exits_2(db: Path, args: list[str], message: str) -> None:
    result = _run("report", "line-listing", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not (db / "x.csv").exists()
    assert re.search(r"\bTraceback\b", result.output) is None


def test_a_form_with_every_box_full_stays_on_one_page() -> None:
    from weasyprint import HTML  # type: ignore[import-untyped]

    from riskplan.reports.cioms import BOX_CHARACTERS, BOX_LINES, CiomsForm

    boxes = {k: "" for k in ("1", "1a", "2", "2a", "3", "4-6", "20", "21", "24a", "24b", "24c", "25")}
    for box, limit in BOX_CHARACTERS.items():
        lines = BOX_LINES[box]
        per_line = limit // lines
        boxes[box] = "\n".join(("word " * per_line)[: per_line - 1] for _ in range(lines))
    form = CiomsForm("RP0000001", 1, False, boxes, dict.fromkeys(("died", "initial"), True) | _unchecked())
    html = render_cioms_html(form)
    assert len(HTML(string=html).render().pages) == 1
    right, width = _widest(html)
    assert right <= width + 0.5


def _unchecked() -> dict[str, bool]:
    names = ("hospitalisation", "disability", "life_threatening", "congenital", "other_important", "follow_up")
    sources = ("source_study", "source_literature", "source_professional", "source_other")
    return dict.fromkeys((*names, *sources), False)


def _full_form(blinded: bool = False) -> Any:
    from riskplan.reports.cioms import BOX_CHARACTERS, BOX_LINES, CiomsForm

    boxes = {k: "" for k in ("1", "1a", "2", "2a", "3", "4-6", "20", "21", "24a", "24b", "24c", "25")}
    for box, limit in BOX_CHARACTERS.items():
        lines = BOX_LINES[box]
        per_line = limit // lines
        boxes[box] = "\n".join(("wörd " * per_line)[: per_line - 1] for _ in range(lines))
    return CiomsForm("RP0000001", 1, blinded, boxes, dict.fromkeys(("died", "initial"), True) | _unchecked())


def test_the_directly_drawn_form_holds_every_full_box_on_one_page_within_the_margins(tmp_path: Path) -> None:
    from weasyprint import HTML

    from riskplan.reports.cioms_pdf import draw_cioms_pdf

    form = _full_form(blinded=True)
    pdf = draw_cioms_pdf(form)
    assert pdf is not None  # drawn directly, not through WeasyPrint
    (tmp_path / "full.pdf").write_bytes(pdf)
    [page] = _pdf_text(tmp_path / "full.pdf")
    assert "SUSPECT ADVERSE REACTION REPORT (BLINDED)" in page and "page 1 of 1" in page
    for box in ("14. SUSPECT DRUG(S)", "20. DID REACTION ABATE", "24D. REPORT SOURCE", "☒ Patient died", "☐ Study"):
        assert box in page, box
    assert page.count("wörd") == sum(v.count("wörd") for v in form.boxes.values())  # no word lost
    document = HTML(string=render_cioms_html(form)).render()
    assert ink_in_right_margin(pdf, right_margins(document)[0], tmp_path, "full") == []


def test_the_same_case_version_gives_the_same_bytes_and_long_text_runs_over_continuation_pages(
    db: Path, engine: Engine
) -> None:
    from riskplan.reports.cioms import render_cioms_pdf

    ref = _case_id(engine, "GB-RPDEMO-2026-000001")
    assert _run("case", "cioms", ref, "--version", "1", "--out", "same-1.pdf").exit_code == 0
    assert _run("case", "cioms", ref, "--version", "1", "--out", "same-2.pdf").exit_code == 0
    assert (db / "same-1.pdf").read_bytes() == (db / "same-2.pdf").read_bytes()

    with session_scope(engine) as session:
        form = case_cioms_form(session, ref, 1)
    from riskplan.reports.cioms import Continued

    words = " ".join(f"Day {n}: the patient was seen again." for n in range(1, 700))
    form.continued = [Continued("7+13", "7 + 13 Describe reaction(s)", words), Continued("22", "22 Drugs", "Last.")]
    pdf = render_cioms_pdf(form)
    assert pdf == render_cioms_pdf(form)
    (db / "many.pdf").write_bytes(pdf)
    pages = _pdf_text(db / "many.pdf")
    assert len(pages) >= 4 and f"page {len(pages)} of {len(pages)}" in pages[-1]
    shown = " ".join(pages[1:])
    assert "Day 1: the patient" in shown and "Day 699: the patient" in shown and "Box 22 Drugs (continued)" in shown


def test_text_dejavu_sans_cannot_draw_goes_through_weasyprint() -> None:
    from riskplan.reports.cioms import render_cioms_pdf
    from riskplan.reports.cioms_pdf import draw_cioms_pdf

    form = _full_form()
    form.boxes["1"] = "山田"  # no CJK glyphs in DejaVu Sans: WeasyPrint falls back to another font
    assert draw_cioms_pdf(form) is None
    assert render_cioms_pdf(form).startswith(b"%PDF-")
    form.boxes["1"] = "Łukasz Ωmega"  # outside the base subset but in DejaVu Sans: a subset of its own
    pdf = draw_cioms_pdf(form)
    assert pdf is not None and b"%PDF-" in pdf[:8]


def test_the_drawn_form_shows_the_same_words_as_the_html_form(db: Path, engine: Engine) -> None:
    from riskplan.reports.cioms import render_cioms_pdf, render_cioms_pdf_html

    with engine.connect() as c:
        ids = [i for (i,) in c.execute(text("SELECT id FROM icsr_case ORDER BY id LIMIT 8"))]
    for case_id in ids:
        with session_scope(engine) as session:
            form = case_cioms_form(session, f"RP{case_id:07d}")
        (db / "drawn.pdf").write_bytes(render_cioms_pdf(form))
        (db / "html.pdf").write_bytes(render_cioms_pdf_html(form))
        drawn, html = _pdf_text(db / "drawn.pdf"), _pdf_text(db / "html.pdf")
        assert len(drawn) == len(html)
        for a, b in zip(drawn, html, strict=True):  # the same characters; lines may break at other places
            assert Counter(a.replace(" ", "")) == Counter(b.replace(" ", "")), case_id
