"""The complete-case intake form as a browser posts it (TestClient; the browser itself in
test_web_intake_e2e): rows added and removed, messages next to their fields with the values kept,
drafts saved, reopened and submitted (never counted as cases), duplicate candidates before storing."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import select

from riskplan.cases.store import get_case, list_cases
from riskplan.store.audit import AuditEvent
from riskplan.store.db import session_scope
from web_fixtures import WebApp, page_session, sqlite_web_fixture, web_fixture  # noqa: F401  (fixtures)


class _Form(HTMLParser):
    """The fields of the intake form with the values a browser would send (checked boxes, selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._inside = a.get("id") == "intake-form"
        if not self._inside or ("name" not in a and tag != "option"):
            return
        if tag == "input" and (a.get("type") != "checkbox" or "checked" in a):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select is not None and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text))
            self._textarea = None
        elif tag == "form":
            self._inside = False


def fields(html: str) -> dict[str, str | list[str]]:
    parser = _Form()
    parser.feed(html)
    found: dict[str, str | list[str]] = {}
    for name, value in parser.fields:
        if name.endswith(".seriousness"):
            listed = found.setdefault(name, [])
            assert isinstance(listed, list)
            listed.append(value)
        else:
            found[name] = value
    return found


def errors(html: str) -> dict[str, str]:
    return {k: unescape(v) for k, v in re.findall(r'data-error-for="([^"]*)">([^<]*)<', html)}


CASE = {
    "worldwide_case_id": "GB-INTAKE-2026-000001",
    "first_received": "2026-11-10",
    "primary_sources.0.qualification": "physician",
    "primary_sources.0.country": "GB",
    "patient.name": "JD",
    "patient.age.value": "70",
    "patient.sex": "female",
    "reactions.0.verbatim_term": "pneumonia",
    "reactions.0.start_date": "2026-11-01",
    "reactions.0.outcome": "recovering",
    "reactions.0.seriousness": ["hospitalisation"],
    "drugs.0.dosages.0.dose.value": "300",
    "drugs.0.dosages.0.route": "intravenous",
    "drugs.0.dosages.0.start_date": "2026-10-01",
    "drugs.0.action_taken": "drug withdrawn",
    "narrative": "Admitted with pneumonia three weeks after the second infusion.",
}


def _post(c: TestClient, url: str, form: dict[str, str | list[str]], action: str, csrf: str) -> object:
    data = {**form, "csrf_token": csrf, "action": action}
    return c.post(url, data=data)


def _start(c: TestClient, csrf: str) -> dict[str, str | list[str]]:
    page = c.get("/intake/new")
    assert page.status_code == 200, page.text
    form = fields(page.text)
    assert form["rows.reactions"] == "1" and form["drugs.0.role"] == "suspect"
    assert form["drugs.0.name"]  # the product of the plan in force
    return form


def _add(c: TestClient, form: dict[str, str | list[str]], section: str, csrf: str) -> dict[str, str | list[str]]:
    r = c.post("/intake/new", data={**form, "csrf_token": csrf, "action": f"add:{section}"})
    assert r.status_code == 200, r.text
    return fields(r.text)


def test_rows_are_added_and_removed_and_the_values_stay(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    form = {**_start(c, csrf), **CASE}
    form = _add(c, form, "reactions", csrf)
    assert form["rows.reactions"] == "2" and form["reactions.0.verbatim_term"] == "pneumonia"
    assert form["reactions.1.verbatim_language"] == "eng" and form["reactions.1.id"] != form["reactions.0.id"]
    form["reactions.1.verbatim_term"] = "rash"
    form = _add(c, form, "reactions", csrf)
    form["reactions.2.verbatim_term"] = "fever"
    r = c.post("/intake/new", data={**form, "csrf_token": csrf, "action": "remove:reactions:1"})
    after = fields(r.text)
    assert after["rows.reactions"] == "2"
    assert [after["reactions.0.verbatim_term"], after["reactions.1.verbatim_term"]] == ["pneumonia", "fever"]
    assert after["reactions.1.id"] == form["reactions.2.id"]  # the row moved up with its id
    assert after["reactions.0.seriousness"] == ["hospitalisation"]
    parent = _add(c, after, "parent", csrf)
    assert (
        parent["rows.parent"] == "1"
        and "Add parent"
        not in c.post("/intake/new", data={**parent, "csrf_token": csrf, "action": "add:history"})
        .text.split("Parent (D.10)")[1]
        .split("</fieldset>")[0]
    )
    # a reaction is the minimum: the last one cannot be removed
    one = {**form, "rows.reactions": "1"}
    r = c.post("/intake/new", data={**one, "csrf_token": csrf, "action": "remove:reactions:0"})
    assert fields(r.text)["rows.reactions"] == "1"


def test_each_problem_is_shown_next_to_its_field_with_what_was_typed(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    form = _add(c, {**_start(c, csrf), **CASE}, "reactions", csrf)
    form = _add(c, form, "drugs", csrf)
    bad = {
        **form,
        "first_received": "10/11/2026",
        "primary_sources.0.country": "GBR",
        "patient.age.value": "abc",
        "reactions.1.verbatim_term": "rash",
        "reactions.1.start_date": "2099-01-01",
        "drugs.1.name": "Prednisolon",
        "drugs.1.dechallenge": "positive",
        "drugs.1.action_taken": "dose not changed",
    }
    r = c.post("/intake/new", data={**bad, "csrf_token": csrf, "action": "submit"})
    assert r.status_code == 422
    found = errors(r.text)
    assert "is not a date" in found["first_received"]
    assert "two-letter" in found["primary_sources.0.country"]
    assert found["patient.age.value"] == "Enter a number, not 'abc'."
    assert "dechallenge" in found["drugs.1.dechallenge"] and "G.k.8" in found["drugs.1.dechallenge"]
    assert 'value="GBR"' in r.text and 'value="abc"' in r.text and 'value="10/11/2026"' in r.text
    assert 'aria-describedby="e-patient.age.value"' in r.text
    fixed = {**bad, "first_received": "2026-11-10", "primary_sources.0.country": "GB", "patient.age.value": "70"}
    fixed["drugs.1.action_taken"] = "drug withdrawn"
    r = c.post("/intake/new", data={**fixed, "csrf_token": csrf, "action": "submit"})
    assert r.status_code == 422
    assert "after today" in errors(r.text)["reactions.1.start_date"]  # an impossible date, on the second row
    with session_scope(sqlite_web.engine) as s:
        assert list_cases(s) == []


def test_an_invalid_case_is_refused_with_the_missing_criteria_and_can_be_kept_as_a_draft(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    form = {**_start(c, csrf), "worldwide_case_id": "GB-INTAKE-DRAFT-1", "reactions.0.verbatim_term": "rash"}
    r = c.post("/intake/new", data={**form, "csrf_token": csrf, "action": "submit"})
    assert r.status_code == 422
    found = errors(r.text)
    assert "no identifiable reporter" in found["primary_sources"]
    assert "no identifiable patient" in found["patient"]
    assert 'data-testid="to-complete"' in r.text  # and what sending would need besides
    r = c.post("/intake/new", data={**form, "csrf_token": csrf, "action": "save-draft"})
    assert r.status_code == 303 and r.headers["location"] == "/intake/drafts/D0000001?done=draft"
    page = c.get(r.headers["location"])
    assert "Draft saved." in page.text and fields(page.text)["reactions.0.verbatim_term"] == "rash"
    mine = c.get("/intake/drafts").text
    assert "D0000001" in mine and "GB-INTAKE-DRAFT-1" in mine and "rash" in mine
    # a draft is not a case: not listed, not counted
    assert "GB-INTAKE-DRAFT-1" not in c.get("/cases").text
    assert c.get("/api/cases/due", headers=_token(c)).json() == []
    other = TestClient(sqlite_web.app, follow_redirects=False)
    page_session(other, "safety_physician")
    assert "D0000001" not in other.get("/intake/drafts").text  # my drafts are mine
    # discarded: kept, audited, no longer open
    r = c.post("/intake/drafts/D0000001/discard", data={"csrf_token": csrf, "reason": "reporter withdrew"})
    assert r.status_code == 303 and "No open drafts." in c.get("/intake/drafts").text
    assert "was discarded" in c.get("/intake/drafts/D0000001").text
    with session_scope(sqlite_web.engine) as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "draft discarded")).all()
        assert event.entity_id == "D0000001" and event.reason == "reporter withdrew"


def _token(c: TestClient) -> dict[str, str]:
    from web_fixtures import api_token

    return api_token(c, "case_processor")


def test_a_draft_is_reopened_completed_and_submitted_with_an_audit_trail(web: WebApp) -> None:
    c = web.client()
    csrf = page_session(c, "case_processor")
    start = _start(c, csrf)
    partial = {**start, "worldwide_case_id": "GB-INTAKE-2026-000002", "reactions.0.verbatim_term": "pneumonia"}
    r = c.post("/intake/new", data={**partial, "csrf_token": csrf, "action": "save-draft"})
    url = r.headers["location"].split("?")[0]
    form = fields(c.get(url).text)
    assert form["worldwide_case_id"] == "GB-INTAKE-2026-000002"
    complete = {**form, **CASE, "worldwide_case_id": "GB-INTAKE-2026-000002"}
    r = c.post(url, data={**complete, "csrf_token": csrf, "action": "save-draft"})
    assert r.status_code == 303
    r = c.post(url, data={**complete, "csrf_token": csrf, "action": "submit"})
    assert r.status_code == 303 and r.headers["location"] == "/cases/RP0000001?done=created", r.text
    case = c.get("/cases/RP0000001").text
    assert "pneumonia" in case.lower() and "entered on the intake form from draft D0000001" in case
    closed = c.get(url).text
    assert "submitted" in closed and "/cases/RP0000001" in closed
    assert "D0000001" not in c.get("/intake/drafts").text
    again = c.post(url, data={**complete, "csrf_token": csrf, "action": "submit"})
    assert again.status_code == 400 and "submitted" in again.text
    with session_scope(web.engine) as s:
        trail = s.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == "case draft").order_by(AuditEvent.id)
        ).all()
        actions = [e.action for e in trail]
        assert actions[0] == "draft created" and "draft saved" in actions and actions[-2:] == ["draft submitted"] * 2
        saved = {e.field: e.new_value for e in trail if e.action == "draft saved"}
        assert json.loads(saved["patient.name"] or "null") == "JD"
        assert [x.worldwide_id for x in list_cases(s)] == ["GB-INTAKE-2026-000002"]


def test_duplicate_candidates_are_shown_before_storing(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    first = {**_start(c, csrf), **CASE, "patient.birth_date": "1956-03-02"}
    assert c.post("/intake/new", data={**first, "csrf_token": csrf, "action": "submit"}).status_code == 303
    second = {**first, "worldwide_case_id": "GB-OTHERCO-2026-777", "primary_sources.0.qualification": "pharmacist"}
    r = c.post("/intake/new", data={**second, "csrf_token": csrf, "action": "submit"})
    assert r.status_code == 409
    assert 'data-candidate="RP0000001"' in r.text and "GB-INTAKE-2026-000001" in r.text
    assert "birth_date agrees" in r.text and "/cases/RP0000001/follow-up" in r.text
    assert fields(r.text)["worldwide_case_id"] == "GB-OTHERCO-2026-777"
    ack = re.search(r'name="dup_ack" value="([^"]*)"', r.text)
    assert ack and ack.group(1) == "RP0000001"
    r = c.post("/intake/new", data={**second, "csrf_token": csrf, "action": "store-anyway", "dup_ack": ack.group(1)})
    assert r.status_code == 303 and r.headers["location"] == "/cases/RP0000002?done=created"
    assert "RP0000001 (score" in c.get("/cases/RP0000002").text
    # the same worldwide id again is follow-up, not a new case
    r = c.post("/intake/new", data={**first, "csrf_token": csrf, "action": "submit"})
    assert r.status_code == 409 and "already stored as RP0000001" in errors(r.text)["worldwide_case_id"]


def test_the_form_over_htmx_swaps_itself_and_redirects_when_stored(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    hx = {"HX-Request": "true", "X-CSRF-Token": csrf}
    form = {**_start(c, csrf), **CASE}
    r = c.post("/intake/new", data={**form, "action": "add:drugs"}, headers=hx)
    assert r.status_code == 200 and r.text.lstrip().startswith('<form id="intake-form"')
    r = c.post("/intake/new", data={**form, "narrative": "", "patient.sex": "x", "action": "submit"}, headers=hx)
    assert r.status_code == 200 and "patient.sex" in errors(r.text)
    r = c.post("/intake/new", data={**form, "action": "submit"}, headers=hx)
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/cases/RP0000001?done=created"


def test_only_case_writers_use_the_intake(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    page_session(c, "epidemiologist")
    assert c.get("/intake/new").status_code == 403
    assert c.get("/intake/drafts").status_code == 403
    assert c.get("/intake/drafts/D0000001").status_code == 403


def test_a_parent_child_case_with_history_tests_and_rechallenge_is_stored_as_its_case_file_would_be(
    sqlite_web: WebApp,
) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    form = {**_start(c, csrf), **CASE}
    for section in ("parent", "history", "tests", "drugs"):
        form = _add(c, form, section, csrf)
    form = {
        **form,
        "worldwide_case_id": "US-INTAKE-2026-000104",
        "patient.name": "Baby S",
        "patient.sex": "male",
        "patient.age.value": "",
        "patient.age_group": "neonate",
        "patient.gestation_period.value": "36",
        "patient.parent.identification": "JS",
        "patient.parent.age.value": "31",
        "patient.parent.sex": "female",
        "patient.parent.last_menstrual_period": "2026-01-02",
        "patient.medical_history.0.term.code": "10036595",
        "patient.medical_history.0.term.version": "27.1",
        "patient.medical_history.0.continuing": "true",
        "tests.0.name": "bilirubin",
        "tests.0.date": "2026-10-02",
        "tests.0.result.value": "18.2",
        "tests.0.result.unit": "mg/dL",
        "tests.0.normal_high.value": "12",
        "reactions.0.verbatim_term": "neonatal jaundice",
        "drugs.0.gestation_at_exposure.value": "4",
        "drugs.0.rechallenge": "no rechallenge",
        "drugs.0.rechallenge_reaction": str(form["reactions.0.id"]),
        "drugs.1.name": "Folic acid",
        "drugs.1.dosages.0.dose.value": "0.4",
    }
    r = c.post("/intake/new", data={**form, "csrf_token": csrf, "action": "submit"})
    assert r.status_code == 303, errors(r.text)
    with session_scope(sqlite_web.engine) as s:
        icsr = get_case(s, "RP0000001").icsr
    assert icsr.is_parent_child_report and icsr.patient.parent is not None
    assert icsr.patient.parent.age is not None and icsr.patient.parent.age.unit == "a"
    assert str(icsr.patient.gestation_period.value if icsr.patient.gestation_period else "") == "36"
    [history] = icsr.patient.medical_history
    assert history.term.code == "10036595" and history.continuing is True
    [test] = icsr.tests
    assert test.result is not None and test.result.unit == "mg/dL" and test.normal_high is not None
    assert test.normal_high.unit == "mg/dL"
    suspect, folic = icsr.drugs
    assert [a.recurrence for a in suspect.reaction_assessments] == ["4"]
    assert suspect.reaction_assessments[0].reaction_id == icsr.reactions[0].id
    assert suspect.dosages[0].route_text == "intravenous" and suspect.action_taken == "1"
    assert folic.role == "2" and folic.dosages[0].dose is not None and folic.dosages[0].dose.unit == "mg"
