"""The PSUR / PBRER (riskplan.reports.psur): counts against independent SQL, interval boundaries, checksum,
optional sources (signals, minimisation, exposure, OMOP CDM), files and the command line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.codes import Outcome
from riskplan.cases.intake import intake, intake_context
from riskplan.cases.model import Hl7Timestamp, Icsr, Reaction
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.synth import follow_up_of, synthesise_cases
from riskplan.errors import UserInputError
from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import ExpectedReaction, RiskManagementPlan
from riskplan.reports import psur_sections
from riskplan.reports.cli import app
from riskplan.reports.psur import (
    CLINICAL_TRIAL,
    NOT_AVAILABLE,
    NOT_CODED,
    SOLICITED,
    SPONTANEOUS,
    PsurSectionError,
    cdm_exposure,
    collect_psur,
    count_cases,
    read_exposure_csv,
    render_psur_html,
    write_psur,
)
from riskplan.signals.workflow import SignalSummary
from riskplan.store.audit import audit_head
from riskplan.store.db import session_scope
from riskplan.studies import vocabulary as v
from riskplan.studies.cdm import cdm_from_records
from riskplan.studies.synth import synthesise_omop
from riskplan.terms.coding import OpenTerm, OpenTermList

START = dt.date(2025, 7, 1)
DLP = dt.date(2025, 12, 31)
runner = CliRunner()


def _intake(engine: Engine, icsrs: list[Icsr]) -> None:
    with session_scope(engine) as session:
        ctx = intake_context(session, "uplizna", "tester")
        intake(session, icsrs, context=ctx, who="tester")


def _day(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def _headache(wid: str, received: dt.date) -> Icsr:
    """A valid, non-serious case."""
    return make_icsr(
        wid,
        received=_day(received),
        reactions=(Reaction(verbatim_term="headache", start_date=Hl7Timestamp("20250601"), outcome=Outcome.RECOVERED),),
    )


def boundary_cases() -> list[Icsr]:
    """Serious pneumonia cases around the interval's edges, an invalid one and a non-serious one."""
    return [
        make_icsr("GB-B-ON-DLP", received=_day(DLP)),
        make_icsr("GB-B-DAY-AFTER-DLP", received=_day(DLP + dt.timedelta(days=1))),
        make_icsr("GB-B-ON-START", received=_day(START)),
        make_icsr("GB-B-DAY-BEFORE-START", received=_day(START - dt.timedelta(days=1))),
        make_icsr("GB-B-INVALID", received="20250901", reactions=()),
        _headache("GB-B-FOLLOW-UP", dt.date(2025, 11, 15)),
    ]


def follow_up_after_dlp() -> Icsr:
    """The follow-up of GB-B-FOLLOW-UP, received after the DLP, makes the case serious (pneumonia)."""
    return make_icsr("GB-B-FOLLOW-UP", received="20260115", first_received="20251115")


@pytest.fixture
def populated(engine: Engine) -> Engine:
    """Synthetic cases with follow-ups before and after the DLP, and the boundary cases; SQLite and PostgreSQL."""
    cases = synthesise_cases(400, seed=11)
    _intake(engine, [*cases, *boundary_cases()])
    rng = random.Random(5)
    follow_ups = []
    for icsr in cases[::9]:
        first = icsr.first_received.earliest_date() if icsr.first_received else START
        if icsr.most_recent_info is not None:  # a follow-up is never older than the stored version
            first = max(first, icsr.most_recent_info.earliest_date())
        # never after a fixed past day: intake refuses dates after today
        received = min(first + dt.timedelta(days=rng.choice((20, 200, 420))), max(first, dt.date(2026, 11, 20)))
        follow_ups.append(follow_up_of(icsr, rng, received))
    _intake(engine, [*follow_ups, follow_up_after_dlp()])
    return engine


# --------------------------------------------------------------------------------------------------
# Independent counts: plain SQL over the stored rows, aggregated here (not the code's query)
# --------------------------------------------------------------------------------------------------

AS_OF_DLP = """
SELECT v.id, v.case_id, COALESCE(v.first_received, v.received) AS first_rec, v.serious, v.icsr_json
FROM icsr_case_version v JOIN icsr_case c ON c.id = v.case_id
WHERE c.plan_name = :plan AND v.received <= :dlp AND v.valid = :yes
  AND NOT EXISTS (
    SELECT 1 FROM icsr_case_version w
    WHERE w.case_id = v.case_id AND w.received <= :dlp AND w.version > v.version
  )
"""


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _source(icsr_json: str) -> str:
    doc = json.loads(icsr_json)
    report_type = doc.get("report_type")
    study_type = (doc.get("study") or {}).get("study_type")
    if report_type == "1":
        return SPONTANEOUS
    if report_type == "2" and study_type == "1":
        return CLINICAL_TRIAL
    if report_type in ("2", "3"):
        return SOLICITED
    return NOT_AVAILABLE


def independent_counts(engine: Engine, plan: RiskManagementPlan, start: dt.date, end: dt.date) -> dict[str, Any]:
    rsi = plan.reference_safety_information
    assert rsi is not None
    with engine.connect() as conn:
        versions = {
            vid: (cid, _date(first), bool(serious), _source(doc))
            for vid, cid, first, serious, doc in conn.execute(
                text(AS_OF_DLP), {"plan": "uplizna", "dlp": end, "yes": True}
            )
            if _date(first) <= end
        }
        reactions = conn.execute(
            text("SELECT case_version_id, soc_name, pt_name FROM icsr_reaction WHERE serious = :yes"), {"yes": True}
        ).all()
        links = conn.execute(text("SELECT case_version_id, concern_id FROM icsr_case_concern")).all()
    tab: dict[tuple[str, str, str], tuple[str, set[int], set[int]]] = {}
    for vid, soc, pt in reactions:
        if vid not in versions:
            continue
        cid, first, _, source = versions[vid]
        listed = "not assessable" if pt is None else ("listed" if rsi.is_listed(pt) else "unlisted")
        key = (source, soc or NOT_CODED, pt or NOT_CODED)
        entry = tab.setdefault(key, (listed, set(), set()))
        entry[2].add(cid)
        if first >= start:
            entry[1].add(cid)
    concerns: dict[str, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for vid, concern_id in links:
        if vid in versions:
            cid, first, _, _ = versions[vid]
            concerns[concern_id][1].add(cid)
            if first >= start:
                concerns[concern_id][0].add(cid)
    return {
        "tabulation": {k: (lst, len(i), len(c)) for k, (lst, i, c) in tab.items()},
        "concerns": {k: (len(i), len(c)) for k, (i, c) in concerns.items()},
        "valid": (sum(f >= start for _, f, _, _ in versions.values()), len(versions)),
        "serious": (
            sum(f >= start and s for _, f, s, _ in versions.values()),
            sum(s for _, _, s, _ in versions.values()),
        ),
    }


@pytest.mark.parametrize("end", [DLP, dt.date(2026, 6, 30)])
def test_tabulation_matches_independent_sql(populated: Engine, end: dt.date) -> None:
    plan = load_plan("uplizna")
    with session_scope(populated) as session:
        counts = count_cases(session, plan, START, end)
    want = independent_counts(populated, plan, START, end)
    # the serious part of the tabulation (the non-serious part: tests/reports/test_reports_psur_tabulations.py)
    got = {(r.source, r.soc, r.pt): (r.listedness, r.interval, r.cumulative) for r in counts.tabulation if r.cumulative}
    assert got == want["tabulation"]
    assert len(got) > 10 and any(r.listedness == "unlisted" for r in counts.tabulation)
    assert {r.source for r in counts.tabulation} >= {SPONTANEOUS, SOLICITED, CLINICAL_TRIAL}
    assert {c.concern_id: (c.interval, c.cumulative) for c in counts.concerns} == want["concerns"]
    assert (counts.valid_interval, counts.valid_cumulative) == want["valid"]
    assert (counts.serious_interval, counts.serious_cumulative) == want["serious"]
    assert sum(i for i, _ in counts.serious_by_source.values()) == counts.serious_interval
    # every serious reaction of a counted case falls in one month of first receipt
    with populated.connect() as conn:
        rows = conn.execute(text(AS_OF_DLP), {"plan": "uplizna", "dlp": end, "yes": True}).all()
        counted = {vid for vid, _, first, serious, _ in rows if serious and _date(first) <= end}
        serious_reactions = sum(
            vid in counted
            for (vid,) in conn.execute(
                text("SELECT case_version_id FROM icsr_reaction WHERE serious = :yes"), {"yes": True}
            )
        )
    assert sum(n for _, _, n in counts.monthly) == serious_reactions


def test_interval_boundaries_and_follow_up_after_the_dlp(engine: Engine) -> None:
    """On the DLP counts, the day after does not; the version known at the DLP is the one counted."""
    _intake(engine, boundary_cases())
    _intake(engine, [follow_up_after_dlp()])
    plan = load_plan("uplizna")
    with session_scope(engine) as session:
        at_dlp = count_cases(session, plan, START, DLP)
        day_after = count_cases(session, plan, START, DLP + dt.timedelta(days=1))
        after_follow_up = count_cases(session, plan, START, dt.date(2026, 1, 15))
    pneumonia = {r.pt: r for r in at_dlp.tabulation}["Pneumonia"]
    # ON-DLP and ON-START in the interval, DAY-BEFORE-START cumulative only; DAY-AFTER-DLP nowhere;
    # FOLLOW-UP counted as its non-serious first version; INVALID never.
    assert (pneumonia.interval, pneumonia.cumulative) == (2, 3)
    assert (at_dlp.valid_interval, at_dlp.valid_cumulative) == (3, 4)
    assert (at_dlp.serious_interval, at_dlp.serious_cumulative) == (2, 3)
    assert at_dlp.serious_by_source == {SPONTANEOUS: (2, 3)}
    assert {r.pt: r for r in day_after.tabulation}["Pneumonia"].cumulative == 4
    assert (day_after.valid_interval, day_after.valid_cumulative) == (4, 5)
    # the follow-up received on 2026-01-15 makes the case serious from that DLP on
    assert {r.pt: r for r in after_follow_up.tabulation}["Pneumonia"].interval == 4
    assert after_follow_up.serious_interval == 4


def test_listedness_uses_the_report_plans_rsi(sqlite_engine: Engine) -> None:
    _intake(sqlite_engine, boundary_cases())
    plan = load_plan("uplizna")
    assert plan.reference_safety_information is not None
    rsi = plan.reference_safety_information.model_copy(
        update={
            "expected_reactions": [
                *plan.reference_safety_information.expected_reactions,
                ExpectedReaction(pt="Pneumonia"),
            ]
        }
    )
    listed_plan = plan.model_copy(update={"reference_safety_information": rsi})
    no_rsi = plan.model_copy(update={"reference_safety_information": None})
    with session_scope(sqlite_engine) as session:
        unlisted = {r.pt: r.listedness for r in count_cases(session, plan, START, DLP).tabulation}
        listed = {r.pt: r.listedness for r in count_cases(session, listed_plan, START, DLP).tabulation}
        unknown = {r.pt: r.listedness for r in count_cases(session, no_rsi, START, DLP).tabulation}
    assert unlisted["Pneumonia"] == "unlisted"
    assert listed["Pneumonia"] == "listed"
    assert unknown["Pneumonia"] == "not assessable"


def _serious(verbatim: str) -> Reaction:
    return Reaction(
        verbatim_term=verbatim, hospitalisation=True, start_date=Hl7Timestamp("20250820"), outcome=Outcome.RECOVERING
    )


def test_listedness_is_the_one_intake_definition_not_sql_lower(sqlite_engine: Engine) -> None:
    """PT names compare case-folded (``str.casefold``) at intake: "Straße fever" is the RSI's "STRASSE FEVER" and
    "ÉRYTHÈME NOUEUX" its "érythème noueux". SQL's lower() says otherwise (it keeps "ß"; SQLite folds ASCII only),
    so the PSUR used to tabulate both as unlisted while intake stored them as listed. Now the PSUR agrees."""
    plan = load_plan("uplizna")
    assert plan.reference_safety_information is not None
    rsi = plan.reference_safety_information.model_copy(
        update={
            "expected_reactions": [
                *plan.reference_safety_information.expected_reactions,
                ExpectedReaction(pt="STRASSE FEVER"),
                ExpectedReaction(pt="érythème noueux"),
            ]
        }
    )
    listed_plan = plan.model_copy(update={"reference_safety_information": rsi})
    soc = "General disorders and administration site conditions"
    terms = OpenTermList(  # codes the verbatims to PTs spelt otherwise than in the RSI
        None,
        rows=[
            OpenTerm("Straße fever", "Straße fever", soc, "test"),
            OpenTerm("ÉRYTHÈME NOUEUX", "ÉRYTHÈME NOUEUX", soc, "test"),
        ],
    )
    with session_scope(sqlite_engine) as session:
        ctx = intake_context(session, "uplizna", "tester")
        ctx = dataclasses.replace(ctx, plan=listed_plan, processor=CaseProcessor(listed_plan, terms))
        cases = [
            make_icsr("DE-STRASSE-1", received="20250901", reactions=(_serious("Straße fever"),)),
            make_icsr("FR-ERYTHEME-1", received="20250902", reactions=(_serious("ÉRYTHÈME NOUEUX"),)),
        ]
        intake(session, cases, context=ctx, who="tester")
    with sqlite_engine.connect() as conn:
        at_intake = dict(conn.execute(text("SELECT pt_name, listedness FROM icsr_reaction")).all())
    assert at_intake == {"Straße fever": "listed", "ÉRYTHÈME NOUEUX": "listed"}
    with session_scope(sqlite_engine) as session:
        in_psur = {r.pt: r.listedness for r in count_cases(session, listed_plan, START, DLP).tabulation}
    assert in_psur == at_intake


# --------------------------------------------------------------------------------------------------
# Reproducibility: checksum and byte-identical HTML
# --------------------------------------------------------------------------------------------------


def test_checksum_stable_and_changes_when_a_case_is_added(sqlite_engine: Engine, tmp_path: Path) -> None:
    _intake(sqlite_engine, [*synthesise_cases(120, seed=3), *boundary_cases()])
    first = write_psur(sqlite_engine, "uplizna", START, DLP, tmp_path / "a", pdf=False)
    second = write_psur(sqlite_engine, "uplizna", START, DLP, tmp_path / "b", pdf=False)
    assert first.checksum == second.checksum and len(first.checksum) == 64
    assert first.html.read_bytes() == second.html.read_bytes()
    html = first.html.read_text("utf-8")
    assert first.checksum in html
    assert "generated_at" not in html and dt.date.today().isoformat() not in html
    meta = json.loads(first.metadata.read_text("utf-8"))
    assert meta["checksum_sha256"] == first.checksum and "generated_at" in meta

    # a case first received after the DLP (in a later quarter) changes nothing but the audit trail's head
    with session_scope(sqlite_engine) as session:
        rows, head = audit_head(session)
    assert f'{rows} rows; head SHA-256 <code class="checksum">{head}</code>' in html
    assert meta["audit_trail"] == {"rows": rows, "head_sha256": head}
    _intake(sqlite_engine, [make_icsr("GB-LATE", received="20260110")])
    late = write_psur(sqlite_engine, "uplizna", START, DLP, tmp_path / "c", pdf=False)
    assert late.checksum == first.checksum
    with session_scope(sqlite_engine) as session:
        late_rows, late_head = audit_head(session)
    assert late_head != head
    late_html = late.html.read_text("utf-8").replace(late_head, head).replace(f"{late_rows} rows;", f"{rows} rows;")
    assert late_html == html

    # a case in the interval changes the checksum
    _intake(sqlite_engine, [make_icsr("GB-NEW-IN-INTERVAL", received="20251001")])
    added = write_psur(sqlite_engine, "uplizna", START, DLP, tmp_path / "d", pdf=False)
    assert added.checksum != first.checksum
    # and so does another plan version
    with session_scope(sqlite_engine) as session:
        data = collect_psur(session, "uplizna", START, DLP)
        other = collect_psur(session, "uplizna", START, dt.date(2025, 12, 30))
    assert data.checksum == added.checksum
    assert other.checksum != data.checksum


def test_pdf_has_pages_and_the_pbrer_sections(sqlite_engine: Engine, tmp_path: Path) -> None:
    _intake(sqlite_engine, [*synthesise_cases(150, seed=8), *boundary_cases()])
    result = write_psur(sqlite_engine, "uplizna", START, DLP, tmp_path)
    assert result.pdf is not None and result.paths == (result.html, result.pdf, result.metadata)
    reader = PdfReader(str(result.pdf))
    assert len(reader.pages) >= 8
    pdf_text = " ".join(" ".join((p.extract_text() or "") for p in reader.pages).split())
    for heading in (
        "1. Introduction",
        "2. Worldwide marketing authorisation status",
        "5.2 Cumulative and interval patient exposure from marketing experience",
        "6.2 Cumulative summary tabulations of serious adverse events from clinical trials",
        "6.3 Cumulative and interval summary tabulations from post-marketing data sources",
        "15. Overview of signals",
        "16.5 Effectiveness of risk minimisation",
        "19. Conclusions and actions",
        "Summary of risk management plan for UPLIZNA (inebilizumab)",
    ):
        assert heading in pdf_text, heading
    html = result.html.read_text("utf-8")
    for number in range(1, 21):
        assert f'id="s{number}"' in html
    for sub in ("s5-1", "s5-2", "s6-2", "s6-3", "s16-1", "s16-2", "s16-3", "s16-4", "s16-5", "s20-1"):
        assert f'id="{sub}"' in html
    assert html.count("data:image/png;base64,") == 2
    assert "Exposure was not provided" in html
    assert "no study rate" in html
    assert "No data in riskplan" in html


# --------------------------------------------------------------------------------------------------
# Signals and risk-minimisation effectiveness: absent and present
# --------------------------------------------------------------------------------------------------


def _html(engine: Engine, **kwargs: Any) -> str:
    with session_scope(engine) as session:
        return render_psur_html(collect_psur(session, "uplizna", START, DLP, **kwargs))


def test_no_signal_recorded_is_stated(sqlite_engine: Engine) -> None:
    """No signal in the store: sections 15 and 16.2 say so (data, not a failure)."""
    html = _html(sqlite_engine)
    assert "0 signal(s) from riskplan&#39;s signal management records." in html
    assert "No signal was new, ongoing or closed in the interval." in html
    assert "No signal was closed in the interval." in html
    assert "Signals: 0 new and 0 closed in the interval." in html


def _summary(sid: str, title: str, state: str, detected: dt.date, closed: dt.date | None, **kw: Any) -> SignalSummary:
    classification = "closed" if closed else ("new" if detected >= START else "ongoing")
    return SignalSummary(
        sid,
        title,
        state,
        detected,
        closed,
        kw.get("outcome"),
        kw.get("concerns", ()),
        classification,
    )


def test_signals_present(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[dt.date, dt.date]] = []

    def signals_in_interval(session: Any, start: dt.date, end: dt.date) -> list[SignalSummary]:
        calls.append((start, end))
        return [
            _summary("SIG-1", "Hepatotoxicity", "under assessment", dt.date(2025, 8, 1), None),
            _summary(
                "SIG-2",
                "Herpes zoster",
                "closed",
                dt.date(2025, 2, 1),
                dt.date(2025, 9, 1),
                outcome="refuted",
                concerns=("pml",),
            ),
            _summary("SIG-3", "Alopecia", "validated", dt.date(2025, 3, 1), None),
            _summary(
                "SIG-4",
                "Neutropenia severity",
                "closed",
                dt.date(2025, 7, 10),
                dt.date(2025, 11, 2),
                outcome="new important identified risk",
                concerns=("neutropenia",),
            ),
        ]

    monkeypatch.setattr(psur_sections, "signals_in_interval", signals_in_interval)
    with session_scope(sqlite_engine) as session:
        data = collect_psur(session, "uplizna", START, DLP)
    # the interval, then after the DLP (signals detected later are counted, not listed)
    assert calls == [(START, DLP), (DLP + dt.timedelta(days=1), dt.date.max)]
    status = {s.id: s.status_in_interval for s in data.signals}
    assert status == {"SIG-1": "new, ongoing", "SIG-2": "closed", "SIG-3": "ongoing", "SIG-4": "new, closed"}
    html = render_psur_html(data)
    assert "4 signal(s) from riskplan" in html
    assert "new important identified risk" in html and "Signals: 2 new and 2 closed in the interval." in html


def test_signals_from_the_signal_workflow(sqlite_engine: Engine) -> None:
    """The real riskplan.signals.workflow: a new signal and one refuted in the interval."""
    import riskplan.signals.workflow as workflow

    utc = dt.UTC
    with session_scope(sqlite_engine) as session:
        workflow.new_signal(
            session,
            title="Alopecia",
            who="tester",
            event="Alopecia",
            plan_name="uplizna",
            detected=dt.date(2025, 8, 3),
            at=dt.datetime(2025, 8, 3, 9, tzinfo=utc),
        )
        old = workflow.new_signal(
            session,
            title="Herpes zoster",
            who="tester",
            event="Herpes zoster",
            concern_id="serious-infections",
            plan_name="uplizna",
            detected=dt.date(2025, 3, 1),
            at=dt.datetime(2025, 3, 1, 9, tzinfo=utc),
        )
        workflow.transition(
            session,
            old.id,
            "refuted",
            who="tester",
            role="qppv",
            reason="not confirmed by the case review",
            at=dt.datetime(2025, 9, 1, 9, tzinfo=utc),
        )
    with session_scope(sqlite_engine) as session:
        data = collect_psur(session, "uplizna", START, DLP)
    by_title = {s.title: s for s in data.signals}
    assert by_title["Alopecia"].status_in_interval == "new, ongoing"
    assert by_title["Herpes zoster"].status_in_interval == "closed"
    assert by_title["Herpes zoster"].closed == dt.date(2025, 9, 1)
    assert by_title["Herpes zoster"].concern_ids == ("serious-infections",)
    html = render_psur_html(data)
    assert "Signal management records not available" not in html and "Herpes zoster" in html


def test_minimisation_indicators_count_the_reports_own_cases(sqlite_engine: Engine) -> None:
    _intake(sqlite_engine, [*synthesise_cases(150, seed=4)])
    with session_scope(sqlite_engine) as session:
        data = collect_psur(session, "uplizna", START, DLP)
    m = data.minimisation
    assert m.available, m.note
    assert "quarterly_outcomes over the cases of this report" in m.note
    rows = {(r[0], r[1]): r[2] for r in m.rows}
    assert {q for _, q in rows} == {"2025-Q3", "2025-Q4", "interval"}
    # the indicator counts the same cases as section 16.3
    infusion = data.counts.concern("infusion-reaction")
    assert rows[("Infusion reaction", "interval")] == str(infusion.interval)
    html = render_psur_html(data)
    assert "Risk-minimisation outcome indicators" in html


def _broken(*args: Any, **kwargs: Any) -> Any:
    raise KeyError("quarter")


@pytest.mark.parametrize(
    ("function", "section"),
    [
        ("signals_in_interval", "PSUR section 15 (signals)"),
        ("quarterly_outcomes", "PSUR section 16.5 (effectiveness of risk minimisation)"),
    ],
)
def test_a_failing_section_stops_the_report(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, function: str, section: str
) -> None:
    """A section that fails is never shown as "not available": the report is not made, the error names the
    section and the cause (it used to become "Not available: ... failed" text in the report)."""
    monkeypatch.setattr(psur_sections, function, _broken)
    with session_scope(sqlite_engine) as session, pytest.raises(PsurSectionError) as caught:
        collect_psur(session, "uplizna", START, DLP)
    assert str(caught.value).startswith(f"{section} could not be computed (KeyError: 'quarter')")


# --------------------------------------------------------------------------------------------------
# Exposure: CSV table and OMOP CDM; observed against expected
# --------------------------------------------------------------------------------------------------


def test_exposure_csv(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "exposure.csv"
    path.write_text(
        "period,patients,patient_years,source\n"
        "interval,120,55.5,EU sales\ninterval,80,30,US sales\ncumulative,400,610.25,worldwide\n2025-Q3,90,40,EU\n",
        encoding="utf-8",
    )
    assert len(read_exposure_csv(path)) == 4
    with session_scope(sqlite_engine) as session:
        data = collect_psur(session, "uplizna", START, DLP, exposure=path)
    e = data.exposure
    assert (e.interval_patients, e.interval_patient_years) == (200, 85.5)
    assert (e.cumulative_patients, e.cumulative_patient_years) == (400, 610.25)
    assert data.parameters["exposure_sha256"] is not None
    html = render_psur_html(data)
    assert "Exposure table supplied by the MAH (exposure.csv)." in html and "US sales" in html


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("period,patients\ninterval,3\n", "missing column(s) patient_years, source"),
        ("period,patients,patient_years,source\ninterval,many,3,x\n", "line 2: patients must be a whole number"),
        ("period,patients,patient_years,source\ninterval,-1,3,x\n", "line 2: patients and patient_years must be >= 0"),
        ("period,patients,patient_years,source\n", "has no rows"),
        ("period,patients,patient_years,source\n,1,3,x\n", "line 2: empty period"),
    ],
)
def test_exposure_csv_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_exposure_csv(path)


def test_cdm_exposure_by_hand() -> None:
    """Eras of 6-monthly infusions (each dose covers 183 days), cut at death, counted by hand."""

    def dose(pid: int, day: str, i: int) -> dict[str, Any]:
        return {
            "drug_exposure_id": i,
            "person_id": pid,
            "drug_concept_id": v.INEBILIZUMAB,
            "drug_exposure_start_date": day,
            "drug_exposure_end_date": day,
            "days_supply": 1,
        }

    cdm = cdm_from_records(
        {
            "person": [{"person_id": p, "gender_concept_id": 8532, "year_of_birth": 1980} for p in (1, 2, 3, 4)],
            "observation_period": [
                {
                    "person_id": p,
                    "observation_period_start_date": "2020-01-01",
                    "observation_period_end_date": "2026-12-31",
                }
                for p in (1, 2, 3, 4)
            ],
            "drug_exposure": [
                dose(1, "2025-01-01", 1),  # covers to 2025-07-02
                dose(1, "2025-07-01", 2),  # joined: era 2025-01-01..2025-12-30
                dose(2, "2024-01-01", 3),  # 2024-01-01..2024-07-01, before the interval
                dose(3, "2026-01-05", 4),  # after the DLP
                dose(4, "2025-12-01", 5),  # cut at death on 2025-12-10
            ],
            "death": [{"person_id": 4, "death_date": "2025-12-10"}],
        }
    )
    with cdm:
        e = cdm_exposure(cdm, load_plan("uplizna"), START, DLP)
    assert (e.interval_patients, e.cumulative_patients) == (2, 3)
    assert e.interval_patient_years == pytest.approx((183 + 10) / 365.25)
    assert e.cumulative_patient_years == pytest.approx((364 + 183 + 10) / 365.25)


@pytest.fixture(scope="module")
def omop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("psur_omop")
    synthesise_omop(700, 21, out)
    return out


def test_cdm_study_rates_give_observed_against_expected(sqlite_engine: Engine, omop: Path) -> None:
    _intake(sqlite_engine, synthesise_cases(150, seed=2))
    with session_scope(sqlite_engine) as session:
        data = collect_psur(session, "uplizna", START, DLP, cdm=omop)
    assert data.exposure.kind == "cdm" and data.exposure.cumulative_patients
    by_id = {e.concern.id: e for e in data.evaluations}
    infusion = by_id["infusion-reaction"]
    assert infusion.study is not None and infusion.study.rate_per_100py is not None
    py = data.exposure.interval_patient_years
    if py:
        assert infusion.expected_interval == pytest.approx(infusion.study.rate_per_100py / 100 * py)
    assert by_id["safety-in-patients-65-years"].study is None  # a patient criterion only: no outcome concepts
    html = render_psur_html(data)
    assert "OMOP CDM" in html and "no study rate" in html


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(cli_env: Path) -> Iterator[Path]:
    yield cli_env


def test_cli_psur_writes_files(cli: Path) -> None:
    result = runner.invoke(app, ["psur", "--from", "2025-07-01", "--to", "2025-12-31", "--out", "psur", "--no-pdf"])
    assert result.exit_code == 0, result.output
    html = cli / "psur" / "psur_uplizna_2025-07-01_2025-12-31.html"
    assert html.is_file() and (cli / "psur" / "psur_uplizna_2025-07-01_2025-12-31.metadata.json").is_file()
    assert "input checksum (SHA-256)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-13-01", "--to", "2025-12-31"], "--from: '2025-13-01' is not a date"),
        (["--from", "2025-07-01", "--to", "31/12/2025"], "--to: '31/12/2025' is not a date"),
        (["--from", "2025-07-01", "--to", "2025-06-30"], "is before --from"),
        (["--from", "2025-07-01", "--to", "2025-12-31", "--plan", "nosuch"], "no plan 'nosuch'"),
        (["--from", "2025-07-01", "--to", "2025-12-31", "--exposure", "missing.csv"], "no such file"),
        (["--from", "2025-07-01"], "Missing option"),
    ],
)
def test_cli_psur_user_errors_exit_2(cli: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["psur", *args, "--no-pdf"])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_cli_psur_failing_section_exits_3_without_traceback(cli: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(psur_sections, "signals_in_interval", _broken)
    result = runner.invoke(app, ["psur", "--from", "2025-07-01", "--to", "2025-12-31", "--out", "psur", "--no-pdf"])
    assert result.exit_code == 3, result.output
    output = " ".join(result.output.split())
    assert "PSUR section 15 (signals) could not be computed (KeyError: 'quarter'); no report was written" in output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not (cli / "psur").exists()


def test_cli_psur_bad_inputs_fail_before_counting(cli: Path) -> None:
    (cli / "exposure.csv").write_text("period,patients\ninterval,3\n", encoding="utf-8")
    bad_csv = runner.invoke(
        app, ["psur", "--from", "2025-07-01", "--to", "2025-12-31", "--exposure", "exposure.csv", "--no-pdf"]
    )
    assert bad_csv.exit_code == 2, bad_csv.output
    assert "missing column(s) patient_years, source" in " ".join(bad_csv.output.split())
    bad_cdm = runner.invoke(app, ["psur", "--from", "2025-07-01", "--to", "2025-12-31", "--cdm", "nowhere", "--no-pdf"])
    assert bad_cdm.exit_code == 2, bad_cdm.output
    assert "no such folder or file" in " ".join(bad_cdm.output.split())
    assert not (cli / "var" / "out" / "psur").exists()
