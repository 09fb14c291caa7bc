"""Case lists fit for work: filters, sort and pages in SQL, one line per case, CSV and JSON (`case list`, `due`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.codes import DrugRole
from riskplan.cases.model import Drug, Icsr, PrimarySource, Reaction, Substance
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.cases.tables import CaseVersionRow
from riskplan.cases.worklist import CaseFilters, CaseSort, CaseState, case_page
from riskplan.cli import app
from riskplan.plan.catalogue import load_plan
from riskplan.store import database
from riskplan.store.db import session_scope
from riskplan.submissions.tables import BatchRow
from riskplan.submissions.tables import SubmissionRow as SubmissionRecordRow
from riskplan.terms.coding import OpenTermList

runner = CliRunner()
AS_OF = dt.date(2026, 11, 20)
LONG_ID = "DE-RPDEMO-2026-A-VERY-LONG-WORLDWIDE-CASE-ID-000005"


def _cases() -> list[Icsr]:
    """Overdue serious; open non-serious; invalid; serious on another product (submitted later); a long id."""
    soliris = Drug(role=DrugRole.SUSPECT, name="SOLIRIS", substances=(Substance(name="eculizumab"),))
    return [
        make_icsr("DE-1", received="20261101"),
        make_icsr("DE-2", received="20261102", reactions=(Reaction(verbatim_term="back pain"),)),
        make_icsr("DE-3", received="20261103", reporter=PrimarySource()),
        make_icsr("DE-4", received="20261110", drugs=(soliris,)),
        make_icsr(LONG_ID, received="20261111", reactions=(Reaction(verbatim_term="headache"),)),
    ]


@pytest.fixture(scope="module")
def processor() -> CaseProcessor:
    plan = load_plan("uplizna")
    return CaseProcessor(plan, OpenTermList(plan))


def _ids(engine: Engine, filters: CaseFilters, **kwargs: object) -> list[str]:
    with session_scope(engine) as s:
        page = case_page(s, filters, as_of=AS_OF, **kwargs)  # type: ignore[arg-type]
    return [line.worldwide_id for line in page.lines]


def test_filters_sort_and_pages_in_the_database(engine: Engine, processor: CaseProcessor) -> None:
    with session_scope(engine) as s:
        out = store_cases(s, [processor.assess(i) for i in _cases()], plan_name="uplizna", plan_version=1, who="cp")
    with session_scope(engine) as s:
        _sent_to_eu(s, out[3].case_id)
    with session_scope(engine) as s:
        page = case_page(s, as_of=AS_OF)
    assert [(c.worldwide_id, c.state) for c in page.lines] == [
        ("DE-1", CaseState.OVERDUE),
        ("DE-2", CaseState.OPEN),
        ("DE-3", CaseState.INVALID),
        ("DE-4", CaseState.SUBMITTED),
        (LONG_ID, CaseState.OPEN),
    ]
    assert page.lines[0].pts == ("Pneumonia",) and page.lines[0].concerns
    assert _ids(engine, CaseFilters(states=(CaseState.OVERDUE, CaseState.INVALID))) == ["DE-1", "DE-3"]
    assert _ids(engine, CaseFilters(serious=True)) == ["DE-1", "DE-3", "DE-4"]
    assert _ids(engine, CaseFilters(serious=False)) == ["DE-2", LONG_ID]
    assert _ids(engine, CaseFilters(concern="serious-infections")) == ["DE-1", "DE-3", "DE-4"]
    assert _ids(engine, CaseFilters(product="ECULI")) == ["DE-4"]  # substance, any case
    assert _ids(engine, CaseFilters(product="uplizna")) == ["DE-1", "DE-2", "DE-3", LONG_ID]
    assert _ids(engine, CaseFilters(product="100%_")) == []  # LIKE wildcards are taken literally
    assert _ids(engine, CaseFilters(due_within=0)) == ["DE-1"]  # overdue counts as due within any window
    assert _ids(engine, CaseFilters(due_within=90)) == ["DE-1", "DE-2", LONG_ID]
    assert _ids(engine, CaseFilters(), sort=CaseSort.RECEIVED) == [LONG_ID, "DE-4", "DE-3", "DE-2", "DE-1"]
    assert _ids(engine, CaseFilters(obligation_open=True), sort=CaseSort.DUE) == ["DE-1", "DE-2", LONG_ID]
    with session_scope(engine) as s:
        second = case_page(s, as_of=AS_OF, limit=2, offset=2)
    assert [c.worldwide_id for c in second.lines] == ["DE-3", "DE-4"] and second.total == 5
    assert (second.first, second.last) == (3, 4)


def _sent_to_eu(session: Session, case_id: int) -> None:
    """Version 1 sent to EudraVigilance by hand (a manual-channel submission in state ``sent``)."""
    row = session.execute(
        select(CaseVersionRow.id, CaseVersionRow.day_zero, CaseVersionRow.due).where(
            CaseVersionRow.case_id == case_id, CaseVersionRow.version == 1
        )
    ).one()
    at = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
    session.add(
        BatchRow(
            batch_id="B1",
            destination="EU",
            file_name="b1.xml",
            sha256="0" * 64,
            content="",
            created_at=at,
            created_by="cp",
            channel="manual",
            sent_at=at,
        )
    )
    session.flush()
    session.add(
        SubmissionRecordRow(
            case_version_id=row.id,
            case_id=case_id,
            worldwide_id=f"DE-{case_id}",
            version=1,
            destination="EU",
            attempt=1,
            kind="expedited",
            report="initial",
            rule="eu-serious",
            day_zero=row.day_zero,
            due=row.due,
            state="sent",
            batch_id="B1",
            message_id=f"B1-{case_id}",
            generated_at=at,
            sent_at=at,
        )
    )


def _store(cli_env: Path) -> None:
    for icsr in _cases():
        path = cli_env / f"{icsr.worldwide_case_id}.json"
        path.write_text(icsr.model_dump_json())
        assert runner.invoke(app, ["case", "new", str(path)]).exit_code == 0
    with session_scope(database()) as s:
        _sent_to_eu(s, 4)


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.match(r"^\s*RP\d{7}", line)]


def test_case_list_table_one_line_per_case_ids_whole_at_80_columns(cli_env: Path) -> None:
    _store(cli_env)
    result = runner.invoke(app, ["case", "list", "--as-of", "2026-11-20"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = _lines(result.output)
    assert len(lines) == 5  # one line per case (the old table folded each over several lines)
    assert all(len(line) <= 80 for line in result.output.splitlines())
    assert LONG_ID in result.output and "RP0000005" in result.output  # never cut ("RP00003…" before)
    assert "1-5 of 5 cases" in result.output


def test_case_list_wide_shows_every_column_whole_on_one_line_per_case(cli_env: Path) -> None:
    _store(cli_env)
    result = runner.invoke(app, ["case", "list", "--wide", "--as-of", "2026-11-20"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = _lines(result.output)
    assert len(lines) == 5  # one line per case, wider than the terminal rather than cut or folded
    assert "…" not in result.output
    first = next(line for line in lines if "DE-1 " in line)
    assert "Pneumonia" in first and "serious-infections" in first and "UPLIZNA; Imurel" in first
    assert any(LONG_ID in line for line in lines)
    assert "products" in result.output


def test_case_list_filters_csv_json_and_pages(cli_env: Path) -> None:
    _store(cli_env)

    def listed(*args: str) -> list[str]:
        r = runner.invoke(app, ["case", "list", "--as-of", "2026-11-20", "--format", "json", *args])
        assert r.exit_code == 0, r.output
        return [c["worldwide_id"] for c in json.loads(r.output)]

    assert listed("--state", "overdue") == ["DE-1"]
    assert listed("--state", "submitted", "--state", "invalid") == ["DE-3", "DE-4"]
    assert listed("--non-serious") == ["DE-2", LONG_ID]
    assert listed("--serious", "--concern", "serious-infections", "--product", "uplizna") == ["DE-1", "DE-3"]
    assert listed("--due-within", "90", "--sort", "due") == ["DE-1", "DE-2", LONG_ID]
    assert listed("--sort", "received", "--limit", "2", "--page", "2") == ["DE-3", "DE-2"]
    assert listed("--offset", "4") == [LONG_ID]
    r = runner.invoke(app, ["case", "list", "--format", "csv", "--as-of", "2026-11-20"])
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert [row["worldwide_id"] for row in rows] == ["DE-1", "DE-2", "DE-3", "DE-4", LONG_ID]
    assert rows[0]["state"] == "overdue" and rows[0]["serious"] == "yes" and rows[0]["reactions"] == "Pneumonia"
    assert rows[0]["products"] == "UPLIZNA; Imurel"
    r = runner.invoke(app, ["case", "list", "--limit", "2"], env={"COLUMNS": "120"})
    assert "1-2 of 5 cases; next page: --offset 2 (or --page 2)" in r.output
    # a page past the end says where the cases are ("0-400 of 5" before)
    r = runner.invoke(app, ["case", "list", "--limit", "2", "--page", "9"], env={"COLUMNS": "120"})
    assert r.exit_code == 0 and "no cases here: 5 cases in all, on pages 1 to 3 (--offset 0 to 4)" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--state", "closed"], "'closed' is not one of"),
        (["--offset", "1", "--page", "2"], "give --offset or --page, not both"),
        (["--sort", "name"], "'name' is not one of"),
        (["--format", "xml"], "'xml' is not one of"),
        (["--limit", "0"], "greater than or equal to 1"),
        (["--as-of", "20/11/2026"], "expected a date as YYYY-MM-DD"),
    ],
)
def test_wrong_list_options_are_refused(cli_env: Path, args: list[str], message: str) -> None:
    r = runner.invoke(app, ["case", "list", *args], env={"COLUMNS": "200"})
    assert r.exit_code == 2 and message in r.output
