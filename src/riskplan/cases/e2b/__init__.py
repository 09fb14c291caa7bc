"""ICH E2B(R3) exchange for riskplan: import, export and business rules (the public API).

* :func:`import_e2b` reads an ``MCCI_IN200100UV01`` batch (FDA / EMA E2B(R3) XML) into
  :class:`~riskplan.cases.model.Icsr` objects, refusing hostile or invalid files with :class:`E2bError`.
* :func:`export_icsrs` writes cases as a batch that validates against the ICH schema set.
* :func:`check_business_rules` lists what a case lacks before it may be sent (errors block export).

The work is split into :mod:`~riskplan.cases.e2b._import` (with ``_read`` and ``_import_clinical``),
:mod:`~riskplan.cases.e2b._export` (with ``_write`` and ``_export_clinical``),
:mod:`~riskplan.cases.e2b._rules`, :mod:`~riskplan.cases.e2b._r2` (E2B(R2) input) and
:mod:`~riskplan.cases.e2b._base` (results, errors, the schema cache); this module re-exports the public names.
"""

from __future__ import annotations

from riskplan.cases.codes import Severity
from riskplan.cases.e2b._base import (
    DEFAULT_MAX_BYTES,
    BatchInfo,
    E2bError,
    ImportResult,
    Rejection,
    RuleViolation,
    get_schema,
    schema_errors,
    schema_path,
)
from riskplan.cases.e2b._export import ExportedBatch, export_batches, export_icsrs
from riskplan.cases.e2b._import import import_e2b, parse_untrusted, read_message
from riskplan.cases.e2b._rules import check_business_rules, intake_refusals
from riskplan.cases.e2b._xml import HL7, XSI, element_path, parse_fragment

__all__ = [
    "DEFAULT_MAX_BYTES",
    "HL7",
    "XSI",
    "BatchInfo",
    "E2bError",
    "ExportedBatch",
    "ImportResult",
    "Rejection",
    "RuleViolation",
    "Severity",
    "check_business_rules",
    "element_path",
    "export_batches",
    "export_icsrs",
    "get_schema",
    "import_e2b",
    "intake_refusals",
    "parse_fragment",
    "parse_untrusted",
    "read_message",
    "schema_errors",
    "schema_path",
]
