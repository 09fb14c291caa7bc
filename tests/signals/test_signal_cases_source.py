"""The case store as a spontaneous source, on SQLite and PostgreSQL: counts checked against plain SQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from case_factory import concomitant, inebilizumab, make_icsr
from riskplan.cases.codes import DrugRole
from riskplan.cases.model import Drug, Icsr, Reaction, Substance
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.cases.synth import synthesise_cases
from riskplan.plan.catalogue import load_plan
from riskplan.settings import get_settings
from riskplan.signals.cli import app
from riskplan.signals.disproportionality import detect
from riskplan.signals.sources import CaseStoreSource, SpontaneousSource
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import upgrade
from riskplan.terms.coding import OpenTermList

runner = CliRunner()


@pytest.fixture(scope="module")
def processor() -> CaseProcessor:
    plan = load_plan("uplizna")
    return CaseProcessor(plan, OpenTermList(plan))


def _reaction(verbatim: str) -> Reaction:
    return Reaction(verbatim_term=verbatim)


def _special_cases() -> list[Icsr]:
    """Hand-made cases for each rule: roles, substances, product names, uncoded terms, follow-ups."""
    tacrolimus = Drug(role=DrugRole.INTERACTING, name="Prograf", substances=(Substance(name="Tacrolimus"),))
    combination = Drug(
        role=DrugRole.SUSPECT,
        name="Combo",
        substances=(Substance(name="Substance A"), Substance(name="Substance B")),
    )
    no_substance = Drug(role=DrugRole.SUSPECT, name="Mystery Product")
    return [
        # two suspects (one interacting), one concomitant (not counted), one uncoded reaction
        make_icsr(
            "GB-SIGTEST-0001",
            reactions=(_reaction("pneumonia"), _reaction("zzgrx unknown feeling")),
            drugs=(inebilizumab(), tacrolimus, concomitant("Imurel", "azathioprine")),
        ),
        # two substances of one product, and a product given by name only
        make_icsr("GB-SIGTEST-0002", reactions=(_reaction("herpes zoster"),), drugs=(combination, no_substance)),
        # a follow-up replaces the reaction: only the latest version counts
        make_icsr("GB-SIGTEST-0003", reactions=(_reaction("headache"),)),
    ]


def _follow_up() -> list[Icsr]:
    return [make_icsr("GB-SIGTEST-0003", received="20261110", reactions=(_reaction("herpes zoster"),))]


def _store(engine: Engine, processor: CaseProcessor) -> None:
    icsrs = [*synthesise_cases(40, seed=11, invalid_share=0.1), *_special_cases()]
    with session_scope(engine) as s:
        store_cases(s, [processor.assess(i) for i in icsrs], plan_name="uplizna", plan_version=1, who="t")
    with session_scope(engine) as s:
        store_cases(s, [processor.assess(i) for i in _follow_up()], plan_name="uplizna", plan_version=1, who="t")


LATEST_VALID = """
    FROM icsr_case c
    JOIN icsr_case_version v ON v.case_id = c.id AND v.version = c.latest_version
"""


def _sql(engine: Engine, query: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(query), {"yes": True, "no": False})]


def test_rows_and_counts_match_plain_sql(engine: Engine, processor: CaseProcessor) -> None:
    _store(engine, processor)
    source = CaseStoreSource(engine, plan_name="uplizna")
    assert isinstance(source, SpontaneousSource)
    con = duckdb.connect()
    rel = source.to_relation(con)
    assert rel.columns == ["report_id", "product", "event", "period"]
    rows = {(int(r), str(p), str(e)) for r, p, e, _ in rel.fetchall()}

    # Single-substance (or substance-less) suspect/interacting drugs × coded PTs, latest valid versions.
    expected_single = _sql(
        engine,
        f"""
        SELECT DISTINCT c.id, lower(trim(coalesce(d.substances, d.product))), r.pt_name
        {LATEST_VALID}
        JOIN icsr_drug d ON d.case_version_id = v.id
        JOIN icsr_reaction r ON r.case_version_id = v.id
        WHERE v.valid = :yes AND d.characterisation IN ('suspect', 'interacting')
          AND r.coding_status = 'coded' AND r.pt_name IS NOT NULL
          AND (d.substances IS NULL OR d.substances NOT LIKE '%;%')
        """,
    )
    combo_case = _sql(engine, "SELECT id FROM icsr_case WHERE worldwide_id = 'GB-SIGTEST-0002'")[0][0]
    expected = {(int(c), str(p), str(e)) for c, p, e in expected_single}
    expected |= {(int(combo_case), s, "Herpes zoster") for s in ("substance a", "substance b")}
    assert rows == expected
    assert len(rows) == rel.count("*").fetchall()[0][0]  # no duplicate rows

    # The hand-made cases: roles, names, the uncoded reaction and the follow-up.
    first = _sql(engine, "SELECT id FROM icsr_case WHERE worldwide_id = 'GB-SIGTEST-0001'")[0][0]
    third = _sql(engine, "SELECT id FROM icsr_case WHERE worldwide_id = 'GB-SIGTEST-0003'")[0][0]
    assert {(p, e) for r, p, e in rows if r == first} == {("inebilizumab", "Pneumonia"), ("tacrolimus", "Pneumonia")}
    assert {(p, e) for r, p, e in rows if r == combo_case} == {
        ("substance a", "Herpes zoster"),
        ("substance b", "Herpes zoster"),
        ("mystery product", "Herpes zoster"),
    }
    assert {e for r, _, e in rows if r == third} == {"Herpes zoster"}  # not the first version's Headache

    [(cases, invalid)] = _sql(engine, f"SELECT count(*), sum(CASE WHEN v.valid = :no THEN 1 ELSE 0 END) {LATEST_VALID}")
    [(uncoded, uncoded_cases)] = _sql(
        engine,
        f"""SELECT count(*), count(DISTINCT c.id) {LATEST_VALID}
        JOIN icsr_reaction r ON r.case_version_id = v.id
        WHERE v.valid = :yes AND (r.pt_name IS NULL OR r.coding_status <> 'coded')""",
    )
    counts = source.counts
    assert counts is not None
    assert (counts.cases, counts.invalid_cases) == (cases, invalid) and invalid > 0
    assert (counts.uncoded_reactions, counts.cases_with_uncoded) == (uncoded, uncoded_cases)
    assert counts.uncoded_reactions >= 1
    assert counts.reports == len({r for r, _, _ in rows}) and counts.rows == len(rows)
    assert f"{uncoded} reaction(s) without a MedDRA PT" in source.note

    # Disproportionality over the source: N per pair is the number of distinct cases.
    result = detect(con, source.to_relation(con))
    [(n_pneumonia,)] = _sql(
        engine,
        f"""SELECT count(DISTINCT c.id) {LATEST_VALID}
        JOIN icsr_drug d ON d.case_version_id = v.id JOIN icsr_reaction r ON r.case_version_id = v.id
        WHERE v.valid = :yes AND d.characterisation IN ('suspect', 'interacting')
          AND lower(d.substances) = 'inebilizumab' AND r.pt_name = 'Pneumonia' AND r.coding_status = 'coded'""",
    )
    assert result.row("inebilizumab", "Pneumonia")["N"] == n_pneumonia
    con.close()


def test_strata_period_and_bad_strata(sqlite_engine: Engine, processor: CaseProcessor) -> None:
    _store(sqlite_engine, processor)
    con = duckdb.connect()
    rel = CaseStoreSource(sqlite_engine, use_strata=("sex", "country", "year")).to_relation(con)
    assert rel.columns == ["report_id", "product", "event", "sex", "country", "year", "period"]
    periods = {p for (p,) in con.sql(f"SELECT DISTINCT period FROM ({rel.sql_query()})").fetchall()}
    assert periods and all(len(p) == 6 and p[4] == "Q" for p in periods)
    with pytest.raises(Exception, match="case-store strata can be sex, country, year, not age"):
        CaseStoreSource(sqlite_engine, use_strata=("age",)).to_relation(con)
    empty = CaseStoreSource(sqlite_engine, plan_name="no-such-plan")
    assert empty.to_relation(con).fetchall() == [] and empty.counts is not None and empty.counts.cases == 0
    con.close()


def test_detect_cases_cli(cli_env: Path, processor: CaseProcessor) -> None:
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    _store(engine, processor)
    engine.dispose()
    out = cli_env / "cases.csv"
    result = runner.invoke(app, ["detect", "--cases", "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "reaction(s) without a MedDRA PT" in result.output and "invalid case(s) left out" in result.output
    con = duckdb.connect()
    products = {p for (p,) in con.execute(f"SELECT DISTINCT product FROM read_csv('{out}')").fetchall()}
    assert {"inebilizumab", "tacrolimus", "substance a"} <= products
    con.close()
    both = runner.invoke(app, ["detect", "--cases", "--reports", "x.csv", "--out", str(out)])
    assert both.exit_code == 2 and "or --cases (one of them)" in both.output
