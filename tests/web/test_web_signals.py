"""The signal workflow through the web application: with ``riskplan.signals.workflow`` (GVP IX
states, QPPV-only closing, plan-changing outcomes) and as if it were not installed (501)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from riskplan.plan.catalogue import load_plan
from riskplan.web.signals_port import ModuleWorkflow, load_signal_workflow
from web_fixtures import (
    PASSWORD,
    WebApp,
    api_token,
    make_app,
    page_session,
    seed,
    seed_signals,
    web_fixture,  # noqa: F401  (fixtures)
)


def _plan_with_new_concern() -> dict[str, Any]:
    plan = load_plan("uplizna")
    first = plan.safety_concerns[0]
    added = first.model_copy(update={"id": "hepatotoxicity", "title": "Hepatotoxicity"})
    changed = plan.model_copy(update={"safety_concerns": [*plan.safety_concerns, added]})
    data: dict[str, Any] = changed.model_dump(mode="json")
    return data


def test_the_installed_workflow_is_used() -> None:
    assert isinstance(load_signal_workflow(), ModuleWorkflow)


def test_not_yet_available_answers_501(tmp_path: Path) -> None:
    w = make_app(f"sqlite:///{tmp_path / 'n.db'}", tmp_path, signal_workflow=None)
    c = w.client()
    h = api_token(c, "qppv")
    r = c.get("/api/signals", headers=h)
    assert r.status_code == 501 and "not yet available" in r.json()["detail"]
    assert c.get("/api/signals/1", headers=h).status_code == 501
    move = c.post("/api/signals/1/transitions", json={"to": "validated", "reason": "x"}, headers=h)
    assert move.status_code == 501
    assert c.get("/api/signals", headers=api_token(c, "case_processor")).status_code == 403  # roles first
    csrf = page_session(c, "qppv")
    assert 'data-testid="signals-unavailable"' in c.get("/signals").text
    assert 'data-testid="signals-unavailable"' in c.get("/dashboard").text
    page = c.post("/signals/1/transitions", data={"csrf_token": csrf, "to": "validated", "reason": "x"})
    assert page.status_code == 501 and "not yet available" in page.text
    w.engine.dispose()


def test_signal_moves_through_the_api(web: WebApp) -> None:
    seed_signals_only(web)
    c = web.client()
    sp, qppv = api_token(c, "safety_physician"), api_token(c, "qppv")
    listed = c.get("/api/signals", headers=sp).json()
    assert [(s["title"], s["state"]) for s in listed] == [
        ("Pneumonia with UPLIZNA", "detected"),
        ("Neutropenia with UPLIZNA", "assessed"),
    ]
    first, second = listed[0]["id"], listed[1]["id"]
    assert re.fullmatch(r"SIG-\d{4}-0001", first) and listed[0]["allowed_next"] == ["validated", "refuted"]
    assert c.get("/api/signals", headers=api_token(c, "case_processor")).status_code == 403
    assert c.get("/api/signals/SIG-1999-0099", headers=sp).status_code == 404

    r = c.post(f"/api/signals/{first}/transitions", json={"to": "validated", "reason": "3 cases"}, headers=sp)
    assert r.status_code == 201 and r.json()["state"] == "validated"
    wrong = c.post(f"/api/signals/{first}/transitions", json={"to": "assessed", "reason": "x"}, headers=sp)
    assert wrong.status_code == 400 and "allowed next state(s): prioritised" in wrong.json()["detail"]
    assert c.post(f"/api/signals/{first}/transitions", json={"to": "prioritised"}, headers=sp).status_code == 422
    detail = c.get(f"/api/signals/{first}", headers=sp).json()
    assert [(m["to_state"], m["who"], m["role"]) for m in detail["history"]] == [
        ("detected", "seed", None),
        ("validated", "safety-physician-1", "safety_physician"),
    ]

    # only the QPPV closes, and with an outcome
    close = {"to": "closed", "reason": "already labelled", "outcome": "no action"}
    assert c.post(f"/api/signals/{second}/transitions", json=close, headers=sp).status_code == 403
    no_outcome = c.post(f"/api/signals/{second}/transitions", json={**close, "outcome": None}, headers=qppv)
    assert no_outcome.status_code == 400 and "needs an outcome" in no_outcome.json()["detail"]
    needs_plan = {**close, "outcome": "new safety concern", "password": PASSWORD}
    r = c.post(f"/api/signals/{second}/transitions", json=needs_plan, headers=qppv)
    assert r.status_code == 400 and "changes the risk management plan" in r.json()["detail"]
    r = c.post(
        f"/api/signals/{second}/transitions", json={**needs_plan, "plan": _plan_with_new_concern()}, headers=qppv
    )
    assert r.status_code == 201, r.text
    closed = r.json()
    assert closed["state"] == "closed" and closed["outcome"] == "new safety concern" and closed["plan_version"] == 2
    versions = c.get("/api/plans/uplizna/versions", headers=qppv).json()
    assert versions[-1]["version"] == 2 and versions[-1]["source"] == f"signal {second}"
    audit = c.get("/api/audit", params={"entity_type": "signal", "entity_id": second}, headers=qppv).json()
    assert audit[0]["action"] == "assessed → closed" and audit[0]["who"] == "qppv-1"


def seed_signals_only(w: WebApp) -> None:
    from riskplan.cases.intake import intake, intake_context
    from riskplan.store.db import session_scope
    from web_fixtures import exportable_icsr

    with session_scope(w.engine) as session:
        intake(session, [exportable_icsr("SEED-1")], context=intake_context(session, "uplizna", "seed"), who="seed")
    seed_signals(w)


def test_signal_board_and_dashboard(tmp_path: Path) -> None:
    w = make_app(f"sqlite:///{tmp_path / 'b.db'}", tmp_path)
    seed(w)
    sp = w.client()
    csrf = page_session(sp, "safety_physician")
    board = sp.get("/signals").text
    assert 'data-state="assessed"' in board and "Pneumonia with UPLIZNA" in board
    assert "<option>closed</option>" not in board  # a safety physician is not offered to close
    dashboard = sp.get("/dashboard").text
    assert 'data-testid="open-signals"' in dashboard and "Neutropenia with UPLIZNA" in dashboard
    r = sp.post("/signals/1/transitions", data={"csrf_token": csrf, "to": "validated", "reason": "case series"})
    assert r.status_code == 303 and r.headers["location"] == "/signals?done=moved"
    assert "Signal moved." in sp.get(r.headers["location"]).text
    assert (
        sp.post("/signals/2/transitions", data={"csrf_token": csrf, "to": "closed", "reason": "x"}).status_code == 403
    )
    missing = sp.post("/signals/1/transitions", data={"csrf_token": csrf, "to": "prioritised"})
    assert missing.status_code == 400 and "needs a reason" in missing.text

    qppv = w.client()
    token = page_session(qppv, "qppv")
    assert "<option>closed</option>" in qppv.get("/signals").text
    changed = yaml.safe_dump(_plan_with_new_concern(), sort_keys=False).encode()
    r = qppv.post(
        "/signals/2/transitions",
        data={
            "csrf_token": token,
            "to": "closed",
            "reason": "hepatic cases",
            "outcome": "new safety concern",
            "password": PASSWORD,
        },
        files={"plan_file": ("uplizna-v3.yaml", changed, "application/yaml")},
    )
    assert r.status_code == 303, r.text
    assert "Hepatotoxicity" in qppv.get("/plans/uplizna").text
    bad = qppv.post(
        "/signals/1/transitions",
        data={"csrf_token": token, "to": "refuted", "reason": "x"},
        files={"plan_file": ("p.json", json.dumps({"name": 1}).encode(), "application/json")},
    )
    assert bad.status_code == 400
    w.engine.dispose()
