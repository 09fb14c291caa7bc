"""Every PDF the project produces, laid out by WeasyPrint as it is printed: no table and no image is wider than
the page's printable area (the PSUR's observed/expected table was clipped at the right margin), and the PSUR's
table of contents carries page numbers. One render per document (module-scoped).

Two checks per document: WeasyPrint's layout boxes (which table or image passes the content area), and the
PDF drawn from that same layout, rendered to PNG with pypdfium2 (no ink in the right margin, see
``tests/pdf_pixels.py``). Each document is laid out once; its PDF is written from that layout."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import Engine

from pdf_pixels import ink_in_right_margin, right_margins
from riskplan.cases.intake import intake, intake_context
from riskplan.cases.synth import synthesise_cases
from riskplan.minimisation import demo_patient_record, render_card_html
from riskplan.plan.catalogue import load_plan
from riskplan.reports.plan_summary import render_plan_summary
from riskplan.reports.psur import collect_psur, render_psur_html
from riskplan.reports.study_report import render_study_html
from riskplan.signals.disproportionality import detect
from riskplan.signals.report import write_html_report
from riskplan.signals.synth import Injection, synthesise_spontaneous
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import upgrade
from riskplan.studies.cdm import open_cdm
from riskplan.studies.plan_studies import run_plan_study
from riskplan.studies.synth import synthesise_omop

START = dt.date(2025, 7, 1)
DLP = dt.date(2025, 12, 31)


def _walk(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _walk(child)


def layout(html: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from weasyprint import HTML  # type: ignore[import-untyped]

        return HTML(string=html).render()


def printed_past_margin(document: Any, png_dir: Path, stem: str) -> list[str]:
    """The PDF of an already laid-out document, rendered to PNG: pages with ink in the right margin."""
    return ink_in_right_margin(document.write_pdf(), right_margins(document), png_dir, stem)


def too_wide(document: Any) -> list[str]:
    """Tables and images whose border box passes the right edge of the page's content area (0.5 pt slack)."""
    from weasyprint.formatting_structure import boxes  # type: ignore[import-untyped]

    found = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        right = page_box.content_box_x() + page_box.width
        for box in _walk(page_box):
            if isinstance(box, boxes.TableBox | boxes.ReplacedBox):
                edge = box.border_box_x() + box.border_width()
                if edge > right + 0.5:
                    caption = ""
                    if isinstance(box, boxes.TableBox):
                        texts = [getattr(b, "text", "") for b in _walk(box)]
                        caption = " ".join(t for t in texts if t)[:80]
                    found.append(f"page {number}: {type(box).__name__} {edge - right:.0f} pt too wide: {caption}")
    return found


@pytest.fixture(scope="module")
def omop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layout_omop")
    synthesise_omop(300, 5, out)
    return out


@pytest.fixture(scope="module")
def psur(tmp_path_factory: pytest.TempPathFactory, omop: Path) -> tuple[str, Any]:
    engine: Engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('layout') / 'riskplan.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        ctx = intake_context(session, "uplizna", "tester")
        intake(session, synthesise_cases(50, seed=4), context=ctx, who="tester")
    with session_scope(engine) as session:
        html = render_psur_html(collect_psur(session, "uplizna", START, DLP, cdm=omop))
    engine.dispose()
    return html, layout(html)


def test_psur_fits_its_pages_and_its_contents_have_page_numbers(psur: tuple[str, Any], tmp_path: Path) -> None:
    html, document = psur
    assert 'class="data oe"' in html  # the observed/expected table is there (study rates from the CDM)
    assert too_wide(document) == []
    assert printed_past_margin(document, tmp_path, "psur") == []
    assert len(list(tmp_path.glob("psur-*.png"))) == len(document.pages)
    # the table of contents: each entry is a link to its section, and the PDF's contents page shows a page number
    toc = html[html.index('<nav class="toc">') : html.index("</nav>")]
    assert toc.count('<a href="#s') == 20
    contents_page = next(p for p in document.pages if "Contents" in _page_text(p._page_box))
    text = _page_text(contents_page._page_box)
    numbers = [int(n) for n in re.findall(r"\.\s*(\d+)(?=\s|$)", text)]
    assert len(numbers) >= 20 and numbers == sorted(numbers) and numbers[0] >= 3, text


def _page_text(box: Any) -> str:
    return " ".join(getattr(b, "text", "") for b in _walk(box) if getattr(b, "text", ""))


def test_study_report_fits_its_pages(omop: Path, tmp_path: Path) -> None:
    plan = load_plan("uplizna")
    with open_cdm(omop) as cdm:
        run = run_plan_study(cdm, plan, "real-world-observational-study")
    html = render_study_html(run, generated=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    document = layout(html)
    assert too_wide(document) == []
    assert printed_past_margin(document, tmp_path, "study") == []


def test_plan_summary_fits_its_pages(tmp_path: Path) -> None:
    html = render_plan_summary(load_plan("uplizna"), "html")
    document = layout(html)
    assert too_wide(document) == []
    assert printed_past_margin(document, tmp_path, "summary") == []


@pytest.mark.parametrize("language", ["en", "de"])
def test_patient_card_fits_its_page_and_its_source_line_is_in_its_language(language: str, tmp_path: Path) -> None:
    plan = load_plan("uplizna")
    html = render_card_html(demo_patient_record(), plan, language, issued=dt.date(2026, 1, 5))
    document = layout(html)
    assert too_wide(document) == []
    assert printed_past_margin(document, tmp_path, f"card-{language}") == []
    footer = html[html.index('class="footer"') :]
    if language == "de":
        assert "Quellen: Anhang II.D" in footer and "package leaflet" not in footer and "Annex" not in footer
    else:
        assert "Sources: UPLIZNA EPAR, Annex II.D" in footer


def test_signal_report_printed_fits_its_pages(tmp_path: Path) -> None:
    reports = synthesise_spontaneous(4_000, seed=3, injected=[Injection("DRUG-00005", "EVENT-00030", 6.0)])
    con = duckdb.connect()
    try:
        rel = reports.to_relation(con)
        renamed = con.sql(
            "SELECT report_id, CASE WHEN product = 'DRUG-00005' THEN 'inebilizumab' ELSE product END AS product, "
            f"CASE event WHEN 'EVENT-00030' THEN 'Herpes zoster' ELSE event END AS event FROM ({rel.sql_query()})"
        )
        result = detect(con, renamed)
        out = write_html_report(result, "inebilizumab", load_plan("uplizna"), tmp_path / "signals.html")
    finally:
        con.close()
    html = out.read_text(encoding="utf-8")
    document = layout(html)
    assert too_wide(document) == []
    assert printed_past_margin(document, tmp_path, "signals") == []


def test_the_pixel_check_sees_a_table_cut_at_the_margin(tmp_path: Path) -> None:
    document = layout("<style>@page { size: A4; margin: 20mm }</style><table style='width:250mm'><tr><td "
                      "style='border: 1pt solid black'>x</td></tr></table>")  # fmt: skip
    assert printed_past_margin(document, tmp_path, "wide") != []
