"""A study report rendered to HTML and PDF (WeasyPrint)."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from riskplan.plan.catalogue import load_plan
from riskplan.reports.study_report import fmt, render_study_html, write_study_report
from riskplan.studies.plan_studies import run_plan_study
from riskplan.studies.registry import load_registry_export

EXPORT = Path(__file__).resolve().parents[1] / "data" / "registry_export"


def test_pregnancy_registry_report_html_and_pdf(tmp_path: Path) -> None:
    plan = load_plan("uplizna")
    with load_registry_export(EXPORT) as cdm:
        run = run_plan_study(cdm, plan, "pregnancy-registry-study")
    html = render_study_html(run)
    assert "Pregnancy Registry Study" in html and "pregnancy outcomes" in html
    assert "registry export" in html and "small for gestational age" in html
    files = write_study_report(run, tmp_path)
    assert files.html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert files.pdf is not None
    data = files.pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(PdfReader(str(files.pdf)).pages) >= 1


def test_cell_formatting() -> None:
    assert fmt(None) == "–" and fmt(12345) == "12,345" and fmt(1.23456) == "1.23"
    assert fmt(0.012345) == "0.0123" and fmt(float("inf")) == "∞" and fmt(True) == "yes"
