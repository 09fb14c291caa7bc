"""Signal detection over spontaneous reports (GVP Module IX): disproportionality analysis.

Steps, one function each (as in openEBGM): :func:`count_pairs` (N, margins, expected counts E, in
DuckDB; :func:`count_pairs_spark` on Apache Spark) → :func:`fit_hyperparameters` (MGPS prior,
DuMouchel 1999) → scores (:func:`prr`, :func:`ror`, :func:`chi_squared_yates`,
:func:`information_component`/:func:`ic_interval`, :func:`mgps_scores`) → thresholds (:func:`flag`).
:func:`detect` runs them all on a long table (:func:`detect_counted` the steps after the counts);
sources (:class:`SpontaneousSource`) provide long tables from files, FAERS and synthetic data.
"""

from riskplan.signals import tables as _tables  # noqa: F401 -- its tables join the store's metadata (riskplan.schema)
from riskplan.signals.bcpnn import ic_interval, information_component
from riskplan.signals.cli import app as cli_app
from riskplan.signals.cli import synth_spontaneous_command
from riskplan.signals.counts import PairCounts, count_pairs, expected_counts
from riskplan.signals.counts_spark import count_pairs_spark, read_reports_spark
from riskplan.signals.demo import step_signals
from riskplan.signals.disproportionality import MEASURE_COLUMNS, DetectionResult, detect, detect_counted, score_pairs
from riskplan.signals.drug_names import DrugNameReport, map_faers_drug_names, read_faers_drug_rows
from riskplan.signals.drug_names_cli import drug_names_command
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
from riskplan.signals.synth import InjectedTruth, Injection, SyntheticReports, read_truth, synthesise_spontaneous
from riskplan.signals.thresholds import THRESHOLD_SETS, ThresholdSet, flag, flagged_pairs, threshold_sets
from riskplan.signals.trend import TrendTable, plot_trend, time_trend
from riskplan.signals.workflow import (
    FINAL_STATES,
    SignalOutcome,
    SignalState,
    SignalSummary,
    get_signal,
    list_signals,
    signal_history,
    signals_in_interval,
    transition,
)

__all__ = [
    "FINAL_STATES",
    "MEASURE_COLUMNS",
    "THRESHOLD_SETS",
    "DetectionResult",
    "DrugNameReport",
    "FaersParquet",
    "HyperparameterFit",
    "Hyperparameters",
    "ImportReport",
    "InjectedTruth",
    "Injection",
    "LongTableFile",
    "MGPSScores",
    "PairCounts",
    "SignalOutcome",
    "SignalState",
    "SignalSummary",
    "SpontaneousSource",
    "SyntheticReports",
    "SyntheticSource",
    "ThresholdSet",
    "TrendTable",
    "TwoByTwo",
    "chi_squared_yates",
    "cli_app",
    "count_pairs",
    "count_pairs_spark",
    "detect",
    "detect_counted",
    "drug_names_command",
    "ebgm",
    "expected_counts",
    "fit_hyperparameters",
    "flag",
    "flagged_pairs",
    "get_signal",
    "ic_interval",
    "import_faers",
    "information_component",
    "list_signals",
    "map_faers_drug_names",
    "mgps_scores",
    "plot_trend",
    "posterior_quantile",
    "prr",
    "qn",
    "read_faers_drug_rows",
    "read_hyperparameters",
    "read_reports_spark",
    "read_truth",
    "ror",
    "score_pairs",
    "signal_history",
    "signals_in_interval",
    "squash_data",
    "step_signals",
    "synth_spontaneous_command",
    "synthesise_spontaneous",
    "threshold_sets",
    "time_trend",
    "transition",
    "two_by_two",
]
