"""Property-based API testing with schemathesis against the OpenAPI document (in-process ASGI app,
logged in as the QPPV, who may call every endpoint): no generated request gets a server error.

Each operation gets valid (positive) and invalid (negative) requests with random path parameters, and
valid requests aimed at stored data (the seeded plan, case, study run, signal). The one 5xx allowed is
a 501 an operation documents (were the signal workflow not installed). Logout is left out: it would end
the session the rest of the run uses.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from web_fixtures import STUDY, api_token, make_app, needs_e2b_schema, seed

EXAMPLES = 4  # per strategy of an operation (valid, invalid, aimed at stored data): each one is tried
KNOWN_PATH = {
    "name": "uplizna",
    "ref": "RP0000001",
    "version": 1,
    "run_id": 1,
    "fmt": "html",
    "study_id": STUDY,
    "signal_id": "1",
}


def _strategies(operation: Any) -> list[Any]:
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    with contextlib.suppress(Exception):  # an operation without anything that can be made invalid
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    known = {k: v for k, v in KNOWN_PATH.items() if "{" + k + "}" in operation.path}
    if known:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    return strategies


def _fuzz(operation: Any, auth: dict[str, str], failures: list[str], seen: dict[str, set[int]]) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    documented_501 = "501" in (operation.definition.raw.get("responses") or {})

    for strategy in _strategies(operation):
        # a strategy that cannot make any request here (say, nothing of the operation can be invalid) adds
        # none; every operation still gets requests (checked by the caller)
        with contextlib.suppress(Unsatisfiable):
            _fuzz_with(strategy, label, documented_501, auth, failures, seen)


def _fuzz_with(
    strategy: Any,
    label: str,
    documented_501: bool,
    auth: dict[str, str],
    failures: list[str],
    seen: dict[str, set[int]],
) -> None:
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        response = case.call(headers=auth)
        seen.setdefault(label, set()).add(response.status_code)
        if response.status_code >= 500 and not (response.status_code == 501 and documented_501):
            failures.append(
                f"{label}: {response.status_code} for {case.path_parameters} {case.query} "
                f"{str(case.body)[:200]}: {response.text[:300]}"
            )

    call()


def test_no_server_error_for_any_generated_request(tmp_path: Path) -> None:
    needs_e2b_schema()
    w = make_app(f"sqlite:///{tmp_path / 'fuzz.db'}", tmp_path)
    seed(w)
    auth = api_token(w.client(), "qppv")
    schema = schemathesis.openapi.from_asgi("/openapi.json", w.app, headers=auth)
    failures: list[str] = []
    seen: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        if operation.path == "/api/auth/logout":
            continue
        _fuzz(operation, auth, failures, seen)
    assert failures == []
    assert {f"{o.method.upper()} {o.path}" for o in operations if o.path != "/api/auth/logout"} == set(seen)
    # the known-data requests reached stored data, not only 404s
    assert 200 in seen["GET /api/cases/{ref}"] and 200 in seen["GET /api/reports/{run_id}/{fmt}"]
    assert 201 in seen["POST /api/cases/{ref}/follow-ups"] or 422 in seen["POST /api/cases/{ref}/follow-ups"]
    w.engine.dispose()
