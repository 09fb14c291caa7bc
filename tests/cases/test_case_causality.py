"""Causality per suspect drug and reaction (ICH E2B(R3) G.k.9.i.2.r), as a safety physician records it:
WHO-UMC and Naranjo from the command line, on the case page, in the exported ICSR and read back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from case_factory import concomitant, inebilizumab, make_icsr
from riskplan.cases.causality_scales import (
    NARANJO_QUESTIONS,
    NaranjoAnswer,
    naranjo_category,
    naranjo_score,
    parse_naranjo_answers,
    read_result,
)
from riskplan.cases.codes import DrugRole, Outcome
from riskplan.cases.model import Drug, Hl7Timestamp, Reaction, Substance
from riskplan.cases.tables import CausalityRow
from riskplan.cli import app
from riskplan.errors import UserInputError
from riskplan.store import database
from riskplan.store.db import session_scope
from web_fixtures import exportable_icsr

runner = CliRunner()
WIDE = {"COLUMNS": "300"}
DOCTOR_PASSWORD = "the physician's password"
SIGN = ["--signer", "doc1", "--password-stdin"]
Y, N, DK = NaranjoAnswer.YES, NaranjoAnswer.NO, NaranjoAnswer.DO_NOT_KNOW


def _flat(output: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┠┨╋┳┻┣┫└┘┌┐├┤┬┴]", " ", output))


# --- Naranjo et al., Clin Pharmacol Ther 1981;30:239-245 ------------------------------------------------

# Table 1 of the paper: (yes, no, do not know) for each of the ten questions
PUBLISHED_WEIGHTS = [(1, 0, 0), (2, -1, 0), (1, 0, 0), (2, -1, 0), (-1, 2, 0), (-1, 1, 0), (1, 0, 0), (1, 0, 0),
                     (1, 0, 0), (1, 0, 0)]  # fmt: skip


def test_each_naranjo_answer_weighs_what_the_paper_says() -> None:
    assert len(NARANJO_QUESTIONS) == 10
    for number, (yes, no, dk) in enumerate(PUBLISHED_WEIGHTS, start=1):
        answers = [DK] * 10
        for answer, weight in ((Y, yes), (N, no), (DK, dk)):
            answers[number - 1] = answer
            assert naranjo_score(tuple(answers)) == weight, (number, answer)
    assert naranjo_score((Y, Y, Y, Y, N, N, Y, Y, Y, Y)) == 13  # the highest score
    assert naranjo_score((N, N, N, N, Y, Y, N, N, N, N)) == -4  # the lowest
    assert naranjo_score((DK,) * 10) == 0


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (13, "definite"),
        (9, "definite"),
        (8, "probable"),
        (5, "probable"),
        (4, "possible"),
        (1, "possible"),
        (0, "doubtful"),
        (-4, "doubtful"),
    ],
)
def test_naranjo_categories(score: int, category: str) -> None:
    assert naranjo_category(score).value == category


def test_naranjo_answers_are_read_in_words_and_wrong_ones_are_named() -> None:
    assert parse_naranjo_answers("yes, n, ?, do not know,no,y,dk,dk,no,YES") == (Y, N, DK, DK, N, Y, DK, DK, N, Y)
    with pytest.raises(UserInputError, match="10 questions; 3 answer"):
        parse_naranjo_answers("yes,no,dk")
    with pytest.raises(UserInputError, match="question 4: 'maybe' is not an answer"):
        parse_naranjo_answers("yes,no,dk,maybe,no,no,no,no,no,no")


def test_results_written_to_e2b_are_read_back() -> None:
    read = read_result("WHO-UMC", "Probable/likely")
    assert read is not None and (read.method.value, read.result) == ("WHO-UMC", "probable")
    read = read_result("Naranjo", "Possible (score 3)")
    assert read is not None and (read.result, read.score) == ("possible", 3)
    assert read_result("Global Introspection", "related") is None


# --- the command line -----------------------------------------------------------------------------------


def _two_drugs_three_reactions() -> str:
    interacting = Drug(role=DrugRole.INTERACTING, name="Fluconazole", substances=(Substance(name="fluconazole"),))
    reactions = tuple(
        Reaction(verbatim_term=term, start_date=Hl7Timestamp("20261020"), outcome=Outcome.RECOVERING)
        for term in ("pneumonia", "rash", "headache")
    )
    icsr = exportable_icsr(
        "GB-CAUSAL-1",
        reactions=reactions,
        drugs=(inebilizumab(), concomitant("Imurel", "azathioprine"), interacting),
    )
    return icsr.model_dump_json()


@pytest.fixture(name="doctor")
def doctor_fixture(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh database with a safety physician, a case processor and a case with 2 suspect drugs (and one
    concomitant) and 3 reactions: RP0000001."""
    monkeypatch.setenv("RISKPLAN_WEB_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("RISKPLAN_WEB_ARGON2_MEMORY_KIB", "1024")
    for name, role, password in (
        ("doc1", "safety_physician", DOCTOR_PASSWORD),
        ("cp1", "case_processor", "the processor password"),
    ):
        added = runner.invoke(
            app, ["user", "add", name, "--role", role, "--full-name", f"Dr {name}", "--password-stdin"], input=password
        )
        assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["plan", "load", "uplizna"]).exit_code == 0
    case_file = cli_env / "case.json"
    case_file.write_text(_two_drugs_three_reactions(), encoding="utf-8")
    assert runner.invoke(app, ["case", "new", str(case_file)]).exit_code == 0
    return cli_env


def _assess(*args: str, password: str = DOCTOR_PASSWORD) -> tuple[int, str]:
    r = runner.invoke(app, ["case", "assess", "RP0000001", *args], input=password + "\n", env=WIDE)
    return r.exit_code, _flat(r.output)


def _stored() -> int:
    with session_scope(database()) as s:
        return int(s.scalar(select(func.count()).select_from(CausalityRow)) or 0)


def test_several_pairs_need_drug_and_reaction_and_wrong_numbers_are_refused(doctor: Path) -> None:
    code, out = _assess("--result", "probable", *SIGN)
    assert code == 2 and "RP0000001 has 6 drug-reaction pairs: say which with --drug N --reaction M" in out
    assert "drug 1 (UPLIZNA) × reaction 1 (Pneumonia)" in out and "drug 3 (Fluconazole) × reaction 3 (Headache)" in out
    code, out = _assess("--drug", "4", "--reaction", "1", "--result", "probable", *SIGN)
    assert code == 2 and "RP0000001 has no drug 4: its drugs are 1 to 3" in out and "2 Imurel (concomitant)" in out
    code, out = _assess("--drug", "1", "--reaction", "9", "--result", "probable", *SIGN)
    assert code == 2 and "has no reaction 9: its reactions are 1 to 3 (1 Pneumonia; 2 Rash; 3 Headache)" in out
    code, out = _assess("--drug", "2", "--reaction", "1", "--result", "probable", *SIGN)
    assert code == 2 and "drug 2 (Imurel) is concomitant" in out and "suspect or interacting" in out
    code, out = _assess("--drug", "1", "--reaction", "1", "--result", "perhaps", *SIGN)
    assert code == 2 and "unknown WHO-UMC causality 'perhaps'" in out
    code, out = _assess("--drug", "1", "--reaction", "1", "--method", "bayes", "--result", "probable", *SIGN)
    assert code == 2 and "unknown method of assessment 'bayes'" in out
    code, out = _assess("--drug", "1", "--reaction", "1", "--method", "naranjo", *SIGN)
    assert code == 2 and "needs the answers to its ten questions" in out
    code, out = _assess("--drug", "1", "--reaction", "1", "--answers", "yes,no", *SIGN)
    assert code == 2 and "10 questions; 2 answer(s) given" in out
    code, out = _assess("--drug", "1", "--reaction", "1", "--result", "probable", *SIGN, password="wrong")
    assert code == 2 and "signing refused" in out
    code, out = _assess(
        "--drug",
        "1",
        "--reaction",
        "1",
        "--result",
        "probable",
        "--signer",
        "cp1",
        "--password-stdin",
        password="the processor password",
    )
    assert code == 2 and "may not sign a causality assessment" in out
    assert _stored() == 0  # nothing stored by any of these
    assert "Traceback" not in out


def test_who_umc_and_naranjo_per_pair_shown_in_case_show(doctor: Path) -> None:
    code, out = _assess("--drug", "1", "--reaction", "2", "--method", "who-umc", "--result", "probable", *SIGN)
    assert code == 0, out
    assert "drug 1 (UPLIZNA) × reaction 2 (Rash): assessed WHO-UMC probable" in out
    assert re.search(r"signed: Dr doc1 \(doc1\), authorship, \d{4}-", out)
    # Naranjo: 1 + 2 + 1 + 0 + 2 + 0 + 0 + 0 + 0 + 1 = 7, probable
    answers = "yes,yes,yes,dk,no,dk,dk,no,no,yes"
    code, out = _assess("--drug", "3", "--reaction", "3", "--answers", answers, "--source", "Sponsor", *SIGN)
    assert code == 0, out
    assert "drug 3 (Fluconazole) × reaction 3 (Headache): assessed Naranjo probable, score 7 (source: Sponsor)" in out
    assert _stored() == 2
    shown = _flat(runner.invoke(app, ["case", "show", "RP0000001"], env=WIDE).output)
    assert "Causality per drug × reaction (G.k.9.i.2.r)" in shown
    assert "1 UPLIZNA 2 Rash WHO-UMC probable Marketing authorisation holder doc1" in shown
    assert "3 Fluconazole 3 Headache Naranjo probable 7 Sponsor doc1" in shown
    assert "1 UPLIZNA 1 Pneumonia not assessed yet" in shown
    assert "Imurel" not in shown.split("Causality per drug")[1].split("Versions")[0]  # concomitant: no pair
    history = _flat(runner.invoke(app, ["case", "history", "RP0000001"], env=WIDE).output)
    assert "causality assessed" in history
    # 21 CFR 11.70: a record changed behind the application's back no longer matches its signature
    with database().begin() as conn:
        conn.execute(text("UPDATE case_causality SET result = 'certain' WHERE method = 'WHO-UMC'"))
    shown = _flat(runner.invoke(app, ["case", "show", "RP0000001"], env=WIDE).output)
    assert "RECORD CHANGED SINCE SIGNING" in shown


def test_a_case_with_one_pair_needs_no_numbers(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKPLAN_WEB_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("RISKPLAN_WEB_ARGON2_MEMORY_KIB", "1024")
    runner.invoke(app, ["user", "add", "doc1", "--role", "safety_physician", "--password-stdin"], input=DOCTOR_PASSWORD)
    assert runner.invoke(app, ["plan", "load", "uplizna"]).exit_code == 0
    (cli_env / "case.json").write_text(make_icsr().model_dump_json(), encoding="utf-8")
    assert runner.invoke(app, ["case", "new", str(cli_env / "case.json")]).exit_code == 0
    code, out = _assess("--causality", "possible", *SIGN)
    assert code == 0 and "drug 1 (UPLIZNA) × reaction 1 (Pneumonia): assessed WHO-UMC possible" in out


# --- E2B(R3) export and import --------------------------------------------------------------------------

HL7 = "{urn:hl7-org:v3}"


def test_the_pairs_causality_is_exported_schema_valid_and_read_back(
    doctor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskplan.cases.e2b import schema_path

    if not schema_path().is_file():
        pytest.skip("the ICH E2B(R3) schema set (../shared) is not here")
    assert _assess("--drug", "1", "--reaction", "2", "--result", "probable", *SIGN)[0] == 0
    assert _assess("--drug", "3", "--reaction", "3", "--answers", "yes,yes,yes,dk,no,dk,dk,no,no,yes", *SIGN)[0] == 0
    out = tmp_path / "out"
    # the exporter validates the batch against the ICH schema set and refuses to write an invalid one
    exported = runner.invoke(app, ["case", "export", "--e2b", str(out), "--id", "RP0000001"], env=WIDE)
    assert exported.exit_code == 0, exported.output
    assert "validated against the ICH E2B(R3) schema" in _flat(exported.output)
    (batch,) = out.glob("*.xml")
    from riskplan.cases.e2b import schema_errors

    tree = etree.parse(str(batch))
    assert schema_errors(tree.getroot()) == []  # the ICH schema set, checked again here
    found = []
    for c in tree.iter(f"{HL7}causalityAssessment"):
        method = c.find(f"{HL7}methodCode/{HL7}originalText")
        if method is not None:
            source = c.find(f"{HL7}author/{HL7}assignedEntity/{HL7}code/{HL7}originalText")
            found.append((method.text, c.find(f"{HL7}value").text, source.text if source is not None else None))
    assert sorted(found) == [
        ("Naranjo", "Probable (score 7)", "Marketing authorisation holder"),
        ("WHO-UMC", "Probable/likely", "Marketing authorisation holder"),
    ]
    # another riskplan database imports the file: case show lists them as received
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    from riskplan.settings import get_settings

    get_settings.cache_clear()
    assert runner.invoke(app, ["plan", "load", "uplizna"]).exit_code == 0
    imported = runner.invoke(app, ["case", "import", str(batch)], env=WIDE)
    assert imported.exit_code == 0, imported.output
    shown = _flat(runner.invoke(app, ["case", "show", "GB-CAUSAL-1"], env=WIDE).output)
    assert "1 UPLIZNA 2 Rash WHO-UMC probable Marketing authorisation holder" in shown
    assert "3 Fluconazole 3 Headache Naranjo probable 7 Marketing authorisation holder" in shown
    assert "as received in the ICSR" in shown


# --- readers: the PSUR's counts, the signal review ----------------------------------------------------


def test_counts_per_product_and_period_and_the_signals_case_series(doctor: Path) -> None:
    import datetime as dt

    from riskplan.cases.causality_counts import causality_by_product

    assert _assess("--drug", "1", "--reaction", "1", "--result", "probable", *SIGN)[0] == 0
    assert _assess("--drug", "1", "--reaction", "1", "--result", "possible", *SIGN)[0] == 0  # the later stands
    assert _assess("--drug", "1", "--reaction", "2", "--answers", "yes,yes,yes,dk,no,dk,dk,no,no,yes", *SIGN)[0] == 0
    assert _assess("--drug", "3", "--reaction", "3", "--result", "unlikely", *SIGN)[0] == 0
    with session_scope(database()) as s:
        found = causality_by_product(s, "Inebilizumab", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        assert found.cases == 1 and len({(p.drug_seq, p.reaction_seq) for p in found.pairs}) == 3  # UPLIZNA × 3
        assert found.counts == {
            "WHO-UMC": {"possible": 1},
            "Naranjo": {"probable": 1},
            "not assessed": {"not assessed": 1},
        }
        assert found.by_who_umc() == {"possible": 1, "not assessed": 2}
        (who,) = [p for p in found.pairs if p.method == "WHO-UMC"]
        assert (who.case_number, who.drug, who.reaction, who.assessor, who.origin) == (
            "RP0000001",
            "UPLIZNA",
            "Pneumonia",
            "doc1",
            "recorded",
        )
        assert causality_by_product(s, "fluconazole", dt.date(2026, 11, 1), dt.date(2026, 11, 30)).counts == {
            "WHO-UMC": {"unlikely": 1},
            "not assessed": {"not assessed": 2},
        }
        assert causality_by_product(s, "uplizna", dt.date(2025, 1, 1), dt.date(2025, 12, 31)).cases == 0
        with pytest.raises(UserInputError, match=r"ends .* before it starts"):
            causality_by_product(s, "uplizna", dt.date(2026, 12, 1), dt.date(2026, 1, 1))
    made = runner.invoke(
        app,
        ["signal", "new", "--title", "Pneumonia with inebilizumab", "--product", "inebilizumab", "--event",
         "Pneumonia", "--source", "case-series", "--case", "RP0000001", "--reason", "case series"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    signal_id = re.search(r"SIG-\d{4}-\d{4}", made.output)
    assert signal_id is not None
    shown = _flat(runner.invoke(app, ["signal", "show", signal_id.group(0)], env=WIDE).output)
    assert "Causality per drug × reaction in the case series" in shown
    assert "RP0000001 GB-CAUSAL-1 1 UPLIZNA 1 Pneumonia WHO-UMC possible doc1" in shown
    assert "1 UPLIZNA 2 Rash Naranjo probable 7 doc1" in shown
    assert "Fluconazole" not in shown  # not the signal's product
