"""Signal management (GVP Module IX) on SQLite and PostgreSQL: states, QPPV closure, plan outcomes, audit
trail, periodic-report intervals, signals from disproportionality, and the command line."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.errors import NotFoundError, UserInputError
from riskplan.plan.catalogue import load_plan, plan_to_yaml
from riskplan.plan.cli import app as plan_app
from riskplan.plan.diff import diff_plans
from riskplan.plan.model import (
    AdditionalRiskMinimisation,
    ConcernCategory,
    ConcernDefinition,
    RiskManagementPlan,
    SafetyConcern,
)
from riskplan.plan.tables import PlanVersionRow
from riskplan.plan.versions import get_version, list_versions, record_plan
from riskplan.signals.cli import app
from riskplan.signals.disproportionality import DetectionResult, detect
from riskplan.signals.synth import Injection, synthesise_spontaneous
from riskplan.signals.workflow import (
    TRANSITIONS,
    SignalOutcome,
    SignalState,
    get_signal,
    link_cases,
    list_signals,
    new_signal,
    signal_history,
    signals_from_detection,
    signals_in_interval,
    transition,
)
from riskplan.store.audit import AuditEvent, history
from riskplan.store.db import session_scope
from riskplan.store.signatures import Signer
from riskplan.terms.coding import OpenTermList
from riskplan.web.cli import user_app

runner = CliRunner()
PATH = (SignalState.VALIDATED, SignalState.PRIORITISED, SignalState.ASSESSED)
UTC = dt.UTC


def _plan() -> RiskManagementPlan:
    return load_plan("uplizna")


def _with_new_concern(plan: RiskManagementPlan) -> RiskManagementPlan:
    concern = SafetyConcern(
        id="hypogammaglobulinaemia",
        title="Hypogammaglobulinaemia",
        category=ConcernCategory.IMPORTANT_POTENTIAL_RISK,
        definition=ConcernDefinition(meddra_pts=["Hypogammaglobulinaemia", "Blood immunoglobulin G decreased"]),
    )
    return plan.model_copy(update={"safety_concerns": [*plan.safety_concerns, concern]})


def _with_pml_dhpc(plan: RiskManagementPlan) -> RiskManagementPlan:
    pml = plan.concern("pml")
    changed = pml.model_copy(
        update={"additional_measures": [*pml.additional_measures, AdditionalRiskMinimisation(name="DHPC on PML")]}
    )
    return plan.model_copy(update={"safety_concerns": [changed if c.id == "pml" else c for c in plan.safety_concerns]})


def _signal(engine: Engine, **kwargs: Any) -> str:
    fields: dict[str, Any] = {
        "title": "Herpes zoster with inebilizumab",
        "who": "analyst",
        "product": "inebilizumab",
        "event": "Herpes zoster",
        "plan_name": "uplizna",
    }
    fields.update(kwargs)
    with session_scope(engine) as s:
        return new_signal(s, **fields).id


def _move(engine: Engine, signal_id: str, *states: SignalState, **kwargs: Any) -> None:
    for state in states:
        with session_scope(engine) as s:
            transition(s, signal_id, state, who="analyst", reason=f"to {state.value}", **kwargs)


QPPV = Signer("qppv-anne", "Anne Quist", "qppv")  # verified at signing by the front end


def _close(engine: Engine, signal_id: str, outcome: str = "no action", **kwargs: Any) -> None:
    with session_scope(engine) as s:
        transition(
            s,
            signal_id,
            "closed",
            who="qppv-anne",
            role="qppv",
            reason="closing",
            outcome=outcome,
            signer=QPPV,
            **kwargs,
        )


def _refused(engine: Engine, signal_id: str, to: str, match: str, **kwargs: Any) -> None:
    fields: dict[str, Any] = {"who": "analyst", "reason": "try"}
    fields.update(kwargs)
    with pytest.raises(UserInputError, match=match), session_scope(engine) as s:
        transition(s, signal_id, to, **fields)


# ---------------------------------------------------------------------------------------------------


def test_full_path_to_a_new_safety_concern_creates_a_plan_version_naming_the_signal(engine: Engine) -> None:
    plan = _plan()
    with session_scope(engine) as s:
        record_plan(s, plan, who="qppv-anne", reason="initial")
        processor = CaseProcessor(plan, OpenTermList(plan))
        store_cases(s, [processor.assess(make_icsr("GB-SIG-0001"))], plan_name="uplizna", plan_version=1, who="cp")
    sid = _signal(
        engine,
        title="Hypogammaglobulinaemia with inebilizumab",
        event="Hypogammaglobulinaemia",
        source="case-series",
        cases=["GB-SIG-0001"],
        description="Three cases with low IgG",
    )
    assert sid == f"SIG-{dt.date.today().year}-0001"
    _move(engine, sid, *PATH)
    changed = _with_new_concern(plan)
    _close(engine, sid, "new-safety-concern", plan=changed)

    with session_scope(engine) as s:
        signal = get_signal(s, sid)
        moves = signal_history(s, sid)
        v2 = get_version(s, "uplizna", 2)
        v1 = get_version(s, "uplizna", 1)
        audit = history(s, "signal", sid)
        plan_audit = history(s, "plan", "uplizna")
    assert (signal.state, signal.outcome, signal.plan_version) == (
        SignalState.CLOSED,
        SignalOutcome.NEW_SAFETY_CONCERN,
        2,
    )
    assert signal.outcome_concerns == ("hypogammaglobulinaemia",) and signal.concern_ids == ("hypogammaglobulinaemia",)
    assert signal.closed_by == "qppv-anne" and signal.closed_on == dt.date.today()
    assert signal.cases == ("GB-SIG-0001",) and signal.source.value == "case series"
    assert v2.reason is not None and v2.reason.startswith(f"signal {sid}: new safety concern — closing")
    assert v2.source == f"signal {sid}" and v2.loaded_by == "qppv-anne"
    [added] = diff_plans(v1.plan, v2.plan).items
    assert (added.kind, added.id, added.change) == ("safety concern", "hypogammaglobulinaemia", "added")
    assert plan_audit[-1].reason == v2.reason
    with session_scope(engine) as s:  # links are only added: the same case again changes nothing
        assert link_cases(s, sid, ["GB-SIG-0001"], who="analyst", reason="again").cases == ("GB-SIG-0001",)

    # History: who, when, as what, why; the audit trail holds the same moves, field by field.
    assert [(m.from_state, m.to_state) for m in moves] == [
        (None, SignalState.DETECTED),
        (SignalState.DETECTED, SignalState.VALIDATED),
        (SignalState.VALIDATED, SignalState.PRIORITISED),
        (SignalState.PRIORITISED, SignalState.ASSESSED),
        (SignalState.ASSESSED, SignalState.CLOSED),
    ]
    assert [m.who for m in moves] == ["analyst"] * 4 + ["qppv-anne"]
    assert moves[-1].role == "qppv" and moves[-1].plan_version == 2 and moves[-1].reason == "closing"
    assert all(a.at <= b.at for a, b in itertools.pairwise(moves))
    state_rows = [(e.action, e.old_value, e.new_value, e.who, e.reason) for e in audit if e.field == "state"]
    assert state_rows == [
        ("detected", None, '"detected"', "analyst", "detected (case series)"),
        ("detected → validated", '"detected"', '"validated"', "analyst", "to validated"),
        ("validated → prioritised", '"validated"', '"prioritised"', "analyst", "to prioritised"),
        ("prioritised → assessed", '"prioritised"', '"assessed"', "analyst", "to assessed"),
        ("assessed → closed", '"assessed"', '"closed"', "qppv-anne", "closing"),
    ]
    closing = {e.field: e.new_value for e in audit if e.action == "assessed → closed"}
    assert closing == {
        "state": '"closed"',
        "acting_as": '"qppv"',
        "outcome": '"new safety concern"',
        "plan_version": '"uplizna v2"',
    }
    assert {e.field for e in audit if e.action == "detected"} >= {"title", "event", "cases", "source", "product"}


def test_refuted_is_final_and_counts_as_closed(engine: Engine) -> None:
    sid = _signal(engine)
    _move(engine, sid, SignalState.REFUTED)
    with session_scope(engine) as s:
        signal = get_signal(s, sid)
    assert signal.state is SignalState.REFUTED and not signal.is_open and signal.closed_by == "analyst"
    for target in SignalState:
        _refused(engine, sid, target.value, "is refuted, a final state: no further transitions are allowed")


def test_every_move_not_allowed_is_refused_naming_the_allowed_states(engine: Engine) -> None:
    ids: dict[SignalState, str] = {}
    for state in (SignalState.DETECTED, *PATH):
        ids[state] = _signal(engine, title=f"in state {state.value}")
        index = PATH.index(state) + 1 if state in PATH else 0
        _move(engine, ids[state], *PATH[:index])
    ids[SignalState.CLOSED] = _signal(engine, title="closed")
    _move(engine, ids[SignalState.CLOSED], *PATH)
    _close(engine, ids[SignalState.CLOSED])
    with session_scope(engine) as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    refusals = 0
    for state, sid in ids.items():
        allowed = TRANSITIONS[state]
        for target in SignalState:
            if target in allowed:
                continue
            refusals += 1
            if allowed:
                message = (
                    f"signal {sid} is {state.value}: it cannot move to {target.value}; "
                    f"allowed next state\\(s\\): {', '.join(a.value for a in allowed)}$"
                )
            else:
                message = f"signal {sid} is {state.value}, a final state"
            _refused(engine, sid, target.value, message, role="qppv", outcome="no action")
    assert refusals == 25
    with session_scope(engine) as s:
        assert [get_signal(s, sid).state for sid in ids.values()] == list(ids)
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before  # nothing recorded
    _refused(engine, ids[SignalState.DETECTED], "approved", "unknown signal state 'approved': choose from 'detected'")
    _refused(engine, ids[SignalState.DETECTED], "validated", "needs a reason", reason="  ")
    with pytest.raises(NotFoundError, match="no signal 'SIG-1999-0001'"), session_scope(engine) as s:
        get_signal(s, "SIG-1999-0001")


def test_only_the_qppv_closes_and_closing_needs_an_outcome(engine: Engine) -> None:
    sid = _signal(engine)
    _refused(engine, sid, "validated", "an outcome is recorded when a signal is closed", outcome="no action")
    _move(engine, sid, *PATH)
    _refused(engine, sid, "closed", "only the QPPV closes a signal; analyst is acting as no role", outcome="no action")
    _refused(engine, sid, "closed", "acting as safety physician", outcome="no action", role="safety physician")
    _refused(engine, sid, "closed", "needs an outcome: one of 'new safety concern'", role="qppv")
    _refused(engine, sid, "closed", "unknown signal outcome 'fixed'", role="qppv", outcome="fixed")
    with session_scope(engine) as s:
        closed = transition(
            s, sid, "CLOSED", who="x", role="QPPV", reason="no new information", outcome="No_Action", signer=QPPV
        )
    assert closed.state is SignalState.CLOSED and closed.outcome is SignalOutcome.NO_ACTION
    assert closed.plan_version is None


def test_plan_outcomes_need_a_fitting_change_and_leave_nothing_when_refused(engine: Engine) -> None:
    plan = _plan()
    sid = _signal(engine, title="PML with inebilizumab", event="Progressive multifocal leukoencephalopathy")
    _move(engine, sid, *PATH)
    close = {"role": "qppv", "signer": QPPV}
    _refused(engine, sid, "closed", "changes the risk management plan: give the changed plan", outcome="rmm", **close)
    _refused(
        engine,
        sid,
        "closed",
        "a plan is given only with an outcome that changes",
        outcome="no action",
        plan=_with_pml_dhpc(plan),
        **close,
    )
    _refused(
        engine,
        sid,
        "closed",
        "the plan given is the same as uplizna v1",
        outcome="changed safety concern",
        plan=plan,
        **close,
    )
    _refused(
        engine,
        sid,
        "closed",
        "needs a change to routine or additional risk-minimisation measures, but the plan "
        "given differs from uplizna v1 by: safety concern hypogammaglobulinaemia added",
        outcome="risk-minimisation change",
        plan=_with_new_concern(plan),
        **close,
    )
    other = plan.model_copy(update={"name": "other-plan"})
    _refused(
        engine,
        sid,
        "closed",
        "belongs to plan 'uplizna', but the plan given is 'other-plan'",
        outcome="rmm change",
        plan=other,
        **close,
    )
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(PlanVersionRow)) == 0  # the baselines were rolled back
        assert get_signal(s, sid).state is SignalState.ASSESSED
    with session_scope(engine) as s:
        closed = transition(
            s,
            sid,
            "closed",
            who="anne",
            role="qppv",
            reason="DHPC",
            outcome="rmm change",
            plan=_with_pml_dhpc(plan),
            signer=QPPV,
        )
        versions = list_versions(s, "uplizna")
    assert closed.outcome is SignalOutcome.RISK_MINIMISATION_CHANGE and closed.concern_ids == ("pml",)
    assert [(v.version, v.reason) for v in versions] == [
        (1, f"baseline before signal {sid}"),
        (2, f"signal {sid}: risk-minimisation change — DHPC"),
    ]
    assert closed.plan_version == 2


def test_recording_checks_its_input(engine: Engine) -> None:
    with pytest.raises(UserInputError, match=r"about an event .* and/or a safety concern"), session_scope(engine) as s:
        new_signal(s, title="vague", who="a", product="inebilizumab")
    message = "has no safety concern 'pmll'; its concerns are: infusion-reaction"
    with pytest.raises(UserInputError, match=message), session_scope(engine) as s:
        new_signal(s, title="t", who="a", concern_id="pmll", plan_name="uplizna")
    with pytest.raises(UserInputError, match="is in the future"), session_scope(engine) as s:
        new_signal(s, title="t", who="a", event="Rash", detected=dt.date.today() + dt.timedelta(days=2))
    with pytest.raises(NotFoundError, match="no case 'XX-NONE'"), session_scope(engine) as s:
        new_signal(s, title="t", who="a", event="Rash", cases=["XX-NONE"])
    with pytest.raises(UserInputError, match="unknown signal source 'rumour'"), session_scope(engine) as s:
        new_signal(s, title="t", who="a", event="Rash", source="rumour")
    sid = _signal(engine, concern_id="serious-infections", detected=dt.date(2025, 12, 30))
    assert sid == "SIG-2025-0001"
    with session_scope(engine) as s:
        signal = link_cases(s, sid, [], who="a", reason="none yet")
        assert signal.concern_ids == ("serious-infections",) and signal.detected_on == dt.date(2025, 12, 30)
        assert [x.id for x in list_signals(s, "detected")] == [sid] and list_signals(s, "closed") == []
        assert list_signals(s, plan_name="other") == []


def _at(day: str, time: str = "12:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=UTC)


def test_signals_in_interval_classifies_new_ongoing_and_closed_at_the_boundaries(engine: Engine) -> None:
    start, end = dt.date(2026, 3, 1), dt.date(2026, 8, 31)

    def make(name: str, detected: str, *moves: tuple[SignalState, str]) -> None:
        sid = _signal(engine, title=name, detected=dt.date.fromisoformat(detected), at=_at(detected, "08:00"))
        for state, when in moves:
            with session_scope(engine) as s:
                fields: dict[str, Any] = {}
                if state is SignalState.CLOSED:
                    fields = {"role": "qppv", "outcome": "no action", "signer": QPPV}
                transition(s, sid, state, who="a", reason="r", at=_at(*when.split()), **fields)

    path_to_assessed = [
        (SignalState.VALIDATED, "2026-02-01 09:00"),
        (SignalState.PRIORITISED, "2026-02-02 09:00"),
        (SignalState.ASSESSED, "2026-02-03 09:00"),
    ]
    make("ongoing open", "2026-01-10")
    make("new on start", "2026-03-01")
    make("new on end", "2026-08-31")
    make("after end", "2026-09-01")
    make("closed on start", "2026-01-11", *path_to_assessed, (SignalState.CLOSED, "2026-03-01 00:00"))
    make("closed before start", "2026-01-12", *path_to_assessed, (SignalState.CLOSED, "2026-02-28 23:59"))
    make("refuted on end", "2026-01-13", (SignalState.REFUTED, "2026-08-31 23:59"))
    make(
        "new, closed after end",
        "2026-04-01",
        (SignalState.VALIDATED, "2026-04-02 09:00"),
        (SignalState.PRIORITISED, "2026-05-01 09:00"),
        (SignalState.ASSESSED, "2026-09-01 00:00"),
        (SignalState.CLOSED, "2026-09-02 00:00"),
    )
    make("old, closed after end", "2026-01-14", *path_to_assessed, (SignalState.CLOSED, "2026-09-01 00:00"))

    with session_scope(engine) as s:
        summaries = signals_in_interval(s, start, end)
    got = {x.title: (x.classification, x.state, x.closed, x.outcome) for x in summaries}
    assert got == {
        "ongoing open": ("ongoing", "detected", None, None),
        "closed on start": ("closed", "closed", start, "no action"),
        "refuted on end": ("closed", "refuted", end, "refuted"),
        "old, closed after end": ("ongoing", "assessed", None, None),
        "new on start": ("new", "detected", None, None),
        "new, closed after end": ("new", "prioritised", None, None),
        "new on end": ("new", "detected", None, None),
    }
    assert [x.detected for x in summaries] == sorted(x.detected for x in summaries)
    first = summaries[0]
    assert first.id.startswith("SIG-2026-") and first.product == "inebilizumab" and first.concern_ids == ()
    with pytest.raises(UserInputError, match=r"ends .* before it starts"), session_scope(engine) as s:
        signals_in_interval(s, end, start)
    with session_scope(engine) as s:  # a move cannot be dated before the signal's last move
        late = next(x.id for x in summaries if x.title == "new on end")
    _refused(engine, late, "validated", "before the signal's last move", at=_at("2026-01-01"))


@pytest.fixture(scope="module")
def detection() -> Iterator[DetectionResult]:
    """20,000 synthetic reports; DRUG-00005 is inebilizumab with Herpes zoster (×6) and Pyrexia (×4)."""
    reports = synthesise_spontaneous(
        20_000,
        seed=3,
        injected=[Injection("DRUG-00005", "EVENT-00030", 6.0), Injection("DRUG-00005", "EVENT-00012", 4.0)],
    )
    con = duckdb.connect()
    rel = reports.to_relation(con)
    renamed = con.sql(
        "SELECT report_id, CASE WHEN product = 'DRUG-00005' THEN 'inebilizumab' ELSE product END AS product, "
        "CASE event WHEN 'EVENT-00030' THEN 'Herpes zoster' WHEN 'EVENT-00012' THEN 'Pyrexia' ELSE event END "
        f"AS event FROM ({rel.sql_query()})"
    )
    yield detect(con, renamed)
    con.close()


def test_signals_from_detection_links_concerns_and_is_idempotent(engine: Engine, detection: DetectionResult) -> None:
    plan = _plan()
    with session_scope(engine) as s:
        created = signals_from_detection(s, detection, "eb05", product="inebilizumab", plan=plan, who="robot")
    by_event = {x.event: x for x in created}
    assert {"Herpes zoster", "Pyrexia"} <= set(by_event)
    zoster = by_event["Herpes zoster"]
    assert zoster.concern_id == "serious-infections" and by_event["Pyrexia"].concern_id is None
    assert zoster.source.value == "disproportionality" and zoster.state is SignalState.DETECTED
    assert zoster.statistics is not None and zoster.statistics["flagged_by"] == ["eb05"]
    assert zoster.statistics["N"] == detection.row("inebilizumab", "Herpes zoster")["N"]
    assert zoster.statistics["EB05"] == pytest.approx(detection.row("inebilizumab", "Herpes zoster")["EB05"])
    eb05 = [x.statistics["EB05"] for x in created if x.statistics]
    assert eb05 == sorted(eb05, reverse=True)

    with session_scope(engine) as s:
        assert signals_from_detection(s, detection, "eb05", product="inebilizumab", plan=plan, who="robot") == []
        transition(s, zoster.id, "refuted", who="analyst", reason="known, labelled")
    with session_scope(engine) as s:  # refuted with the same number of reports: not raised again
        assert signals_from_detection(s, detection, ["eb05"], product="inebilizumab", plan=plan, who="robot") == []
        again = signals_from_detection(s, detection, "eb05,ic025", product="inebilizumab", plan=plan, who="robot")
        assert all(x.event not in by_event for x in again)  # only pairs the wider criteria add
        total = len(list_signals(s, product="inebilizumab"))
    assert total == len(created) + len(again)
    with pytest.raises(UserInputError, match="no reports with the product 'nothing'"), session_scope(engine) as s:
        signals_from_detection(s, detection, "eb05", product="nothing", plan=plan, who="robot")


QPPV_PASSWORD = "the QPPV's own password"


def test_cli_round_trip(cli_env: Path) -> None:
    env = {"COLUMNS": "250"}
    added = runner.invoke(
        user_app,
        ["add", "qppv1", "--role", "qppv", "--full-name", "Anne Quist", "--password-stdin"],
        input=QPPV_PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    result = runner.invoke(
        app,
        [
            "new",
            "--title",
            "PML with inebilizumab",
            "--product",
            "inebilizumab",
            "--event",
            "Progressive multifocal leukoencephalopathy",
            "--concern",
            "pml",
            "--source",
            "literature",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    sid = result.stdout.split(":")[0].strip()  # stderr names the database
    assert sid.startswith("SIG-") and "detected" in result.output

    listed = runner.invoke(app, ["list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    [record] = json.loads(listed.output)
    assert (record["id"], record["state"], record["concern_ids"], record["allowed_next"]) == (
        sid,
        "detected",
        ["pml"],
        ["validated", "refuted"],
    )
    bad = runner.invoke(app, ["transition", sid, "closed", "--reason", "skip ahead"], env=env)
    assert bad.exit_code == 2 and "allowed next state(s): validated, refuted" in bad.output
    for state in ("validated", "prioritised", "assessed"):
        moved = runner.invoke(app, ["transition", sid, state, "--reason", f"to {state}", "--role", "safety physician"])
        assert moved.exit_code == 0, moved.output
    refused = runner.invoke(
        app,
        ["transition", sid, "closed", "--reason", "r", "--outcome", "no-action", "--role", "safety physician"],
        env=env,
    )
    assert refused.exit_code == 2 and "only the QPPV closes a signal" in refused.output

    plan_file = cli_env / "uplizna-dhpc.yaml"
    plan_file.write_text(plan_to_yaml(_with_pml_dhpc(_plan())), encoding="utf-8")
    closed = runner.invoke(
        app,
        [
            "transition",
            sid,
            "closed",
            "--reason",
            "DHPC on PML",
            "--outcome",
            "risk-minimisation-change",
            "--plan",
            str(plan_file),
            "--signer",
            "qppv1",
            "--password-stdin",
        ],
        env=env,
        input=QPPV_PASSWORD + "\n",
    )
    assert closed.exit_code == 0, closed.output
    assert f"{sid}: closed (risk-minimisation change); plan uplizna stored as version 2" in closed.output
    assert "signed: Anne Quist (qppv1), review, 20" in closed.output

    shown = runner.invoke(app, ["show", sid], env=env)
    assert shown.exit_code == 0, shown.output
    for text in (
        "literature",
        "uplizna v2",
        "safety physician",
        "DHPC on PML",
        "risk-minimisation change",
        "Anne Quist (qppv1), review, 20",
    ):
        assert text in shown.output
    versions = runner.invoke(plan_app, ["versions"], env=env)
    assert f"signal {sid}: risk-minimisation change — DHPC on PML" in versions.output
    diff = runner.invoke(plan_app, ["diff", "1", "2"], env=env)
    assert diff.exit_code == 0 and "additional_measures" in diff.output and "pml" in diff.output

    table = runner.invoke(app, ["list", "--state", "closed"], env=env)
    assert table.exit_code == 0 and sid in table.output and "uplizna v2" in table.output
    for args, message in (
        (["list", "--state", "open"], "unknown signal state 'open'"),
        (["show", "SIG-2000-0009"], "no signal 'SIG-2000-0009'"),
        (["new", "--title", "x", "--event", "Rash", "--detected", "2026-13-01"], "expected a date as YYYY-MM-DD"),
        (["new", "--title", "x", "--concern", "nope"], "has no safety concern 'nope'"),
        (["transition", sid, "validated", "--reason", "again"], "a final state"),
    ):
        failed = runner.invoke(app, args, env=env)
        assert failed.exit_code == 2 and message in failed.output, (args, failed.output)
