"""The ICH E2B(R3) schema set shipped in the package: what its NOTICE says it is, and usable as it is."""

from __future__ import annotations

import hashlib
import re

import pytest
from lxml import etree

from conftest import shared_file
from riskplan.cases.e2b._base import DEFAULT_SCHEMA, schema_path
from riskplan.standards import E2B_R3_ACK_SCHEMA, E2B_R3_ICSR_SCHEMA, E2B_R3_NOTICE, E2B_R3_SCHEMA_DIR


def test_the_shipped_files_are_the_ones_the_notice_names() -> None:
    files = sorted(E2B_R3_SCHEMA_DIR.rglob("*.xsd"))
    assert len(files) == 167
    # the NOTICE's recipe: cd schema; find . -name '*.xsd' | sort | xargs sha256sum | sha256sum
    lines = "".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  ./{p.relative_to(E2B_R3_SCHEMA_DIR).as_posix()}\n"
        for p in sorted(files, key=lambda p: "./" + p.relative_to(E2B_R3_SCHEMA_DIR).as_posix())
    )
    digest = hashlib.sha256(lines.encode()).hexdigest()
    notice = E2B_R3_NOTICE.read_text(encoding="utf-8")
    assert re.search(rf"^\s+{digest}$", notice, re.MULTILINE), digest
    assert "Health Level Seven" in notice and "ICH" in notice


def test_the_default_schema_is_the_packaged_one_and_the_environment_overrides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RISKPLAN_E2B_SCHEMA", raising=False)
    assert schema_path() == DEFAULT_SCHEMA == E2B_R3_ICSR_SCHEMA
    monkeypatch.setenv("RISKPLAN_E2B_SCHEMA", "/elsewhere/MCCI_IN200100UV01.xsd")
    assert str(schema_path()) == "/elsewhere/MCCI_IN200100UV01.xsd"


def test_fda_acknowledgments_validate_against_the_shipped_ack_schema() -> None:
    schema = etree.XMLSchema(etree.parse(str(E2B_R3_ACK_SCHEMA)))
    for name in ("fda_R3ack-positive.xml", "fda_R3ack-negative.xml"):
        document = etree.parse(str(shared_file("standards", "e2b_r3", "examples", name)))
        assert schema.validate(document), (name, schema.error_log.last_error)
