"""ICH E2B(R3) H.1 as sent: the file generated for a submission carries the case narrative stored here for that
version (the processor's edit), and the submission's audit says which revision went out."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree
from sqlalchemy import create_engine, text
from test_submissions_cli import WIDE, _new, _serious_de, _submissions
from typer.testing import CliRunner

from riskplan.cases.e2b._base import schema_errors
from riskplan.cli import app

runner = CliRunner()
HL7 = "{urn:hl7-org:v3}"


def _sent_h1(folder: Path) -> tuple[str | None, etree._Element]:
    [row] = _submissions()
    root = etree.parse(str(folder / "var" / "out" / "submissions" / "EU" / f"{row['batch']}.xml")).getroot()
    [event] = root.iter(f"{HL7}investigationEvent")
    return event.findtext(f"{HL7}text"), root


def _narrative_audit(folder: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{folder / 'var' / 'riskplan.db'}")
    with engine.connect() as c:
        rows = c.execute(
            text("SELECT new_value FROM audit_event WHERE entity_type = 'submission' AND field = 'narrative'")
        )
        found = [json.loads(v) for (v,) in rows]  # stored as JSON
    engine.dispose()
    return found


def test_the_sent_file_carries_the_edited_narrative_and_the_audit_names_its_revision(cli_env: Path) -> None:
    _new(cli_env, _serious_de())
    edited = "Edited by the processor: pneumonia from day 20, treated with amoxicillin; recovering on day 27."
    (cli_env / "edit.txt").write_text(edited, encoding="utf-8")
    result = runner.invoke(
        app, ["case", "narrative", "RP0000001", "--edit", "edit.txt", "--reason", "course"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    sent = runner.invoke(app, ["submission", "send", "--destination", "EU", "--late-reason", "test"], env=WIDE)
    assert sent.exit_code == 0, sent.output
    h1, root = _sent_h1(cli_env)
    assert h1 == edited
    assert schema_errors(root) == []  # still valid against the ICH E2B(R3) schema
    [audit] = _narrative_audit(cli_env)
    assert audit == "H.1 from the stored narrative (en) revision 1 (edited)"


def test_without_a_stored_narrative_the_received_one_goes_out(cli_env: Path) -> None:
    received = _serious_de()
    _new(cli_env, received)
    sent = runner.invoke(app, ["submission", "send", "--destination", "EU", "--late-reason", "test"], env=WIDE)
    assert sent.exit_code == 0, sent.output
    h1, root = _sent_h1(cli_env)
    assert h1 == received.narrative and schema_errors(root) == []
    assert _narrative_audit(cli_env) == ["H.1 as received: no narrative written here for version 1"]
