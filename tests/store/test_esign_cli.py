"""Electronic signatures from the command line (21 CFR 11.50, 11.70, 11.200, 11.300): approving a plan
version, assessing a case and closing a signal need the signer's own user name and password now."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cli import app
from riskplan.settings import get_settings
from riskplan.store import database
from riskplan.store.audit import AuditEvent
from riskplan.store.db import session_scope
from riskplan.store.signatures import ElectronicSignatureRow

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
QPPV_PASSWORD = "the QPPV's own password"
DOCTOR_PASSWORD = "the physician's password"


def _flat(output: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┠┨╋┳┻┣┫└┘┌┐├┤┬┴]", " ", output))


@pytest.fixture(name="team")
def team_fixture(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh database with a QPPV (printed name given), a safety physician (none) and plan version 1."""
    monkeypatch.setenv("RISKPLAN_WEB_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("RISKPLAN_WEB_ARGON2_MEMORY_KIB", "1024")
    for name, role, password, extra in (
        ("qppv1", "qppv", QPPV_PASSWORD, ["--full-name", "Anne Quist"]),
        ("doc1", "safety_physician", DOCTOR_PASSWORD, []),
    ):
        added = runner.invoke(app, ["user", "add", name, "--role", role, "--password-stdin", *extra], input=password)
        assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["plan", "load", "uplizna"]).exit_code == 0
    return cli_env


def _approve(*args: str, password: str | None = None, env: dict[str, str] | None = None) -> tuple[int, str]:
    given = None if password is None else password + "\n"
    r = runner.invoke(app, ["plan", "approve", "1", *args], input=given, env=env)
    return r.exit_code, _flat(r.output)


def _signatures() -> int:
    with session_scope(database()) as s:
        return int(s.scalar(select(func.count()).select_from(ElectronicSignatureRow)) or 0)


def _actions(entity_id: str) -> list[str]:
    with session_scope(database()) as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == entity_id)))


def test_a_wrong_password_is_refused_audited_and_stores_nothing(team: Path) -> None:
    code, out = _approve("--signer", "qppv1", "--password-stdin", password="not the password")
    assert code == 2 and "signing refused: wrong user name or password for 'qppv1'" in out
    assert _signatures() == 0 and "not approved" not in out
    assert _actions("qppv1").count("signing failed") == 1
    versions = _flat(runner.invoke(app, ["plan", "versions"], env=WIDE).output)
    assert "by qppv1" not in versions and "approval" not in versions


def test_riskplan_user_never_signs_and_a_blank_actor_is_refused(team: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # RISKPLAN_USER names the QPPV, but a signature needs the signer's own name and password given now
    code, out = _approve("--password-stdin", password=QPPV_PASSWORD, env={"RISKPLAN_USER": "qppv1"})
    assert code == 2 and "--password-stdin needs --signer NAME" in out and "RISKPLAN_USER never signs" in out
    code, out = _approve(env={"RISKPLAN_USER": "qppv1"})  # no terminal to answer the prompt
    assert code == 2 and "no signer given" in out
    code, out = _approve("--signer", "   ", "--password-stdin", password=QPPV_PASSWORD)
    assert code == 2 and "user name is empty or blank" in out
    monkeypatch.setenv("RISKPLAN_USER", "  ")
    get_settings.cache_clear()
    blank = runner.invoke(app, ["plan", "load", "uplizna", "--reason", "x"])
    assert blank.exit_code == 2 and "RISKPLAN_USER is empty or blank" in _flat(blank.output)
    code, out = _approve("--signer", "qppv1", "--password-stdin", password=QPPV_PASSWORD)
    assert code == 0, out  # the signer is named, so a blank RISKPLAN_USER does not matter
    assert _signatures() == 1


def test_the_role_must_allow_the_signature(team: Path) -> None:
    code, out = _approve("--signer", "doc1", "--password-stdin", password=DOCTOR_PASSWORD)
    assert code == 2 and "doc1 (safety_physician) may not sign a plan approval: only qppv may" in out
    assert _signatures() == 0


def test_the_approval_shows_printed_name_meaning_and_utc_time_and_detects_a_changed_record(team: Path) -> None:
    code, out = _approve("--signer", "qppv1", "--password-stdin", "--reason", "EMA", password=QPPV_PASSWORD)
    assert code == 0, out
    assert re.search(r"signed: Anne Quist \(qppv1\), approval, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", out)
    assert _signatures() == 1 and _actions("plan version uplizna v1") == ["signed"] * 3
    versions = _flat(runner.invoke(app, ["plan", "versions"], env=WIDE).output)
    assert "Anne Quist (qppv1), approval" in versions and "CHANGED" not in versions
    # 21 CFR 11.70: a record changed behind the application's back no longer matches its signature
    engine = database()
    with engine.begin() as conn:
        conn.execute(text("UPDATE plan_version SET content_json = replace(content_json, 'UPLIZNA', 'UPLYZNA')"))
    versions = _flat(runner.invoke(app, ["plan", "versions"], env=WIDE).output)
    assert "Anne Quist (qppv1), approval" in versions and "RECORD CHANGED SINCE SIGNING" in versions


def test_failed_signings_count_towards_the_lock_out(team: Path) -> None:
    for _ in range(5):
        code, out = _approve("--signer", "qppv1", "--password-stdin", password="a wrong password")
        assert code == 2
    assert "qppv1 is locked until" in out
    code, out = _approve("--signer", "qppv1", "--password-stdin", password=QPPV_PASSWORD)
    assert code == 2 and "locked until" in out and "riskplan user unlock qppv1" in out
    assert _actions("qppv1").count("signing failed") == 5 and _actions("qppv1").count("locked") == 1
    assert runner.invoke(app, ["user", "unlock", "qppv1"]).exit_code == 0
    code, out = _approve("--signer", "qppv1", "--password-stdin", password=QPPV_PASSWORD)
    assert code == 0, out


def test_a_medical_assessment_is_signed_by_its_author(team: Path) -> None:
    case_file = team / "case.json"
    case_file.write_text(make_icsr().model_dump_json(), encoding="utf-8")
    assert runner.invoke(app, ["case", "new", str(case_file)]).exit_code == 0
    assess = ["case", "assess", "RP0000001", "--causality", "possible", "--comment", "TTO"]
    wrong = runner.invoke(app, [*assess, "--signer", "doc1", "--password-stdin"], input="nope nope nope\n")
    assert wrong.exit_code == 2 and "signing refused" in wrong.output
    done = runner.invoke(app, [*assess, "--signer", "doc1", "--password-stdin"], input=DOCTOR_PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    # an account without a full name signs with its user name as the printed name
    assert re.search(r"assessed WHO-UMC possible .*; signed: doc1 \(doc1\), authorship, \d{4}-", _flat(done.output))
    shown = _flat(runner.invoke(app, ["case", "show", "RP0000001"], env=WIDE).output)
    assert "WHO-UMC possible" in shown and "doc1 (doc1), authorship" in shown and "comment: TTO" in shown
    with database().begin() as conn:
        conn.execute(text("UPDATE case_causality SET result = 'certain'"))
    shown = _flat(runner.invoke(app, ["case", "show", "RP0000001"], env=WIDE).output)
    assert "certain" in shown and "RECORD CHANGED SINCE SIGNING" in shown
