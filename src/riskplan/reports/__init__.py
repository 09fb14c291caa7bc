"""Reports built on every folder below: the PSUR / PBRER, study reports and the public plan summary."""

from riskplan.reports.case_documents_cli import cioms as cioms_command
from riskplan.reports.case_documents_cli import line_listing_command
from riskplan.reports.cioms import CiomsForm, case_cioms_form, render_cioms_pdf
from riskplan.reports.cli import app as cli_app
from riskplan.reports.cli import plan_summary as plan_summary_command
from riskplan.reports.cli import study_run as study_run_command
from riskplan.reports.psur import peak_rss_mib, write_psur
from riskplan.reports.study_report import render_study_html, write_study_report

__all__ = [
    "CiomsForm",
    "case_cioms_form",
    "cioms_command",
    "cli_app",
    "line_listing_command",
    "peak_rss_mib",
    "plan_summary_command",
    "render_cioms_pdf",
    "render_study_html",
    "study_run_command",
    "write_psur",
    "write_study_report",
]
