"""The republished RMP Part VI summary (riskplan.reports.plan_summary): written in the format the parser reads.

The strongest check that the renderer writes the real format is that :func:`parse_summary_text` reads its
``.txt`` (and :func:`parse_summary_file` its PDF) back into the same concerns, measures and studies.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from pypdf import PdfReader
from typer.testing import CliRunner

from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import (
    AdditionalRiskMinimisation,
    ConcernCategory,
    PharmacovigilanceStudy,
    Recommendation,
    RiskManagementPlan,
    RoutineRiskMinimisation,
    SafetyConcern,
    StudyCategory,
)
from riskplan.plan.parser import parse_summary_file, parse_summary_text
from riskplan.plan.versions import record_plan
from riskplan.reports.cli import plan_summary
from riskplan.reports.plan_summary import render_plan_summary, route_phrase
from riskplan.settings import get_settings
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import upgrade

SUMMARIES = Path(__file__).resolve().parents[1] / "data" / "summaries"
SUMMARY_FILES = sorted(SUMMARIES.glob("*.txt"))
PRODUCT_FIELDS = ("name", "active_substance", "indication", "route", "epar_url")
CONCERN_FIELDS = (
    "id",
    "title",
    "short_title",
    "category",
    "evidence",
    "risk_factors",
    "routine_measures",
    "additional_measures",
)
STUDY_FIELDS = ("id", "short_name", "title", "sponsor", "category", "purpose", "objectives", "safety_concerns")


def assert_same_public_content(got: RiskManagementPlan, want: RiskManagementPlan) -> None:
    """Product, concerns with their measures, studies and statements: what the public summary carries."""
    for name in PRODUCT_FIELDS:
        assert getattr(got.product, name) == getattr(want.product, name), f"product.{name}"
    assert [c.id for c in got.safety_concerns] == [c.id for c in want.safety_concerns]
    for g, w in zip(got.safety_concerns, want.safety_concerns, strict=True):
        for name in CONCERN_FIELDS:
            assert getattr(g, name) == getattr(w, name), f"concern {w.id}: {name}"
    assert [s.id for s in got.studies] == [s.id for s in want.studies]
    for gs, ws in zip(got.studies, want.studies, strict=True):
        for name in STUDY_FIELDS:
            assert getattr(gs, name) == getattr(ws, name), f"study {ws.id}: {name}"
    assert got.studies_conditions_of_authorisation == want.studies_conditions_of_authorisation
    assert got.routine_pharmacovigilance.activities == want.routine_pharmacovigilance.activities


@pytest.fixture(scope="module")
def uplizna() -> RiskManagementPlan:
    return load_plan("uplizna")


def test_uplizna_txt_round_trip(uplizna: RiskManagementPlan) -> None:
    text = render_plan_summary(uplizna, "txt")
    assert_same_public_content(parse_summary_text(text, name="uplizna"), uplizna)


def test_uplizna_txt_uses_the_seed_headings_and_wording(uplizna: RiskManagementPlan) -> None:
    text = render_plan_summary(uplizna, "txt")
    lines = text.splitlines()
    assert lines[0] == "Summary of risk management plan for UPLIZNA (inebilizumab)"
    for heading in (
        "I. The medicine and what it is used for",
        "II. Risks associated with the medicine and activities to minimise or further characterise the risks",
        "II.A List of important risks and missing information",
        "Table II.A.1: List of important risks and missing information",
        "II.B Summary of important risks",
        "Table II.B.1: Summary of important risks",
        "Important identified risk 1: Infusion Reaction",
        "Important potential risk 2: Progressive Multifocal Leukoencephalopathy",
        "Missing information 3: Patients concomitantly receiving other immunosuppressive agents",
        "Evidence for linking the risk to the medicine",
        "Risk factors and risk groups",
        "Risk minimisation measures Routine risk minimisation measures:",
        "Additional risk minimisation measures:",
        "II.C Post-authorisation development plan",
        "II.C.1 Studies which are conditions of the marketing authorisation",
        "II.C.2 Other studies in post-authorisation development plan",
        "Purpose of the study:",
    ):
        assert heading in lines, heading
    assert "Important identified risks • Infusion reaction" in lines
    assert "UPLIZNA is authorised for the treatment of adults with neuromyelitis optica" in text
    assert "It contains inebilizumab as the active substance and it is given by IV administration." in text
    assert "CorEvitas SPHERES Registry for NMOSD (Sponsored by CorEvitas)." in lines
    assert "Legal status: prescription only." in lines
    # Missing information has no evidence block in the seed, so none is written.
    block = text.split("Missing information 1: Safety in patients > 65 years")[1].split("Missing information 2")[0]
    assert "Evidence for linking" not in block


@pytest.mark.parametrize("path", SUMMARY_FILES, ids=lambda p: p.stem)
def test_test_summaries_round_trip_through_txt(path: Path) -> None:
    parsed = parse_summary_text(path.read_text(encoding="utf-8"))
    again = parse_summary_text(render_plan_summary(parsed, "txt"), name=parsed.name, source=parsed.source)
    assert_same_public_content(again, parsed)


def test_test_summaries_exist() -> None:
    assert len(SUMMARY_FILES) >= 2


@pytest.mark.parametrize("which", ["uplizna", *[p.stem for p in SUMMARY_FILES]])
def test_pdf_round_trip(which: str, tmp_path: Path, uplizna: RiskManagementPlan) -> None:
    plan = uplizna if which == "uplizna" else parse_summary_text((SUMMARIES / f"{which}.txt").read_text("utf-8"))
    pdf = render_plan_summary(plan, "pdf")
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    path = tmp_path / "summary.pdf"
    path.write_bytes(pdf)
    assert len(PdfReader(str(path)).pages) >= 2
    assert_same_public_content(parse_summary_file(path, name=plan.name), plan)


def test_html_is_escaped_and_complete(uplizna: RiskManagementPlan) -> None:
    html = render_plan_summary(uplizna, "html")
    assert isinstance(html, str)
    assert html.startswith("<!DOCTYPE html>")
    assert '<h1 class="rmp-title">Summary of risk management plan for UPLIZNA (inebilizumab)</h1>' in html
    assert "Safety in patients &gt; 65 years" in html and "patients > 65" not in html
    assert html.count('class="rmp-risk"') == len(uplizna.safety_concerns)
    assert html.count('class="rmp-study"') == len(uplizna.studies)
    assert "Table II.A.1: List of important risks and missing information" in html


def test_plan_changed_by_a_signal_outcome_is_republished(uplizna: RiskManagementPlan) -> None:
    """A new important identified risk (a signal confirmed, GVP IX.C.5) and a new additional measure."""
    new = SafetyConcern(
        id="hepatotoxicity",
        title="Hepatotoxicity",
        category=ConcernCategory.IMPORTANT_IDENTIFIED_RISK,
        evidence="Post-marketing spontaneous reports and a signal evaluation.",
        risk_factors="Pre-existing liver disease.",
        routine_measures=RoutineRiskMinimisation(
            smpc_sections=["4.4", "4.8"],
            pl_sections=["2"],
            recommendations=[Recommendation(topic="liver function monitoring", smpc_sections=["4.2"])],
            legal_status="prescription only",
        ),
        additional_measures=[
            AdditionalRiskMinimisation(
                name="Healthcare professional guide",
                content=["check liver function before each infusion", "stop treatment if ALT exceeds 5 x ULN"],
            )
        ],
    )
    changed = uplizna.model_copy(update={"safety_concerns": [*uplizna.safety_concerns, new]})
    text = render_plan_summary(changed, "txt")
    assert "Important identified risk 3: Hepatotoxicity" in text.splitlines()
    parsed = parse_summary_text(text, name="uplizna")
    got = parsed.concern("hepatotoxicity")
    assert got.category is ConcernCategory.IMPORTANT_IDENTIFIED_RISK
    assert got.routine_measures == new.routine_measures
    assert got.additional_measures == new.additional_measures
    # The summary groups concerns by category, as the template does.
    assert [c.id for c in parsed.safety_concerns][:3] == ["infusion-reaction", "neutropenia", "hepatotoxicity"]
    assert {c.id for c in parsed.safety_concerns} == {c.id for c in changed.safety_concerns}


def test_edge_cases_round_trip(uplizna: RiskManagementPlan) -> None:
    """Oral route, a specific obligation, no other studies, no routine measures, a described measure."""
    concerns = [
        uplizna.safety_concerns[0].model_copy(
            update={
                "routine_measures": RoutineRiskMinimisation(),
                "additional_measures": [
                    AdditionalRiskMinimisation(name="Patient card", description="carries the infusion warnings.")
                ],
            }
        ),
        *uplizna.safety_concerns[1:],
    ]
    study = PharmacovigilanceStudy(
        id="so-1",
        short_name="SO-1",
        title="A specific obligation cohort study",
        sponsor="Example Pharma B.V.",
        category=StudyCategory.SPECIFIC_OBLIGATION,
        purpose="To describe long-term safety.",
        objectives=["To estimate the incidence of infusion reactions", "To describe PML cases"],
        safety_concerns=["infusion-reaction", "pml"],
    )
    plan = uplizna.model_copy(
        update={
            "product": uplizna.product.model_copy(update={"route": "oral"}),
            "safety_concerns": concerns,
            "studies": [study],
            "studies_conditions_of_authorisation": None,
        }
    )
    text = render_plan_summary(plan, "txt")
    assert "it is given by mouth." in text
    assert "The following study is a specific obligation of the marketing authorisation of UPLIZNA:" in text
    assert "There are no studies required for UPLIZNA." in text
    assert_same_public_content(parse_summary_text(text, name="uplizna"), plan)


@pytest.mark.parametrize(
    ("route", "phrase"),
    [
        ("IV", "by IV administration"),
        ("oral", "by mouth"),
        ("subcutaneous injection", "as a subcutaneous injection"),
        ("intravenous infusion", "as an intravenous infusion"),
        ("subcutaneous", "by subcutaneous administration"),
    ],
)
def test_route_phrases_parse_back(uplizna: RiskManagementPlan, route: str, phrase: str) -> None:
    assert route_phrase(route) == phrase
    plan = uplizna.model_copy(update={"product": uplizna.product.model_copy(update={"route": route})})
    assert parse_summary_text(render_plan_summary(plan, "txt")).product.route == route


def test_unknown_format(uplizna: RiskManagementPlan) -> None:
    with pytest.raises(ValueError, match="txt, html or pdf"):
        render_plan_summary(uplizna, "docx")


# --------------------------------------------------------------------------------------------------
# The command function (registered as `riskplan plan summary` by the plan group)
# --------------------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def summary_app() -> typer.Typer:
    app = typer.Typer()
    app.command("summary")(plan_summary)
    app.command("noop")(lambda: None)  # a second command keeps "summary" as a subcommand name
    return app


def _store(plan: RiskManagementPlan, reason: str) -> None:
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        record_plan(session, plan, who="tester", reason=reason)
    engine.dispose()


def test_cli_renders_bundled_stored_and_given_versions(
    cli_env: Path, summary_app: typer.Typer, uplizna: RiskManagementPlan
) -> None:
    result = runner.invoke(summary_app, ["summary", "--out", "out/bundled.txt"])
    assert result.exit_code == 0, result.output
    assert "bundled plan uplizna" in result.output
    assert parse_summary_text((cli_env / "out" / "bundled.txt").read_text("utf-8")).product.name == "UPLIZNA"

    _store(uplizna, "first version")
    renamed = uplizna.model_copy(update={"product": uplizna.product.model_copy(update={"name": "UPLIZNA NEW"})})
    _store(renamed, "signal outcome")
    latest = runner.invoke(summary_app, ["summary", "--plan", "uplizna", "--out", "out/latest.txt"])
    assert latest.exit_code == 0, latest.output
    assert "version 2" in latest.output
    assert (
        (cli_env / "out" / "latest.txt")
        .read_text("utf-8")
        .startswith("Summary of risk management plan for UPLIZNA NEW (inebilizumab)")
    )
    first = runner.invoke(summary_app, ["summary", "--version", "1", "--out", "out/v1.html"])
    assert first.exit_code == 0, first.output
    assert "Summary of risk management plan for UPLIZNA (inebilizumab)" in (cli_env / "out" / "v1.html").read_text()
    pdf = runner.invoke(summary_app, ["summary", "--out", "out/latest.pdf"])
    assert pdf.exit_code == 0, pdf.output
    assert len(PdfReader(str(cli_env / "out" / "latest.pdf")).pages) >= 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "summary.docx"], ".txt, .html or .pdf"),
        (["--out", "s.txt", "--version", "7"], "has no version 7"),
        (["--out", "s.txt", "--version", "0"], "1 or more"),
        (["--out", "s.txt", "--plan", "nosuchplan"], "no plan 'nosuchplan'"),
    ],
)
def test_cli_user_errors_exit_2(cli_env: Path, summary_app: typer.Typer, args: list[str], message: str) -> None:
    result = runner.invoke(summary_app, ["summary", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
