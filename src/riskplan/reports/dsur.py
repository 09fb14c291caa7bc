"""The development safety update report (DSUR, ICH E2F): rendering. The data: :mod:`~riskplan.reports.dsur_data`.

The HTML is a pure function of :class:`~riskplan.reports.dsur_data.DsurData`: the same data lock point and data
give the same bytes (generation time and user go to the stored record, :mod:`~riskplan.reports.stored`).
"""

from __future__ import annotations

from itertools import groupby

from riskplan import __version__
from riskplan.reports.dsur_data import OTHER_TRIAL, DsurData
from riskplan.reports.periodic_common import render_template

# ICH E2F 3: the table of contents (title page and executive summary come first)
_TOC = (
    ("s1", "1 Introduction"),
    ("s2", "2 Worldwide marketing approval status"),
    ("s3", "3 Actions taken in the reporting period for safety reasons"),
    ("s4", "4 Changes to reference safety information"),
    ("s5", "5 Inventory of clinical trials ongoing and completed during the reporting period"),
    ("s6", "6 Estimated cumulative exposure"),
    ("s7", "7 Data in line listings and tabulations"),
    ("s8", "8 Significant findings from clinical trials during the reporting period"),
    ("s9", "9 Safety findings from non-interventional studies"),
    ("s10", "10 Other clinical trial/study safety information"),
    ("s11", "11 Safety findings from marketing experience"),
    ("s12", "12 Non-clinical data"),
    ("s13", "13 Literature"),
    ("s14", "14 Other DSURs"),
    ("s15", "15 Lack of efficacy"),
    ("s16", "16 Region-specific information"),
    ("s17", "17 Late-breaking information"),
    ("s18", "18 Overall safety assessment"),
    ("s19", "19 Summary of important risks"),
    ("s20", "20 Conclusions"),
    ("appendix-us", "Appendix A: United States, IND annual report elements"),
)


def render_dsur_html(data: DsurData) -> str:
    """The DSUR as one HTML document (sections of ICH E2F 3)."""
    development = data.plan.clinical_development
    dibd = development.development_international_birth_date if development else None
    return render_template(
        "dsur/report.html.j2",
        d=data,
        version=__version__,
        style=render_template("periodic/style.css.j2", footer="DSUR (ICH E2F)"),
        toc=_TOC,
        dibd=dibd or "not stated in the plan",
        interval_cases=sum(v[0] for v in data.cases_by_trial.values()),
        cumulative_cases=sum(v[1] for v in data.cases_by_trial.values()),
        other_trial=data.cases_by_trial.get(OTHER_TRIAL),
        other_label=OTHER_TRIAL,
        sae_by_soc=[(soc, list(rows)) for soc, rows in groupby(data.sae_rows, key=lambda r: r.soc)],
    )
