"""The DSUR, the PADER, the schedule and stored reports (riskplan.reports): numbers against independent SQL and
hand-made cases, the PDF layout, byte-identical regeneration and the command line's errors (exit 2)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from case_factory import inebilizumab, make_icsr
from pdf_pixels import ink_in_right_margin, right_margins
from riskplan.cases.codes import DrugRole, Outcome, Qualification, ReportType, Sex, StudyType
from riskplan.cases.intake import intake, intake_context
from riskplan.cases.model import (
    Drug,
    DrugReactionAssessment,
    Hl7Timestamp,
    Icsr,
    Patient,
    PrimarySource,
    Quantity,
    Reaction,
    RelatednessAssessment,
    Study,
    StudyRegistration,
    Substance,
)
from riskplan.plan.catalogue import load_plan
from riskplan.plan.versions import record_plan
from riskplan.reports import generate_report, list_reports, regenerate, report_bytes, report_schedule
from riskplan.reports.cli import app
from riskplan.reports.dsur import render_dsur_html
from riskplan.reports.dsur_data import collect_dsur
from riskplan.reports.pader import collect_pader, render_pader_html
from riskplan.reports.psur_data import collect_psur
from riskplan.reports.schedule import dsur_periods, eu_psur_periods
from riskplan.settings import get_settings
from riskplan.store.audit import audited_transaction
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import upgrade

START = dt.date(2025, 7, 1)
DLP = dt.date(2025, 12, 31)
NCT = "NCT02200770"
runner = CliRunner()


def _day(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def _reaction(term: str, serious: bool, onset: str = "20250601") -> Reaction:
    return Reaction(
        verbatim_term=term,
        hospitalisation=True if serious else None,
        start_date=Hl7Timestamp(onset),
        outcome=Outcome.RECOVERING,
    )


def _trial_case(
    wid: str, received: dt.date, drugs: tuple[Drug, ...], reactions: tuple[Reaction, ...], nct: str = NCT
) -> Icsr:
    icsr = make_icsr(
        wid,
        received=_day(received),
        reactions=reactions,
        drugs=drugs,
        reporter=PrimarySource(country="US", qualification=Qualification.PHYSICIAN),
    )
    study = Study(registrations=(StudyRegistration(number=nct, country="US"),), study_type=StudyType.CLINICAL_TRIAL)
    return Icsr.model_validate(icsr.model_dump() | {"report_type": ReportType.STUDY, "study": study.model_dump()})


def _drug(name: str, *, blinded: bool | None = None, assessments: tuple[DrugReactionAssessment, ...] = ()) -> Drug:
    return Drug(
        role=DrugRole.SUSPECT,
        name=name,
        substances=(Substance(name=name),),
        blinded=blinded,
        reaction_assessments=assessments,
    )


def trial_cases() -> list[Icsr]:
    pneumonia = _reaction("pneumonia", True)
    uti = _reaction("urinary tract infection", True)
    unrelated = DrugReactionAssessment(
        reaction_id=pneumonia.id,
        assessments=(
            RelatednessAssessment(source="investigator", method="global introspection", result="not related"),
        ),
    )
    return [
        # blinded treatment, in the interval: listed (no causality given: treated as related)
        _trial_case("US-T-BLIND", dt.date(2025, 8, 1), (_drug("inebilizumab or placebo", blinded=True),), (pneumonia,)),
        # open-label inebilizumab, in the interval: pneumonia judged not related (tabulated, not listed), UTI listed
        _trial_case(
            "US-T-INEB",
            dt.date(2025, 9, 1),
            (_drug("inebilizumab", assessments=(unrelated,)),),
            (pneumonia, uti),
        ),
        # placebo arm, before the interval: cumulative only
        _trial_case("US-T-PLACEBO", dt.date(2025, 3, 1), (_drug("placebo"),), (_reaction("pneumonia", True),)),
        # another trial
        _trial_case(
            "US-T-OTHER", dt.date(2025, 10, 1), (inebilizumab(),), (_reaction("pneumonia", True),), "NCT99999999"
        ),
        # non-serious: no SAE
        _trial_case("US-T-MILD", dt.date(2025, 10, 2), (inebilizumab(),), (_reaction("headache", False),)),
    ]


def _spontaneous(wid: str, received: dt.date, country: str, term: str, serious: bool) -> Icsr:
    return make_icsr(
        wid,
        received=_day(received),
        reactions=(_reaction(term, serious),),
        reporter=PrimarySource(country=country, qualification=Qualification.PHYSICIAN),
        patient=Patient(name="AB", age=Quantity(value="41", unit="a"), sex=Sex.FEMALE),
    )


def spontaneous_cases() -> list[Icsr]:
    return [
        _spontaneous("US-S-HEADACHE", dt.date(2025, 8, 15), "US", "headache", False),  # periodic
        _spontaneous("US-S-UTI", dt.date(2025, 9, 15), "US", "urinary tract infection", True),  # serious, listed
        _spontaneous("US-S-PNEUMONIA", dt.date(2025, 10, 15), "US", "pneumonia", True),  # 15-day Alert
        _spontaneous("GB-S-HEADACHE", dt.date(2025, 8, 20), "GB", "headache", False),  # foreign: not reportable
        _spontaneous("US-S-OLD", dt.date(2025, 5, 1), "US", "headache", False),  # before the interval
    ]


def _intake(engine: Engine, icsrs: list[Icsr]) -> None:
    with session_scope(engine) as session:
        ctx = intake_context(session, "uplizna", "tester")
        intake(session, icsrs, context=ctx, who="tester")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    """One SQLite database for the module: the trial and spontaneous cases above."""
    path = tmp_path_factory.mktemp("periodic") / "riskplan.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    _intake(engine, [*trial_cases(), *spontaneous_cases()])
    yield url, engine
    engine.dispose()


# --------------------------------------------------------------------------------------------------
# Independent counts: plain SQL over the stored rows, the documents parsed here
# --------------------------------------------------------------------------------------------------

AS_OF_DLP = """
SELECT v.id, v.case_id, COALESCE(v.first_received, v.received) AS first_rec, v.serious, v.icsr_json
FROM icsr_case_version v JOIN icsr_case c ON c.id = v.case_id
WHERE c.plan_name = 'uplizna' AND v.received <= :dlp AND v.valid = :yes
  AND COALESCE(v.first_received, v.received) <= :dlp
  AND NOT EXISTS (SELECT 1 FROM icsr_case_version w WHERE w.case_id = v.case_id AND w.received <= :dlp
                  AND w.version > v.version)
"""


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _arm(doc: dict[str, Any]) -> str:
    drugs = [d for d in doc.get("drugs", []) if d.get("role") in ("1", "3", "4")]
    if any(d.get("blinded") for d in drugs):
        return "blinded"
    names = " ".join((d.get("name") or "").lower() for d in drugs)
    return "inebilizumab" if "inebilizumab" in names else "placebo" if "placebo" in names else "other"


def independent_sae(engine: Engine) -> dict[tuple[str, str, str], set[int]]:
    """(SOC, PT, arm) -> case ids: serious reactions of serious clinical-trial cases of N-MOMENTUM or others."""
    found: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    with engine.connect() as conn:
        versions = conn.execute(text(AS_OF_DLP), {"dlp": DLP, "yes": True}).all()
        for vid, cid, _first, serious, doc_json in versions:
            doc = json.loads(doc_json)
            if not serious or doc.get("report_type") != "2" or (doc.get("study") or {}).get("study_type") != "1":
                continue
            regs = [r.get("number") for r in (doc.get("study") or {}).get("registrations", [])]
            arm = _arm(doc) if NCT in regs else "other"
            for soc, pt in conn.execute(
                text("SELECT soc_name, pt_name FROM icsr_reaction WHERE case_version_id = :v AND serious = :yes"),
                {"v": vid, "yes": True},
            ):
                found[(soc, pt, arm)].add(int(cid))
    return found


def test_dsur_tabulation_matches_independent_sql(db: tuple[str, Engine]) -> None:
    _url, engine = db
    with session_scope(engine) as session:
        data = collect_dsur(session, "uplizna", START, DLP)
    expected = independent_sae(engine)
    got = {(r.soc, r.pt, arm): n for r in data.sae_rows for arm, n in r.by_arm.items() if n}
    assert got == {k: len(v) for k, v in expected.items()}
    # the hand-made cases: pneumonia in the blinded, inebilizumab, placebo arms and the other trial
    pneumonia = next(r for r in data.sae_rows if r.pt.casefold() == "pneumonia")
    assert pneumonia.by_arm == {"inebilizumab": 1, "placebo": 1, "blinded": 1, "other": 1}
    assert pneumonia.total == 4
    assert data.cases_by_trial == {"n-momentum": (2, 3), "other or unidentified trial": (1, 1)}


def test_pbrer_and_dsur_put_each_trial_case_in_the_same_arm(db: tuple[str, Engine]) -> None:
    """One definition of the arm (riskplan.cases.treatment_arm) for PBRER 6.2 and the DSUR: the hand-made
    pneumonia cases are blinded, placebo and inebilizumab in both (the DSUR names the trial's arms and puts the
    case of another trial under "other"; the PBRER, which has no trials, calls inebilizumab the investigational
    product)."""
    _url, engine = db
    with session_scope(engine) as session:
        dsur = collect_dsur(session, "uplizna", START, DLP)
        pbrer = collect_psur(session, "uplizna", START, DLP)
    by_arm = {r.arm: r.cumulative for r in pbrer.counts.trial_tabulation if r.pt.casefold() == "pneumonia"}
    assert by_arm == {"investigational product": 2, "placebo": 1, "blinded": 1}
    pneumonia = next(r for r in dsur.sae_rows if r.pt.casefold() == "pneumonia")
    assert pneumonia.by_arm["blinded"] == by_arm["blinded"]
    assert pneumonia.by_arm["placebo"] == by_arm["placebo"]
    assert pneumonia.by_arm["inebilizumab"] + pneumonia.by_arm["other"] == by_arm["investigational product"]


def test_dsur_line_listing_leaves_out_what_the_investigator_excluded(db: tuple[str, Engine]) -> None:
    _url, engine = db
    with session_scope(engine) as session:
        data = collect_dsur(session, "uplizna", START, DLP)
    listed = sorted((r.arm, r.pt.casefold()) for r in data.listing)
    # in the interval: blinded pneumonia, inebilizumab UTI (its pneumonia is "not related"), the other trial's
    # pneumonia; the placebo case was received before the interval
    assert listed == [("blinded", "pneumonia"), ("inebilizumab", "urinary tract infection"), ("other", "pneumonia")]
    html = render_dsur_html(data)
    for heading in ("Executive summary", "5 Inventory of clinical trials", "7.2 Line listing", "7.3 Cumulative"):
        assert heading in html
    assert "312.33" in html and "investigator: not related" not in html


def _tables_wider_than_page(html: str, png_dir: Path | None = None, stem: str = "") -> list[str]:
    """Tables whose laid-out box (WeasyPrint's layout of the PDF page) reaches past the page's content area; with
    ``png_dir``, also the pages of the PDF drawn from that layout (rendered to PNG) with ink in the right margin."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    document = HTML(string=html).render()
    wide: list[str] = []
    if png_dir is not None:
        wide += ink_in_right_margin(document.write_pdf(), right_margins(document), png_dir, stem)
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        right = page_box.content_box_x() + page_box.width
        stack = [page_box]
        while stack:
            box = stack.pop()
            if getattr(box, "element_tag", None) == "table" and box.position_x + box.margin_width() > right + 0.5:
                wide.append(f"page {number}: table {box.margin_width():.0f} pt wide, page {page_box.width:.0f} pt")
            stack.extend(getattr(box, "children", ()))
    return wide


def test_pdfs_have_no_table_wider_than_the_page(db: tuple[str, Engine], tmp_path: Path) -> None:
    _url, engine = db
    with session_scope(engine) as session:
        dsur = render_dsur_html(collect_dsur(session, "uplizna", START, DLP))
        pader = render_pader_html(collect_pader(session, "uplizna", START, DLP))
    assert _tables_wider_than_page(dsur, tmp_path, "dsur") == []
    assert _tables_wider_than_page(pader, tmp_path, "pader") == []
    assert {p.name for p in tmp_path.glob("*-1.png")} == {"dsur-1.png", "pader-1.png"}
    # the check finds a table that is too wide
    assert _tables_wider_than_page("<table style='width:300mm'><tr><td>x</td></tr></table>")


def test_dsur_contents_are_numbered_once_and_trial_registrations_are_not_broken(db: tuple[str, Engine]) -> None:
    import re

    import pypdfium2 as pdfium  # type: ignore[import-untyped]
    from weasyprint import HTML  # type: ignore[import-untyped]

    _url, engine = db
    with session_scope(engine) as session:
        html = render_dsur_html(collect_dsur(session, "uplizna", START, DLP))
    pages = pdfium.PdfDocument(HTML(string=html).write_pdf())
    texts = [pages[i].get_textpage().get_text_range() for i in range(len(pages))]
    contents = next(t for t in texts if "Table of contents" in t)
    # the titles carry the section numbers: a list marker as well read "1. 1 Introduction"
    assert "1 Introduction" in contents and re.findall(r"(?m)^\d+\. ?\r?$", contents) == []
    inventory = next(t for t in texts if "Inventory of clinical trials" in t and "Registration" in t)
    assert "2014-000253-36" in inventory  # the EudraCT number on one line, not "2014-000253-3" / "6"


def independent_pader(engine: Engine) -> set[str]:
    """US cases of the interval that are not 15-day Alerts: non-serious, or serious with every serious PT in the
    plan's RSI (serious and listed), 21 CFR 314.80(c)(2)(ii)."""
    expected = {e.pt.casefold() for e in (load_plan("uplizna").reference_safety_information or ()).expected_reactions}  # type: ignore[union-attr]
    found: set[str] = set()
    with engine.connect() as conn:
        for vid, _cid, first, serious, doc_json in conn.execute(text(AS_OF_DLP), {"dlp": DLP, "yes": True}):
            doc = json.loads(doc_json)
            if not START <= _date(first) <= DLP or doc["primary_sources"][0].get("country") != "US":
                continue
            pts = [
                str(pt).casefold()
                for (pt,) in conn.execute(
                    text("SELECT pt_name FROM icsr_reaction WHERE case_version_id = :v AND serious = :yes"),
                    {"v": vid, "yes": True},
                )
            ]
            if not serious or all(pt in expected for pt in pts):
                found.add(doc["worldwide_case_id"])
    return found


def test_pader_lists_the_non_expedited_cases_of_the_interval(db: tuple[str, Engine]) -> None:
    _url, engine = db
    with session_scope(engine) as session:
        data = collect_pader(session, "uplizna", START, DLP)
    assert {c.worldwide_id for c in data.cases} == independent_pader(engine)
    assert {"US-S-HEADACHE", "US-S-UTI"} <= {c.worldwide_id for c in data.cases}
    assert "US-S-PNEUMONIA" not in {c.worldwide_id for c in data.cases}
    assert data.alerts >= 1
    html = render_pader_html(data)
    assert "314.80(c)(2)(ii)(A)" in html and "US-S-HEADACHE" in html and "GB-S-HEADACHE" not in html


def test_schedule_from_the_plans_dates() -> None:
    plan = load_plan("uplizna")
    periods, basis = eu_psur_periods(plan, dt.date(2026, 12, 3))
    # IBD 2020-06-11, Art. 107c(2): four 6-monthly, two yearly, then 3-yearly; 70 / 90 days to submit
    assert [(str(s), str(d), str(due)) for s, d, due in periods[:2]] == [
        ("2020-06-11", "2020-12-10", "2021-02-18"),
        ("2020-12-11", "2021-06-10", "2021-08-19"),
    ]
    assert (str(periods[4][1]), str(periods[4][2])) == ("2023-06-10", "2023-08-19")
    assert (str(periods[6][0]), str(periods[6][1]), str(periods[6][2])) == ("2024-06-11", "2027-06-10", "2027-09-08")
    assert "107c(2)" in basis
    assert dsur_periods(plan, dt.date(2026, 12, 3))[0] == []  # no DIBD in the plan: said, not invented
    dated = plan.model_copy(
        update={
            "clinical_development": plan.clinical_development.model_copy(  # type: ignore[union-attr]
                update={"development_international_birth_date": dt.date(2015, 1, 15)}
            )
        }
    )
    first = dsur_periods(dated, dt.date(2016, 2, 1))[0]
    assert [(str(s), str(d), str(due)) for s, d, due in first] == [
        ("2015-01-15", "2016-01-14", "2016-03-14"),
        ("2016-01-15", "2017-01-14", "2017-03-15"),
    ]


# --------------------------------------------------------------------------------------------------
# Stored reports, regeneration, the command line
# --------------------------------------------------------------------------------------------------


def test_regenerated_report_is_byte_identical_after_a_case_past_the_dlp(db: tuple[str, Engine]) -> None:
    _url, engine = db
    stored = generate_report(engine, "dsur", "uplizna", START, DLP, who="tester", pdf=True)
    assert stored.pdf_sha256 and stored.data_lock_point == DLP and stored.generated_by == "tester"
    _intake(
        engine,
        [_trial_case("US-T-LATE", dt.date(2026, 1, 15), (inebilizumab(),), (_reaction("pneumonia", True),))],
    )
    again = regenerate(engine, stored.id)
    assert again.identical
    assert (again.html_sha256, again.pdf_sha256) == (stored.html_sha256, stored.pdf_sha256)
    with session_scope(engine) as session:
        assert report_bytes(session, stored.id, "pdf").startswith(b"%PDF")
        assert stored.id in [r.id for r in list_reports(session)]
        rows, _notes = report_schedule(session, "uplizna", dt.date(2026, 12, 3))
    assert {r.kind for r in rows} == {"psur", "pader"}
    with engine.connect() as conn:
        audited = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE entity_type = 'periodic_report' AND entity_id = :id"),
            {"id": str(stored.id)},
        ).scalar()
    assert audited and audited >= 1


@pytest.fixture
def cli(db: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    url, _engine = db
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", url)
    monkeypatch.setenv("RISKPLAN_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("RISKPLAN_USER", "tester")
    monkeypatch.delenv("RISKPLAN_CONFIG", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_pader_list_schedule_regenerate(cli: Path) -> None:
    made = runner.invoke(app, ["pader", "--from", "2025-07-01", "--to", "2025-12-31", "--out", "pader", "--no-pdf"])
    assert made.exit_code == 0, made.output
    assert (cli / "pader" / "pader_uplizna_2025-07-01_2025-12-31.html").is_file()
    listed = runner.invoke(app, ["list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    reports = json.loads(listed.output)
    pader = next(r for r in reports if r["kind"] == "pader")
    assert pader["data_lock_point"] == "2025-12-31" and pader["generated_by"] == "tester"
    again = runner.invoke(app, ["regenerate", str(pader["id"])])
    assert again.exit_code == 0, again.output
    assert "identical" in again.output
    schedule = runner.invoke(app, ["schedule", "--format", "json"])
    assert schedule.exit_code == 0, schedule.output
    due = json.loads(schedule.output)
    assert any(r["kind"] == "pader" and r["from"] == "2020-06-11" and r["due"] == "2020-10-10" for r in due["reports"])
    assert any("DSUR" in note for note in due["notes"])


def _plan_without_trials(engine: Engine) -> None:
    plan = load_plan("uplizna").model_copy(update={"name": "notrials", "clinical_development": None})
    with audited_transaction(engine) as session:
        record_plan(session, plan, who="tester", reason="a plan without trials")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dsur", "--from", "2025-12-31", "--to", "2025-07-01"], "is before --from"),
        (["pader", "--from", "2025-07-01", "--to", "2025-13-01"], "--to: '2025-13-01' is not a date"),
        (["regenerate", "999"], "no stored periodic report 999"),
        (["dsur", "--from", "2025-07-01", "--to", "2025-12-31", "--plan", "notrials"], "lists no clinical trials"),
        (["schedule", "--format", "xml"], "--format must be table or json"),
        # an output folder that cannot be made: before the fix a traceback, exit 1, and the report stored
        (["dsur", "--from", "2025-07-01", "--to", "2025-12-31", "--out", "afile"], "--out afile: is a file"),
        (["pader", "--from", "2025-07-01", "--to", "2025-12-31", "--out", "afile/sub"], "cannot be made"),
        (["psur", "--from", "2025-07-01", "--to", "2025-12-31", "--out", "afile/sub"], "cannot be made"),
        (["regenerate", "1", "--out", "afile"], "--out afile: is a file, not a folder"),
    ],
)
def test_cli_bad_input_exits_2_and_stores_nothing(
    cli: Path, db: tuple[str, Engine], args: list[str], message: str
) -> None:
    _url, engine = db
    if "notrials" in args:
        _plan_without_trials(engine)
    (cli / "afile").write_text("a file where the report's folder should be")
    with session_scope(engine) as session:
        before = len(list_reports(session))
    result = runner.invoke(app, [*args, "--no-pdf"] if args[0] in ("dsur", "pader", "psur") else args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    with session_scope(engine) as session:
        assert len(list_reports(session)) == before


def test_cli_psur_is_stored_and_regenerates_identically(cli: Path) -> None:
    made = runner.invoke(app, ["psur", "--from", "2025-07-01", "--to", "2025-12-31", "--out", "psur", "--no-pdf"])
    assert made.exit_code == 0, made.output
    listed = json.loads(runner.invoke(app, ["list", "--format", "json"]).output)
    psur = next(r for r in listed if r["kind"] == "psur")
    written = (cli / "psur" / "psur_uplizna_2025-07-01_2025-12-31.html").read_bytes()
    assert psur["html_sha256"] == hashlib.sha256(written).hexdigest()
    again = runner.invoke(app, ["regenerate", str(psur["id"])])
    assert again.exit_code == 0, again.output
    assert "identical" in again.output


INTERVAL_PAIRS = """
SELECT count(*) FROM icsr_case c
JOIN icsr_case_version v ON v.case_id = c.id
JOIN icsr_drug d ON d.case_version_id = v.id
JOIN icsr_reaction r ON r.case_version_id = v.id
WHERE c.plan_name = 'uplizna' AND v.valid = :yes
  AND v.version = (SELECT max(w.version) FROM icsr_case_version w WHERE w.case_id = c.id AND w.received <= :dlp)
  AND COALESCE(v.first_received, v.received) BETWEEN :start AND :dlp
  AND d.characterisation IN ('suspect', 'interacting')
  AND (lower(d.product) LIKE '%inebilizumab%' OR lower(d.substances) LIKE '%inebilizumab%')
"""


def _pairs_in_appendix(engine: Engine) -> int:
    """The drug-reaction pairs of PSUR appendix 20.5 (one per case, drug and reaction, whatever the methods)."""
    from riskplan.reports.psur import collect_psur

    with session_scope(engine) as session:
        causality = collect_psur(session, "uplizna", START, DLP).causality
    assert causality is not None
    return len({(p.case_number, p.drug_seq, p.reaction_seq) for p in causality.pairs})


def test_psur_regenerates_identically_after_a_follow_up_and_a_new_plan_version(db: tuple[str, Engine]) -> None:
    """Runs last in the module: it adds a follow-up after the DLP and approves new plan versions."""
    from riskplan.plan import approve_version
    from signing import QPPV

    _url, engine = db
    with audited_transaction(engine) as session:
        first, _ = record_plan(session, load_plan("uplizna"), who="tester", reason="the plan as approved")
        approve_version(session, "uplizna", first.version, signer=QPPV, reason="approved")
    stored = generate_report(engine, "psur", "uplizna", START, DLP, who="tester", pdf=False)
    assert stored.plan_version == first.version
    with engine.connect() as conn:
        at_dlp = conn.execute(text(INTERVAL_PAIRS), {"yes": True, "dlp": DLP, "start": START}).scalar()
    assert at_dlp and _pairs_in_appendix(engine) == at_dlp
    # a follow-up after the DLP adds a second reaction to an interval case: a new pair, in the next report only
    follow = _spontaneous("US-S-UTI", dt.date(2026, 1, 20), "US", "urinary tract infection", True)
    follow = follow.model_copy(
        update={"first_received": Hl7Timestamp("20250915"), "reactions": (*follow.reactions, _reaction("rash", False))}
    )
    _intake(engine, [follow])
    with engine.connect() as conn:
        latest = conn.execute(text(INTERVAL_PAIRS.replace("w.received <= :dlp", "1 = 1")), {"yes": True, "dlp": DLP,
                              "start": START}).scalar()  # fmt: skip
    assert latest == at_dlp + 1  # read as of now, the case has one pair more
    assert _pairs_in_appendix(engine) == at_dlp
    # a new plan version approved after the report: regeneration still uses the version the report used
    changed = load_plan("uplizna").model_copy(update={"rmp_version": "99.0"})
    with audited_transaction(engine) as session:
        second, created = record_plan(session, changed, who="tester", reason="a new RMP version")
        approve_version(session, "uplizna", second.version, signer=QPPV, reason="approved")
    assert created and second.version > first.version
    again = regenerate(engine, stored.id)
    assert again.identical, (again.html_sha256, stored.html_sha256)
    assert again.html_sha256 == stored.html_sha256 and again.input_checksum == stored.input_checksum
    with session_scope(engine) as session:
        html = report_bytes(session, stored.id, "html").decode("utf-8")
    assert f"uplizna version {first.version} (approved version)" in html
