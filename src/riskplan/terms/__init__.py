"""Terminology: the user's own MedDRA release and verbatim coding.

* :mod:`riskplan.terms.meddra` loads a MedDRA release from its ASCII distribution files
  (``riskplan terms load-meddra DIR``) and looks terms up (LLT, PT, primary and secondary SOCs);
* :mod:`riskplan.terms.smq` reads the release's Standardised MedDRA Queries and
  :mod:`riskplan.terms.concern_terms` expands a concern's HLTs, HLGTs and SMQs into its terms;
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
from riskplan.terms.concern_terms import ConcernTerms, expand_concern_terms, expand_plan_terms
from riskplan.terms.grouping import EVENT_LEVELS, event_groups
from riskplan.terms.meddra import (
    current_release,
    get_release,
    list_releases,
    load_meddra,
    release_sort_key,
    resolve_release,
)
from riskplan.terms.release_diff import (
    ConcernChange,
    ReleaseChanges,
    changed_pt_codes,
    concern_changes,
    release_changes,
)
from riskplan.terms.smq import SmqTerms, find_smq, smq_terms
from riskplan.terms.synthetic import write_synthetic_release
from riskplan.terms.tables import MeddraLlt
from riskplan.terms.text import fold_term

__all__ = [
    "EVENT_LEVELS",
    "CodingResult",
    "CodingStatus",
    "ConcernChange",
    "ConcernTerms",
    "MeddraLlt",
    "MeddraTerminology",
    "OpenTermList",
    "ReleaseChanges",
    "SmqTerms",
    "Suggestion",
    "TermMatch",
    "Terminology",
    "changed_pt_codes",
    "cli_app",
    "code_verbatim",
    "concern_changes",
    "current_release",
    "event_groups",
    "expand_concern_terms",
    "expand_plan_terms",
    "find_smq",
    "fold_term",
    "get_release",
    "list_releases",
    "load_meddra",
    "release_changes",
    "release_sort_key",
    "resolve_release",
    "smq_terms",
    "write_synthetic_release",
]
