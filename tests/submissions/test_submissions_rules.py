"""Reporting rules per destination, on cases a safety physician would recognise (GVP VI.C.3, 21 CFR 314.80)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from case_factory import make_icsr
from riskplan.cases.codes import Qualification, ReportType
from riskplan.cases.facts import ReactionFacts
from riskplan.cases.listedness import Listedness, listedness
from riskplan.cases.model import LiteratureReference, PrimarySource, Reaction
from riskplan.cases.processing import CaseProcessor
from riskplan.errors import UserInputError
from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import ExpectedReaction, ReferenceSafetyInformation, RiskManagementPlan
from riskplan.submissions import (
    Destination,
    ReportKind,
    Source,
    VersionView,
    bundled_destinations,
    decide,
    read_destination_file,
    view_of,
)
from riskplan.terms.coding import OpenTermList

D = dt.date


@pytest.fixture(scope="module")
def plan() -> RiskManagementPlan:
    """UPLIZNA with its EU SmPC 4.8 as default RSI and a US PI that lists pneumonia but not UTI."""
    bundled = load_plan("uplizna")
    us_pi = ReferenceSafetyInformation(
        document="US prescribing information section 6",
        expected_reactions=[ExpectedReaction(pt="Pneumonia"), ExpectedReaction(pt="Nasopharyngitis")],
    )
    return bundled.model_copy(update={"regional_reference_safety_information": {"US": us_pi}})


@pytest.fixture(scope="module")
def destinations() -> dict[str, Destination]:
    return bundled_destinations()


def case(
    plan: RiskManagementPlan, verbatim: str, *, country: str, serious: bool, received: str = "20261102", **extra: object
) -> VersionView:
    reaction = Reaction(verbatim_term=verbatim, hospitalisation=True if serious else None)
    icsr = make_icsr(
        f"{country}-RPDEMO-2026-{verbatim[:4]}",
        received=received,
        reactions=(reaction,),
        reporter=PrimarySource(country=country, qualification=Qualification.PHYSICIAN),
        **extra,
    )
    assessed = CaseProcessor(plan, OpenTermList(plan)).assess(icsr)
    receipt = dt.datetime.strptime(received, "%Y%m%d").date()
    return view_of(
        assessed.icsr,
        case_id=1,
        version_id=1,
        version=1,
        receipt=receipt,
        valid=assessed.validity.valid,
        serious=assessed.serious,
    )


def test_the_bundled_destinations_load_and_every_rule_cites_its_source(destinations: dict[str, Destination]) -> None:
    assert sorted(destinations) == ["EU", "PARTNER", "UK", "US"]
    cites = {r.id: r.cites for d in destinations.values() for r in d.rules}
    assert "GVP VI.C.3" in cites["eu-serious"]
    assert "21 CFR 314.80(c)(1)(i)" in cites["us-15-day-alert"]
    assert "MHRA" in cites["uk-serious"]
    assert "PV agreement" in cites["partner-serious"]


@pytest.mark.parametrize(
    ("verbatim", "country", "serious", "kind", "days", "rule"),
    [
        ("pneumonia", "DE", True, ReportKind.EXPEDITED, 15, "eu-serious"),  # serious EEA
        ("pneumonia", "US", True, ReportKind.EXPEDITED, 15, "eu-serious"),  # serious non-EEA
        ("nasopharyngitis", "FR", False, ReportKind.EXPEDITED, 90, "eu-non-serious-eea"),
        ("nasopharyngitis", "US", False, ReportKind.NOT_REPORTABLE, None, "eu-non-serious-non-eea"),
    ],
)
def test_eudravigilance_rules_gvp_vi_c_3(
    plan: RiskManagementPlan,
    destinations: dict[str, Destination],
    verbatim: str,
    country: str,
    serious: bool,
    kind: ReportKind,
    days: int | None,
    rule: str,
) -> None:
    decision = decide(case(plan, verbatim, country=country, serious=serious), destinations["EU"], plan)
    assert (decision.kind, decision.days, decision.rule) == (kind, days, rule)


@pytest.mark.parametrize(
    ("verbatim", "country", "serious", "kind", "rule"),
    [
        # UTI is listed in the EU SmPC but not in the US PI: unexpected for FDA, domestic and foreign
        ("urinary tract infection", "US", True, ReportKind.EXPEDITED, "us-15-day-alert"),
        ("urinary tract infection", "DE", True, ReportKind.EXPEDITED, "us-15-day-alert"),
        ("PML", "JP", True, ReportKind.EXPEDITED, "us-15-day-alert"),
        # pneumonia is in the US PI: serious but expected, so domestic goes to the periodic report
        ("pneumonia", "US", True, ReportKind.PERIODIC, "us-periodic-domestic"),
        ("nasopharyngitis", "US", False, ReportKind.PERIODIC, "us-periodic-domestic"),
        # foreign and not serious-unexpected: not reportable to FDA
        ("pneumonia", "DE", True, ReportKind.NOT_REPORTABLE, "us-foreign-other"),
        ("nasopharyngitis", "DE", False, ReportKind.NOT_REPORTABLE, "us-foreign-other"),
    ],
)
def test_fda_postmarketing_rules_21_cfr_314_80(
    plan: RiskManagementPlan,
    destinations: dict[str, Destination],
    verbatim: str,
    country: str,
    serious: bool,
    kind: ReportKind,
    rule: str,
) -> None:
    decision = decide(case(plan, verbatim, country=country, serious=serious), destinations["US"], plan)
    assert (decision.kind, decision.rule) == (kind, rule)
    if kind is ReportKind.EXPEDITED:
        assert decision.days == 15


def test_listedness_is_judged_against_each_regions_rsi(plan: RiskManagementPlan) -> None:
    uti = ReactionFacts("UTI", "Urinary tract infection")
    assert listedness(uti, plan) is Listedness.LISTED  # EU SmPC 4.8, the default
    assert listedness(uti, plan, "US") is Listedness.UNLISTED  # US PI
    assert listedness(uti, plan, "JP") is Listedness.LISTED  # no RSI of its own: the default
    assert load_plan("uplizna").rsi_for("US") == load_plan("uplizna").reference_safety_information


def test_uk_partner_and_not_authorised(plan: RiskManagementPlan, destinations: dict[str, Destination]) -> None:
    serious_us = case(plan, "pneumonia", country="US", serious=True)
    mild_gb = case(plan, "nasopharyngitis", country="GB", serious=False)
    assert decide(serious_us, destinations["UK"], plan).rule == "uk-serious"
    assert (decide(mild_gb, destinations["UK"], plan).days, decide(mild_gb, destinations["UK"], plan).rule) == (
        90,
        "uk-non-serious-uk",
    )
    partner = decide(serious_us, destinations["PARTNER"], plan)
    assert (partner.kind, partner.days) == (ReportKind.EXPEDITED, 7)
    withdrawn = destinations["EU"].model_copy(update={"authorised": False})
    assert decide(serious_us, withdrawn, plan).kind is ReportKind.NOT_REPORTABLE


def test_report_source_and_country_of_occurrence(plan: RiskManagementPlan) -> None:
    literature = case(
        plan, "pneumonia", country="DE", serious=True, literature=(LiteratureReference(reference="Smith 2026"),)
    )
    assert literature.source is Source.LITERATURE
    base = make_icsr("DE-RPDEMO-2026-S1", reporter=PrimarySource(country="DE", qualification=Qualification.PHYSICIAN))
    study = base.model_copy(update={"report_type": ReportType.STUDY})
    assert view_of(
        study, case_id=1, version_id=1, version=1, receipt=D(2026, 11, 2), valid=True, serious=True
    ).source is (Source.STUDY)
    # E.i.9 (the country where the reaction occurred) wins over the reporter's country (C.2.r.3)
    abroad = base.model_copy(update={"reactions": (base.reactions[0].model_copy(update={"country": "US"}),)})
    view = view_of(abroad, case_id=1, version_id=1, version=1, receipt=D(2026, 11, 2), valid=True, serious=True)
    assert view.country == "US"


def test_an_edited_destination_file_is_checked_with_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "eu.yaml"
    bad.write_text(
        "code: EU\nname: x\nkind: authority\nterritory: [DE]\nreceiver_id: EVHUMAN\n"
        "rules:\n  - {id: a, report: expedited, cites: GVP}\n",
        encoding="utf-8",
    )
    with pytest.raises(UserInputError, match="an expedited report needs days"):
        read_destination_file(bad)
    with pytest.raises(UserInputError, match="no such file"):
        read_destination_file(tmp_path / "absent.yaml")
