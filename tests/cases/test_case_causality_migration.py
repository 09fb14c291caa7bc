"""Revision cases_0005 on SQLite and PostgreSQL: case-level causality assessments are carried to their
drug-reaction pair where the case has one suspect drug and one reaction, signature and all; the others stay
case level, shown with a note."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from case_factory import inebilizumab, make_icsr
from riskplan.cases.assessments import Causality, record_assessment
from riskplan.cases.causality import case_level_assessments, causality_assessments
from riskplan.cases.model import Hl7Timestamp, Reaction
from riskplan.cli import app
from riskplan.settings import get_settings
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import alembic_config, is_current, upgrade
from riskplan.store.signatures import Signer

runner = CliRunner()
DOCTOR = Signer("physician-1", "Dr Physician One", "safety_physician")
AT = dt.datetime(2026, 3, 4, 14, 5, tzinfo=dt.UTC)


@pytest.fixture
def engine_before(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    """A database with two cases assessed at case level, then taken back to cases_0004."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", database_url)
    monkeypatch.setenv("RISKPLAN_USER", "tester")
    monkeypatch.delenv("RISKPLAN_CONFIG", raising=False)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    upgrade(engine)
    assert runner.invoke(app, ["plan", "load", "uplizna"]).exit_code == 0
    one_pair = make_icsr("GB-ONE-PAIR")  # UPLIZNA suspect, Imurel concomitant, one reaction
    two_reactions = make_icsr(
        "GB-TWO-REACTIONS",
        drugs=(inebilizumab(),),
        reactions=(
            Reaction(verbatim_term="pneumonia", start_date=Hl7Timestamp("20261020")),
            Reaction(verbatim_term="rash", start_date=Hl7Timestamp("20261021")),
        ),
    )
    for n, icsr in enumerate((one_pair, two_reactions)):
        path = tmp_path / f"case{n}.json"
        path.write_text(icsr.model_dump_json(), encoding="utf-8")
        assert runner.invoke(app, ["case", "new", str(path)]).exit_code == 0
    with session_scope(engine) as s:
        record_assessment(s, 1, Causality.PROBABLE, "positive dechallenge", signer=DOCTOR, at=AT)
        record_assessment(s, 2, Causality.POSSIBLE, "which reaction?", signer=DOCTOR, at=AT)
    command.downgrade(alembic_config(engine), "cases_0004")
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_an_unambiguous_case_level_assessment_is_carried_to_its_pair(engine_before: Engine) -> None:
    engine = engine_before
    assert not is_current(engine)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert is_current(engine)
    with session_scope(engine) as s:
        (carried,) = causality_assessments(s, 1)
        assert (carried.drug_seq, carried.drug_name, carried.reaction_seq, carried.reaction_term) == (
            1,
            "UPLIZNA",
            1,
            "Pneumonia",
        )
        assert (carried.method, carried.result, carried.comment) == ("WHO-UMC", "probable", "positive dechallenge")
        assert (carried.assessed_by, carried.assessed_at, carried.version) == ("physician-1", AT, 1)
        assert carried.carried_from == 1 and carried.signature_valid is True
        assert carried.signed.startswith("Dr Physician One (physician-1), authorship")
        assert case_level_assessments(s, 1) == []
        assert causality_assessments(s, 2) == []
        (kept,) = case_level_assessments(s, 2)
        assert kept.assessment.causality == "possible" and "not carried to a pair" in kept.note
    with engine.connect() as conn:  # the case-level rows are kept as they were
        assert conn.execute(text("SELECT id, causality FROM case_assessment ORDER BY id")).all() == [
            (1, "probable"),
            (2, "possible"),
        ]
    flat = re.sub(r"\s+", " ", runner.invoke(app, ["case", "show", "RP0000001"], env={"COLUMNS": "300"}).output)
    assert "carried from case-level assessment #1" in flat
    flat = re.sub(r"\s+", " ", runner.invoke(app, ["case", "show", "RP0000002"], env={"COLUMNS": "300"}).output)
    assert "Case-level medical assessments" in flat
    shown = json.loads(runner.invoke(app, ["case", "show", "RP0000002", "--format", "json"]).output)
    assert [a["causality"] for a in shown["assessments"]] == ["possible"]
    assert "not carried to a pair" in shown["assessments"][0]["note"]
    assert "not assessed yet" in flat  # both pairs are still to be assessed

    # downgrading drops the pairs' table only; upgrading again carries the same assessment once
    command.downgrade(alembic_config(engine), "cases_0004")
    upgrade(engine)
    with session_scope(engine) as s:
        assert [a.carried_from for a in causality_assessments(s, 1)] == [1]
