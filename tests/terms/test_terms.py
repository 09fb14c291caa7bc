"""Terminology as a user sees it: loading a MedDRA release, refusing broken ones, coding verbatims.

The MedDRA data here is the invented fixture in ``tests/data/meddra_fixture`` (codes 9000xxxx,
version 90.1): it has the exact layout of the MedDRA ASCII files but none of MedDRA's content.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from riskplan.errors import NotFoundError
from riskplan.plan.catalogue import load_plan
from riskplan.settings import get_settings
from riskplan.store.audit import AuditEvent, history
from riskplan.store.db import Base, make_engine, normalise_url, session_scope
from riskplan.store.migrate import upgrade
from riskplan.terms.cli import app
from riskplan.terms.coding import (
    OPEN_TERM_LIST,
    SUGGESTION_CUTOFF,
    CodingStatus,
    MeddraTerminology,
    OpenTermList,
    code_verbatim,
    read_open_terms,
)
from riskplan.terms.meddra import (
    FIELD_COUNTS,
    MeddraLoadError,
    current_release,
    find_llt,
    list_releases,
    load_meddra,
    primary_soc_of_pt,
    pt_by_name,
    pt_of_llt,
    release_counts,
    socs_of_pt,
)
from riskplan.terms.synthetic import write_synthetic_release
from riskplan.terms.tables import (
    MeddraHierarchy,
    MeddraHlgt,
    MeddraHlt,
    MeddraLlt,
    MeddraPt,
    MeddraRelease,
    MeddraSoc,
)

FIXTURE = Path(__file__).parent.parent / "data" / "meddra_fixture"
FIXTURE_COUNTS = {"SOC": 3, "HLGT": 5, "HLT": 8, "PT": 13, "LLT": 28, "hierarchy paths": 14, "SMQ": 5, "SMQ terms": 14}
TERM_MODELS = (MeddraRelease, MeddraSoc, MeddraHlgt, MeddraHlt, MeddraPt, MeddraLlt, MeddraHierarchy)
PNEUMONIA, ANAEMIA, HERPES_ZOSTER = 90001001, 90001012, 90001005
INFECTIONS_SOC, RESPIRATORY_SOC = 90000001, 90000002
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
WIDE = {"COLUMNS": "200"}
runner = CliRunner()


# --- databases: SQLite by default, PostgreSQL where reachable --------------------------------------


def _postgres_unreachable() -> str | None:
    try:
        engine = create_engine(normalise_url(POSTGRES_ADMIN_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}"
    return None


@pytest.fixture(scope="module")
def postgres_reason() -> str | None:
    return _postgres_unreachable()


@pytest.fixture
def fresh_postgres(postgres_reason: str | None) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    if postgres_reason:
        pytest.skip(postgres_reason)
    name = f"riskplan_terms_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalise_url(POSTGRES_ADMIN_URL)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database of its own."""
    engine = make_engine(f"sqlite:///{tmp_path / 'terms.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'terms.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def loaded(db: Engine) -> Engine:
    """The SQLite database with the fixture release 90.1 loaded."""
    with session_scope(db) as session:
        load_meddra(session, FIXTURE, who="tester")
    return db


def load(engine: Engine, folder: Path, who: str = "tester", version: str | None = None) -> dict[str, int]:
    """Load a release in a transaction of its own, as the command line does; its counts."""
    with session_scope(engine) as session:
        return release_counts(load_meddra(session, folder, who=who, version=version))


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every terminology table and MedDRA audit events: what a failed load must leave at 0."""
    with session_scope(engine) as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0 for model in TERM_MODELS
        }
        counts["audit"] = (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "meddra_release")
            )
            or 0
        )
    return counts


# --- editing a copy of the fixture -----------------------------------------------------------------


def copy_fixture(tmp_path: Path, name: str = "release", *, with_smqs: bool = True) -> Path:
    """A copy of the fixture; without its SMQ files for a copy loaded under another version (the SMQ files
    name the release they belong to)."""
    target = tmp_path / name
    shutil.copytree(FIXTURE, target)
    if not with_smqs:
        remove(target, "smq_list.asc", "smq_content.asc")
    return target


def edit_line(folder: Path, file: str, line: int, change: Callable[[str], str]) -> None:
    path = folder / file
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = change(lines[line - 1])
    path.write_text("\n".join(lines), encoding="utf-8")


def line_of(folder: Path, file: str, needle: str) -> int:
    for number, line in enumerate((folder / file).read_text(encoding="utf-8").split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {file}")


def remove(folder: Path, *files: str) -> None:
    for file in files:
        (folder / file).unlink()


def set_field(index: int, value: str) -> Callable[[str], str]:
    def change(line: str) -> str:
        fields = line.split("$")
        fields[index] = value
        return "$".join(fields)

    return change


# --- loading ---------------------------------------------------------------------------------------


def test_loading_the_fixture_stores_every_level_and_says_how_many(any_db: Engine) -> None:
    with session_scope(any_db) as session:
        release = load_meddra(session, FIXTURE, who="tester")
        assert release.version == "90.1"
        assert release.language == "English"
        assert release.encoding == "utf-8"
        assert release_counts(release) == FIXTURE_COUNTS
    counts = row_counts(any_db)
    assert counts == {
        "meddra_release": 1,
        "meddra_soc": 3,
        "meddra_hlgt": 5,
        "meddra_hlt": 8,
        "meddra_pt": 13,
        "meddra_llt": 28,
        "meddra_hierarchy": 14,
        "audit": 1,
    }
    with session_scope(any_db) as session:
        # the same look-ups work on both databases
        assert pt_by_name(session, "herpes ZOSTER") is not None
        assert [s.soc_code for s in socs_of_pt(session, PNEUMONIA)] == [INFECTIONS_SOC, RESPIRATORY_SOC]
        non_current = session.scalar(select(func.count()).select_from(MeddraLlt).where(~MeddraLlt.is_current))
        assert non_current == 3


def test_the_load_is_in_the_audit_trail_with_checksums(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        events = history(session, "meddra_release", "90.1")
        assert len(events) == 1
        assert events[0].who == "tester"
        assert events[0].action == "load"
        assert "llt.asc" in (events[0].new_value or "")
        release = session.get(MeddraRelease, "90.1")
        assert release is not None
        assert set(json.loads(release.checksums_json)) == {
            *FIELD_COUNTS,
            "meddra_release.asc",
            "smq_list.asc",
            "smq_content.asc",
        }


def test_loading_the_same_release_twice_is_refused_and_changes_nothing(loaded: Engine) -> None:
    before = row_counts(loaded)
    with pytest.raises(MeddraLoadError, match=r"MedDRA 90\.1 is already loaded .* never overwritten"):
        load(loaded, FIXTURE, who="someone else")
    assert row_counts(loaded) == before


def test_progress_is_reported_up_to_every_row(db: Engine) -> None:
    seen: list[tuple[str, int, int]] = []
    with session_scope(db) as session:
        load_meddra(session, FIXTURE, who="tester", progress=lambda s, d, t: seen.append((s, d, t)))
    stages = [s for s, _, _ in seen]
    assert stages[0] == "reading" and "checking" in stages and stages[-1] == "writing"
    assert seen[-1][1] == seen[-1][2] == sum(FIXTURE_COUNTS.values())


# Each broken release: how to break it, and the error the user sees (file, line, reason).
BROKEN: dict[str, tuple[Callable[[Path], object], str]] = {
    "missing files": (
        lambda d: remove(d, "hlt_pt.asc", "soc.asc"),
        r"missing MedDRA ASCII file\(s\) hlt_pt\.asc, soc\.asc",
    ),
    "wrong field count": (
        lambda d: edit_line(d, "pt.asc", 5, lambda line: line.replace("$$", "$", 1)),
        r"pt\.asc, line 5: found 10 \$-delimited fields, expected 11",
    ),
    "non-numeric code": (
        lambda d: edit_line(d, "llt.asc", 3, set_field(0, "9000I003")),
        r"llt\.asc, line 3: llt_code '9000I003' is not an 8-digit MedDRA code",
    ),
    "seven-digit code": (
        lambda d: edit_line(d, "hlt.asc", 2, set_field(0, "9000020")),
        r"hlt\.asc, line 2: hlt_code '9000020' is not an 8-digit MedDRA code",
    ),
    "LLT pointing to an unknown PT": (
        lambda d: edit_line(d, "llt.asc", 20, set_field(2, "90009999")),
        r"llt\.asc, line 20: PT 90009999 is not in pt\.asc",
    ),
    "no trailing dollar": (
        lambda d: edit_line(d, "soc.asc", 2, lambda line: line + "Resp"),
        r"soc\.asc, line 2: the record does not end with '\$'",
    ),
    "currency flag not Y or N": (
        lambda d: edit_line(d, "llt.asc", 4, set_field(9, "X")),
        r"llt\.asc, line 4: llt_currency 'X' must be 'Y' or 'N'",
    ),
    "duplicate PT code": (
        lambda d: edit_line(d, "pt.asc", 3, set_field(0, "90001001")),
        r"pt\.asc, line 3: duplicate pt_code 90001001 \(first on line 1\)",
    ),
    "hierarchy naming an unknown HLT": (
        lambda d: edit_line(d, "mdhier.asc", 6, set_field(1, "90000299")),
        r"mdhier\.asc, line 6: HLT 90000299 is not in hlt\.asc",
    ),
    "link file naming an unknown HLGT": (
        lambda d: edit_line(d, "soc_hlgt.asc", 2, set_field(1, "90000199")),
        r"soc_hlgt\.asc, line 2: HLGT 90000199 is not in hlgt\.asc",
    ),
    "primary flag on a secondary SOC": (
        lambda d: edit_line(d, "mdhier.asc", 2, set_field(11, "Y")),
        r"mdhier\.asc, line 2: path of PT 90001001 is flagged primary but its SOC 90000002",
    ),
    "empty line in the middle": (
        lambda d: edit_line(d, "hlgt.asc", 3, lambda line: ""),
        r"hlgt\.asc, line 3: empty line",
    ),
    "bad release version": (
        lambda d: (d / "meddra_release.asc").write_text("latest$English$\n", encoding="utf-8"),
        r"meddra_release\.asc, line 1: release version 'latest' is not a MedDRA version",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_a_broken_release_is_refused_with_file_line_and_reason_and_nothing_is_written(
    case: str, db: Engine, tmp_path: Path
) -> None:
    breaker, message = BROKEN[case]
    folder = copy_fixture(tmp_path)
    breaker(folder)
    with pytest.raises(MeddraLoadError, match=message), session_scope(db) as session:
        load_meddra(session, folder, who="tester")
    assert set(row_counts(db).values()) == {0}


def test_a_release_mixing_utf8_and_windows_1252_is_refused_at_the_first_bad_byte(db: Engine, tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    # hlt.asc gets a UTF-8 accent, llt.asc is re-saved in Windows-1252 (as an old editor would)
    edit_line(folder, "hlt.asc", 1, lambda line: line.replace("infections", "infections – NEC"))
    llt = folder / "llt.asc"
    llt.write_bytes(llt.read_text(encoding="utf-8").encode("cp1252"))
    accent_line = _cp1252_line(llt, "Löffler")
    with pytest.raises(MeddraLoadError) as caught, session_scope(db) as session:
        load_meddra(session, folder, who="tester")
    assert caught.value.file == "llt.asc"
    assert caught.value.line == accent_line
    assert "byte 0xf6 is not UTF-8" in str(caught.value)
    assert "hlt.asc" in str(caught.value)
    assert set(row_counts(db).values()) == {0}


def _cp1252_line(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_bytes().decode("cp1252").split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_an_older_release_in_windows_1252_loads_with_its_accents_intact(db: Engine, tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    for path in folder.glob("*.asc"):
        path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    assert b"L\xf6ffler" in (folder / "llt.asc").read_bytes()
    with session_scope(db) as session:
        release = load_meddra(session, folder, who="tester")
        assert release.encoding == "cp1252"
        llt = find_llt(session, "LÖFFLER'S PNEUMONIA")
        assert llt is not None and llt.llt_name == "Löffler's pneumonia"


def test_msso_folder_layout_upper_case_names_and_crlf_line_ends_are_accepted(db: Engine, tmp_path: Path) -> None:
    download = tmp_path / "MedDRA_90_1_English"
    ascii_folder = download / "MedAscii"
    ascii_folder.mkdir(parents=True)
    for path in FIXTURE.glob("*.asc"):
        data = path.read_bytes().replace(b"\n", b"\r\n")
        (ascii_folder / path.name.upper()).write_bytes(data)
    with session_scope(db) as session:
        release = load_meddra(session, download, who="tester")
        assert release_counts(release) == FIXTURE_COUNTS
        assert release.source_dir.endswith("MedAscii")


def test_a_release_without_its_release_file_needs_the_version(db: Engine, tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path, with_smqs=False)
    (folder / "meddra_release.asc").unlink()
    with pytest.raises(MeddraLoadError, match=r"no meddra_release\.asc .*--version 27\.1"):
        load(db, folder)
    with session_scope(db) as session:
        release = load_meddra(session, folder, who="tester", version="90.2", language="English")
        assert (release.version, release.language) == ("90.2", "English")


def test_a_version_contradicting_the_release_file_is_refused(db: Engine) -> None:
    with pytest.raises(MeddraLoadError, match=r"says version 90\.1, but version 27\.1 was given"):
        load(db, FIXTURE, version="27.1")


def test_not_a_directory_is_a_clear_error(db: Engine, tmp_path: Path) -> None:
    with pytest.raises(MeddraLoadError, match="no such directory"), session_scope(db) as session:
        load_meddra(session, tmp_path / "nowhere", who="tester")


# --- look-ups --------------------------------------------------------------------------------------


def test_terms_are_found_by_code_or_by_name_ignoring_case_and_spaces(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        by_code = find_llt(session, "90002007")
        by_name = find_llt(session, "  SHINGLES ")
        assert by_code is not None and by_name is not None
        assert by_code.llt_code == by_name.llt_code == 90002007
        assert find_llt(session, 90002007) is not None
        assert find_llt(session, "no such term") is None
        pt = pt_of_llt(session, 90002007)
        assert pt is not None and pt.pt_name == "Herpes zoster"
        found = pt_by_name(session, "herpes   zoster")
        assert found is not None and found.pt_code == HERPES_ZOSTER
        assert pt_by_name(session, "Shingles") is None  # an LLT, not a PT


def test_the_primary_soc_of_a_multi_axial_pt(loaded: Engine) -> None:
    with session_scope(loaded) as session:
        soc = primary_soc_of_pt(session, PNEUMONIA)
        assert soc is not None and soc.soc_name == "Infections and infestations"
        socs = socs_of_pt(session, PNEUMONIA)
        assert [(s.soc_name, s.is_primary) for s in socs] == [
            ("Infections and infestations", True),
            ("Respiratory, thoracic and mediastinal disorders", False),
        ]
        pleurisy = socs_of_pt(session, 90001013)
        assert [(s.soc_abbrev, s.is_primary) for s in pleurisy] == [("Resp", True)]
        assert socs_of_pt(session, 12345678) == []


def test_the_current_release_is_the_highest_version_compared_as_numbers(db: Engine, tmp_path: Path) -> None:
    with session_scope(db) as session:
        assert current_release(session) is None
    for version in ("9.2", "10.1"):
        folder = copy_fixture(tmp_path, version, with_smqs=False)
        (folder / "meddra_release.asc").write_text(f"{version}$English$$\n", encoding="utf-8")
        with session_scope(db) as session:
            load_meddra(session, folder, who="tester")
    with session_scope(db) as session:
        current = current_release(session)
        assert current is not None and current.version == "10.1"
        assert [r.version for r in list_releases(session)] == ["10.1", "9.2"]
        # a named older release is still used when asked for
        assert find_llt(session, "Shingles", release="9.2") is not None


def test_look_ups_without_any_release_say_how_to_load_one(db: Engine) -> None:
    with session_scope(db) as session, pytest.raises(NotFoundError, match="load-meddra"):
        find_llt(session, "Pneumonia")


# --- coding with MedDRA ----------------------------------------------------------------------------


@pytest.fixture
def meddra(loaded: Engine) -> Iterator[MeddraTerminology]:
    with session_scope(loaded) as session:
        yield MeddraTerminology(session)


def test_pneumonia_is_coded_to_its_pt_and_primary_soc(meddra: MeddraTerminology) -> None:
    result = code_verbatim("Pneumonia", meddra)
    assert result.status is CodingStatus.CODED
    assert (result.llt_code, result.llt_name) == (PNEUMONIA, "Pneumonia")
    assert (result.pt_code, result.pt_name) == (PNEUMONIA, "Pneumonia")
    assert (result.soc_code, result.soc_name) == (INFECTIONS_SOC, "Infections and infestations")
    assert (result.terminology, result.terminology_version) == ("MedDRA", "90.1")
    assert not result.non_current and result.suggestions == ()


@pytest.mark.parametrize("verbatim", ["PNEUMONIA ", "  pneumonia", "pNeUmOnIa\t"])
def test_case_and_white_space_do_not_matter(meddra: MeddraTerminology, verbatim: str) -> None:
    result = code_verbatim(verbatim, meddra)
    assert result.is_coded and result.pt_code == PNEUMONIA and result.verbatim == verbatim


def test_a_lay_llt_is_coded_to_its_pt(meddra: MeddraTerminology) -> None:
    result = code_verbatim("lung   infection", meddra)
    assert result.is_coded
    assert (result.llt_code, result.llt_name, result.pt_name) == (90002001, "Lung infection", "Pneumonia")


def test_a_non_current_llt_codes_but_is_flagged_for_review(meddra: MeddraTerminology) -> None:
    result = code_verbatim("anaemia nos", meddra)
    assert result.is_coded
    assert result.non_current
    assert (result.llt_code, result.pt_code) == (90002015, ANAEMIA)
    assert result.note is not None and "non-current" in result.note


def test_a_misspelling_is_not_coded_but_the_right_term_is_suggested_first(meddra: MeddraTerminology) -> None:
    result = code_verbatim("pnuemonia", meddra)
    assert result.status is CodingStatus.NOT_CODED
    assert result.pt_name is None and result.llt_code is None
    assert result.suggestions, "a near miss must come with suggestions"
    top = result.suggestions[0]
    assert (top.term, top.pt_name, top.llt_code) == ("Pneumonia", "Pneumonia", PNEUMONIA)
    assert top.score >= SUGGESTION_CUTOFF
    assert len(result.suggestions) <= 5
    # non-current LLTs are never suggested
    assert all(s.term != "Pneumonia NOS" for s in result.suggestions)


def test_nothing_close_gives_no_suggestions_and_says_so(meddra: MeddraTerminology) -> None:
    result = code_verbatim("broken left ankle", meddra)
    assert result.status is CodingStatus.NOT_CODED and result.suggestions == ()
    assert result.note is not None and "code by hand" in result.note
    assert code_verbatim("   ", meddra).status is CodingStatus.NOT_CODED


def test_word_order_is_suggested_not_coded(meddra: MeddraTerminology) -> None:
    result = code_verbatim("infection lung", meddra)
    assert not result.is_coded
    assert result.suggestions[0].term == "Lung infection" and result.suggestions[0].score == 100


# --- coding with the open term list ----------------------------------------------------------------


@pytest.fixture(scope="module")
def open_list() -> OpenTermList:
    return OpenTermList(load_plan("uplizna"))


def test_shingles_is_coded_to_herpes_zoster_without_meddra(open_list: OpenTermList) -> None:
    result = code_verbatim("Shingles", open_list)
    assert result.is_coded
    assert (result.pt_name, result.soc_name) == ("Herpes zoster", "Infections and infestations")
    assert (result.llt_code, result.pt_code, result.soc_code) == (None, None, None)
    assert result.terminology == OPEN_TERM_LIST == "open term list"
    assert result.terminology_version is not None and "plan uplizna" in result.terminology_version


@pytest.mark.parametrize(
    ("verbatim", "pt"),
    [
        ("anemia", "Anaemia"),
        ("anaemia", "Anaemia"),
        ("fever", "Pyrexia"),
        ("Pyrexia", "Pyrexia"),
        ("infusion reaction", "Infusion related reaction"),
        ("chest infection", "Lower respiratory tract infection"),
        ("HBV reactivation", "Hepatitis B reactivation"),
        ("PML", "Progressive multifocal leukoencephalopathy"),
        ("hypogammaglobulinemia", "Hypogammaglobulinaemia"),
        ("miscarriage", "Abortion spontaneous"),
        ("low neutrophils", "Neutrophil count decreased"),
        ("Cytokine release syndrome", "Cytokine release syndrome"),
    ],
)
def test_lay_terms_and_spellings_are_coded_by_the_open_list(open_list: OpenTermList, verbatim: str, pt: str) -> None:
    result = code_verbatim(verbatim, open_list)
    assert result.is_coded and result.pt_name == pt


def test_every_pt_of_the_plan_is_in_the_open_list(open_list: OpenTermList) -> None:
    plan = load_plan("uplizna")
    pts = {pt for c in plan.safety_concerns for pt in c.definition.meddra_pts}
    assert plan.reference_safety_information is not None
    pts |= {r.pt for r in plan.reference_safety_information.expected_reactions}
    for pt in sorted(pts):
        result = code_verbatim(pt, open_list)
        assert result.is_coded and result.pt_name == pt, pt
    somnolence = code_verbatim("somnolence", open_list)
    assert somnolence.soc_name == "Nervous system disorders"  # from the plan's reference safety information


def test_the_open_list_suggests_for_a_misspelling(open_list: OpenTermList) -> None:
    result = code_verbatim("shingels", open_list)
    assert not result.is_coded
    assert result.suggestions[0].pt_name == "Herpes zoster"


def test_the_bundled_open_list_is_consistent_and_carries_no_meddra_codes() -> None:
    rows = read_open_terms()
    assert len(rows) >= 150
    plan = load_plan("uplizna")
    assert plan.reference_safety_information is not None
    rsi_soc = {r.pt: r.soc for r in plan.reference_safety_information.expected_reactions}
    for row in rows:
        assert not re.search(r"\d{8}", f"{row.verbatim} {row.pt_name}"), row
        if row.pt_name in rsi_soc and row.soc_name:
            assert row.soc_name == rsi_soc[row.pt_name], row
    # both spellings of the classic pairs are there
    verbatims = {r.verbatim.casefold() for r in rows}
    assert {"anaemia", "anemia", "shingles", "chest infection", "infusion reaction", "fever"} <= verbatims


def test_an_open_list_csv_with_a_repeated_verbatim_is_refused() -> None:
    text_ = "verbatim,pt_name,soc_name,source\nfever,Pyrexia,,lay term\nFEVER ,Chills,,lay term\n"
    with pytest.raises(ValueError, match=r"line 3: verbatim 'FEVER' repeats line 2"):
        read_open_terms(text_)
    with pytest.raises(ValueError, match="header"):
        read_open_terms("a,b\n")


def test_a_users_own_open_list_can_be_used(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([["verbatim", "pt_name", "soc_name", "source"], ["hot and cold", "Chills", "", "site list"]])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    terms = OpenTermList.from_csv(path)
    result = code_verbatim("Hot and cold", terms)
    assert result.is_coded and result.pt_name == "Chills" and result.source == "site list"


# --- command line ----------------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{tmp_path}/t.db")
    monkeypatch.setenv("RISKPLAN_USER", "cli-tester")
    monkeypatch.delenv("RISKPLAN_CONFIG", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_load_meddra_prints_the_version_and_counts(cli_db: Path) -> None:
    result = runner.invoke(app, ["load-meddra", str(FIXTURE)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "MedDRA 90.1 loaded" in result.output
    assert re.search(r"LLT\s*│\s*28", result.output)
    assert re.search(r"PT\s*│\s*13", result.output)

    again = runner.invoke(app, ["load-meddra", str(FIXTURE)], env=WIDE)
    assert again.exit_code == 2
    assert "already loaded" in again.output

    listed = runner.invoke(app, ["releases"], env=WIDE)
    assert listed.exit_code == 0 and "90.1" in listed.output and "cli-tester" in listed.output


def test_cli_load_meddra_of_a_broken_release_exits_2_naming_file_and_line(cli_db: Path) -> None:
    folder = copy_fixture(cli_db)
    edit_line(folder, "llt.asc", 20, set_field(2, "90009999"))
    result = runner.invoke(app, ["load-meddra", str(folder)], env=WIDE)
    assert result.exit_code == 2
    assert "llt.asc, line 20: PT 90009999 is not in pt.asc" in result.output
    assert "nothing was written" in result.output
    assert set(row_counts(make_engine(f"sqlite:///{cli_db}/t.db")).values()) == {0}


def test_cli_code_uses_meddra_once_loaded(cli_db: Path) -> None:
    assert runner.invoke(app, ["load-meddra", str(FIXTURE)], env=WIDE).exit_code == 0
    coded = runner.invoke(app, ["code", "PNEUMONIA"], env=WIDE)
    assert coded.exit_code == 0, coded.output
    assert "MedDRA 90.1" in coded.output
    assert "Pneumonia (90001001)" in coded.output
    assert "Infections and infestations (90000001)" in coded.output

    near = runner.invoke(app, ["code", "pnuemonia"], env=WIDE)
    assert near.exit_code == 0
    assert "not coded" in near.output
    assert re.search(r"1\s*│\s*Pneumonia \(90001001\)\s*│\s*Pneumonia\s*│\s*89", near.output)


def test_cli_code_without_meddra_uses_the_open_list_of_the_plan(cli_db: Path) -> None:
    result = runner.invoke(app, ["code", "shingles", "--plan", "uplizna"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "open term list" in result.output
    assert "Herpes zoster" in result.output
    empty = runner.invoke(app, ["releases"], env=WIDE)
    assert "No MedDRA release is loaded" in empty.output


def test_cli_code_with_an_unknown_release_exits_2(cli_db: Path) -> None:
    result = runner.invoke(app, ["code", "fever", "--release", "27.1"], env=WIDE)
    assert result.exit_code == 2
    assert "MedDRA 27.1 is not loaded" in result.output


# --- schema ----------------------------------------------------------------------------------------


def test_the_migration_creates_exactly_the_declared_tables(any_db: Engine) -> None:
    with any_db.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def mine(diff: object) -> bool:
        return "meddra_" in repr(diff)

    assert [d for d in diffs if mine(d)] == []


# --- a release of real size ------------------------------------------------------------------------


@pytest.mark.slow
def test_a_release_the_size_of_a_real_one_loads_and_codes(db: Engine, tmp_path: Path) -> None:
    """Correctness at full size; its speed is measured by bench/bench_terms.py, not asserted here."""
    expected = write_synthetic_release(tmp_path / "big")
    with session_scope(db) as session:
        release = load_meddra(session, tmp_path / "big", who="bench")
        counts = release_counts(release)
    assert counts["LLT"] == expected["LLT"] == 80_000
    assert counts["hierarchy paths"] == expected["hierarchy paths"]
    with session_scope(db) as session:
        terms = MeddraTerminology(session)
        some_name = session.scalars(select(MeddraLlt.llt_name).where(MeddraLlt.is_current).limit(1)).one()
    assert len(terms) == 80_000
    find_name = some_name[0] + some_name[2] + some_name[1] + some_name[3:]  # a transposition
    result = code_verbatim(find_name, terms)
    assert code_verbatim(some_name.upper(), terms).is_coded
    assert result.suggestions and result.suggestions[0].term == some_name


# --- properties ------------------------------------------------------------------------------------


def test_a_current_llt_wins_over_a_non_current_one_of_the_same_name(db: Engine, tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    with (folder / "llt.asc").open("a", encoding="utf-8") as llt:
        llt.write("90002099$LUNG INFECTION$90001002$$$$$$$N$$\n")  # non-current, pointing elsewhere
    load(db, folder)
    with session_scope(db) as session:
        result = code_verbatim("Lung infection", MeddraTerminology(session))
        found = find_llt(session, "lung infection")
    assert result.llt_code == 90002001 and not result.non_current and result.pt_name == "Pneumonia"
    assert found is not None and found.llt_code == 90002001


_FIXTURE_LLTS = [line.split("$")[1] for line in (FIXTURE / "llt.asc").read_text(encoding="utf-8").splitlines() if line]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(_FIXTURE_LLTS),
    flips=st.lists(st.booleans(), min_size=40, max_size=40),
    pad=st.sampled_from(["", " ", "\t", "  \n"]),
)
def test_any_casing_and_spacing_of_an_llt_name_codes_to_that_llt(
    meddra: MeddraTerminology, name: str, flips: list[bool], pad: str
) -> None:
    varied = "".join(c.upper() if flip else c.lower() for c, flip in zip(name, flips * 3, strict=False))
    varied = pad + varied.replace(" ", "  ") + pad
    result = code_verbatim(varied, meddra)
    assert result.is_coded and result.llt_name == name
