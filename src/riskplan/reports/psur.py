"""The periodic safety update report (PSUR) in the format of the periodic benefit-risk evaluation report.

Structure and section numbers of ICH E2C(R2) (PBRER, 2012) as adopted by GVP Module VII (VII.B.5, Rev 1):
1 Introduction, 2 Worldwide marketing authorisation status, 3 Actions taken in the reporting interval for
safety reasons, 4 Changes to reference safety information, 5 Estimated exposure and use patterns, 6 Data
in summary tabulations, 7-14 clinical trial, non-interventional, other, non-clinical, literature, other
periodic report, lack of efficacy and late-breaking information, 15 Overview of signals, 16 Signal and
risk evaluation, 17 Benefit evaluation, 18 Integrated benefit-risk analysis, 19 Conclusions and actions,
20 Appendices. Where riskplan holds nothing for a section, the report says "no data in riskplan".

What riskplan computes, every count in the database (GROUP BY in SQL, no loop over cases in Python):

* **Cases counted** (E2C(R2) 3.6, GVP VII.B.5.6): for each case of the plan, the case as known at the
  data lock point (DLP): its latest version whose C.1.5 (date of most recent information) is on or before
  the DLP; the case counts when that version is valid (ICH E2D minimum criteria). A case belongs to the
  **interval** when it was first received (C.1.4; C.1.5 where C.1.4 is absent) within [start, DLP] and to
  the **cumulative** count when first received on or before the DLP. Follow-up received after the DLP is
  left for the next report.
* **Source** of a serious case from C.1.3 (type of report) and C.5.4 (study type): spontaneous (C.1.3 = 1);
  clinical trial (C.1.3 = 2 and C.5.4 = 1), tabulated in 6.2; solicited (C.1.3 = 2 with another study
  type, or 3 "other", e.g. patient support programmes); not available (C.1.3 = 4 or absent).
* **Summary tabulations** (E2C(R2) 3.6.1-3.6.2, Appendix B): serious reactions (E.i.3.2) by MedDRA SOC and
  PT, cases per PT (a case reporting a PT twice counts once), interval and cumulative, split into listed
  and unlisted against the reference safety information of the plan version the report uses (E2C(R2)
  3.4: one RSI for the whole report).
* **Exposure** (E2C(R2) 3.5.2): patients and patient-years on treatment in the interval and cumulatively,
  from an OMOP CDM (:mod:`riskplan.studies`) or from a CSV table the MAH supplies.
* **Safety concerns** (E2C(R2) 3.16, GVP VII.B.5.16): cases per concern (``icsr_case_concern``) in the
  interval and cumulatively, and observed against expected where a study of the CDM gives an incidence rate
  on the product (expected = rate x patient-years; O/E with the exact Poisson CI on the observed count).
* **Signals** (E2C(R2) 3.15-3.16.2) from :mod:`riskplan.signals.workflow` and the effectiveness of risk
  minimisation (E2C(R2) 3.16.5, GVP XVI.B.4) from :mod:`riskplan.minimisation`, called directly.

A section that fails raises :class:`~riskplan.reports.psur_sections.PsurSectionError` (the CLI prints the
section and the cause and exits with code 3) and nothing is written: a regulatory report never carries a
failure as "not available". What cannot be assessed for lack of data (no exposure, no RSI, no concern
definition, no study) is stated in the report.

The job is split by module: counting (:mod:`~riskplan.reports.psur_counts`), exposure and safety-concern
evaluation (:mod:`~riskplan.reports.psur_exposure`), the sections fed by signals, minimisation and the plan's
history (:mod:`~riskplan.reports.psur_sections`), collecting (:mod:`~riskplan.reports.psur_data`), rendering
(:mod:`~riskplan.reports.psur_render`) and writing the files (this module).

The HTML is a pure function of its inputs: the same data give the same bytes. Its cover carries a SHA-256
checksum of the canonical JSON of the counted rows (every counted case version and every aggregated
table), the plan version's content hash and the parameters; the wall-clock time of generation goes only
to the separate metadata JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from riskplan import __version__
from riskplan.reports.plan_summary import html_to_pdf
from riskplan.reports.psur_counts import (
    CLINICAL_TRIAL,
    NOT_AVAILABLE,
    NOT_CODED,
    SOLICITED,
    SOURCES,
    SPONTANEOUS,
    CaseCounts,
    ConcernCount,
    TabulationRow,
    check_interval,
    count_cases,
    parse_date,
)
from riskplan.reports.psur_data import PsurData, collect_psur
from riskplan.reports.psur_exposure import (
    ConcernEvaluation,
    Exposure,
    ExposureRow,
    cdm_exposure,
    read_exposure_csv,
)
from riskplan.reports.psur_render import _conclusions, render_psur_html
from riskplan.reports.psur_sections import PsurSectionError, SignalRecord
from riskplan.store import session_scope
from riskplan.terms import current_release, get_release

__all__ = [
    "CLINICAL_TRIAL",
    "NOT_AVAILABLE",
    "NOT_CODED",
    "SOLICITED",
    "SOURCES",
    "SPONTANEOUS",
    "CaseCounts",
    "ConcernCount",
    "ConcernEvaluation",
    "Exposure",
    "ExposureRow",
    "PsurData",
    "PsurResult",
    "PsurSectionError",
    "SignalRecord",
    "TabulationRow",
    "_conclusions",
    "cdm_exposure",
    "collect_psur",
    "count_cases",
    "parse_date",
    "peak_rss_mib",
    "read_exposure_csv",
    "render_psur_html",
    "write_psur",
]

# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (``VmHWM``, which, unlike ``ru_maxrss``, starts afresh at
    ``exec``; ``ru_maxrss`` where /proc is absent)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@dataclass(frozen=True)
class PsurResult:
    """The files written (HTML, PDF unless skipped, metadata JSON) and the input checksum on the cover."""

    paths: tuple[Path, ...]
    checksum: str
    html: Path
    pdf: Path | None
    metadata: Path


def write_psur(
    engine: Engine,
    plan_name: str,
    start: dt.date,
    end: dt.date,
    out_dir: Path,
    cdm: str | Path | None = None,
    exposure: Path | None = None,
    *,
    pdf: bool = True,
    progress: Callable[[str], None] | None = None,
    meddra_version: str | None = None,
) -> PsurResult:
    """Write ``psur_<plan>_<from>_<to>.html``, ``.pdf`` and ``.metadata.json`` into ``out_dir``.

    ``meddra_version`` reproduces a report made with that MedDRA release (case versions coded with a later
    release are not counted); the metadata records the release the counts used.
    """
    check_interval(start, end)
    timings: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()  # wall and this process's CPU (a shared machine)
    with session_scope(engine) as session:
        if meddra_version is not None:
            get_release(session, meddra_version)  # a release that is not loaded: a clear error, exit 2
        data = collect_psur(session, plan_name, start, end, cdm=cdm, exposure=exposure, meddra_version=meddra_version)
        in_use = current_release(session)
        meddra_used = meddra_version or (in_use.version if in_use is not None else None)
    timings["collect_seconds"] = time.perf_counter() - t0
    timings["collect_cpu_seconds"] = time.process_time() - c0
    if progress:
        progress(f"counted {data.counts.valid_cumulative:,} cases in {timings['collect_seconds']:.1f} s")
    t1, c1 = time.perf_counter(), time.process_time()
    html = render_psur_html(data)
    timings["html_seconds"] = time.perf_counter() - t1
    timings["html_cpu_seconds"] = time.process_time() - c1
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"psur_{plan_name}_{start.isoformat()}_{end.isoformat()}"
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path: Path | None = None
    if pdf:
        t2, c2 = time.perf_counter(), time.process_time()
        pdf_path = out_dir / f"{stem}.pdf"
        pdf_path.write_bytes(html_to_pdf(html))
        timings["pdf_seconds"] = time.perf_counter() - t2
        timings["pdf_cpu_seconds"] = time.process_time() - c2
    meta_path = out_dir / f"{stem}.metadata.json"
    metadata = {
        "report": "PSUR / PBRER (ICH E2C(R2), GVP Module VII)",
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "riskplan_version": __version__,
        "checksum_sha256": data.checksum,
        "audit_trail": {"rows": data.audit_trail[0], "head_sha256": data.audit_trail[1]},
        "parameters": data.parameters,
        "plan": {
            "name": plan_name,
            "version": data.plan_version,
            "in_force": data.plan_in_force,
            "content_sha256": data.plan_sha256,
        },
        "counted_cases_sha256": data.counts.cases_sha256,
        # the MedDRA release of the counts: given to reproduce an earlier report, else the one in use
        "meddra_version": meddra_used,
        "files": {
            "html": html_path.name,
            "html_sha256": hashlib.sha256(html.encode("utf-8")).hexdigest(),
            "pdf": pdf_path.name if pdf_path else None,
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }
    meta_path.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    paths = tuple(p for p in (html_path, pdf_path, meta_path) if p is not None)
    return PsurResult(paths, data.checksum, html_path, pdf_path, meta_path)
