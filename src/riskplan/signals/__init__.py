"""Signal detection over spontaneous reports (GVP Module IX): disproportionality analysis.

Steps, one function each (as in openEBGM): :func:`count_pairs` (N, margins, expected counts E, in
DuckDB) → :func:`fit_hyperparameters` (MGPS prior, DuMouchel 1999) → scores (:func:`prr`, :func:`ror`,
:func:`chi_squared_yates`, :func:`information_component`/:func:`ic_interval`, :func:`mgps_scores`) →
thresholds (:func:`flag`). :func:`detect` runs them all on a long table; sources
(:class:`SpontaneousSource`) provide long tables from files, FAERS and synthetic data.
"""

import importlib
from typing import TYPE_CHECKING, Any

# The public names load their module on first use (PEP 562): importing one part of the folder, e.g. its
# tables for a database migration, does not pull in NumPy, SciPy and DuckDB.
if TYPE_CHECKING:
    from riskplan.signals.bcpnn import ic_interval, information_component
    from riskplan.signals.counts import PairCounts, count_pairs, expected_counts
    from riskplan.signals.disproportionality import MEASURE_COLUMNS, DetectionResult, detect, score_pairs
    from riskplan.signals.faers import ImportReport, import_faers
    from riskplan.signals.frequentist import TwoByTwo, chi_squared_yates, prr, ror, two_by_two
    from riskplan.signals.mgps import (
        HyperparameterFit,
        Hyperparameters,
        MGPSScores,
        ebgm,
        fit_hyperparameters,
        mgps_scores,
        posterior_quantile,
        qn,
        read_hyperparameters,
        squash_data,
    )
    from riskplan.signals.sources import FaersParquet, LongTableFile, SpontaneousSource, SyntheticSource
    from riskplan.signals.synth import InjectedTruth, Injection, SyntheticReports, synthesise_spontaneous
    from riskplan.signals.thresholds import THRESHOLD_SETS, ThresholdSet, flag, flagged_pairs, threshold_sets
    from riskplan.signals.trend import TrendTable, plot_trend, time_trend

_EXPORTS: dict[str, str] = {
    "DetectionResult": "riskplan.signals.disproportionality",
    "FaersParquet": "riskplan.signals.sources",
    "HyperparameterFit": "riskplan.signals.mgps",
    "Hyperparameters": "riskplan.signals.mgps",
    "ImportReport": "riskplan.signals.faers",
    "InjectedTruth": "riskplan.signals.synth",
    "Injection": "riskplan.signals.synth",
    "LongTableFile": "riskplan.signals.sources",
    "MEASURE_COLUMNS": "riskplan.signals.disproportionality",
    "MGPSScores": "riskplan.signals.mgps",
    "PairCounts": "riskplan.signals.counts",
    "SpontaneousSource": "riskplan.signals.sources",
    "SyntheticReports": "riskplan.signals.synth",
    "SyntheticSource": "riskplan.signals.sources",
    "THRESHOLD_SETS": "riskplan.signals.thresholds",
    "ThresholdSet": "riskplan.signals.thresholds",
    "TrendTable": "riskplan.signals.trend",
    "TwoByTwo": "riskplan.signals.frequentist",
    "chi_squared_yates": "riskplan.signals.frequentist",
    "count_pairs": "riskplan.signals.counts",
    "detect": "riskplan.signals.disproportionality",
    "ebgm": "riskplan.signals.mgps",
    "expected_counts": "riskplan.signals.counts",
    "fit_hyperparameters": "riskplan.signals.mgps",
    "flag": "riskplan.signals.thresholds",
    "flagged_pairs": "riskplan.signals.thresholds",
    "ic_interval": "riskplan.signals.bcpnn",
    "import_faers": "riskplan.signals.faers",
    "information_component": "riskplan.signals.bcpnn",
    "mgps_scores": "riskplan.signals.mgps",
    "plot_trend": "riskplan.signals.trend",
    "posterior_quantile": "riskplan.signals.mgps",
    "prr": "riskplan.signals.frequentist",
    "qn": "riskplan.signals.mgps",
    "read_hyperparameters": "riskplan.signals.mgps",
    "ror": "riskplan.signals.frequentist",
    "score_pairs": "riskplan.signals.disproportionality",
    "squash_data": "riskplan.signals.mgps",
    "synthesise_spontaneous": "riskplan.signals.synth",
    "threshold_sets": "riskplan.signals.thresholds",
    "time_trend": "riskplan.signals.trend",
    "two_by_two": "riskplan.signals.frequentist",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'riskplan.signals' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "MEASURE_COLUMNS",
    "THRESHOLD_SETS",
    "DetectionResult",
    "FaersParquet",
    "HyperparameterFit",
    "Hyperparameters",
    "ImportReport",
    "InjectedTruth",
    "Injection",
    "LongTableFile",
    "MGPSScores",
    "PairCounts",
    "SpontaneousSource",
    "SyntheticReports",
    "SyntheticSource",
    "ThresholdSet",
    "TrendTable",
    "TwoByTwo",
    "chi_squared_yates",
    "count_pairs",
    "detect",
    "ebgm",
    "expected_counts",
    "fit_hyperparameters",
    "flag",
    "flagged_pairs",
    "ic_interval",
    "import_faers",
    "information_component",
    "mgps_scores",
    "plot_trend",
    "posterior_quantile",
    "prr",
    "qn",
    "read_hyperparameters",
    "ror",
    "score_pairs",
    "squash_data",
    "synthesise_spontaneous",
    "threshold_sets",
    "time_trend",
    "two_by_two",
]
