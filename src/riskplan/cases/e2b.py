"""ICH E2B(R3) exchange for riskplan: import, export and business rules (the public API).

* :func:`import_e2b` reads an ``MCCI_IN200100UV01`` batch (FDA / EMA E2B(R3) XML) into
  :class:`~riskplan.cases.model.Icsr` objects, refusing hostile or invalid files with :class:`E2bError`.
* :func:`export_icsrs` writes cases as a batch that validates against the ICH schema set.
* :func:`check_business_rules` lists what a case lacks before it may be sent (errors block export).

The work is split into :mod:`~riskplan.cases.e2b_import` (with ``e2b_read`` and ``e2b_import_clinical``),
:mod:`~riskplan.cases.e2b_export` (with ``e2b_write`` and ``e2b_export_clinical``),
:mod:`~riskplan.cases.e2b_rules`, :mod:`~riskplan.cases.e2b_r2` (E2B(R2) input) and
:mod:`~riskplan.cases.e2b_base` (results, errors, the schema cache); this module re-exports the public names.
"""

from __future__ import annotations

from riskplan.cases.codes import Severity
from riskplan.cases.e2b_base import (
    DEFAULT_MAX_BYTES,
    BatchInfo,
    E2bError,
    ImportResult,
    Rejection,
    RuleViolation,
    get_schema,
    schema_path,
)
from riskplan.cases.e2b_export import ExportedBatch, export_batches, export_icsrs
from riskplan.cases.e2b_import import import_e2b
from riskplan.cases.e2b_rules import check_business_rules

__all__ = [
    "DEFAULT_MAX_BYTES",
    "BatchInfo",
    "E2bError",
    "ExportedBatch",
    "ImportResult",
    "Rejection",
    "RuleViolation",
    "Severity",
    "check_business_rules",
    "export_batches",
    "export_icsrs",
    "get_schema",
    "import_e2b",
    "schema_path",
]
