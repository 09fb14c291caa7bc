"""What E2B(R3) import, export and the business rules share: result and error types, the schema.

The ICH ICSR XML schema set (entry ``MCCI_IN200100UV01.xsd``) is compiled once per process, lazily,
and cached; compiling takes a second or two. Its location is ``RISKPLAN_E2B_SCHEMA`` (the path of
``MCCI_IN200100UV01.xsd``) or, by default, the copy shipped inside the package
(``riskplan/standards/e2b_r3/schema``, see its NOTICE).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import xmlschema
from lxml import etree

from riskplan.cases.codes import Severity
from riskplan.cases.e2b._xml import HL7
from riskplan.cases.model import Icsr
from riskplan.standards import E2B_R3_ICSR_SCHEMA

SCHEMA_ENV: Final = "RISKPLAN_E2B_SCHEMA"
DEFAULT_SCHEMA: Final = E2B_R3_ICSR_SCHEMA  # package data: an installed riskplan needs no checkout
DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024


@dataclass(frozen=True)
class RuleViolation:
    """A business rule a case does not meet (ICH IG / FDA business-rule sheet)."""

    element: str  # E2B data element number, e.g. "C.1.5"
    path: str  # where in the Icsr, e.g. "reactions[0].results_in_death"
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.severity.value} {self.element} at {self.path}: {self.message}"


@dataclass(frozen=True)
class Rejection:
    """Why (part of) an E2B file was not imported."""

    message_index: int | None  # 0-based position of the PORR_IN049016UV message in the batch
    case_id: str | None  # C.1.1 of the message, when it could be read
    path: str  # element path in the file, e.g. /MCCI_IN200100UV01/PORR_IN049016UV[2]/...
    reason: str

    def __str__(self) -> str:
        where = "file" if self.message_index is None else f"message {self.message_index}"
        case = f" (case {self.case_id})" if self.case_id else ""
        return f"{where}{case}: {self.path}: {self.reason}"


@dataclass(frozen=True)
class BatchInfo:
    """N.1 ICH ICSR transmission identification (the batch wrapper)."""

    batch_id: str | None  # N.1.2
    sender_id: str | None  # N.1.3
    receiver_id: str | None  # N.1.4
    created: str | None  # N.1.5, HL7 TS as sent


@dataclass
class ImportResult:
    """What an import produced: the cases, and (with ``skip_invalid``) the messages left out."""

    icsrs: list[Icsr] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    batch: BatchInfo | None = None


class E2bError(Exception):
    """An E2B file or case that cannot be imported or exported, with every reason found."""

    def __init__(
        self,
        summary: str,
        *,
        rejections: tuple[Rejection, ...] | list[Rejection] = (),
        violations: tuple[RuleViolation, ...] | list[RuleViolation] = (),
    ) -> None:
        self.summary = summary
        self.rejections: tuple[Rejection, ...] = tuple(rejections)
        self.violations: tuple[RuleViolation, ...] = tuple(violations)
        lines = [summary, *(f"  - {item}" for item in self.rejections), *(f"  - {item}" for item in self.violations)]
        super().__init__("\n".join(lines))


_schema_lock = threading.Lock()
_schemas: dict[Path, xmlschema.XMLSchema] = {}
_fast_lock = threading.Lock()  # an lxml validator keeps its error log on itself: one validation at a time
_fast_schemas: dict[Path, etree.XMLSchema] = {}


def schema_path() -> Path:
    """Where the ICH schema set's entry point is (``RISKPLAN_E2B_SCHEMA``, else the copy in the package)."""
    configured = os.environ.get(SCHEMA_ENV)
    return Path(configured) if configured else DEFAULT_SCHEMA


def get_schema(path: Path | None = None) -> xmlschema.XMLSchema:
    """The compiled ICH ICSR schema (``MCCI_IN200100UV01``), compiled once per process and path."""
    location = (path or schema_path()).resolve()
    with _schema_lock:
        schema = _schemas.get(location)
        if schema is None:
            if not location.is_file():
                raise E2bError(
                    f"the ICH E2B(R3) schema set is not at {location}; set {SCHEMA_ENV} to the path of "
                    "MCCI_IN200100UV01.xsd"
                )
            # local files only, parsed with xmlschema's defused parser: compiling never touches the network
            schema = xmlschema.XMLSchema(str(location), allow="local", defuse="always")
            _schemas[location] = schema
        return schema


def _fast_schema(path: Path | None) -> etree.XMLSchema:
    """libxml2's validator of the schema set, compiled once per process from local files only."""
    location = (path or schema_path()).resolve()
    with _fast_lock:
        schema = _fast_schemas.get(location)
        if schema is None:
            if not location.is_file():
                raise E2bError(
                    f"the ICH E2B(R3) schema set is not at {location}; set {SCHEMA_ENV} to the path of "
                    "MCCI_IN200100UV01.xsd"
                )
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            schema = etree.XMLSchema(etree.parse(str(location), parser))
            _fast_schemas[location] = schema
        return schema


def first_schema_error(root: etree._Element, path: Path | None = None) -> str | None:
    """The first violation of the ICH schema in ``root`` (None when it conforms), found by libxml2 while
    parsing: it stops there, so its time is linear in the file whatever the file holds.

    :func:`schema_errors` collects every violation, and libxml2 locates each by an element path whose
    cost grows with the element's same-named siblings: a hostile file with tens of thousands of bad
    elements costs minutes there. Callers ask here first and collect every violation only for small files.
    """
    schema = _fast_schema(path)
    parser = etree.XMLParser(schema=schema, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        etree.fromstring(etree.tostring(root), parser)
    except etree.XMLSyntaxError as exc:
        return str(exc.msg).replace(f"{{{HL7}}}", "")
    return None


def schema_errors(root: etree._Element, path: Path | None = None) -> list[etree._LogEntry]:
    """The ICH schema's violations in ``root`` ([] when it conforms), found by libxml2.

    libxml2 validates in C, in time linear in the file (a 4 MB batch in about 0.1 s, where
    :func:`get_schema`'s pure-Python validator takes 5 s), so it is the check every import and export
    runs. Its schema is compiled once per process from the same schema set, local files only.
    """
    schema = _fast_schema(path)
    with _fast_lock:
        if schema.validate(root):
            return []
        return list(schema.error_log)
