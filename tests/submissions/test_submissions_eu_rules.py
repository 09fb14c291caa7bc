"""The EU profile: EudraVigilance's business rules (EU ICSR Implementation Guide) before sending and at the
local gateway, each rule with its source."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from lxml import etree
from typer.testing import CliRunner

from riskplan.cases.codes import StudyType
from riskplan.cases.e2b import export_icsrs, parse_untrusted
from riskplan.cases.model import Icsr, Study
from riskplan.cli import app
from riskplan.submissions.eu_rules import CHECKS, NOT_CHECKED, eu_findings, eu_rules
from riskplan.submissions.gateway_rules import ProfileRules
from web_fixtures import needs_e2b_schema

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
NS = {"h": "urn:hl7-org:v3"}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


def _clinical_trial(icsr: Icsr) -> Icsr:
    from riskplan.cases.codes import ReportType

    return icsr.model_copy(
        update={"report_type": ReportType.STUDY, "study": Study(name="NMO-42", study_type=StudyType.CLINICAL_TRIAL)}
    )


def test_every_eu_rule_names_its_source_and_is_checked_or_said_why_not() -> None:
    rules = eu_rules()
    assert rules and all(r.source and r.text for r in rules)
    assert all("EMA/51938/2013" in r.source for r in rules if r.id.startswith("EU."))
    assert all(r.id in CHECKS or r.id == "EU.N.1.5" for r in rules)  # N.1.5 is a batch rule (gateway)
    assert "C.1.8.1" in NOT_CHECKED  # ICH: the receiver accepts C.1.8.1 as is


def test_a_clinical_trial_susar_is_stopped_before_evhuman_with_the_rules_text(cli_env: Path) -> None:
    from test_submissions_cli import _new, _serious_de

    _new(cli_env, _clinical_trial(_serious_de()))
    sent = runner.invoke(app, ["submission", "send", "-d", "EU"], env=WIDE)
    assert sent.exit_code == 2, sent.output
    out = _flat(sent.output)
    assert "RP0000001 v1 → EU: not sent" in out
    assert "EU EU.N2a.1: C.5.4 (study type) must be 2 (individual patient use) or 3 (other studies)" in out
    listed = json.loads(runner.invoke(app, ["submission", "list", "--format", "json"]).output)
    assert listed == []  # nothing generated, still owed
    due = json.loads(runner.invoke(app, ["submission", "due", "-d", "EU", "--format", "json"]).output)
    assert [d["case"] for d in due] == ["RP0000001"]


def test_the_local_gateways_eu_profile_rejects_what_eudravigilance_would() -> None:
    needs_e2b_schema()
    from test_submissions_cli import _serious_de

    good, bad = _serious_de(), _clinical_trial(_serious_de("DE-RPDEMO-2026-000002"))
    assert [f.rule for f in eu_findings(good)] == [] and [f.rule for f in eu_findings(bad)] == ["EU.N2a.1"]
    wrong_c11 = good.model_copy(update={"sender_report_id": "FR-RPDEMO-1"})  # country is not the reporter's (DE)
    assert [(f.rule, f.level) for f in eu_findings(wrong_c11)] == [("ICH.C.1.1", "warn")]
    data = export_icsrs(
        [good, bad],
        batch_id="EU-TEST",
        sender_id="RISKPLAN",
        receiver_id="EVHUMAN",
        created=dt.datetime(2026, 11, 20, 9, 30, 15, tzinfo=dt.UTC),
    )
    root = parse_untrusted(data)
    rules = ProfileRules("eu")
    assert rules.batch(root) == []
    first, second = root.findall("h:PORR_IN049016UV", NS)
    assert rules.message(first) == []
    [why] = rules.message(second)
    assert why.startswith("EU EU.N2a.1: C.5.4 (study type) must be 2")
    # N.1.5 only to the minute: the whole batch is refused
    created = root.find("h:creationTime", NS)
    assert created is not None
    created.set("value", str(created.get("value"))[:12])
    [batch_error] = ProfileRules("eu").batch(etree.fromstring(etree.tostring(root)))
    assert batch_error.startswith("EU EU.N.1.5: N.1.5 (date of batch transmission): the full precision")
