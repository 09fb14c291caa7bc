"""PBRER summary tabulations (ICH E2C(R2) 3.6, Appendix B) against independent SQL and hand counts: section 6.3
post-marketing reactions, serious and non-serious, by SOC and PT; section 6.2 serious adverse events from
clinical trials by treatment arm; appendix 20.5 causality per drug-reaction pair; what the report says about
signals detected after the data lock point. One SQLite database for the module."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from case_factory import inebilizumab, make_icsr
from riskplan.cases.codes import DrugRole, Outcome, ReportType, StudyType
from riskplan.cases.intake import intake, intake_context
from riskplan.cases.model import Drug, Hl7Timestamp, Icsr, Reaction, Study, Substance
from riskplan.cases.synth import synthesise_cases
from riskplan.plan.catalogue import load_plan
from riskplan.reports.psur import collect_psur, count_cases, render_psur_html
from riskplan.reports.psur_data import PsurData
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import upgrade

START = dt.date(2025, 7, 1)
DLP = dt.date(2025, 12, 31)


def _reaction(verbatim: str, *, serious: bool) -> Reaction:
    return Reaction(
        verbatim_term=verbatim,
        hospitalisation=True if serious else None,
        start_date=Hl7Timestamp("20250601"),
        outcome=Outcome.RECOVERED,
    )


def _trial(wid: str, drug: Drug, *, serious: bool = True, received: str = "20251001") -> Icsr:
    icsr = make_icsr(
        wid,
        received=received,
        reactions=(_reaction("pneumonia" if serious else "headache", serious=serious),),
        drugs=(drug,),
    )
    return icsr.model_copy(
        update={"report_type": ReportType.STUDY, "study": Study(name="N-MOMENTUM", study_type=StudyType.CLINICAL_TRIAL)}
    )


def hand_cases() -> list[Icsr]:
    """Cases whose tabulation a reader counts by hand (see the tests)."""
    placebo = Drug(role=DrugRole.SUSPECT, name="Placebo", substances=(Substance(name="placebo"),))
    comparator = Drug(role=DrugRole.SUSPECT, name="Rituximab", substances=(Substance(name="rituximab"),))
    blinded = inebilizumab().model_copy(update={"blinded": True})
    return [
        # spontaneous: a serious case with a non-serious reaction, and a non-serious case
        make_icsr(
            "GB-T-SER-NS",
            received="20251010",
            reactions=(_reaction("pneumonia", serious=True), _reaction("headache", serious=False)),
        ),
        make_icsr("GB-T-NONSER", received="20250310", reactions=(_reaction("headache", serious=False),)),
        # clinical trial: one per arm, and a non-serious one (neither in 6.2 nor in 6.3)
        _trial("GB-T-CT-IP", inebilizumab()),
        _trial("GB-T-CT-PBO", placebo),
        _trial("GB-T-CT-BLIND", blinded),
        _trial("GB-T-CT-COMP", comparator, received="20250301"),
        _trial("GB-T-CT-NONSER", inebilizumab(), serious=False),
    ]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('tab') / 'riskplan.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        ctx = intake_context(session, "uplizna", "tester")
        intake(session, [*synthesise_cases(160, seed=21), *hand_cases()], context=ctx, who="tester")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def data(db: Engine) -> PsurData:
    with session_scope(db) as session:
        return collect_psur(session, "uplizna", START, DLP)


# Independent SQL: the source from the parsed JSON (json_extract), the version as at the DLP by a correlated
# MAX, the case-PT pairs and their sums in one statement (the code reads the JSON by text search and fills a
# temporary table).
AT_DLP = """
WITH at_dlp AS (
  SELECT v.id AS vid, v.case_id AS cid, COALESCE(v.first_received, v.received) AS fr, v.serious AS case_serious,
    CASE
      WHEN json_extract(v.icsr_json, '$.report_type') = '1' THEN 'spontaneous'
      WHEN json_extract(v.icsr_json, '$.report_type') = '2'
           AND json_extract(v.icsr_json, '$.study.study_type') = '1' THEN 'clinical trial'
      WHEN json_extract(v.icsr_json, '$.report_type') IN ('2', '3') THEN 'solicited'
      ELSE 'not available'
    END AS src
  FROM icsr_case_version v JOIN icsr_case c ON c.id = v.case_id
  WHERE c.plan_name = 'uplizna' AND v.valid = 1 AND COALESCE(v.first_received, v.received) <= :dlp
    AND v.version = (SELECT MAX(w.version) FROM icsr_case_version w WHERE w.case_id = v.case_id AND w.received <= :dlp)
)
"""

POST_MARKETING_SQL = (
    AT_DLP
    + """
, pairs AS (
  SELECT a.src, COALESCE(r.soc_name, '(not coded)') AS soc, COALESCE(r.pt_name, '(not coded)') AS pt, a.cid,
         MAX(CASE WHEN r.serious THEN 1 ELSE 0 END) AS ser, CASE WHEN a.fr >= :start THEN 1 ELSE 0 END AS inside
  FROM at_dlp a JOIN icsr_reaction r ON r.case_version_id = a.vid
  GROUP BY a.src, r.soc_name, r.pt_name, a.cid
)
SELECT src, soc, pt, SUM(ser * inside), SUM(ser), SUM((1 - ser) * inside), SUM(1 - ser)
FROM pairs GROUP BY src, soc, pt
"""
)

TRIAL_SQL = (
    AT_DLP
    + """
SELECT COALESCE(r.soc_name, '(not coded)'), COALESCE(r.pt_name, '(not coded)'), COUNT(DISTINCT a.cid)
FROM at_dlp a JOIN icsr_reaction r ON r.case_version_id = a.vid
WHERE a.src = 'clinical trial' AND a.case_serious AND r.serious
GROUP BY 1, 2
"""
)


def _rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), {"start": START.isoformat(), "dlp": DLP.isoformat()}))


def test_post_marketing_tabulation_serious_and_non_serious_match_independent_sql(db: Engine) -> None:
    with session_scope(db) as session:
        counts = count_cases(session, load_plan("uplizna"), START, DLP)
    want = {
        (src, soc, pt): (int(a), int(b), int(c), int(d)) for src, soc, pt, a, b, c, d in _rows(db, POST_MARKETING_SQL)
    }
    got = {
        (r.source, r.soc, r.pt): (r.interval, r.cumulative, r.nonserious_interval, r.nonserious_cumulative)
        for r in counts.tabulation
    }
    assert got == want
    assert sum(v[3] for v in got.values()) > 50  # non-serious reactions are tabulated
    # hand counts: headache of GB-T-SER-NS (serious case, non-serious reaction, interval) and of GB-T-NONSER
    # (non-serious case, before the interval) are both in the spontaneous table
    with db.connect() as conn:
        hand = conn.execute(
            text(
                AT_DLP + "SELECT COUNT(*) FROM at_dlp a JOIN icsr_case c ON c.id = a.cid "
                "JOIN icsr_reaction r ON r.case_version_id = a.vid "
                "WHERE c.worldwide_id IN ('GB-T-SER-NS', 'GB-T-NONSER') AND r.pt_name = 'Headache' AND NOT r.serious"
            ),
            {"dlp": DLP.isoformat()},
        ).scalar_one()
    assert hand == 2
    assert ("clinical trial", "Nervous system disorders", "Headache") in got  # GB-T-CT-NONSER: source trial
    # every case-PT entry of a counted case appears exactly once
    with db.connect() as conn:
        entries = conn.execute(
            text(
                AT_DLP + "SELECT COUNT(*) FROM (SELECT DISTINCT a.cid, r.soc_name, r.pt_name "
                "FROM at_dlp a JOIN icsr_reaction r ON r.case_version_id = a.vid)"
            ),
            {"dlp": DLP.isoformat()},
        ).scalar_one()
    assert sum(v[1] + v[3] for v in got.values()) == entries


def test_trial_tabulation_by_arm_matches_sql_and_hand_counts(db: Engine) -> None:
    with session_scope(db) as session:
        counts = count_cases(session, load_plan("uplizna"), START, DLP)
    by_pt: dict[tuple[str, str], int] = {}
    for r in counts.trial_tabulation:
        by_pt[(r.soc, r.pt)] = by_pt.get((r.soc, r.pt), 0) + r.cumulative
    assert by_pt == {(soc, pt): int(n) for soc, pt, n in _rows(db, TRIAL_SQL)}
    # hand counts: one serious pneumonia each in the placebo, blinded and comparator arms (the comparator case
    # before the interval); the non-serious trial case nowhere; synthetic trial cases take UPLIZNA
    arms = {
        (r.arm, r.pt): (r.interval, r.cumulative) for r in counts.trial_tabulation if r.arm != "investigational product"
    }
    assert arms == {
        ("placebo", "Pneumonia"): (1, 1),
        ("blinded", "Pneumonia"): (1, 1),
        ("comparator", "Pneumonia"): (0, 1),
    }
    assert counts.trial_arm_cases["placebo"] == (1, 1)
    assert counts.trial_arm_cases["comparator"] == (0, 1)
    serious_ct = sum(c for _, c in counts.trial_arm_cases.values())
    assert serious_ct == counts.serious_by_source["clinical trial"][1]
    assert all(r.pt != "Headache" for r in counts.trial_tabulation)  # non-serious trial case: not in 6.2


def _table(html: str, caption: str) -> str:
    start = html.index(f"<caption>{caption}")
    return html[start : html.index("</table>", start)]


def test_rendered_tabulations_say_what_they_count(data: PsurData) -> None:
    html = render_psur_html(data)
    spontaneous = _table(html, "Adverse reactions from spontaneous post-marketing sources")
    assert "Non-serious" in spontaneous and "all PTs: reactions" in spontaneous
    assert "Preferred term (PT rows: cases)" in spontaneous
    total = re.search(
        r"Total</td><td[^>]*>all PTs: reactions</td><td[^>]*></td>((?:<td[^>]*>[^<]*</td>){6})", spontaneous
    )
    assert total is not None
    cells = [int(x.replace(",", "")) for x in re.findall(r">([\d,]+)<", total.group(1))]
    rows = [r for r in data.counts.tabulation if r.source == "spontaneous"]
    si, sc = sum(r.interval for r in rows), sum(r.cumulative for r in rows)
    ni, nc = sum(r.nonserious_interval for r in rows), sum(r.nonserious_cumulative for r in rows)
    assert cells == [si, sc, ni, nc, si + ni, sc + nc]
    trials = _table(html, "Serious adverse events from clinical trials (case reports), by treatment arm")
    for arm in ("investigational product", "comparator", "placebo", "blinded"):
        assert f"<th>{arm}</th>" in trials
    assert "SOC rows and totals count reactions" in html


def test_causality_appendix_counts_pairs_and_names_the_method(db: Engine, data: PsurData) -> None:
    html = render_psur_html(data)
    assert data.causality is not None
    appendix = html[html.index('id="s20-5"') :]
    assert 'data-testid="causality"' in appendix and "not assessed" in appendix
    # independent count of the pairs: suspect/interacting inebilizumab drugs x reactions of the version known at
    # the DLP (latest with C.1.5 on or before it) of the valid cases first received in the interval
    pairs = _rows(
        db,
        """
        SELECT COUNT(*) FROM icsr_case c
        JOIN icsr_case_version v ON v.case_id = c.id
          AND v.version = (SELECT MAX(w.version) FROM icsr_case_version w WHERE w.case_id = c.id
                           AND w.received <= :dlp)
        JOIN icsr_drug d ON d.case_version_id = v.id
        JOIN icsr_reaction r ON r.case_version_id = v.id
        WHERE v.valid = 1 AND COALESCE(v.first_received, v.received) BETWEEN :start AND :dlp
          AND d.characterisation IN ('suspect', 'interacting')
          AND (lower(d.product) LIKE '%inebilizumab%' OR lower(d.substances) LIKE '%inebilizumab%')
        """,
    )[0][0]
    assert pairs > 20
    assert sum(data.causality.by_who_umc().values()) == pairs
    for method, categories in data.causality.counts.items():
        for category, n in categories.items():
            assert f'<td>{method}</td><td>{category}</td><td class="n">{n:,}</td>' in appendix


def test_signals_after_the_dlp_are_said_so(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from riskplan.reports import psur_sections
    from riskplan.signals.workflow import SignalSummary

    later = [
        SignalSummary(f"SIG-{i}", "x", "detected", DLP + dt.timedelta(days=10 + i), None, None, (), "new")
        for i in range(3)
    ]
    monkeypatch.setattr(psur_sections, "signals_in_interval", lambda s, a, b: later if a > DLP else [])
    with session_scope(db) as session:
        html = render_psur_html(collect_psur(session, "uplizna", START, DLP))
    text_ = " ".join(html.split())
    assert (
        "Signals: 0 new and 0 closed in the interval. "
        "3 signal(s) detected after the data lock point (2025-12-31), not in this period" in text_
    )
    assert (
        "No signal was new, ongoing or closed in the interval "
        "(3 detected after the data lock point, not in this period)." in text_
    )
