"""Terminology: the user's own MedDRA release and verbatim coding.

* :mod:`riskplan.terms.meddra` loads a MedDRA release from its ASCII distribution files
  (``riskplan terms load-meddra DIR``) and looks terms up (LLT, PT, primary and secondary SOCs);
* :mod:`riskplan.terms.smq` reads the release's Standardised MedDRA Queries and
  :mod:`riskplan.terms.concern_terms` expands a concern's HLTs, HLGTs and SMQs into its terms;
* :mod:`riskplan.terms.coding` codes a reporter's verbatim to a PT with a loaded MedDRA release, or,
  when none is loaded, with the open term list (the plan's PT names and the bundled lay-term list);
* :mod:`riskplan.terms.whodrug` loads a WHODrug Global release (B3 or C3; ``terms load-whodrug``) and
  :mod:`riskplan.terms.drug_coding` suggests its products for a reported drug name;
* :mod:`riskplan.terms.drug_names` normalises free-text drug names to ingredients without WHODrug (the
  OMOP vocabulary, the data's own ingredient fields, the plan's products);
* :mod:`riskplan.terms.tables` and :mod:`riskplan.terms.whodrug_tables` hold the tables,
  :mod:`riskplan.terms.cli` and :mod:`riskplan.terms.whodrug_cli` the ``terms`` commands.

MedDRA (ICH, through the MSSO) and WHODrug (UMC) are licensed: riskplan never ships them, and the bundled open term list
holds PT names only, never MedDRA codes.
"""

from riskplan.terms import tables as _tables  # noqa: F401 -- its tables join the store's metadata (riskplan.schema)
from riskplan.terms import whodrug_cli as _whodrug_cli  # noqa: F401 -- adds load-whodrug / whodrug to the terms app
from riskplan.terms import whodrug_tables as _whodrug_tables  # noqa: F401 -- WHODrug tables join the metadata
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
from riskplan.terms.drug_coding import DrugSuggestion, suggest_drugs
from riskplan.terms.drug_names import (
    DEFAULT_FUZZY_THRESHOLD,
    DrugNameIndex,
    MappedName,
    Route,
    normalise_drug_name,
    omop_ingredient_names,
)
from riskplan.terms.grouping import EVENT_LEVELS, event_groups
from riskplan.terms.meddra import (
    current_release,
    get_release,
    list_releases,
    load_meddra,
    release_loaded,
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
from riskplan.terms.whodrug import (
    WHODRUG_VERSION_PREFIX,
    WhodrugDrug,
    WhodrugLoadError,
    atc_of_products,
    current_whodrug,
    get_whodrug_drug,
    load_whodrug,
)

__all__ = [
    "DEFAULT_FUZZY_THRESHOLD",
    "EVENT_LEVELS",
    "WHODRUG_VERSION_PREFIX",
    "CodingResult",
    "CodingStatus",
    "ConcernChange",
    "ConcernTerms",
    "DrugNameIndex",
    "DrugSuggestion",
    "MappedName",
    "MeddraLlt",
    "MeddraTerminology",
    "OpenTermList",
    "ReleaseChanges",
    "Route",
    "SmqTerms",
    "Suggestion",
    "TermMatch",
    "Terminology",
    "WhodrugDrug",
    "WhodrugLoadError",
    "atc_of_products",
    "changed_pt_codes",
    "cli_app",
    "code_verbatim",
    "concern_changes",
    "current_release",
    "current_whodrug",
    "event_groups",
    "expand_concern_terms",
    "expand_plan_terms",
    "find_smq",
    "fold_term",
    "get_release",
    "get_whodrug_drug",
    "list_releases",
    "load_meddra",
    "load_whodrug",
    "normalise_drug_name",
    "omop_ingredient_names",
    "release_changes",
    "release_loaded",
    "release_sort_key",
    "resolve_release",
    "smq_terms",
    "suggest_drugs",
    "write_synthetic_release",
]
