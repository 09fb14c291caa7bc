"""The JSON API as a client uses it, on SQLite and on PostgreSQL (FastAPI TestClient over httpx)."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree
from sqlalchemy import func, select, text

from riskplan.cases.e2b import import_e2b
from riskplan.cases.tables import CaseRow
from riskplan.store.audit import history
from riskplan.store.db import session_scope
from riskplan.submissions.tables import SubmissionRow
from riskplan.web.config import signal_results_path
from web_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    TESTS,
    WebApp,
    api_token,
    case_json,
    e2b_batch,
    exportable_icsr,
    follow_up_json,
    needs_e2b_schema,
    sqlite_web_fixture,
    web_fixture,
    write_disproportionality,
)


def _cases(w: WebApp) -> int:
    with session_scope(w.engine) as s:
        return int(s.scalar(select(func.count()).select_from(CaseRow)) or 0)


def test_token_me_and_logout(web: WebApp) -> None:
    c = web.client()
    assert c.post("/api/auth/token", json={"username": "nobody", "password": "x" * 12}).status_code == 401
    h = api_token(c, "safety_physician")
    me = c.get("/api/me", headers=h).json()
    assert me["username"] == "safety-physician-1" and me["role"] == "safety_physician"
    assert "case:assess" in me["permissions"] and "signal:close" not in me["permissions"]
    assert c.post("/api/auth/logout", headers=h).status_code == 200
    r = c.get("/api/me", headers=h)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert c.get("/api/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_intake_follow_up_history_and_reads(web: WebApp) -> None:
    c = web.client()
    h = api_token(c, "case_processor")
    r = c.post("/api/cases", json=case_json("GB-RP-1"), headers=h, params={"reason": "phone call"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == "/api/cases/RP0000001"
    assert created["case_number"] == "RP0000001" and created["status"] == "created" and created["valid"]
    assert created["serious"] and created["due"] == "2026-11-17"
    assert "serious-infections" in created["safety_concerns"]

    again = c.post("/api/cases", json=case_json("GB-RP-1"), headers=h)
    assert again.status_code == 409 and "RP0000001/follow-ups" in again.json()["detail"]

    body = follow_up_json("GB-RP-1")
    fu = c.post("/api/cases/RP0000001/follow-ups", json=body, headers=h, params={"reason": "GP letter"})
    assert fu.status_code == 201 and fu.json()["version"] == 2 and fu.json()["status"] == "follow-up"
    same = c.post("/api/cases/GB-RP-1/follow-ups", json=body, headers=h)
    assert same.json()["status"] == "unchanged" and same.json()["version"] == 2
    wrong = c.post("/api/cases/RP0000001/follow-ups", json=follow_up_json("OTHER-1"), headers=h)
    assert wrong.status_code == 400 and "not that of case RP0000001" in wrong.json()["detail"]

    shown = c.get("/api/cases/RP0000001", headers=h).json()
    assert shown["version"] == 2 and shown["latest_version"] == 2
    assert shown["icsr"]["reactions"][0]["outcome"] == "1"
    assert shown["reactions"][0]["pt_name"] == "Pneumonia"
    v1 = c.get("/api/cases/RP0000001", params={"version": 1}, headers=h).json()
    assert v1["icsr"]["reactions"][0]["outcome"] == "2"
    versions = c.get("/api/cases/RP0000001/versions", headers=h).json()
    assert [(v["version"], v["reason"]) for v in versions] == [(1, "phone call"), (2, "GP letter")]

    history = c.get("/api/cases/RP0000001/history", headers=h).json()
    changed = [e for e in history if e["action"] == "changed" and e["field"] == "reactions.0.outcome"]
    assert changed and changed[0]["who"] == "case-processor-1" and changed[0]["reason"] == "GP letter"
    assert (changed[0]["old_value"], changed[0]["new_value"]) == ('"2"', '"1"')

    listing = c.get("/api/cases", headers=h).json()
    assert [(x["case_number"], x["version"], x["reactions"]) for x in listing] == [("RP0000001", 2, ["Pneumonia"])]
    assert c.get("/api/cases", params={"offset": 1}, headers=h).json() == []
    due = c.get("/api/cases/due", params={"as_of": "2026-12-01"}, headers=h).json()
    assert {(d["case_number"], d["overdue"]) for d in due if d["destination"] == "EU"} == {("RP0000001", True)}
    assert c.get("/api/cases/due", params={"as_of": "tomorrow"}, headers=h).status_code == 400
    assert c.get("/api/cases/RP0000999", headers=h).status_code == 404
    assert c.get("/api/cases/x' OR '1'='1", headers=h).status_code == 404


def _assessment_in_sql(w: WebApp, wid: str, version: int) -> dict[str, object]:
    """What the database holds for the version (plain SQL), shaped as the intake answer."""
    with w.engine.connect() as conn:
        vid, valid, reasons, serious, due = conn.execute(
            text(
                "SELECT v.id, v.valid, v.invalid_reasons, v.serious, v.due FROM icsr_case_version v "
                "JOIN icsr_case c ON c.id = v.case_id WHERE c.worldwide_id = :wid AND v.version = :version"
            ),
            {"wid": wid, "version": version},
        ).one()
        concerns = conn.scalars(
            text("SELECT concern_id FROM icsr_case_concern WHERE case_version_id = :vid ORDER BY id"), {"vid": vid}
        ).all()
    return {
        "valid": bool(valid),
        "invalid_reasons": reasons.split("; ") if reasons else [],
        "serious": bool(serious),
        "due": str(due)[:10] if due is not None else None,
        "safety_concerns": list(concerns),
    }


def test_the_intake_answer_is_the_stored_versions_assessment(web: WebApp) -> None:
    # the answer is made from what the store wrote, not read back: it must say what the database holds
    c = web.client()
    h = api_token(c, "case_processor")
    body = case_json("GB-RP-ANSWER")
    body["primary_sources"] = [{"given_name_null_flavor": "MSK", "country_null_flavor": "UNK"}]
    first = c.post("/api/cases", json=body, headers=h)
    assert first.status_code == 201, first.text
    answer = {k: first.json()[k] for k in ("valid", "invalid_reasons", "serious", "due", "safety_concerns")}
    assert answer == _assessment_in_sql(web, "GB-RP-ANSWER", 1)
    assert not answer["valid"] and answer["invalid_reasons"] and answer["due"] is None

    fixed = follow_up_json("GB-RP-ANSWER")
    for ref in ("RP0000001", "GB-RP-ANSWER"):  # by case number, then by worldwide id (unchanged)
        r = c.post(f"/api/cases/{ref}/follow-ups", json=fixed, headers=h)
        assert r.status_code == 201, r.text
        answer = {k: r.json()[k] for k in ("valid", "invalid_reasons", "serious", "due", "safety_concerns")}
        assert r.json()["version"] == 2 and answer == _assessment_in_sql(web, "GB-RP-ANSWER", 2)
    assert r.json()["status"] == "unchanged" and answer["valid"] and answer["safety_concerns"]
    with session_scope(web.engine) as s:
        actions = [e.action for e in history(s, "case", "GB-RP-ANSWER") if e.action != "changed"]
    assert actions == [
        "created",
        "stored invalid",
        "new version",
        "validity changed",
    ]


def test_an_invalid_case_is_refused_with_where_and_why(web: WebApp) -> None:
    c = web.client()
    h = api_token(c, "case_processor")
    body = case_json("GB-BAD-1")
    body["worldwide_case_id"] = "   "
    body["reactions"][0]["outcome"] = "9"
    r = c.post("/api/cases", json=body, headers=h)
    assert r.status_code == 422
    locs = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert ("body", "worldwide_case_id") in locs
    assert any(loc[:4] == ("body", "reactions", 0, "outcome") for loc in locs)
    assert (
        c.post("/api/cases", content=b"{not json", headers={**h, "content-type": "application/json"}).status_code == 422
    )
    assert _cases(web) == 0


def test_e2b_export_and_import_round_trip(web: WebApp) -> None:
    needs_e2b_schema()
    c = web.client()
    h = api_token(c, "case_processor")
    for wid in ("FR-EX-1", "FR-EX-2"):
        assert c.post("/api/cases", json=case_json(wid), headers=h).status_code == 201
    r = c.post("/api/cases/export", json={"cases": ["RP0000001", "FR-EX-2"]}, headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    assert r.headers["content-disposition"].startswith('attachment; filename="RP-')
    back = import_e2b(r.content)
    assert [i.worldwide_case_id for i in back.icsrs] == ["FR-EX-1", "FR-EX-2"]
    # a manual export is not a submission: both cases are still owed to every destination that wants them
    with session_scope(web.engine) as s:
        assert s.scalar(select(func.count()).select_from(SubmissionRow)) == 0
    due = c.get("/api/cases/due", params={"as_of": "2026-12-01"}, headers=h).json()
    assert {(d["case_number"], d["destination"]) for d in due} >= {("RP0000001", "EU"), ("RP0000002", "EU")}
    assert c.get("/api/submissions", headers=h).json() == []
    history = c.get("/api/cases/RP0000001/history", headers=h).json()
    exports = [e["reason"] for e in history if e["action"] == "exported as E2B(R3)"]
    assert exports == ["manual export (not a submission)"]
    assert c.post("/api/cases/export", json={}, headers=h).status_code == 404

    batch = e2b_batch([exportable_icsr("DE-IM-1"), exportable_icsr("FR-EX-1", received="20261110")])
    imported = c.post("/api/cases/import", files={"file": ("batch.xml", batch, "application/xml")}, headers=h)
    assert imported.status_code == 201, imported.text
    assert [(x["worldwide_id"], x["status"]) for x in imported.json()["imported"]] == [
        ("DE-IM-1", "created"),
        ("FR-EX-1", "follow-up"),
    ]
    hist = c.get("/api/cases/DE-IM-1/history", headers=h).json()
    assert hist[0]["reason"] == "E2B(R3) import of batch.xml" and hist[0]["who"] == "case-processor-1"


def test_a_refused_e2b_file_stores_nothing(web: WebApp) -> None:
    c = web.client()
    h = api_token(c, "case_processor")
    hostile = (TESTS / "data" / "e2b" / "billion_laughs.xml").read_bytes()
    r = c.post("/api/cases/import", files={"file": ("x.xml", hostile, "application/xml")}, headers=h)
    assert r.status_code == 422 and r.json()["detail"]
    r = c.post("/api/cases/import", files={"file": ("x.xml", b"not xml at all", "text/plain")}, headers=h)
    assert r.status_code == 422
    assert _cases(web) == 0
    with session_scope(web.engine) as s:  # each refused attempt is in the audit trail: who, when, file, why
        refused = history(s, "case import", "x.xml")
    assert [e.action for e in refused] == ["import rejected", "import rejected"]
    assert all(e.who and e.reason for e in refused)
    assert (refused[1].reason or "").startswith("file refused: not well-formed XML")
    assert '"sha256"' in (refused[1].new_value or "")


def test_plans_versions_diff_and_approval(web: WebApp) -> None:
    c = web.client()
    h = api_token(c, "qppv")
    plans = c.get("/api/plans", headers=h).json()
    assert plans == [{"name": "uplizna", "bundled": True, "latest_version": None, "approved_versions": []}]
    bundled = c.get("/api/plans/uplizna", headers=h).json()
    assert bundled["version"] is None and len(bundled["plan"]["safety_concerns"]) == 9
    assert c.get("/api/plans/nosuch", headers=h).status_code == 404
    assert c.post("/api/cases", json=case_json("GB-P-1"), headers=h).status_code == 201  # stores plan v1
    assert [v["version"] for v in c.get("/api/plans/uplizna/versions", headers=h).json()] == [1]
    diff = c.get("/api/plans/uplizna/diff", params={"old": "1", "new": "latest"}, headers=h).json()
    assert diff["old"] == "uplizna v1" and diff["items"] == [] and diff["plan_fields"] == []
    assert c.get("/api/plans/uplizna/diff", params={"old": "1", "new": "x"}, headers=h).status_code == 400
    r = c.post("/api/plans/uplizna/versions/1/approve", json={"reason": "signed", "password": PASSWORD}, headers=h)
    assert r.status_code == 201 and r.json()["approved_by"] == "qppv-1"
    signing = {"password": PASSWORD}
    assert c.post("/api/plans/uplizna/versions/1/approve", json=signing, headers=h).status_code == 409
    assert c.post("/api/plans/uplizna/versions/7/approve", json=signing, headers=h).status_code == 404
    versions = c.get("/api/plans/uplizna/versions", headers=h).json()
    assert versions[0]["approved_by"] == "qppv-1"
    audit = c.get("/api/audit", params={"entity_type": "plan"}, headers=h).json()
    assert [e["action"] for e in audit][:1] == ["version approved"]


def test_assessment_and_duplicate_link(web: WebApp) -> None:
    c = web.client()
    h = api_token(c, "safety_physician")
    for wid in ("IT-1", "IT-2"):
        c.post("/api/cases", json=case_json(wid), headers=h)
    r = c.post(
        "/api/cases/RP0000001/assessments",
        json={"causality": "probable", "comment": "rechallenge", "password": PASSWORD},
        headers=h,
    )
    assert r.status_code == 201 and r.json()["version"] == 1
    assert c.post("/api/cases/RP0000001/assessments", json={"causality": "maybe"}, headers=h).status_code == 422
    assert [a["causality"] for a in c.get("/api/cases/IT-1/assessments", headers=h).json()] == ["probable"]
    link = c.post("/api/cases/RP0000001/links", json={"other": "IT-2", "reason": "same patient"}, headers=h)
    assert link.status_code == 201
    assert c.post("/api/cases/RP0000001/links", json={"other": "IT-2", "reason": "again"}, headers=h).status_code == 400
    assert (
        c.post("/api/cases/RP0000001/links", json={"other": "RP0000001", "reason": "x"}, headers=h).status_code == 400
    )
    shown = c.get("/api/cases/RP0000002", headers=h).json()
    assert shown["links"] == [{"kind": "duplicate", "other": "IT-1", "reason": "same patient"}]
    actions = [e["action"] for e in c.get("/api/cases/IT-1/history", headers=h).json()]
    assert "medically assessed" in actions and "linked as duplicate" in actions


def test_disproportionality_results(web: WebApp) -> None:
    c = web.client()
    h = api_token(c, "safety_physician")
    missing = c.get("/api/signals/disproportionality", headers=h)
    assert missing.status_code == 404 and "riskplan signal detect" in missing.json()["detail"]
    write_disproportionality(signal_results_path(web.ctx.settings, web.ctx.web))
    table = c.get(
        "/api/signals/disproportionality", params={"product": "UPLIZNA", "flagged_only": True}, headers=h
    ).json()
    assert table["total"] == 1 and table["rows"][0]["event"] == "Pneumonia" and table["rows"][0]["signal_evans"]
    every = c.get("/api/signals/disproportionality", headers=h).json()
    assert every["total"] == 3 and every["rows"][0]["event"] == "Pneumonia"  # flagged first


def test_studies_run_reports_and_cdm_confinement(web: WebApp, tmp_path: Path) -> None:
    c = web.client()
    h = api_token(c, "epidemiologist")
    studies = {s["id"]: s for s in c.get("/api/studies", headers=h).json()}
    assert studies["real-world-observational-study"]["runnable"]
    run = c.post("/api/studies/real-world-observational-study/runs", json={"cdm": "cdm_small"}, headers=h)
    assert run.status_code == 201, run.text
    info = run.json()
    assert info["formats"] == ["html", "json"] and info["sections"] > 0 and info["run_by"] == "epidemiologist-1"
    html = c.get(f"/api/reports/{info['id']}/html", headers=h)
    assert html.status_code == 200 and "Real-World Observational Study" in html.text
    assert "sandbox" in html.headers["content-security-policy"]
    results = json.loads(c.get(f"/api/reports/{info['id']}/json", headers=h).content)
    assert results["study"] == "real-world-observational-study"
    assert c.get(f"/api/reports/{info['id']}/pdf", headers=h).status_code == 404
    assert c.get("/api/reports/999", headers=h).status_code == 404
    assert [r["id"] for r in c.get("/api/reports", headers=h).json()] == [info["id"]]
    for outside in ("../../../etc", "/etc", str(tmp_path), "cdm_small/../../../src"):
        r = c.post("/api/studies/real-world-observational-study/runs", json={"cdm": outside}, headers=h)
        assert r.status_code == 400, outside
        assert "under the CDM folders" in r.json()["detail"]
    assert c.post("/api/studies/nosuch/runs", json={"cdm": "cdm_small"}, headers=h).status_code == 404


def test_study_report_as_pdf(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    h = api_token(c, "qppv")
    run = c.post("/api/studies/pregnancy-registry-study/runs", json={"cdm": "cdm_small", "pdf": True}, headers=h)
    assert run.status_code == 201, run.text
    pdf = c.get(f"/api/reports/{run.json()['id']}/pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"


def test_openapi_document_needs_a_login(web: WebApp) -> None:
    c = web.client()
    assert c.get("/openapi.json").status_code == 401
    doc = c.get("/openapi.json", headers=api_token(c, "auditor")).json()
    assert doc["openapi"].startswith("3.") and "/api/cases/{ref}/follow-ups" in doc["paths"]
    assert "bearerToken" in doc["components"]["securitySchemes"]
    assert c.get("/docs").status_code in (303, 404)


def test_exported_xml_is_well_formed_and_names_the_batch(sqlite_web: WebApp) -> None:
    needs_e2b_schema()
    c = sqlite_web.client()
    h = api_token(c, "case_processor")
    c.post("/api/cases", json=case_json("NL-1"), headers=h)
    r = c.post("/api/cases/export", json={"cases": ["NL-1"]}, headers=h)
    root = etree.fromstring(r.content)
    assert etree.QName(root).localname == "MCCI_IN200100UV01"
    assert r.headers["x-riskplan-batch"] in r.text
