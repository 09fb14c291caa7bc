"""Nothing product-specific outside the plan's data: an invented plan for another product
(tests/data/plans/examplimab.yaml) runs through the plan's studies and the effectiveness indicators, and
no UPLIZNA name appears in what they produce.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.model import Reaction
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.cli import app
from riskplan.errors import NotFoundError, UserInputError
from riskplan.minimisation import outcome_concerns, outcome_indicators, premedication_from_cdm
from riskplan.plan.catalogue import load_plan, plan_from_data
from riskplan.plan.loading import PlanLossRefused, load_plan_version
from riskplan.plan.model import RiskManagementPlan
from riskplan.plan.versions import record_plan
from riskplan.reports.study_report import render_study_html
from riskplan.store.db import session_scope
from riskplan.studies import open_cdm, run_plan_study, schedule_from_plan, synthesise_omop
from riskplan.studies.plan_studies import drug_definition, product_drug, runnable
from riskplan.terms.coding import OpenTermList

PLAN_FILE = Path(__file__).resolve().parents[1] / "data" / "plans" / "examplimab.yaml"
# The product and its substance. (The synthetic CDM is an NMOSD population: its most frequent conditions,
# e.g. neuromyelitis optica, are the data's and rightly appear among the baseline characteristics.)
UPLIZNA = re.compile(r"uplizna|inebilizumab", re.IGNORECASE)
runner = CliRunner()


@pytest.fixture(name="plan")
def plan_fixture() -> RiskManagementPlan:
    return load_plan(str(PLAN_FILE))


@pytest.fixture(name="cdm_dir", scope="module")
def cdm_dir_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("cdm") / "cdm"
    synthesise_omop(600, 5, out)
    yield out


def _no_uplizna(text: str, where: str) -> None:
    found = sorted({m.group(0).casefold() for m in UPLIZNA.finditer(text)})
    assert not found, f"{where} names {found}"


def test_every_study_design_runs_for_another_product(plan: RiskManagementPlan, cdm_dir: Path) -> None:
    runnable_ids = [s.id for s in plan.studies if runnable(plan, s)]
    assert runnable_ids == [
        "examplimab-registry",
        "examplimab-pregnancy",
        "examplimab-new-users",
        "examplimab-long-term",
    ]
    with open_cdm(cdm_dir) as cdm:
        for study_id in runnable_ids:
            run = run_plan_study(cdm, plan, study_id, plan_label="examplimab (plan file, not stored)")
            titles = [s.title for s in run.sections]
            html = render_study_html(run, generated=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
            _no_uplizna(" ".join(titles) + html, study_id)
            assert "examplimab" in html
            if study_id == "examplimab-registry":
                assert "Cohorts: examplimab vs azathioprine" in titles
                assert "Baseline characteristics: examplimab vs azathioprine" in titles
                assert not any("rituximab" in t for t in titles)  # only the plan's comparators
            if study_id == "examplimab-new-users":
                utilisation = next(s for s in run.sections if s.kind == "utilisation")
                assert (
                    utilisation.description == "examplimab (SmPC 4.2): 600 mg on day 1 and day 8, then every 4 months"
                )
            if study_id == "examplimab-long-term":
                assert any("Low White Cell Count" in t for t in titles)


def test_the_product_dosing_and_schedule_come_from_the_plan(plan: RiskManagementPlan) -> None:
    definition = drug_definition(product_drug(plan))
    assert (definition.name, definition.drug.concept_ids) == ("examplimab", (1314273,))
    assert (definition.time_at_risk.dose_covers_days, definition.time_at_risk.grace_days) == (122, 60)
    schedule = schedule_from_plan(plan)
    assert schedule is not None
    assert (schedule.loading_days, schedule.interval_days) == ((0, 7), 122)
    # the bundled plan's own values, now data of its analysis block
    uplizna = load_plan("uplizna")
    tar = drug_definition(product_drug(uplizna)).time_at_risk
    assert (tar.dose_covers_days, tar.grace_days) == (183, 90)
    bundled = schedule_from_plan(uplizna)
    assert bundled is not None and (bundled.loading_days, bundled.interval_days) == ((0, 14), 183)


def test_study_run_command_with_the_plan_file(cli_env: Path, cdm_dir: Path) -> None:
    out = cli_env / "studies"
    args = ["study", "run", "examplimab-new-users", "--cdm", str(cdm_dir), "--plan", str(PLAN_FILE)]
    result = runner.invoke(app, [*args, "--out", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    html = (out / "examplimab-new-users.html").read_text("utf-8")
    results = json.loads((out / "examplimab-new-users.json").read_text("utf-8"))
    assert results["plan"] == "examplimab (plan file, not stored)"
    _no_uplizna(html + json.dumps(results) + result.output, "study run")


def test_a_study_without_an_analysis_design_is_a_clear_error(
    cli_env: Path, plan: RiskManagementPlan, cdm_dir: Path
) -> None:
    with open_cdm(cdm_dir) as cdm, pytest.raises(NotFoundError, match="has no analysis design"):
        run_plan_study(cdm, plan, "examplimab-survey")
    args = ["study", "run", "examplimab-survey", "--cdm", str(cdm_dir), "--plan", str(PLAN_FILE), "--no-pdf"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "examplimab-survey" in result.output and "analysis" in result.output


def test_a_product_without_omop_concepts_is_a_clear_error(plan: RiskManagementPlan) -> None:
    data = plan.model_dump(mode="json")
    data["analysis"]["product"] = None
    unmapped = plan_from_data(data, "test")
    with pytest.raises(UserInputError, match="no OMOP concept for the substance 'examplimab'"):
        drug_definition(product_drug(unmapped))


def test_effectiveness_indicators_of_another_product(
    plan: RiskManagementPlan, sqlite_engine: Engine, cdm_dir: Path
) -> None:
    assert outcome_concerns(plan) == ["serious-infections", "infusion-reaction"]
    processor = CaseProcessor(plan, OpenTermList(plan))
    icsrs = [
        make_icsr(
            "XX-EX-2025-1", received="20250115", reactions=(Reaction(verbatim_term="infusion related reaction"),)
        ),
        make_icsr("XX-EX-2025-2", received="20250402"),  # pneumonia, hospitalised: a serious infection
    ]
    with session_scope(sqlite_engine) as session:
        record_plan(session, plan, who="test")
        store_cases(session, [processor.assess(i) for i in icsrs], plan_name="examplimab", plan_version=1, who="test")
    with session_scope(sqlite_engine) as session:
        infections, reactions = outcome_indicators(session, "examplimab")
    assert (infections.concern_id, infections.total_cases) == ("serious-infections", 1)
    assert (reactions.concern_id, reactions.total_cases) == ("infusion-reaction", 1)

    with open_cdm(cdm_dir) as cdm:
        shares = premedication_from_cdm(cdm, plan)
    assert shares and all(s.definition.startswith("examplimab doses of new users") for s in shares)
    _no_uplizna(json.dumps([s.to_dict() for s in shares]), "premedication indicators")


def test_a_plan_without_an_analysis_block_counts_no_indicator_and_runs_no_study(plan: RiskManagementPlan) -> None:
    data = plan.model_dump(mode="json")
    data["analysis"] = None
    bare = plan_from_data(data, "test")
    assert outcome_concerns(bare) == []
    assert not any(runnable(bare, s) for s in bare.studies)


def test_the_analysis_block_names_only_studies_of_the_plan(plan: RiskManagementPlan) -> None:
    data = plan.model_dump(mode="json")
    data["analysis"]["studies"]["no-such-study"] = {"design": "pregnancy registry"}
    with pytest.raises(UserInputError, match=r"analysis\.studies names study id\(s\) no-such-study"):
        plan_from_data(data, "test")


def test_loading_a_summary_keeps_the_analysis_block_and_a_silent_loss_is_refused(sqlite_engine: Engine) -> None:
    bundled = load_plan("uplizna")
    data = bundled.model_dump(mode="json")
    data.update(analysis=None, patient_card=None, absent=["patient card"])  # as a plan read from a summary
    from_summary = plan_from_data(data, "parsed summary")
    with session_scope(sqlite_engine) as session:
        record_plan(session, bundled, who="test")
        done = load_plan_version(session, from_summary, who="test", source="summary.txt")
    assert done.version.version == 1 and not done.created  # nothing lost, nothing changed
    assert "the analysis block (study designs, effectiveness indicators)" in " ".join(done.lines())

    data.update(absent=[], patient_card=bundled.model_dump(mode="json")["patient_card"])  # a full file, no block
    with session_scope(sqlite_engine) as session, pytest.raises(PlanLossRefused, match="the analysis block"):
        load_plan_version(session, plan_from_data(data, "edited.yaml"), who="test", source="edited.yaml")
