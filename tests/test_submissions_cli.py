"""Regulatory reporting as a case processor and a QPPV see it on the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.codes import Qualification
from riskplan.cases.model import Icsr, PrimarySource, Reaction
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
    return make_icsr(
        wid, received=received, reporter=PrimarySource(country="DE", qualification=Qualification.PHYSICIAN)
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

    partner = Path(__file__).parents[1] / "src/riskplan/submissions/destinations/partner.yaml"
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
        ("RP0000002", "US"): ("periodic", None, "us-periodic-domestic"),
        ("RP0000002", "PARTNER"): ("expedited", "2026-12-01", "partner-non-serious"),
    }
    table = runner.invoke(app, ["submission", "due", "--destination", "EU", "--as-of", "2026-11-20"], env=WIDE)
    assert "Reports owed as of 2026-11-20: 1 open, 1 overdue" in table.output
    assert "RP0000001 1 EU initial expedited 2026-11-16 -4 eu-serious" in _flat(table.output)
