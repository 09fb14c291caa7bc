"""Time to first event: Kaplan–Meier curves and a Cox proportional-hazards model (lifelines).

Uses the per-person time-at-risk tables of an :class:`~riskplan.studies.incidence.IncidenceResult`:
duration = days at risk (to the first event or the end of time at risk), event = outcome seen.

* Kaplan–Meier product-limit estimator (Kaplan & Meier 1958) with Greenwood-based CIs
  (lifelines ``KaplanMeierFitter``, exponential Greenwood "log(-log)" intervals).
* Cox proportional-hazards model (Cox 1972; Efron ties, lifelines ``CoxPHFitter``) with covariates
  target cohort (vs comparator), age >= 65 and female sex; only fitted when both cohorts have events. A
  covariate without variation (e.g. no one aged 65 or over) is dropped, so the hazard ratio of the target
  cohort is adjusted for what is left: :attr:`SurvivalResult.adjusted_for` names it (ICH E9 / ENCePP: an
  estimate says what it is adjusted for), and it is called unadjusted only when nothing is left.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Final

import numpy as np

from riskplan.studies.cdm import Cdm
from riskplan.studies.incidence import IncidenceResult
from riskplan.studies.results import ResultTable


@dataclass(frozen=True)
class KaplanMeierCurve:
    cohort: str
    table: ResultTable  # days, at_risk, events, survival, ci_lower, ci_upper (one row per event/censor time)
    median_days: float | None

    def at_risk(self, day: float) -> int:
        """Number at risk at ``day`` (the numbers-at-risk table under a Kaplan–Meier plot; Pocock, Clayton &
        Altman 2002, Lancet 359:1686): the subjects still followed, i.e. ``at_risk`` of the first event or
        censoring time on or after ``day``; 0 after the last one (every subject has had an event or left)."""
        for t, n in zip(self.table.column("days"), self.table.column("at_risk"), strict=True):
            if isinstance(t, int | float) and t >= day:
                return int(n) if isinstance(n, int | float) else 0
        return 0


#: What each adjustment covariate of the Cox model stands for, as reports name it.
COVARIATE_NAMES: Final = {"age_65_or_over": "age 65 or over", "female": "sex"}


@dataclass(frozen=True)
class SurvivalResult:
    """Kaplan–Meier curves per cohort and, with a comparator, the Cox model of the target cohort's hazard
    ratio; ``adjusted_for`` names the covariates that model kept besides the cohort (empty: unadjusted)."""

    outcome: str
    curves: tuple[KaplanMeierCurve, ...]
    cox: ResultTable | None
    notes: tuple[str, ...]
    adjusted_for: tuple[str, ...] = ()
    cox_cohorts: tuple[str, str] | None = None  # (target, comparator) of the Cox model

    @property
    def adjustment(self) -> str | None:
        """ "adjusted for sex", "adjusted for age 65 or over and sex", "unadjusted"; None without a Cox model."""
        if self.cox is None:
            return None
        if not self.adjusted_for:
            return "unadjusted"
        names = list(self.adjusted_for)
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"adjusted for {listed}"


def _fetch(cdm: Cdm, table: str) -> dict[str, np.ndarray]:
    return cdm.arrays(
        f"SELECT days_at_risk, CAST(outcome AS INTEGER) AS outcome, "
        f"CAST(age_group = '>=65' AS INTEGER) AS age65, CAST(sex = 'female' AS INTEGER) AS female FROM {table}"
    )


def kaplan_meier(durations: np.ndarray, events: np.ndarray, label: str) -> KaplanMeierCurve:
    """Kaplan–Meier estimate of the event-free proportion (lifelines ``KaplanMeierFitter``)."""
    from lifelines import KaplanMeierFitter  # type: ignore[import-untyped]

    kmf = KaplanMeierFitter(label=label)
    kmf.fit(durations, event_observed=events)
    sf = kmf.survival_function_
    ci = kmf.confidence_interval_survival_function_
    table = kmf.event_table
    rows = []
    for t, s, lo, hi, at_risk, ev in zip(
        sf.index.to_numpy(),
        sf.iloc[:, 0].to_numpy(),
        ci.iloc[:, 0].to_numpy(),
        ci.iloc[:, 1].to_numpy(),
        table["at_risk"].to_numpy(),
        table["observed"].to_numpy(),
        strict=True,
    ):
        rows.append((float(t), int(at_risk), int(ev), float(s), float(lo), float(hi)))
    median = float(kmf.median_survival_time_)
    return KaplanMeierCurve(
        cohort=label,
        table=ResultTable.from_records(
            f"Kaplan-Meier {label}", ("days", "at_risk", "events", "survival", "ci_lower", "ci_upper"), rows
        ),
        median_days=None if not np.isfinite(median) else median,
    )


def time_to_first_event(cdm: Cdm, result: IncidenceResult) -> SurvivalResult:
    """Kaplan–Meier per cohort and, with a comparator, a Cox model of the hazard ratio."""
    notes: list[str] = []
    curves = []
    data: dict[str, dict[str, np.ndarray]] = {}
    for cohort, table in result.person_time_tables.items():
        d = _fetch(cdm, table)
        data[cohort] = d
        if len(d["days_at_risk"]) == 0:
            notes.append(f"{cohort}: nobody at risk, no Kaplan-Meier curve")
            continue
        curves.append(kaplan_meier(d["days_at_risk"].astype(float), d["outcome"].astype(int), cohort))
    if result.comparator is None:
        return SurvivalResult(result.outcome, tuple(curves), None, tuple(notes))
    cox, covariates = _cox(data, result.target, result.comparator, notes)
    return SurvivalResult(
        result.outcome,
        tuple(curves),
        cox,
        tuple(notes),
        adjusted_for=tuple(COVARIATE_NAMES[c] for c in covariates) if cox is not None else (),
        cox_cohorts=(result.target, result.comparator) if cox is not None else None,
    )


def _cox(
    data: dict[str, dict[str, np.ndarray]], target: str, comparator: str, notes: list[str]
) -> tuple[ResultTable | None, tuple[str, ...]]:
    """The fitted Cox model's table and the adjustment covariates it kept (besides ``target``)."""
    import pandas as pd  # type: ignore[import-untyped]
    from lifelines import CoxPHFitter

    t, c = data.get(target), data.get(comparator)
    if t is None or c is None or t["outcome"].sum() == 0 or c["outcome"].sum() == 0:
        notes.append("Cox model not fitted: a cohort has no events")
        return None, ()
    frame = pd.DataFrame(
        {
            "duration": np.concatenate([t["days_at_risk"], c["days_at_risk"]]).astype(float),
            "event": np.concatenate([t["outcome"], c["outcome"]]).astype(int),
            "target": np.concatenate([np.ones(len(t["outcome"])), np.zeros(len(c["outcome"]))]),
            "age_65_or_over": np.concatenate([t["age65"], c["age65"]]).astype(float),
            "female": np.concatenate([t["female"], c["female"]]).astype(float),
        }
    )
    for col in ("age_65_or_over", "female"):
        if frame[col].nunique() < 2:
            frame = frame.drop(columns=col)
            notes.append(f"Cox model: {col} dropped (no variation)")
    fitter = CoxPHFitter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitter.fit(frame, duration_col="duration", event_col="event")
    except Exception as exc:  # lifelines raises ConvergenceError and others
        notes.append(f"Cox model did not converge: {exc.__class__.__name__}")
        return None, ()
    s = fitter.summary
    rows = [
        (
            str(name),
            float(s.loc[name, "exp(coef)"]),
            float(s.loc[name, "exp(coef) lower 95%"]),
            float(s.loc[name, "exp(coef) upper 95%"]),
            float(s.loc[name, "p"]),
        )
        for name in s.index
    ]
    table = ResultTable.from_records(
        "Cox proportional hazards", ("covariate", "hazard_ratio", "ci_lower", "ci_upper", "p_value"), rows
    )
    return table, tuple(c for c in COVARIATE_NAMES if c in frame.columns)
