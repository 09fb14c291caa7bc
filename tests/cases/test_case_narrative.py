"""The case narrative (ICH E2B(R3) H.1) drafted from the case data, edited and extended by follow-ups, as a
case processor sees it from the command line; every value a draft states is found in the case."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from case_factory import make_icsr, neutrophil_test
from riskplan.cases import Icsr, draft_narrative, intake, intake_context, report_kind, synthesise_cases
from riskplan.cases.codes import Outcome
from riskplan.cases.model import Hl7Timestamp, LiteratureReference, Reaction
from riskplan.cli import app
from riskplan.settings import get_settings
from riskplan.store import session_scope
from riskplan.store.db import make_engine
from riskplan.store.migrate import upgrade
from shared_data import missing_shared
from web_fixtures import exportable_icsr

runner = CliRunner()
_DATE = re.compile(r"\b(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?: (\d{2}):(\d{2}))?\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield str(value)


def _norm(number: str) -> str:
    try:
        return format(Decimal(number).normalize(), "f")
    except InvalidOperation:
        return number


def _case_values(icsr: Icsr) -> tuple[set[str], set[str], str]:
    """Independently of the drafting code: the case's dates (HL7 digits), numbers and all its text."""
    leaves = list(_leaves(icsr.model_dump(mode="json")))
    dates = {leaf[:12] for leaf in leaves if re.fullmatch(r"\d{4,14}([+-]\d{4})?", leaf)}
    dates |= {d[:n] for d in list(dates) for n in (4, 6, 8)}
    numbers = {_norm(n) for leaf in leaves for n in _NUMBER.findall(leaf)}
    return dates, numbers, "\n".join(leaves).casefold()


def _check_stated_values(icsr: Icsr, narrative: str) -> None:
    dates, numbers, everything = _case_values(icsr)
    rest = narrative
    for m in _DATE.finditer(narrative):
        digits = "".join(part for part in m.groups() if part)
        if m.group(2) or (len(digits) == 4 and digits in dates):
            assert digits in dates, (m.group(0), icsr.worldwide_case_id)
            rest = rest.replace(m.group(0), " ", 1)
    for number in _NUMBER.findall(rest):
        assert _norm(number) in numbers, (number, icsr.worldwide_case_id, narrative)
    for quoted in re.findall(r'"([^"]+)"|„([^“]+)“', narrative):
        said = quoted[0] or quoted[1]
        assert said.casefold() in everything, (said, icsr.worldwide_case_id)
    for reaction in icsr.reactions:
        assert reaction.label in narrative


CASES = [
    *synthesise_cases(150, seed=15),
    make_icsr(tests=(neutrophil_test("0.4"),)),
    make_icsr(literature=(LiteratureReference(reference="Smith J. Pneumonia on inebilizumab. Neurol J 2026;1:1-2"),)),
]


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_value_a_draft_states_is_in_the_case(language: str) -> None:
    kinds: set[str] = set()
    for icsr in CASES:
        narrative = draft_narrative(icsr, language)
        _check_stated_values(icsr, narrative)
        assert "None" not in narrative and "{{" not in narrative
        kinds.add(report_kind(icsr))
    assert kinds == {"spontaneous", "study", "literature", "pregnancy"}  # every template was drafted


def test_absent_fields_give_no_sentence() -> None:
    bare = make_icsr(tests=())
    narrative = draft_narrative(bare)
    for absent in ("weight", "height", "died", "autopsy", "Rechallenge", "causality", "normal range", "Indication"):
        assert absent not in narrative
    assert "Neutrophil count on 2026-10-15: 0.4 10*9/L." in draft_narrative(make_icsr(tests=(neutrophil_test("0.4"),)))


# --- stored, edited, followed up: the command line ------------------------------------------------------


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("narrative")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{folder / 'riskplan.db'}")
        mp.setenv("RISKPLAN_USER", "processor1")
        mp.setenv("XDG_DATA_HOME", str(folder / "data"))
        mp.delenv("RISKPLAN_CONFIG", raising=False)
        get_settings.cache_clear()
        engine = make_engine(f"sqlite:///{folder / 'riskplan.db'}")
        upgrade(engine)
        with session_scope(engine) as session:
            ctx = intake_context(session, "uplizna", "tester")
            intake(session, [make_icsr("GB-RPDEMO-2026-000001")], context=ctx, who="tester")
        engine.dispose()
        yield folder
    get_settings.cache_clear()


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_draft_edit_follow_up_and_audit(db: Path) -> None:
    shown = _run("case", "narrative", "RP0000001")
    assert shown.exit_code == 0 and "no narrative yet" in shown.output
    drafted = _run("case", "narrative", "RP0000001", "--draft")
    assert drafted.exit_code == 0, drafted.output
    assert "narrative (en) revision 1: drafted" in drafted.output
    assert "narrative (de) revision 1: drafted" in drafted.output  # the plan's patient card is also in German
    again = _run("case", "narrative", "RP0000001", "--draft")
    assert "nothing changed" in again.output

    edited_text = "A 67-year-old woman developed pneumonia. Edited by the processor."
    (db / "edit.txt").write_text(edited_text, encoding="utf-8")
    edited = _run("case", "narrative", "RP0000001", "--edit", "edit.txt", "--reason", "clearer wording")
    assert edited.exit_code == 0 and "revision 2: edited" in edited.output

    engine = make_engine(f"sqlite:///{db / 'riskplan.db'}")
    follow = make_icsr(
        "GB-RPDEMO-2026-000001",
        received="20261110",
        first_received="20261102",
        reactions=(
            Reaction(verbatim_term="pneumonia", hospitalisation=True, start_date=Hl7Timestamp("20261020"),
                     outcome=Outcome.RECOVERED),
            Reaction(verbatim_term="rash", start_date=Hl7Timestamp("20261105")),
        ),
    )  # fmt: skip
    with session_scope(engine) as session:
        intake(session, [follow], context=intake_context(session, "uplizna", "tester"), who="tester")
    followed = _run("case", "narrative", "RP0000001", "--draft", "--language", "en")
    assert followed.exit_code == 0 and "revision 3: follow-up (case version 2)" in followed.output
    current = json.loads(_run("case", "narrative", "RP0000001", "--format", "json", "-l", "en").output)[0]
    first, paragraph = current["text"].split("\n\n")
    assert first == edited_text  # the processor's words are kept, not redrafted
    assert paragraph.startswith("Follow-up information received on 2026-11-10 (case version 2):")
    assert "the patient experienced Rash." in paragraph and "Outcome of Pneumonia: recovered/resolved." in paragraph
    assert "The patient (JD)" not in paragraph  # what did not change is not repeated

    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT action, reason, who FROM audit_event WHERE entity_id = 'RP0000001' AND action LIKE 'narrative%'"
            )
        ).all()
        stored = c.execute(text("SELECT language, revision, kind FROM case_narrative ORDER BY id")).all()
    engine.dispose()
    assert [r[0] for r in rows] == ["narrative drafted", "narrative drafted", "narrative edited", "narrative follow-up"]
    assert ("narrative edited", "clearer wording", "processor1") in [tuple(r) for r in rows]
    assert [tuple(s) for s in stored] == [("en", 1, "drafted"), ("de", 1, "drafted"), ("en", 2, "edited"),
                                          ("en", 3, "follow-up")]  # fmt: skip
    history = _run("case", "narrative", "RP0000001", "--history", "-l", "en")
    assert history.output.count("--- narrative (en)") == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["RP0000099", "--draft"], "no case 'RP0000099'"),
        (["RP0000001", "--edit", "edit.txt"], "--edit needs --reason"),
        (["RP0000001", "--edit", "missing.txt", "--reason", "x"], "missing.txt: no such file"),
        (["RP0000001", "--draft", "--language", "fr"], "narratives are kept in en, de"),
        (["RP0000001", "--draft", "--history"], "give one of"),
        (["RP0000001", "--reason", "why"], "--reason goes with --edit"),
    ],
)
def test_bad_input_exits_2_and_stores_nothing(db: Path, args: list[str], message: str) -> None:
    engine = make_engine(f"sqlite:///{db / 'riskplan.db'}")
    with engine.connect() as c:
        before = c.execute(text("SELECT count(*) FROM case_narrative")).scalar()
    result = _run("case", "narrative", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM case_narrative")).scalar() == before
    engine.dispose()


E2B_SCHEMA = Path(__file__).resolve().parents[2].parent / "shared/standards/e2b_r3/schema/multicacheschemas"


def test_export_carries_the_stored_narrative_in_h1_else_the_one_received(db: Path) -> None:
    from lxml import etree

    if not (E2B_SCHEMA / "MCCI_IN200100UV01.xsd").is_file():
        missing_shared(f"{E2B_SCHEMA} is absent: the ICH E2B(R3) schema set is needed")
    engine = make_engine(f"sqlite:///{db / 'riskplan.db'}")
    written = exportable_icsr("GB-RPDEMO-2026-000010")
    received = exportable_icsr("DE-RPDEMO-2026-000009").model_copy(
        update={"narrative": "Narrative as the reporter sent it."}
    )
    with session_scope(engine) as session:
        intake(session, [written, received], context=intake_context(session, "uplizna", "tester"), who="tester")
    with engine.connect() as c:
        number = c.execute(text("SELECT id FROM icsr_case WHERE worldwide_id = 'GB-RPDEMO-2026-000010'")).scalar()
    ref = f"RP{number:07d}"
    assert _run("case", "narrative", ref, "--draft").exit_code == 0
    (db / "export-edit.txt").write_text("The processor's narrative for the export.", encoding="utf-8")
    assert _run("case", "narrative", ref, "--edit", "export-edit.txt", "--reason", "for export").exit_code == 0
    result = _run("case", "export", "--e2b", "e2b", "--id", ref, "--id", "DE-RPDEMO-2026-000009")
    assert result.exit_code == 0, result.output
    (path,) = (db / "e2b").glob("*.xml")
    root = etree.parse(str(path))
    schema = etree.XMLSchema(etree.parse(str(E2B_SCHEMA / "MCCI_IN200100UV01.xsd")))
    assert schema.validate(root), schema.error_log
    ns = {"h": "urn:hl7-org:v3"}
    h1 = {  # C.1.8.1 (the worldwide case id) -> H.1, per message
        event.find("h:id[@root='2.16.840.1.113883.3.989.2.1.3.2']", ns).get("extension"):
        event.findtext("h:text", namespaces=ns)
        for event in root.getroot().iterfind(".//h:investigationEvent", ns)
    }  # fmt: skip
    with engine.connect() as c:  # independent: the highest English revision, straight from the table
        stored = c.execute(
            text("SELECT n.text FROM case_narrative n JOIN icsr_case c ON c.id = n.case_id "
                 "WHERE c.worldwide_id = 'GB-RPDEMO-2026-000010' AND n.language = 'en' ORDER BY n.revision DESC")
        ).scalar()  # fmt: skip
        said = dict(c.execute(text(
            "SELECT entity_id, new_value FROM audit_event WHERE action = 'exported as E2B(R3)'")).all())  # fmt: skip
    engine.dispose()
    assert stored == "The processor's narrative for the export." != written.narrative
    assert h1 == {"GB-RPDEMO-2026-000010": stored, "DE-RPDEMO-2026-000009": "Narrative as the reporter sent it."}
    assert "H.1 from the stored narrative (en) revision 2 (edited)" in said["GB-RPDEMO-2026-000010"]
    assert "H.1 as received: no narrative written here" in said["DE-RPDEMO-2026-000009"]
