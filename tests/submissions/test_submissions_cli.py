"""Regulatory reporting as a case processor and a QPPV see it on the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.codes import Qualification, SenderType
from riskplan.cases.model import Hl7Timestamp, Icsr, PrimarySource, Reaction, Sender
from riskplan.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


def _new(folder: Path, icsr: Icsr) -> None:
    path = folder / f"{icsr.worldwide_case_id}.json"
    path.write_text(icsr.model_dump_json(indent=2))
    result = runner.invoke(app, ["case", "new", str(path)], env=WIDE)
    assert result.exit_code == 0, result.output


def _serious_de(wid: str = "DE-RPDEMO-2026-000001", received: str = "20261101") -> Icsr:
    """A serious pneumonia from a German physician, complete enough to pass the E2B(R3) business rules."""
    reporter = PrimarySource(
        country="DE", qualification=Qualification.PHYSICIAN, family_name="Weber", primary_for_regulatory_purposes=True
    )
    icsr = make_icsr(wid, received=received, reporter=reporter)
    return icsr.model_copy(
        update={
            "created": Hl7Timestamp(f"{received}101500+0000"),
            "sender": Sender(
                sender_type=SenderType.PHARMACEUTICAL_COMPANY, organisation="Riskplan Pharma", country="DE"
            ),
            "reactions": (icsr.reactions[0].model_copy(update={"verbatim_language": "eng"}),),
            "narrative": "A 67-year-old woman on inebilizumab was admitted with pneumonia; she is recovering.",
        }
    )


def test_destinations_are_listed_shown_and_an_edited_one_is_stored_as_an_audited_version(cli_env: Path) -> None:
    listed = runner.invoke(app, ["submission", "destinations", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [(d["code"], d["origin"]) for d in json.loads(listed.output)] == [
        ("EU", "bundled file"),
        ("PARTNER", "bundled file"),
        ("UK", "bundled file"),
        ("US", "bundled file"),
    ]
    shown = runner.invoke(app, ["submission", "destinations", "show", "us"], env=WIDE)
    assert "us-15-day-alert: serious=True, unexpected=True → expedited within 15 days" in _flat(shown.output)
    assert "[21 CFR 314.80(c)(1)(i)" in shown.output

    partner = Path(__file__).parents[2] / "src/riskplan/submissions/destinations/partner.yaml"
    edited = cli_env / "partner.yaml"
    edited.write_text(partner.read_text().replace("days: 7\n    cites", "days: 5\n    cites"), encoding="utf-8")
    loaded = runner.invoke(app, ["submission", "destinations", "load", str(edited), "--reason", "PVA amendment 2"])
    assert loaded.exit_code == 0, loaded.output
    assert "PARTNER: stored as version 1" in loaded.output
    again = runner.invoke(app, ["submission", "destinations", "load", str(edited)])
    assert "PARTNER: unchanged (same content as version 1)" in again.output
    shown = runner.invoke(app, ["submission", "destinations", "show", "PARTNER"], env=WIDE)
    assert "(stored version 1)" in shown.output and "expedited within 5 days" in shown.output


def test_wrong_inputs_are_refused_with_a_clear_message(cli_env: Path) -> None:
    unknown = runner.invoke(app, ["submission", "due", "--destination", "XX"])
    assert unknown.exit_code == 2
    assert "no destination 'XX': known destinations are EU, PARTNER, UK, US" in _flat(unknown.output)
    bad_date = runner.invoke(app, ["submission", "compliance", "--from", "2026-13-01", "--to", "2026-12-31"])
    assert bad_date.exit_code == 2 and "--from '2026-13-01' is not a date: give it as YYYY-MM-DD" in bad_date.output
    backwards = runner.invoke(app, ["submission", "compliance", "--from", "2026-12-01", "--to", "2026-11-01"])
    assert backwards.exit_code == 2 and "--to 2026-11-01 is before --from 2026-12-01" in backwards.output
    not_yaml = cli_env / "eu.yaml"
    not_yaml.write_text("code: EU\nrules: [", encoding="utf-8")
    refused = runner.invoke(app, ["submission", "destinations", "load", str(not_yaml)])
    assert refused.exit_code == 2 and "not valid YAML" in refused.output
    state = runner.invoke(app, ["submission", "list", "--state", "lost"])
    assert state.exit_code == 2 and "unknown state(s) lost" in state.output
    nowhere = runner.invoke(app, ["submission", "send"])  # old code: sent to every destination
    assert nowhere.exit_code == 2
    assert "--destination CODE (e.g. --destination EU) for one destination, or --all" in _flat(nowhere.output)
    both = runner.invoke(app, ["submission", "send", "--all", "--destination", "EU"])
    assert both.exit_code == 2 and "--destination and --all together" in both.output
    fmt = runner.invoke(app, ["submission", "due", "--format", "xml"])
    assert fmt.exit_code == 2 and "--format must be table or json" in fmt.output


def test_due_lists_each_destination_with_kind_due_date_and_rule(cli_env: Path) -> None:
    _new(cli_env, _serious_de())
    mild_us = make_icsr(
        "US-RPDEMO-2026-000002",
        received="20261101",
        reactions=(Reaction(verbatim_term="nasopharyngitis"),),
        reporter=PrimarySource(country="US", qualification=Qualification.PHYSICIAN),
    )
    _new(cli_env, mild_us)
    result = runner.invoke(app, ["submission", "due", "--format", "json", "--include-periodic"])
    assert result.exit_code == 0, result.output
    owed = {(o["case"], o["destination"]): (o["kind"], o["due"], o["rule"]) for o in json.loads(result.output)}
    assert owed == {
        ("RP0000001", "EU"): ("expedited", "2026-11-16", "eu-serious"),
        ("RP0000001", "UK"): ("expedited", "2026-11-16", "uk-serious"),
        ("RP0000001", "PARTNER"): ("expedited", "2026-11-08", "partner-serious"),
        # pneumonia is not in the UPLIZNA RSI, and the plan has no US PI: unexpected for FDA too
        ("RP0000001", "US"): ("expedited", "2026-11-16", "us-15-day-alert"),
        # non-serious US case: FDA periodic, partner 30 days, not reportable to EU and UK
        ("RP0000002", "US"): ("periodic", "2027-08-10", "us-periodic-domestic"),
        ("RP0000002", "PARTNER"): ("expedited", "2026-12-01", "partner-non-serious"),
    }
    table = runner.invoke(app, ["submission", "due", "--destination", "EU", "--as-of", "2026-11-20"], env=WIDE)
    assert "Reports owed as of 2026-11-20: 1 open, 1 overdue" in table.output
    assert "RP0000001 1 EU initial expedited 2026-11-16 -4 eu-serious" in _flat(table.output)


ACK_EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "standards" / "e2b_r3" / "examples"


def _ack(folder: Path, example: str, batch_id: str, message_id: str, name: str) -> Path:
    """FDA's example ACK (positive or negative) re-addressed to a batch and report sent from here."""
    from conftest import shared_file

    text = shared_file("standards", "e2b_r3", "examples", example).read_text(encoding="utf-8")
    text = re.sub(r'(<targetBatch>\s*<id extension=")[^"]*"', rf'\g<1>{batch_id}"', text)
    text = re.sub(r'(<targetMessage>\s*<id extension=")[^"]*"', rf'\g<1>{message_id}"', text)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _submissions() -> list[dict[str, object]]:
    result = runner.invoke(app, ["submission", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    return rows


def test_from_a_case_to_an_accepted_ack_rejections_return_to_the_queue_and_compliance_counts_it(
    cli_env: Path,
) -> None:
    _new(cli_env, _serious_de())
    sent = runner.invoke(app, ["submission", "send", "--destination", "EU", "--late-reason", "MedDRA upgrade backlog"])
    assert sent.exit_code == 0, sent.output
    [first] = _submissions()
    batch, message = str(first["batch"]), str(first["message"])
    assert (first["state"], first["report"], first["due"], first["late_reason"]) == (
        "sent",
        "initial",
        "2026-11-16",
        "MedDRA upgrade backlog",
    )
    written = cli_env / "var" / "out" / "submissions" / "EU" / f"{batch}.xml"
    assert f"EU: batch {batch} (1 report(s)) sent by manual to {written}" in _flat(sent.output)
    assert f'extension="{message}"' in written.read_text(encoding="utf-8")  # N.2.r.1, which the ACK names
    again = runner.invoke(app, ["submission", "send", "--destination", "EU"])
    assert again.exit_code == 0 and "nothing to send" in again.output  # nothing is sent twice

    negative = _ack(cli_env, "fda_R3ack-negative.xml", batch, message, "ack-negative.xml")
    rejected = runner.invoke(app, ["submission", "ack", str(negative)], env=WIDE)
    assert rejected.exit_code == 0, rejected.output
    assert "ACK 34137236 for batch" in rejected.output and "0 accepted, 1 rejected" in rejected.output
    assert "Element value for SafetyCasePriority With Tag Id FDA.C.1.7.1 is Mandatory" in rejected.output
    queue = runner.invoke(app, ["submission", "due", "--destination", "EU", "--format", "json"])
    [back] = json.loads(queue.output)
    assert back["case"] == "RP0000001" and "SafetyCasePriority" in back["rejected"]

    # the case processor corrects the case (a new version) and sends it again
    corrected = _serious_de().model_copy(update={"narrative": "Corrected: pneumonia on day 20; recovering."})
    _new(cli_env, corrected)
    resent = runner.invoke(app, ["submission", "send", "--destination", "EU"])
    assert resent.exit_code == 0, resent.output
    old, new = _submissions()
    assert (old["state"], new["state"], new["version"], new["due"]) == ("resubmitted", "sent", 2, "2026-11-16")
    positive = _ack(cli_env, "fda_R3ack-positive.xml", str(new["batch"]), str(new["message"]), "ack-positive.xml")
    accepted = runner.invoke(app, ["submission", "ack", str(positive)])
    assert "1 accepted, 0 rejected" in accepted.output
    duplicate = runner.invoke(app, ["submission", "ack", str(positive)])
    assert duplicate.exit_code == 0 and "ACK 33439257 was already imported; nothing changed" in duplicate.output
    assert [s["state"] for s in _submissions()] == ["resubmitted", "accepted"]

    history = runner.invoke(app, ["case", "history", "RP0000001"], env=WIDE)
    assert history.exit_code == 0
    report = runner.invoke(
        app, ["submission", "compliance", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json"]
    )
    data = json.loads(report.output)
    [eu] = [m for m in data["months"] if m["destination"] == "EU"]
    assert (eu["month"], eu["due"], eu["on_time"], eu["late"]) == ("2026-11", 1, 0, 1)
    [late] = [x for x in data["late"] if x["destination"] == "EU"]
    assert late["reason"] is None  # the second attempt was sent without a reason
    assert late["days_late"] > 0 and late["accepted"] is not None


def test_acks_and_batches_are_told_apart(cli_env: Path) -> None:
    from conftest import shared_file

    ack = shared_file("standards", "e2b_r3", "examples", "fda_R3ack-positive.xml")
    icsr_batch = shared_file("standards", "e2b_r3", "examples", "fda_FAERS2022Scenario1.xml")
    imported = runner.invoke(app, ["case", "import", str(ack)], env=WIDE)
    assert imported.exit_code == 2  # a rejected file exits 2
    assert "this is an acknowledgment" in imported.output and "use riskplan submission ack" in _flat(imported.output)
    not_ack = runner.invoke(app, ["submission", "ack", str(icsr_batch)], env=WIDE)
    assert not_ack.exit_code == 2
    assert "this is an ICSR batch, not an acknowledgment: use riskplan case import" in _flat(not_ack.output)
    unknown = runner.invoke(app, ["submission", "ack", str(ack)], env=WIDE)
    assert unknown.exit_code == 2
    assert "which was not sent from this database; nothing recorded" in _flat(unknown.output)
    text = cli_env / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    garbage = runner.invoke(app, ["submission", "ack", str(text)], env=WIDE)
    assert garbage.exit_code == 2 and "not well-formed XML" in garbage.output


def test_fda_rejection_rules_stop_a_file_before_it_is_sent(cli_env: Path) -> None:
    _new(cli_env, _serious_de())
    result = runner.invoke(app, ["submission", "send", "--destination", "US"], env=WIDE)
    assert result.exit_code == 2  # a rule refused the report: the case must be corrected
    out = _flat(result.output)
    assert "RP0000001 v1 → US: not sent" in out
    # what only the case can tell (its sender's contact, D.7.2 history) stops it with FDA's id and words
    assert "FDA R0035: D.7.2 must be provided when no information is provided in Section D.7.1" in out
    assert "FDA C.3.3.2: Data value required for tag C.3.3.2" in out
    # the FDA regional elements are derived from the obligation, and the refusal says so
    assert "FDA FDA.C.1.7.1: Data value required" not in out and "FDA FDA.D.12: Data value required" not in out
    assert "derived for FDA: FDA.C.1.7.1 = 1 (15-Day) (expedited report by rule us-15-day-alert" in out
    assert "they stay owed (riskplan submission due) until the case is corrected" in out
    assert _submissions() == []
