"""Terminology: the user's own MedDRA release and verbatim coding.

* :mod:`riskplan.terms.meddra` loads a MedDRA release from its ASCII distribution files
  (``riskplan terms load-meddra DIR``) and looks terms up (LLT, PT, primary and secondary SOCs);
* :mod:`riskplan.terms.coding` codes a reporter's verbatim to a PT with a loaded MedDRA release, or,
  when none is loaded, with the open term list (the plan's PT names and the bundled lay-term list);
* :mod:`riskplan.terms.tables` holds the tables, :mod:`riskplan.terms.cli` the ``terms`` commands.

MedDRA is licensed by ICH through the MSSO: riskplan never ships it, and the bundled open term list
holds PT names only, never MedDRA codes.
"""

from riskplan.terms import tables as _tables  # noqa: F401 -- its tables join the store's metadata (riskplan.schema)
from riskplan.terms.cli import app as cli_app
from riskplan.terms.coding import (
    CodingResult,
    CodingStatus,
    MeddraTerminology,
    OpenTermList,
    Suggestion,
    Terminology,
    TermMatch,
    code_verbatim,
)
from riskplan.terms.meddra import current_release, load_meddra, release_loaded
from riskplan.terms.synthetic import write_synthetic_release
from riskplan.terms.tables import MeddraLlt
from riskplan.terms.text import fold_term

__all__ = [
    "CodingResult",
    "CodingStatus",
    "MeddraLlt",
    "MeddraTerminology",
    "OpenTermList",
    "Suggestion",
    "TermMatch",
    "Terminology",
    "cli_app",
    "code_verbatim",
    "current_release",
    "fold_term",
    "load_meddra",
    "release_loaded",
    "write_synthetic_release",
]
