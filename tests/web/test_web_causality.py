"""Causality per drug and reaction on the case page: the WHO-UMC result starts empty, the Naranjo form asks
the ten questions, the role decides who may record (safety physician, QPPV)."""

from __future__ import annotations

from lxml import html
from sqlalchemy import func, select

from case_factory import inebilizumab
from riskplan.cases.codes import DrugRole
from riskplan.cases.model import Drug, Substance
from riskplan.cases.tables import CausalityRow
from riskplan.store.db import session_scope
from web_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    WebApp,
    api_token,
    case_json,
    page_session,
    sqlite_web_fixture,
    web_fixture,
)


def _case_with_two_suspects(c: object, h: dict[str, str]) -> None:
    interacting = Drug(role=DrugRole.INTERACTING, name="Fluconazole", substances=(Substance(name="fluconazole"),))
    body = case_json("WEB-CAUSAL-1", drugs=(inebilizumab(), interacting))
    r = c.post("/api/cases", json=body, headers=h)  # type: ignore[attr-defined]
    assert r.status_code == 201, r.text


def _stored(web: WebApp) -> int:
    with session_scope(web.engine) as s:
        return int(s.scalar(select(func.count()).select_from(CausalityRow)) or 0)


def test_the_who_umc_result_starts_empty_and_is_required(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "safety_physician")
    _case_with_two_suspects(c, api_token(c, "safety_physician"))
    page = html.fromstring(c.get("/cases/RP0000001").text)
    (form,) = page.xpath('//form[@data-testid="who-umc-form"]')
    (result,) = form.xpath('.//select[@name="result"]')
    options = result.xpath("./option")
    assert result.get("required") is not None
    assert options[0].get("value") == "" and options[0].get("selected") is not None  # nothing chosen
    assert [o.get("selected") for o in options[1:]] == [None] * 6
    assert [o.text for o in options[1:]][:2] == ["Certain", "Probable/likely"]
    (pair,) = form.xpath('.//select[@name="pair"]')
    assert pair.xpath("./option")[0].get("value") == ""  # two pairs: none chosen either
    assert [o.get("value") for o in pair.xpath("./option")[1:]] == ["1:1", "2:1"]
    # a browser would not send it empty; a hand-made request that does is refused, nothing stored
    empty = {"csrf_token": csrf, "method": "who-umc", "pair": "1:1", "result": "", "password": PASSWORD}
    refused = c.post("/cases/RP0000001/assessments", data=empty)
    assert refused.status_code == 400 and "no result" in refused.text
    no_pair = {**empty, "pair": "", "result": "probable"}
    refused = c.post("/cases/RP0000001/assessments", data=no_pair)
    assert refused.status_code == 400 and "2 drug-reaction pairs" in refused.text and "Fluconazole" in refused.text
    wrong = {**empty, "pair": "3:1", "result": "probable"}
    refused = c.post("/cases/RP0000001/assessments", data=wrong)
    assert refused.status_code == 400 and "has no drug 3" in refused.text
    assert _stored(sqlite_web) == 0


def test_who_umc_and_naranjo_recorded_from_the_page(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "safety_physician")
    _case_with_two_suspects(c, api_token(c, "safety_physician"))
    form = {"csrf_token": csrf, "method": "who-umc", "pair": "2:1", "result": "possible", "password": PASSWORD}
    assert c.post("/cases/RP0000001/assessments", data=form).status_code == 303
    answers = ["yes", "yes", "dk", "no", "no", "dk", "dk", "dk", "no", "yes"]  # 1+2+0-1+2+0+0+0+0+1 = 5
    naranjo = {"csrf_token": csrf, "method": "naranjo", "pair": "1:1", "answers": answers, "password": PASSWORD}
    done = c.post("/cases/RP0000001/assessments", data=naranjo)
    assert done.status_code == 303, done.text
    page = html.fromstring(c.get("/cases/RP0000001").text)
    (table,) = page.xpath('//section[@data-testid="case-causality"]//table')
    rows = [[td.text_content().strip() for td in tr.xpath("./td")] for tr in table.xpath(".//tbody/tr")]
    assert [r[:6] for r in rows] == [
        ["1 UPLIZNA", "1 Pneumonia", "Naranjo", "probable", "5", "Marketing authorisation holder"],
        ["2 Fluconazole", "1 Pneumonia", "WHO-UMC", "possible", "", "Marketing authorisation holder"],
    ]
    assert all(r[6] == "safety-physician-1" and "authorship" in r[8] for r in rows)
    wrong_password = {**form, "password": "not it"}
    assert c.post("/cases/RP0000001/assessments", data=wrong_password).status_code in (401, 403, 422)
    assert _stored(sqlite_web) == 2


def test_a_case_processor_sees_the_table_but_may_not_assess(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    _case_with_two_suspects(c, api_token(c, "case_processor"))
    page = c.get("/cases/RP0000001").text
    assert 'data-testid="case-causality"' in page and "not assessed yet" in page
    assert 'data-testid="who-umc-form"' not in page and 'data-testid="naranjo-form"' not in page
    form = {"csrf_token": csrf, "method": "who-umc", "pair": "1:1", "result": "possible", "password": PASSWORD}
    assert c.post("/cases/RP0000001/assessments", data=form).status_code == 403
    assert _stored(sqlite_web) == 0


def test_causality_per_pair_over_the_json_api(web: WebApp) -> None:
    """GET the pairs with their assessments, POST one pair by WHO-UMC and one by Naranjo; a wrong pair,
    method, result or answer is a 422 naming the field, and nothing is stored; a case processor may read but
    not assess."""
    c = web.client()
    h = api_token(c, "safety_physician")
    _case_with_two_suspects(c, h)
    pairs = c.get("/api/cases/RP0000001/causality", headers=h)
    assert pairs.status_code == 200, pairs.text
    assert [(p["drug"], p["drug_name"], p["reaction"], p["assessments"]) for p in pairs.json()] == [
        (1, "UPLIZNA", 1, []),
        (2, "Fluconazole", 1, []),
    ]
    refused = {
        "no pair": ({"method": "who-umc", "result": "possible"}, "drug", "2 drug-reaction pairs"),
        "no drug 3": ({"drug": 3, "reaction": 1, "result": "possible"}, "drug", "has no drug 3"),
        "no reaction 2": ({"drug": 1, "reaction": 2, "result": "possible"}, "reaction", "has no reaction 2"),
        "method": ({"drug": 1, "reaction": 1, "method": "bayes", "result": "possible"}, "method", "bayes"),
        "result": ({"drug": 1, "reaction": 1, "result": "maybe"}, "result", "unknown WHO-UMC causality"),
        "answers": ({"drug": 1, "reaction": 1, "method": "naranjo", "answers": ["yes"]}, "answers", "10 questions"),
        "mismatch": (
            {"drug": 1, "reaction": 1, "method": "naranjo", "answers": ["no"] * 10, "result": "certain"},
            "result",
            "score",
        ),
    }
    for name, (body, field, words) in refused.items():
        r = c.post("/api/cases/RP0000001/causality", json={**body, "password": PASSWORD}, headers=h)
        assert r.status_code == 422, (name, r.text)
        (error,) = r.json()["detail"]
        assert error["loc"] == ["body", field] and words in error["msg"], (name, error)
    assert _stored(web) == 0
    who = {"drug": 2, "reaction": 1, "method": "who-umc", "result": "probable", "comment": "azole interaction"}
    made = c.post("/api/cases/RP0000001/causality", json={**who, "password": PASSWORD}, headers=h)
    assert made.status_code == 201, made.text
    assert made.json()["result"] == "probable" and "authorship" in made.json()["signed"]
    answers = ["yes", "yes", "dk", "no", "no", "dk", "dk", "dk", "no", "yes"]  # 1+2+0-1+2+0+0+0+0+1 = 5
    naranjo = {"drug": 1, "reaction": 1, "method": "naranjo", "answers": answers, "password": PASSWORD}
    made = c.post("/api/cases/RP0000001/causality", json=naranjo, headers=h)
    assert made.status_code == 201, made.text
    assert (made.json()["naranjo_score"], made.json()["result"]) == (5, "probable")
    pairs = c.get("/api/cases/RP0000001/causality", headers=h).json()
    assert [[(a["method"], a["result"], a["assessed_by"]) for a in p["assessments"]] for p in pairs] == [
        [("Naranjo", "probable", "safety-physician-1")],
        [("WHO-UMC", "probable", "safety-physician-1")],
    ]
    history = c.get("/api/cases/RP0000001/history", headers=api_token(c, "qppv")).json()
    assessed = [e["field"] for e in history if e["action"] == "causality assessed"]
    assert assessed == [
        "causality drug 2 (Fluconazole) × reaction 1 (Pneumonia)",
        "comment",
        "causality drug 1 (UPLIZNA) × reaction 1 (Pneumonia)",
        "Naranjo answers",
    ]
    wrong_password = c.post("/api/cases/RP0000001/causality", json={**who, "password": "not it"}, headers=h)
    assert wrong_password.status_code in (401, 403)
    processor = api_token(c, "case_processor")
    assert c.get("/api/cases/RP0000001/causality", headers=processor).status_code == 200
    forbidden = c.post("/api/cases/RP0000001/causality", json={**who, "password": PASSWORD}, headers=processor)
    assert forbidden.status_code == 403
    assert _stored(web) == 2
