"""FDA's E2B(R3) business rules before a report leaves for FAERS, and receivers riskplan cannot ship."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from conftest import shared_file
from riskplan.cases.codes import NullFlavor
from riskplan.cases.e2b import parse_untrusted, read_message
from riskplan.cases.model import Icsr, RegionalElement
from riskplan.cli import app
from riskplan.settings import get_settings
from riskplan.submissions.fda_checks import CHECKS
from riskplan.submissions.fda_message import fda_route
from riskplan.submissions.fda_profile import case_findings
from riskplan.submissions.fda_rules import NOT_CHECKED, fda_rules

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
NS = {"h": "urn:hl7-org:v3"}
EXAMPLES = ("1", "2", "3", "4", "5-1", "6", "7", "8")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


def _example(name: str) -> tuple[Icsr, str, str]:
    """The (first) ICSR of one of FDA's example files with its N.1.4 and N.2.r.3."""
    root = parse_untrusted(
        shared_file("standards", "e2b_r3", "examples", f"fda_FAERS2022Scenario{name}.xml").read_bytes()
    )
    batch = str(root.find("h:receiver/h:device/h:id", NS).get("extension"))  # type: ignore[union-attr]
    message = root.find("h:PORR_IN049016UV", NS)
    assert message is not None
    receiver = str(message.find("h:receiver/h:device/h:id", NS).get("extension"))  # type: ignore[union-attr]
    return read_message(message), batch, receiver


def _rejections(icsr: Icsr, batch: str | None = None, receiver: str | None = None) -> list[str]:
    found = case_findings(icsr, initial=True, batch_receiver=batch, message_receiver=receiver)
    return [f.rule for f in found if f.level == "reject"]


def test_every_rule_of_fdas_sheets_is_in_the_table_in_fdas_words_and_checked_or_said_why_not() -> None:
    path = shared_file("standards", "e2b_r3", "reference", "fda_rejection_warning_rules.csv")
    with path.open(encoding="utf-8", newline="") as f:
        sheet = {
            row[5].strip(): " ".join(row[6].split()).replace("postmaket", "postmarket").replace("premaket", "premarket")
            for row in csv.reader(f)
            if len(row) > 6 and re.fullmatch(r"[RW]\d{4}", row[5].strip())
        }
    table = {r.id: r for r in fda_rules()}
    assert len(sheet) > 100
    for rule_id, text in sheet.items():
        assert table[rule_id].text == text, rule_id
    for rule in table.values():
        assert rule.id in CHECKS or rule.id in NOT_CHECKED, f"{rule.id} neither checked nor explained"
    # FDA's data element sheet: the elements Required for a postmarketing ICSR are rules too
    for element in ("FDA.C.2.r.2.8", "FDA.C.1.7.1", "FDA.C.1.12", "FDA.D.11.r.1", "FDA.D.12", "FDA.E.i.3.2h"):
        assert element in table and element in CHECKS
    assert table["W0005"].level == "warn" and table["R0012"].level == "reject"


@pytest.mark.parametrize("name", EXAMPLES)
def test_fdas_own_example_icsrs_pass_fdas_rules(name: str) -> None:
    icsr, batch, receiver = _example(name)
    assert _rejections(icsr, batch, receiver) == []
    assert fda_route(icsr) == (batch, receiver)  # riskplan routes each as FDA did (postmarket or IND)


def test_cases_broken_on_purpose_are_refused_with_the_rules_id() -> None:
    icsr, batch, receiver = _example("1")  # postmarket, C.1.7 true, FDA.C.1.7.1 = 1 (15-Day)
    no_email = icsr.model_copy(
        update={"primary_sources": tuple(s.model_copy(update={"email": None}) for s in icsr.primary_sources)}
    )
    assert _rejections(no_email, batch, receiver) == ["FDA.C.2.r.2.8"]
    asked = no_email.model_copy(
        update={
            "primary_sources": tuple(
                s.model_copy(update={"email_null_flavor": NullFlavor.ASKU}) for s in no_email.primary_sources
            )
        }
    )
    assert _rejections(asked, batch, receiver) == []  # nullFlavor ASKU is allowed

    non_expedited = re.sub(r'code="1"', 'code="2"', icsr.regional[0].xml, count=1)
    assert icsr.regional[0].element == "FDA.C.1.7.1"
    wrong_type = icsr.model_copy(
        update={"regional": (RegionalElement(element="FDA.C.1.7.1", xml=non_expedited), *icsr.regional[1:])}
    )
    assert _rejections(wrong_type, batch, receiver) == ["R0014"]  # C.1.7 true but FDA.C.1.7.1 not 15-Day

    no_sender_fax = icsr.model_copy(update={"sender": icsr.sender.model_copy(update={"fax": None})})  # type: ignore[union-attr]
    assert _rejections(no_sender_fax, batch, receiver) == ["C.3.4.7"]
    initial_nullified = icsr.model_copy(update={"nullification": "1", "nullification_reason": "duplicate"})
    assert _rejections(initial_nullified, batch, receiver) == ["R0101"]

    ind, _, _ = _example("3")  # a report from a study under IND 123456
    assert fda_route(ind) == ("ZZFDA_PREMKT", "CDER_IND")
    assert {"R0005", "R0107", "R0109"} <= set(_rejections(ind, "ZZFDA", "CDER"))  # never on the postmarket route


def test_warnings_do_not_stop_a_report_but_are_shown() -> None:
    icsr, batch, receiver = _example("1")
    concomitant_first = icsr.model_copy(
        update={"drugs": (icsr.drugs[0].model_copy(update={"role": "2"}), *icsr.drugs[1:])}
    )
    found = case_findings(concomitant_first, initial=True, batch_receiver=batch, message_receiver=receiver)
    warned = [f for f in found if f.level == "warn"]
    assert [f.rule for f in warned] == ["W0005"]
    assert "The first product reported does not have G.k.1" in warned[0].text


def test_a_uk_report_is_refused_until_the_mhra_receiver_id_is_configured(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_submissions_cli import _new, _serious_de

    listed = runner.invoke(app, ["submission", "destinations", "list"], env=WIDE)
    assert "setting e2b_receiver_ids.UK" in _flat(listed.output)  # no placeholder shown as if real
    gb = _serious_de("GB-RPDEMO-2026-000001").model_copy(update={"primary_sources": ()})
    gb = gb.model_copy(
        update={"primary_sources": (_serious_de().primary_sources[0].model_copy(update={"country": "GB"}),)}
    )
    _new(cli_env, gb)
    refused = runner.invoke(app, ["submission", "send", "--destination", "UK"], env=WIDE)
    assert refused.exit_code == 2
    out = _flat(refused.output)
    assert "no E2B(R3) batch receiver identifier (N.1.4) for MHRA" in out
    assert "[e2b_receiver_ids] UK" in out and "nothing was generated" in out
    assert json.loads(runner.invoke(app, ["submission", "list", "--format", "json"]).output) == []

    monkeypatch.setenv("RISKPLAN_E2B_RECEIVER_IDS", json.dumps({"UK": "MHRA-GW-TEST"}))
    get_settings.cache_clear()
    sent = runner.invoke(app, ["submission", "send", "--destination", "UK"], env=WIDE)
    assert sent.exit_code == 0, sent.output
    [row] = json.loads(runner.invoke(app, ["submission", "list", "--format", "json"]).output)
    written = next((cli_env / "var" / "out" / "submissions" / "UK").glob("*.xml"))
    receiver = etree.parse(str(written)).find("h:receiver/h:device/h:id", NS)
    assert row["destination"] == "UK" and receiver is not None and receiver.get("extension") == "MHRA-GW-TEST"


def test_a_month_whose_reports_are_sent_but_not_yet_due_shows_them_pending_not_zero_percent(cli_env: Path) -> None:
    import calendar
    import datetime as dt

    from test_submissions_cli import _new, _serious_de

    received = dt.date.today() - dt.timedelta(days=1)
    _new(cli_env, _serious_de(received=f"{received:%Y%m%d}"))
    assert runner.invoke(app, ["submission", "send", "--destination", "EU"]).exit_code == 0
    due = received + dt.timedelta(days=15)
    last = calendar.monthrange(due.year, due.month)[1]
    window = ["--from", f"{due:%Y-%m}-01", "--to", f"{due:%Y-%m}-{last:02d}"]
    data = json.loads(runner.invoke(app, ["submission", "compliance", *window, "--format", "json"]).output)
    [eu] = [m for m in data["months"] if m["destination"] == "EU"]
    # old code: due 1, on time 0, late 0, share 0.0 (0%) for a report that is not late at all
    assert (eu["due"], eu["on_time"], eu["late"], eu["pending"], eu["share_on_time"]) == (1, 0, 0, 1, None)
    table = _flat(runner.invoke(app, ["submission", "compliance", *window], env=WIDE).output)
    assert f"EU {due:%Y-%m} 1 0 0 1 pending" in table and "0%" not in table


def test_case_list_submitted_comes_from_the_submission_records_per_destination(cli_env: Path) -> None:
    from test_submissions_cli import _new, _serious_de

    _new(cli_env, _serious_de())
    _new(cli_env, _serious_de("DE-RPDEMO-2026-000002"))

    def submitted(*extra: str) -> list[str]:
        out = runner.invoke(app, ["case", "list", "--state", "submitted", "--format", "json", *extra])
        assert out.exit_code == 0, out.output
        return (
            [c["case"] for c in json.loads(out.output)["cases"]]
            if out.output.strip().startswith("{")
            else [c["case"] for c in json.loads(out.output)]
        )

    assert submitted() == []
    # the US (FDA) refuses both (no FDA regional elements): refused reports are not submitted
    assert runner.invoke(app, ["submission", "send", "--destination", "US"]).exit_code == 2
    assert submitted() == []
    assert runner.invoke(app, ["submission", "send", "--destination", "EU"]).exit_code == 0
    assert submitted() == ["RP0000001", "RP0000002"]  # old code read the retired icsr_submission table: none
    assert submitted("--destination", "EU") == ["RP0000001", "RP0000002"]
    assert submitted("--destination", "US") == []
    bad = runner.invoke(app, ["case", "list", "--destination", "E U"])
    assert bad.exit_code == 2 and "is not a destination code" in bad.output


def test_us_periodic_reports_placed_from_the_plans_us_approval_date() -> None:
    import datetime as dt

    from riskplan.submissions.periodic import periodic_report

    approval = dt.date(2020, 6, 11)
    first = periodic_report("US", approval, dt.date(2020, 7, 1))  # quarterly for 3 years: due 30 days after
    assert (first.number, first.quarterly, first.start, first.end, first.due) == (
        1,
        True,
        dt.date(2020, 6, 11),
        dt.date(2020, 9, 10),
        dt.date(2020, 10, 10),
    )
    last_quarter = periodic_report("US", approval, dt.date(2023, 6, 10))
    assert (last_quarter.number, last_quarter.quarterly, last_quarter.due) == (12, True, dt.date(2023, 7, 10))
    annual = periodic_report("US", approval, dt.date(2026, 11, 2))  # then annually: 60 days after the anniversary
    assert (annual.number, annual.quarterly, annual.start, annual.end, annual.due) == (
        16,
        False,
        dt.date(2026, 6, 11),
        dt.date(2027, 6, 10),
        dt.date(2027, 8, 10),
    )


def test_submission_due_kind_periodic_names_the_periodic_report_and_compliance_counts_it(cli_env: Path) -> None:
    from test_submissions_cli import _new

    from case_factory import make_icsr
    from riskplan.cases.codes import Outcome, Qualification
    from riskplan.cases.model import Hl7Timestamp, PrimarySource, Reaction

    us = PrimarySource(country="US", qualification=Qualification.PHYSICIAN, primary_for_regulatory_purposes=True)
    headache = Reaction(verbatim_term="headache", start_date=Hl7Timestamp("20261020"), outcome=Outcome.RECOVERED)
    icsr = make_icsr("US-RPDEMO-2026-000001", received="20261102", reporter=us, reactions=(headache,))
    _new(cli_env, icsr.model_copy(update={"created": Hl7Timestamp("20261102101500+0000")}))
    out = runner.invoke(app, ["submission", "due", "--kind", "periodic", "--destination", "US", "--format", "json"])
    assert out.exit_code == 0, out.output
    [owed] = json.loads(out.output)
    assert (owed["kind"], owed["due"]) == ("periodic", "2027-08-10")  # old code: due null, no report named
    assert owed["periodic_report"] == "US periodic report 16 (annual, 2026-06-11 to 2027-06-10, due 2027-08-10)"
    table = _flat(runner.invoke(app, ["submission", "due", "--kind", "periodic", "-d", "US"], env=WIDE).output)
    assert "RP0000001 → US: US periodic report 16 (annual" in table
    wrong = runner.invoke(app, ["submission", "due", "--kind", "weekly"])
    assert wrong.exit_code == 2 and "--kind must be expedited or periodic" in wrong.output
    data = json.loads(
        runner.invoke(
            app, ["submission", "compliance", "--from", "2027-08-01", "--to", "2027-08-31", "--format", "json"]
        ).output
    )
    [us_month] = [m for m in data["months"] if m["destination"] == "US"]
    assert (us_month["month"], us_month["due"], us_month["pending"]) == ("2027-08", 1, 1)


def test_us_15_day_and_periodic_reports_carry_fda_elements_from_their_obligation_and_pass_every_rule(
    cli_env: Path,
) -> None:
    """FDA ICSR data elements (Required): FDA.C.1.7.1 from the rule that fired, the others as FDA's
    nullFlavors, a value the case gives kept; the files pass every FDA rule and the ICH schema."""
    from test_submissions_cli import _new, _serious_de

    from riskplan.cases.codes import Outcome, Qualification
    from riskplan.cases.e2b._base import get_schema
    from riskplan.cases.model import Hl7Timestamp, PrimarySource, Reaction
    from riskplan.cases.synth_specs import SENDER

    sender = SENDER.model_copy(update={"organisation": "Riskplan Pharma"})  # FDA's C.3.3 / C.3.4, all given

    us = PrimarySource(
        country="US", qualification=Qualification.PHYSICIAN, family_name="Moore", primary_for_regulatory_purposes=True
    )
    serious = _serious_de("US-RPDEMO-2026-000001").model_copy(update={"primary_sources": (us,), "sender": sender})
    serious = serious.model_copy(
        update={"patient": serious.patient.model_copy(update={"medical_history_text": "None"})}
    )
    # the case's own FDA.C.1.12 (false) wins over the nullFlavor riskplan would write
    own = RegionalElement(
        element="FDA.C.1.12",
        value="false",
        xml=(
            '<component xmlns="urn:hl7-org:v3" typeCode="COMP"><observationEvent classCode="OBS" moodCode="EVN">'
            '<code code="C156384" codeSystem="2.16.840.1.113883.3.26.1.1"/>'
            '<value xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="BL" value="false"/>'
            "</observationEvent></component>"
        ),
    )
    _new(cli_env, serious.model_copy(update={"regional": (own,)}))
    headache = Reaction(
        verbatim_term="headache",
        verbatim_language="eng",
        start_date=Hl7Timestamp("20261020"),
        outcome=Outcome.RECOVERED,
    )
    mild = serious.model_copy(
        update={"worldwide_case_id": "US-RPDEMO-2026-000002", "sender_report_id": "US-RPDEMO-2026-000002"}
    )
    _new(cli_env, mild.model_copy(update={"reactions": (headache,), "regional": ()}))
    sent = runner.invoke(app, ["submission", "send", "-d", "US", "--include-periodic"], env=WIDE)
    assert sent.exit_code == 0, sent.output
    assert "2 report(s) to FDA with regional elements derived from their obligation" in _flat(sent.output)
    rows = {r["case"]: r for r in json.loads(runner.invoke(app, ["submission", "list", "--format", "json"]).output)}
    assert {c: (r["kind"], r["state"]) for c, r in rows.items()} == {
        "RP0000001": ("expedited", "sent"),
        "RP0000002": ("periodic", "sent"),
    }
    [written] = (cli_env / "var" / "out" / "submissions" / "US").glob("*.xml")
    root = parse_untrusted(written.read_bytes())
    assert list(get_schema().iter_errors(root)) == []
    found = {}
    for message in root.findall("h:PORR_IN049016UV", NS):
        icsr = read_message(message)
        assert _rejections(icsr, "ZZFDA", "CDER") == [], icsr.worldwide_case_id  # every FDA rule, as FDA reads it
        values = {e.element: e.xml for e in icsr.regional}
        found[icsr.worldwide_case_id] = (icsr.local_expedited, values)
    expedited, periodic = found["US-RPDEMO-2026-000001"], found["US-RPDEMO-2026-000002"]
    assert expedited[0] is True and 'code="1"' in expedited[1]["FDA.C.1.7.1"]  # 15-Day: 21 CFR 314.80(c)(1)(i)
    assert 'value="false"' in expedited[1]["FDA.C.1.12"]  # the case's own value
    assert periodic[0] is False and 'code="2"' in periodic[1]["FDA.C.1.7.1"]  # Non-Expedited AE: 314.80(c)(2)
    assert 'nullFlavor="NI"' in periodic[1]["FDA.C.1.12"]
    # what was derived is in the record, with the rule it follows
    history = _flat(
        runner.invoke(app, ["audit", "history", "--entity-type", "submission"], env={"COLUMNS": "2000"}).output
    )
    assert "FDA.C.1.7.1 = 2 (Non-Expedited AE) (periodic report by rule us-periodic-domestic" in history
    assert "FDA.C.1.12 = nullFlavor NI (the case does not say the product is a combination product)" in history
    assert "FDA.C.1.7.1 = 1 (15-Day) (expedited report by rule us-15-day-alert" in history
