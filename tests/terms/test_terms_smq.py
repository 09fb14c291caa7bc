"""SMQs of a MedDRA release (smq_list.asc, smq_content.asc), strict loading, and what concerns and event
groups stand for.

The data is the invented fixture in tests/data/meddra_fixture (codes 9000xxxx, SMQs 901000xx): a plain SMQ
(Infective pneumonia: narrow PT Pneumonia and LLT Lung infection, broad PT Bronchitis, inactive broad PT
Cystitis), a hierarchical SMQ (Haematopoietic cytopenias with two child SMQs) and an algorithmic SMQ
(Lower respiratory inflammation, "A or (B and C)"). Expected sets are read off those files by hand.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from riskplan.plan import ConcernDefinition, SmqReference
from riskplan.settings import get_settings
from riskplan.store import make_engine, session_scope, upgrade
from riskplan.terms import event_groups, expand_concern_terms, find_smq, load_meddra, smq_terms
from riskplan.terms.cli import app
from riskplan.terms.meddra import MeddraLoadError
from riskplan.terms.smq import algorithm_categories, meets_algorithm
from riskplan.terms.tables import MeddraLlt, MeddraPt, MeddraRelease, MeddraSmq, MeddraSmqTerm

FIXTURE = Path(__file__).parent.parent / "data" / "meddra_fixture"
PNEUMONIA, BRONCHITIS, CYSTITIS, PLEURISY = 90001001, 90001002, 90001004, 90001013
NEUTROPENIA, FEBRILE_NEUTROPENIA, LEUKOPENIA, LYMPHOPENIA, ANAEMIA = 90001008, 90001009, 90001010, 90001011, 90001012
LUNG_INFECTION = 90002001
runner = CliRunner()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated SQLite database for the module; the fixture release is loaded by the first test that
    needs it (:func:`loaded`); the failed loads in between must leave it empty."""
    folder = tmp_path_factory.mktemp("smq")
    eng = make_engine(f"sqlite:///{folder / 'terms.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def loaded(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        if session.get(MeddraRelease, "90.1") is None:
            load_meddra(session, FIXTURE, who="tester")
    return engine


def _rows(engine: Engine) -> int:
    with session_scope(engine) as session:
        return sum(
            session.scalar(select(func.count()).select_from(m)) or 0
            for m in (MeddraRelease, MeddraPt, MeddraLlt, MeddraSmq, MeddraSmqTerm)
        )


def _edit(folder: Path, file: str, line: int, change: Callable[[str], str]) -> None:
    path = folder / file
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = change(lines[line - 1])
    path.write_text("\n".join(lines), encoding="utf-8")


def _field(index: int, value: str) -> Callable[[str], str]:
    def change(line: str) -> str:
        fields = line.split("$")
        fields[index] = value
        return "$".join(fields)

    return change


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "smq_content.asc missing": (
        lambda d: (d / "smq_content.asc").unlink(),
        r"missing MedDRA ASCII file\(s\) smq_content\.asc",
    ),
    "wrong number of fields": (
        lambda d: _edit(d, "smq_content.asc", 7, lambda line: line + "extra$"),
        r"smq_content\.asc, line 7: found 10 \$-delimited fields, expected 9",
    ),
    "non-numeric code": (
        lambda d: _edit(d, "smq_list.asc", 3, _field(0, "9010OOO3")),
        r"smq_list\.asc, line 3: smq_code '9010OOO3' is not an 8-digit MedDRA code",
    ),
    "release-number mismatch in smq_list.asc": (
        lambda d: _edit(d, "smq_list.asc", 4, _field(6, "27.1")),
        r"smq_list\.asc, line 4: MedDRA_version '27\.1' differs from the release version 90\.1",
    ),
    "term added in a later release": (
        lambda d: _edit(d, "smq_content.asc", 12, _field(7, "91.0")),
        r"smq_content\.asc, line 12: term_addition_version 91\.0 is later than the release version 90\.1",
    ),
    "unknown PT": (
        lambda d: _edit(d, "smq_content.asc", 2, _field(2, "4")),
        r"smq_content\.asc, line 2: PT 90002001 \(term_level 4\) is not in pt\.asc",
    ),
    "scope 0 on a PT": (
        lambda d: _edit(d, "smq_content.asc", 1, _field(3, "0")),
        r"smq_content\.asc, line 1: term_scope '0' must be 2 \(narrow\) or 1 \(broad\) for a term",
    ),
    "algorithm naming a category without terms": (
        lambda d: _edit(d, "smq_list.asc", 5, _field(8, "A or (B and D)")),
        r"smq_list\.asc, line 5: the algorithm 'A or \(B and D\)' of SMQ 90100005 names categories D",
    ),
    "child SMQ not listed": (
        lambda d: _edit(d, "smq_content.asc", 5, _field(1, "90100099")),
        r"smq_content\.asc, line 5: child SMQ 90100099 \(term_level 0\) is not in smq_list\.asc",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_a_broken_smq_file_is_refused_naming_file_and_line_and_nothing_is_stored(
    case: str, engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "release"
    shutil.copytree(FIXTURE, folder)
    breaker, message = BROKEN[case]
    breaker(folder)
    with pytest.raises(MeddraLoadError, match=message), session_scope(engine) as session:
        load_meddra(session, folder, who="tester")
    assert _rows(engine) == 0


def test_the_command_line_refuses_a_mismatched_release_with_exit_2(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "release"
    shutil.copytree(FIXTURE, folder)
    _edit(folder, "smq_list.asc", 2, _field(6, "90.0"))
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    result = runner.invoke(app, ["load-meddra", str(folder)], env={"COLUMNS": "250"})
    get_settings.cache_clear()
    assert result.exit_code == 2
    assert "smq_list.asc, line 2: MedDRA_version '90.0' differs from the release version 90.1" in result.output
    assert "nothing was written" in result.output and "Traceback" not in result.output
    assert _rows(engine) == 0


def test_smqs_are_stored_with_their_algorithm(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        stored = {s.smq_code: (s.smq_level, s.algorithm) for s in session.scalars(select(MeddraSmq))}
        assert stored == {
            90100001: (1, "N"),
            90100002: (1, "N"),
            90100003: (2, "N"),
            90100004: (2, "N"),
            90100005: (1, "A or (B and C)"),
        }
        assert session.scalar(select(func.count()).select_from(MeddraSmqTerm)) == 14


def test_narrow_and_broad_searches_of_plain_and_hierarchical_smqs(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        pneumonia = find_smq(session, "90.1", "infective  PNEUMONIA (smq)")
        assert pneumonia is not None
        narrow = smq_terms(session, "90.1", pneumonia, "narrow")
        broad = smq_terms(session, "90.1", pneumonia, "broad")
        assert (set(narrow.pts), set(narrow.llts)) == ({PNEUMONIA}, {LUNG_INFECTION})
        assert set(broad.pts) == {PNEUMONIA, BRONCHITIS}  # Cystitis is an inactive term
        cytopenias = find_smq(session, "90.1", "90100002")
        assert cytopenias is not None
        assert set(smq_terms(session, "90.1", cytopenias, "narrow").pts) == {
            NEUTROPENIA,
            FEBRILE_NEUTROPENIA,
            LEUKOPENIA,
            ANAEMIA,
        }
        assert LYMPHOPENIA in smq_terms(session, "90.1", cytopenias, "broad").pts


def test_the_algorithm_is_evaluated_over_the_case_categories() -> None:
    assert algorithm_categories("A or (B and C)") == frozenset("ABC")
    assert algorithm_categories("N") is None and algorithm_categories("sum of weights >= 6") is None
    for categories, expected in (("A", True), ("B", False), ("C", False), ("BC", True), ("", False)):
        assert meets_algorithm("A or (B and C)", frozenset(categories)) is expected
    assert meets_algorithm("A AND NOT B", frozenset("A")) and not meets_algorithm("A AND NOT B", frozenset("AB"))


def test_a_concern_definition_expands_to_its_terms_with_reasons(loaded: Engine) -> None:
    definition = ConcernDefinition(
        meddra_pts=["Cystitis"],
        meddra_hlts=["Neutropenias"],
        meddra_hlgts=["Anaemias nonhaemolytic and marrow depression"],
        meddra_smqs=[
            SmqReference(name="Infective pneumonia (SMQ)", scope="narrow"),
            SmqReference(name="Lower respiratory inflammation (SMQ)", scope="broad"),
            SmqReference(name="No such SMQ", scope="broad"),
        ],
    )
    with session_scope(loaded) as session:
        terms = expand_concern_terms(session, definition, "90.1")
    assert dict(terms.pts) == {
        CYSTITIS: "PT Cystitis",
        NEUTROPENIA: "HLT Neutropenias",
        FEBRILE_NEUTROPENIA: "HLT Neutropenias",
        ANAEMIA: "HLGT Anaemias nonhaemolytic and marrow depression",
        PNEUMONIA: "Infective pneumonia (SMQ) (narrow)",
    }
    assert dict(terms.llts) == {LUNG_INFECTION: "Infective pneumonia (SMQ) (narrow)"}
    [algorithmic] = terms.algorithmic
    assert algorithmic.algorithm == "A or (B and C)"
    assert dict(algorithmic.pts) == {PNEUMONIA: "A", PLEURISY: "B", BRONCHITIS: "C"}
    assert terms.unresolved == ("SMQ No such SMQ",)
    assert terms.case_reasons([(PLEURISY, None)]) == []
    [reason] = terms.case_reasons([(PLEURISY, None), (BRONCHITIS, None)])
    assert re.search(r"algorithm 'A or \(B and C\)' applied to the case: categories B, C", reason)


def test_event_groups_follow_the_primary_path_and_the_smq_scope(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        hlt = dict(event_groups(session, "90.1", "hlt"))
        soc = event_groups(session, "90.1", "soc")
        narrow = event_groups(session, "90.1", "smq", "narrow")
    # Pneumonia is multi-axial: only its primary path (HLT 90000201, SOC Infections) counts
    assert hlt["pneumonia"] == "Lower respiratory tract and lung infections"
    assert [g for p, g in soc if p == "pneumonia"] == ["Infections and infestations"]
    assert sorted(g for p, g in narrow if p == "neutropenia") == [
        "Haematopoietic cytopenias (SMQ) (narrow)",
        "Haematopoietic leukopenia (SMQ) (narrow)",
    ]
    assert not [g for p, g in narrow if p == "lymphopenia"]  # broad only
