"""The PSUR never concludes on what it could not assess: without reference safety information, without a
concern's definition, without exposure, it says what could not be assessed and why, and draws no conclusion."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

from sqlalchemy import Engine

from case_factory import make_icsr
from riskplan.cases.codes import ReportType
from riskplan.cases.intake import intake, intake_context
from riskplan.cases.model import Icsr
from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import ConcernDefinition, PlanPart, RiskManagementPlan
from riskplan.plan.versions import record_plan
from riskplan.reports.psur import collect_psur, render_psur_html
from riskplan.store.db import session_scope

START = dt.date(2025, 11, 1)
DLP = dt.date(2026, 10, 31)
BUNDLED = load_plan("uplizna")


def _store(engine: Engine, plan: RiskManagementPlan, cases: list[Icsr]) -> str:
    """The PSUR's HTML for ``cases`` counted against ``plan`` (stored as version 1)."""
    with session_scope(engine) as session:
        record_plan(session, plan, who="tester")
        intake(session, cases, context=intake_context(session, "uplizna", "tester"), who="tester")
    with session_scope(engine) as session:
        return render_psur_html(collect_psur(session, "uplizna", START, DLP))


def _text(page: str) -> str:
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"data:image/png;base64,[^\"]+", "", page)))
    return re.sub(r"\s+", " ", text)


def _cases() -> list[Icsr]:
    """Serious pneumonia (unlisted in the bundled RSI): one before the interval, two in it."""
    return [
        make_icsr("GB-NA-BEFORE", received="20250915"),
        make_icsr("GB-NA-IN-1", received="20260110"),
        make_icsr("GB-NA-IN-2", received="20260420"),
    ]


def _section(page: str, number: int) -> str:
    """The text of PBRER section ``number`` (from its heading to the next one)."""
    start = page.index(f'<h2 id="s{number}">')
    return _text(page[start : page.index(f'<h2 id="s{number + 1}">', start)])


def test_without_rsi_the_report_says_listedness_was_not_assessed_and_concludes_nothing(sqlite_engine: Engine) -> None:
    no_rsi = BUNDLED.model_copy(
        update={"reference_safety_information": None, "absent": [PlanPart.REFERENCE_SAFETY_INFORMATION]}
    )
    page = _store(sqlite_engine, no_rsi, _cases())
    text = _text(page)
    # the contradiction of issue 11: "listedness cannot be assessed" and "no unlisted serious PT ..."
    assert "No unlisted serious PT" not in text
    assert (
        "Whether any unlisted serious PT was reported for the first time in the interval could not be assessed: "
        "plan uplizna version 1 has no reference safety information (its source document" in text
    )
    assert "Not assessed: plan uplizna version 1 has no reference safety information" in _section(page, 4)
    # the tabulations show the listedness (RSI column) as not assessed, not as unlisted
    tabulation = _section(page, 6)
    assert re.search(r"Pneumonia n/a 2 3 0 0 2 3", tabulation), tabulation
    assert "Listed and unlisted against the RSI" not in tabulation
    conclusions = _section(page, 19)
    assert "Not assessed in this report, and why" in conclusions
    assert "Listedness of serious reactions (sections 4, 6 and 19)" in conclusions
    assert "Reporting rates and observed-to-expected comparisons" in conclusions  # no exposure given
    assert "Listedness: not assessed" in text  # appendix 20.2


def test_with_an_rsi_an_unlisted_pt_seen_before_from_another_source_is_not_new(sqlite_engine: Engine) -> None:
    """Tabulations are per source; "first time in the interval" is over every source."""
    cases = [
        make_icsr("GB-NA-BEFORE", received="20250915"),
        make_icsr("GB-NA-OTHER-IN", received="20260110").model_copy(update={"report_type": ReportType.OTHER}),
    ]
    page = _store(sqlite_engine, BUNDLED, cases)
    conclusions = _section(page, 19)
    assert "No unlisted serious PT was reported for the first time in the interval." in conclusions
    assert "Pneumonia" not in conclusions
    assert "Listedness of serious reactions" not in conclusions
    assert re.search(r"Pneumonia unlisted 1 1 0 0 1 1", _section(page, 6))  # serious i, c; non-serious i, c; total


def test_a_concern_without_definition_is_not_assessed_rather_than_zero(sqlite_engine: Engine) -> None:
    undefined = BUNDLED.model_copy(
        update={
            "safety_concerns": [
                c.model_copy(update={"definition": ConcernDefinition()}) if c.id == "serious-infections" else c
                for c in BUNDLED.safety_concerns
            ]
        }
    )
    page = _store(sqlite_engine, undefined, _cases())
    risks = _section(page, 16)
    title = BUNDLED.concern("serious-infections").list_title
    assert f"{title} Important potential risk 1 not assessed: no concern definition in the plan" in risks
    assert (
        "Cases: not assessed: the concern has no definition in plan uplizna version 1, so no case is counted toward it"
        in risks
    )
    # the other concerns are still counted
    assert re.search(r"PML Important potential risk 2 0 0 0 0", risks)
    conclusions = _section(page, 19)
    assert "Cases per safety concern (sections 16.3 to 16.5) for 1 concern(s): no definition in plan uplizna " in (
        conclusions
    )
    assert title in conclusions
    # the minimisation indicators do not show a zero for a concern they cannot count
    assert "not assessed for serious-infections (no definition in the plan)" in risks
