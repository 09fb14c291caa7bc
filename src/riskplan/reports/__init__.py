"""Reports built on every folder below: the PSUR / PBRER, DSUR, PADER (stored, scheduled), study reports and the
public plan summary."""

from riskplan.reports import tables as _tables  # noqa: F401 -- its tables join the store's metadata (riskplan.schema)
from riskplan.reports.case_documents_cli import cioms as cioms_command
from riskplan.reports.case_documents_cli import line_listing_command
from riskplan.reports.cioms import CiomsForm, case_cioms_form, render_cioms_pdf
from riskplan.reports.cli import app as cli_app
from riskplan.reports.cli import plan_summary as plan_summary_command
from riskplan.reports.cli import study_run as study_run_command
from riskplan.reports.psur import peak_rss_mib, write_psur
from riskplan.reports.schedule import DueReport, next_due, report_schedule
from riskplan.reports.stored import (
    KINDS,
    TITLES,
    StoredReport,
    generate_report,
    get_report,
    list_reports,
    regenerate,
    report_bytes,
    store_written_psur,
)
from riskplan.reports.study_report import render_study_html, write_study_report

__all__ = [
    "KINDS",
    "TITLES",
    "CiomsForm",
    "DueReport",
    "StoredReport",
    "case_cioms_form",
    "cioms_command",
    "cli_app",
    "generate_report",
    "get_report",
    "line_listing_command",
    "list_reports",
    "next_due",
    "peak_rss_mib",
    "plan_summary_command",
    "regenerate",
    "render_cioms_pdf",
    "render_study_html",
    "report_bytes",
    "report_schedule",
    "store_written_psur",
    "study_run_command",
    "write_psur",
    "write_study_report",
]
