"""A synthetic NMOSD population written as OMOP CDM v5.4 Parquet tables (vectorised NumPy).

Nothing here describes real people. The population is built to exercise every study analysis:

* **Treatments** (one first-line treatment per person, index date 2016-2023): inebilizumab 20%,
  rituximab 30%, azathioprine 20%, mycophenolate mofetil 15%, eculizumab 7%, satralizumab 8%.
  Inebilizumab and rituximab follow the real schedule — infusions on day 1 and day 15, then every
  6 months from the first infusion — with jitter (SD 1 day loading, 7 days maintenance), 4% of
  maintenance doses late by 35-90 days, and discontinuation after an exponential time (mean 6 and
  5 years). Eculizumab: weekly x4 then every 14 days; satralizumab: weeks 0, 2, 4 then every 4 weeks;
  oral drugs: 90-day prescriptions.
* **Premedication** on inebilizumab and rituximab infusion days: methylprednisolone (95%),
  diphenhydramine (90%), acetaminophen (85%). 25% receive oral prednisone around the index date and
  15% of B-cell therapy users had azathioprine before (concomitant immunosuppressants).
* **Labs** (local concepts with LOINC-like codes): neutrophils and lymphocytes at baseline and yearly;
  CD19 B cells and IgG at baseline and every 6 months for inebilizumab and rituximab users, during
  and after treatment (B-cell depletion, then repletion with a lag of ~6 months and a time constant of
  ~10 months after the last dose; IgG falling ~0.35 g/L per year on treatment).
* **Events** per 100 patient-years on treatment (after treatment in brackets): serious infection
  3.5/4.5/3.0/3.2/3.0/2.8 (2.0) x1.6 at >=65; PML 0.02/0.03/0.005/0.01/0.005/0.005 (0.002);
  malignancy 0.6/0.6/0.8/0.7/0.5/0.5 (0.5) x2.5 at >=65; neutropenia 1.2/1.5/2.0/1.0/0.3/1.0 (0.3);
  infusion reactions per infusion (first / later): inebilizumab 9%/3%, rituximab 12%/5%, eculizumab
  2%/1%, satralizumab 5%/2%. Death 0.6 per 100 patient-years.
* **Pregnancies** in women aged 18-45: 2.5 per 100 woman-years; outcomes live birth 78%, spontaneous
  abortion 13%, elective termination 8%, stillbirth 1%; gestational age, birth weight, infant sex,
  major congenital malformation (2.5%); registry enrolment (prospective or retrospective).

Dates are handled as int32 days since 1970-01-01 and turned into DATE by DuckDB when writing.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from riskplan.errors import UserInputError
from riskplan.studies import vocabulary as v

_EPOCH = dt.date(1970, 1, 1)
Arrays = dict[str, np.ndarray]


def _day(y: int, m: int, d: int) -> int:
    return (dt.date(y, m, d) - _EPOCH).days


DRUGS = (v.INEBILIZUMAB, v.RITUXIMAB, v.AZATHIOPRINE, v.MYCOPHENOLATE_MOFETIL, v.ECULIZUMAB, v.SATRALIZUMAB)
DRUG_SHARE = (0.20, 0.30, 0.20, 0.15, 0.07, 0.08)


@dataclass(frozen=True)
class _Schedule:
    loading: tuple[int, ...]
    maint_start: int
    interval: int
    days_supply: int
    loading_sd: float
    maint_sd: float
    late_share: float
    mean_years_on: float
    infusion: bool


SCHEDULES: dict[int, _Schedule] = {
    v.INEBILIZUMAB: _Schedule((0, 14), 183, 183, 1, 1.0, 7.0, 0.04, 6.0, True),
    v.RITUXIMAB: _Schedule((0, 14), 183, 183, 1, 1.0, 7.0, 0.04, 5.0, True),
    v.AZATHIOPRINE: _Schedule((0,), 90, 90, 90, 0.0, 5.0, 0.0, 3.0, False),
    v.MYCOPHENOLATE_MOFETIL: _Schedule((0,), 90, 90, 90, 0.0, 5.0, 0.0, 3.0, False),
    v.ECULIZUMAB: _Schedule((0, 7, 14, 21), 35, 14, 14, 0.0, 1.0, 0.0, 5.0, True),
    v.SATRALIZUMAB: _Schedule((0, 14, 28), 56, 28, 28, 0.0, 2.0, 0.0, 5.0, False),
}
# events per 100 PY on treatment for DRUGS in order, and after treatment
EVENT_RATES: dict[str, tuple[tuple[float, ...], float, float]] = {
    "serious infection": ((3.5, 4.5, 3.0, 3.2, 3.0, 2.8), 2.0, 1.6),
    "pml": ((0.02, 0.03, 0.005, 0.01, 0.005, 0.005), 0.002, 1.0),
    "malignancy": ((0.6, 0.6, 0.8, 0.7, 0.5, 0.5), 0.5, 2.5),
    "neutropenia": ((1.2, 1.5, 2.0, 1.0, 0.3, 1.0), 0.3, 1.0),
}
EVENT_CONCEPTS: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {
    "serious infection": (
        (
            v.PNEUMONIA,
            v.PYELONEPHRITIS,
            v.SEPSIS,
            v.HERPES_ZOSTER,
            v.CMV_REACTIVATION,
            v.HBV_REACTIVATION,
            v.PJP,
            v.TUBERCULOSIS,
        ),
        (0.36, 0.25, 0.10, 0.18, 0.04, 0.03, 0.03, 0.01),
    ),
    "pml": ((v.PML,), (1.0,)),
    "malignancy": ((v.BREAST_CANCER, v.COLORECTAL_CANCER, v.LYMPHOMA, v.SKIN_CANCER), (0.4, 0.2, 0.1, 0.3)),
    "neutropenia": ((v.NEUTROPENIA, v.FEBRILE_NEUTROPENIA, v.AGRANULOCYTOSIS), (0.85, 0.10, 0.05)),
}
INFUSION_REACTION_P: dict[int, tuple[float, float]] = {
    v.INEBILIZUMAB: (0.09, 0.03),
    v.RITUXIMAB: (0.12, 0.05),
    v.ECULIZUMAB: (0.02, 0.01),
    v.SATRALIZUMAB: (0.05, 0.02),
}
START, END_INDEX, DATA_END = _day(2016, 1, 1), _day(2024, 1, 1), _day(2025, 12, 31)


@dataclass(frozen=True)
class SynthSummary:
    out: Path
    persons: int
    seed: int
    rows: dict[str, int]
    seconds: float


class _Rows:
    """Accumulates column arrays per table, concatenated once at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[Arrays]] = {}

    def add(self, table: str, **cols: np.ndarray) -> None:
        self.parts.setdefault(table, []).append(cols)

    def table(self, table: str) -> Arrays:
        parts = self.parts.get(table, [])
        if not parts:
            return {}
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def synthesise_omop(persons: int, seed: int, out: Path) -> SynthSummary:
    """Write a synthetic NMOSD population of ``persons`` as OMOP CDM Parquet files in ``out``."""
    if persons < 1:
        raise UserInputError("--persons must be 1 or more")
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = _Rows()
    n = persons
    pid = np.arange(1, n + 1, dtype=np.int64)
    female = rng.random(n) < 0.85
    age = np.clip(np.rint(rng.normal(44, 14, n)), 18, 85).astype(np.int32)
    index = rng.integers(START, END_INDEX, n).astype(np.int32)
    year_index = (index.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int32) + 1970).astype(np.int32)
    prior = np.where(rng.random(n) < 0.92, rng.integers(365, 3650, n), rng.integers(30, 365, n)).astype(np.int32)
    op_start = index - prior
    fu = np.maximum(rng.exponential(4 * 365.25, n), 30).astype(np.int32)
    op_end = np.minimum(index + fu, DATA_END).astype(np.int32)
    death_t = rng.exponential(365.25 / 0.006, n)
    died = index + death_t < op_end
    op_end = np.where(died, index + death_t.astype(np.int32), op_end).astype(np.int32)
    drug_idx = rng.choice(len(DRUGS), size=n, p=DRUG_SHARE)
    old = age >= 65

    rows.add(
        "person",
        person_id=pid,
        gender_concept_id=np.where(female, v.FEMALE, v.MALE).astype(np.int64),
        year_of_birth=(year_index - age).astype(np.int32),
    )
    rows.add("observation_period", person_id=pid, start=op_start, end=op_end)
    rows.add("death", person_id=pid[died], death_date=op_end[died])

    last_dose = np.full(n, -1, dtype=np.int32)  # day of last dose (relative to index)
    stop_day = np.zeros(n, dtype=np.int32)
    for k, drug in enumerate(DRUGS):
        members = np.flatnonzero(drug_idx == k)
        if members.size == 0:
            continue
        sched = SCHEDULES[drug]
        stop = np.minimum(rng.exponential(sched.mean_years_on * 365.25, members.size), op_end[members] - index[members])
        stop = stop.astype(np.int32)
        stop_day[members] = stop
        days = _dose_days(rng, sched, stop)
        person_rows, dose_no = np.nonzero(days >= 0)
        dose_day = days[person_rows, dose_no]
        who = members[person_rows]
        last = np.full(members.size, -1, dtype=np.int32)
        np.maximum.at(last, person_rows, dose_day)
        last_dose[members] = last
        start = index[who] + dose_day
        rows.add(
            "drug_exposure",
            person_id=pid[who],
            drug_concept_id=np.full(who.size, v.product_of(drug), np.int64),
            start=start,
            end=start + sched.days_supply - 1,
            days_supply=np.full(who.size, sched.days_supply, np.int32),
        )
        if drug in (v.INEBILIZUMAB, v.RITUXIMAB):
            for premed, share in ((v.METHYLPREDNISOLONE, 0.95), (v.DIPHENHYDRAMINE, 0.90), (v.ACETAMINOPHEN, 0.85)):
                given = rng.random(who.size) < share
                rows.add(
                    "drug_exposure",
                    person_id=pid[who[given]],
                    drug_concept_id=np.full(int(given.sum()), v.product_of(premed), np.int64),
                    start=start[given],
                    end=start[given],
                    days_supply=np.ones(int(given.sum()), np.int32),
                )
        if drug in INFUSION_REACTION_P:
            p_first, p_later = INFUSION_REACTION_P[drug]
            p = np.where(dose_no == 0, p_first, p_later)
            react = rng.random(who.size) < p
            concept = np.where(rng.random(int(react.sum())) < 0.02, v.ANAPHYLAXIS, v.INFUSION_REACTION)
            rows.add(
                "condition_occurrence", person_id=pid[who[react]], concept=concept.astype(np.int64), date=start[react]
            )
        for event, (rates_on, rate_off, old_factor) in EVENT_RATES.items():
            factor = np.where(old[members], old_factor, 1.0)
            _poisson_events(rng, rows, event, pid[members], index[members], index[members] + stop, rates_on[k] * factor)
            _poisson_events(
                rng, rows, event, pid[members], index[members] + stop + 1, op_end[members], rate_off * factor
            )

    _background_drugs(rng, rows, pid, index, drug_idx)
    _baseline_conditions(rng, rows, pid, index, op_start, old)
    _labs(rng, rows, pid, index, op_end, drug_idx, stop_day, last_dose)
    _pregnancies(rng, rows, pid, index, op_end, female, age, drug_idx)
    counts = _write(out, rows)
    return SynthSummary(out, persons, seed, counts, time.perf_counter() - started)


def _dose_days(rng: np.random.Generator, sched: _Schedule, stop: np.ndarray) -> np.ndarray:
    """Dose days relative to index (n x K), -1 where no dose (after stop)."""
    horizon = int(stop.max()) if stop.size else 0
    maint = max(0, (horizon - sched.maint_start) // sched.interval + 2)
    offsets = np.array(list(sched.loading) + [sched.maint_start + sched.interval * i for i in range(maint)], np.float64)
    n, k = stop.size, offsets.size
    jitter = np.zeros((n, k))
    nl = len(sched.loading)
    if sched.loading_sd and nl > 1:
        jitter[:, 1:nl] = rng.normal(0, sched.loading_sd, (n, nl - 1))
    if k > nl:
        jitter[:, nl:] = rng.normal(0, sched.maint_sd, (n, k - nl))
        if sched.late_share:
            late = rng.random((n, k - nl)) < sched.late_share
            jitter[:, nl:] += late * rng.uniform(35, 90, (n, k - nl))
    days = np.rint(offsets[None, :] + jitter).astype(np.int32)
    days[:, 0] = 0
    days = np.maximum.accumulate(np.maximum(days, 0), axis=1)
    valid = days <= stop[:, None]
    dup = np.zeros_like(valid)
    dup[:, 1:] = days[:, 1:] == days[:, :-1]
    return np.where(valid & ~dup, days, -1)


def _poisson_events(
    rng: np.random.Generator,
    rows: _Rows,
    event: str,
    pid: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    rate_per_100py: np.ndarray | float,
) -> None:
    span = np.maximum(end - start + 1, 0)
    lam = np.asarray(rate_per_100py) / 100.0 * span / 365.25
    count = rng.poisson(lam)
    who = np.repeat(np.arange(pid.size), count)
    if who.size == 0:
        return
    dates = start[who] + np.floor(rng.random(who.size) * span[who]).astype(np.int32)
    concepts, probs = EVENT_CONCEPTS[event]
    concept = np.asarray(concepts, np.int64)[rng.choice(len(concepts), who.size, p=probs)]
    rows.add("condition_occurrence", person_id=pid[who], concept=concept, date=dates.astype(np.int32))


def _background_drugs(
    rng: np.random.Generator, rows: _Rows, pid: np.ndarray, index: np.ndarray, drug_idx: np.ndarray
) -> None:
    n = pid.size
    pred = rng.random(n) < 0.25
    start = index[pred] - rng.integers(0, 80, int(pred.sum()))
    rows.add(
        "drug_exposure",
        person_id=pid[pred],
        drug_concept_id=np.full(int(pred.sum()), v.product_of(v.PREDNISONE), np.int64),
        start=start.astype(np.int32),
        end=(start + 29).astype(np.int32),
        days_supply=np.full(int(pred.sum()), 30, np.int32),
    )
    bcell = (drug_idx <= 1) & (rng.random(n) < 0.15)
    m = int(bcell.sum())
    s = index[bcell] - rng.integers(200, 700, m)
    e = index[bcell] - rng.integers(0, 60, m)
    rows.add(
        "drug_exposure",
        person_id=pid[bcell],
        drug_concept_id=np.full(m, v.product_of(v.AZATHIOPRINE), np.int64),
        start=s.astype(np.int32),
        end=e.astype(np.int32),
        days_supply=(e - s + 1).astype(np.int32),
    )


def _baseline_conditions(
    rng: np.random.Generator, rows: _Rows, pid: np.ndarray, index: np.ndarray, op_start: np.ndarray, old: np.ndarray
) -> None:
    n = pid.size
    dx = op_start + (rng.random(n) * (index - op_start)).astype(np.int32)
    rows.add("condition_occurrence", person_id=pid, concept=np.full(n, v.NMOSD, np.int64), date=dx.astype(np.int32))
    for concept, share in ((v.HYPERTENSION, 0.20), (v.DIABETES, 0.08), (v.DEPRESSION, 0.15), (v.SLE, 0.03)):
        p = np.where(old, min(share * 2, 0.9), share) if concept in (v.HYPERTENSION, v.DIABETES) else share
        has = rng.random(n) < p
        m = int(has.sum())
        rows.add(
            "condition_occurrence",
            person_id=pid[has],
            concept=np.full(m, concept, np.int64),
            date=(index[has] - rng.integers(1, 365, m)).astype(np.int32),
        )
    visits = rng.poisson(3, n)
    who = np.repeat(np.arange(n), visits)
    rows.add(
        "visit_occurrence",
        person_id=pid[who],
        concept=np.full(who.size, 9202, np.int64),
        date=(index[who] - rng.integers(1, 365, who.size)).astype(np.int32),
    )


def _labs(
    rng: np.random.Generator,
    rows: _Rows,
    pid: np.ndarray,
    index: np.ndarray,
    op_end: np.ndarray,
    drug_idx: np.ndarray,
    stop_day: np.ndarray,
    last_dose: np.ndarray,
) -> None:
    n = pid.size
    bcell = drug_idx <= 1
    # neutrophils and lymphocytes: baseline then yearly
    for concept, median, low_share, low_range, lln, unit in (
        (v.NEUTROPHILS, 4.0, 0.02, (0.3, 1.5), 2.0, 0),
        (v.LYMPHOCYTES, 1.8, 0.03, (0.15, 0.8), 1.0, 0),
    ):
        who, when = _visit_grid(rng, index, op_end, 365, n)
        value = rng.lognormal(np.log(median), 0.3, who.size)
        on_b = bcell[who] & (when > index[who]) & (when <= index[who] + stop_day[who])
        value = np.where(on_b, value * 0.9, value)
        low = rng.random(who.size) < low_share
        value = np.where(low, rng.uniform(*low_range, who.size), value)
        _add_lab(rows, pid[who], concept, when, value, lln, unit)
    # CD19 and IgG for B-cell therapy users: baseline then every 6 months
    members = np.flatnonzero(bcell)
    who_m, when = _visit_grid(rng, index[members], op_end[members], 183, members.size)
    who = members[who_m]
    base_cd19 = rng.lognormal(np.log(250), 0.35, n)
    t_rel = when - index[who]
    on = (t_rel > 0) & (t_rel <= stop_day[who])
    after = t_rel > stop_day[who]
    since_last = (t_rel - last_dose[who]).astype(np.float64)
    tau = np.where(drug_idx[who] == 0, 300.0, 250.0)
    recovered = base_cd19[who] * np.clip(1 - np.exp(-np.maximum(since_last - 180, 0) / tau), 0, 1)
    cd19 = np.where(on, rng.lognormal(np.log(3), 0.8, who.size), base_cd19[who] * rng.lognormal(0, 0.1, who.size))
    cd19 = np.where(
        after, np.maximum(recovered * rng.lognormal(0, 0.15, who.size), rng.lognormal(np.log(3), 0.8, who.size)), cd19
    )
    _add_lab(rows, pid[who], v.CD19_B_CELLS, when, np.round(cd19, 1), 80.0, 1)
    base_igg = np.clip(rng.normal(10.5, 2.2, n), 3, None)
    years_on = np.clip(np.minimum(t_rel, stop_day[who]), 0, None) / 365.25
    igg = base_igg[who] - 0.35 * years_on + rng.normal(0, 0.7, who.size)
    _add_lab(rows, pid[who], v.IGG, when, np.round(np.clip(igg, 1.0, None), 2), 7.0, 2)


def _visit_grid(
    rng: np.random.Generator, index: np.ndarray, end: np.ndarray, step: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Baseline (1-30 days before index) and follow-up every ``step`` +-15 days up to ``end``."""
    k = np.maximum((end - index) // step, 0)
    base_who = np.arange(n)
    base_when = index - rng.integers(1, 31, n)
    fu_who = np.repeat(np.arange(n), k)
    order = np.arange(fu_who.size) - np.repeat(np.cumsum(k) - k, k) + 1
    fu_when = index[fu_who] + order * step + rng.integers(-15, 16, fu_who.size)
    fu_when = np.minimum(fu_when, end[fu_who])
    return np.concatenate([base_who, fu_who]), np.concatenate([base_when, fu_when]).astype(np.int32)


def _add_lab(
    rows: _Rows, pid: np.ndarray, concept: int, when: np.ndarray, value: np.ndarray, lln: float, unit: int
) -> None:
    m = pid.size
    rows.add(
        "measurement",
        person_id=pid,
        concept=np.full(m, concept, np.int64),
        date=when.astype(np.int32),
        value=value.astype(np.float64),
        range_low=np.full(m, lln),
        unit=np.full(m, unit, np.int8),
    )


def _pregnancies(
    rng: np.random.Generator,
    rows: _Rows,
    pid: np.ndarray,
    index: np.ndarray,
    op_end: np.ndarray,
    female: np.ndarray,
    age: np.ndarray,
    drug_idx: np.ndarray,
) -> None:
    eligible = np.flatnonzero(female & (age <= 45))
    span = np.maximum(op_end[eligible] - index[eligible] + 180 - 300, 0)
    count = np.minimum(rng.poisson(0.025 * span / 365.25), 3)
    who = np.repeat(eligible, count)
    if who.size == 0:
        return
    m = who.size
    lmp = (index[who] - 180 + (rng.random(m) * np.maximum(op_end[who] - 300 - index[who] + 180, 1))).astype(np.int32)
    kind = rng.choice(4, m, p=(0.78, 0.13, 0.08, 0.01))  # live, SAB, ET, SB
    ga = np.select(
        [kind == 0, kind == 1, kind == 2],
        [np.clip(rng.normal(39.0, 1.7, m), 24, 42.9), rng.uniform(6, 19.9, m), rng.uniform(6, 22, m)],
        rng.uniform(20, 40, m),
    )
    outcome = lmp + np.rint(ga * 7).astype(np.int32)
    known = outcome <= op_end[who]
    outcome_concept = np.array([v.LIVE_BIRTH, v.SPONTANEOUS_ABORTION, v.ELECTIVE_TERMINATION, v.STILLBIRTH], np.int64)[
        kind
    ]
    rows.add(
        "observation",
        person_id=pid[who],
        concept=np.full(m, v.PREGNANCY_START, np.int64),
        date=lmp,
        value=np.full(m, np.nan),
        value_concept=np.zeros(m, np.int64),
    )
    k = known
    rows.add(
        "observation",
        person_id=pid[who[k]],
        concept=outcome_concept[k],
        date=outcome[k],
        value=np.round(ga[k], 1),
        value_concept=np.zeros(int(k.sum()), np.int64),
    )
    birth = k & ((kind == 0) | (kind == 3))
    male = rng.random(m) < 0.51
    rows.add(
        "observation",
        person_id=pid[who[birth]],
        concept=np.full(int(birth.sum()), v.INFANT_SEX, np.int64),
        date=outcome[birth],
        value=np.full(int(birth.sum()), np.nan),
        value_concept=np.where(male[birth], v.MALE, v.FEMALE).astype(np.int64),
    )
    live = k & (kind == 0)
    median = 3400 - 215 * np.maximum(40 - ga, 0) - np.where(male, 0, 100)
    weight = np.rint(median * rng.lognormal(0, 0.12, m))
    _add_lab(rows, pid[who[live]], v.BIRTH_WEIGHT, outcome[live], weight[live], 0.0, 3)
    mcm = birth & (rng.random(m) < 0.025)
    rows.add(
        "observation",
        person_id=pid[who[mcm]],
        concept=np.full(int(mcm.sum()), v.MAJOR_CONGENITAL_MALFORMATION, np.int64),
        date=outcome[mcm],
        value=np.full(int(mcm.sum()), np.nan),
        value_concept=np.zeros(int(mcm.sum()), np.int64),
    )
    enrolled = rng.random(m) < np.where(drug_idx[who] == 0, 0.8, 0.2)
    prospective = rng.random(m) < 0.65
    enrol = np.where(
        prospective, np.minimum(lmp + rng.integers(56, 140, m), outcome - 1), outcome + rng.integers(1, 120, m)
    )
    e = enrolled
    rows.add(
        "observation",
        person_id=pid[who[e]],
        concept=np.full(int(e.sum()), v.REGISTRY_ENROLMENT, np.int64),
        date=enrol[e].astype(np.int32),
        value=np.full(int(e.sum()), np.nan),
        value_concept=np.zeros(int(e.sum()), np.int64),
    )


_UNITS = "CASE unit WHEN 0 THEN '10^9/L' WHEN 1 THEN 'cells/uL' WHEN 2 THEN 'g/L' WHEN 3 THEN 'g' END"
_D = "DATE '1970-01-01' + "


def _write(out: Path, rows: _Rows) -> dict[str, int]:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    counts: dict[str, int] = {}

    def copy(name: str, select: str, data: Arrays) -> None:
        path = str(out / f"{name}.parquet").replace("'", "''")
        con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
        counts[name] = int(next(iter(data.values())).size) if data else 0

    person = rows.table("person")
    copy(
        "person",
        "SELECT person_id, gender_concept_id, year_of_birth, 0::BIGINT AS race_concept_id, "
        "0::BIGINT AS ethnicity_concept_id FROM data",
        person,
    )
    op = rows.table("observation_period")
    copy(
        "observation_period",
        f"SELECT row_number() OVER () AS observation_period_id, person_id, "
        f'{_D}start AS observation_period_start_date, {_D}"end" AS observation_period_end_date, '
        "32817::BIGINT AS period_type_concept_id FROM data",
        op,
    )
    death = rows.table("death")
    copy(
        "death",
        f"SELECT person_id, {_D}death_date AS death_date, 32817::BIGINT AS death_type_concept_id FROM data",
        death,
    )
    drug = rows.table("drug_exposure")
    copy(
        "drug_exposure",
        f"SELECT row_number() OVER () AS drug_exposure_id, person_id, drug_concept_id, "
        f'{_D}start AS drug_exposure_start_date, {_D}"end" AS drug_exposure_end_date, days_supply, '
        "32817::BIGINT AS drug_type_concept_id FROM data",
        drug,
    )
    cond = rows.table("condition_occurrence")
    copy(
        "condition_occurrence",
        f"SELECT row_number() OVER () AS condition_occurrence_id, person_id, "
        f"concept AS condition_concept_id, {_D}date AS condition_start_date, "
        "32817::BIGINT AS condition_type_concept_id FROM data",
        cond,
    )
    meas = rows.table("measurement")
    copy(
        "measurement",
        f"SELECT row_number() OVER () AS measurement_id, person_id, concept AS measurement_concept_id, "
        f"{_D}date AS measurement_date, 32817::BIGINT AS measurement_type_concept_id, value AS value_as_number, "
        f"CASE WHEN range_low > 0 THEN range_low END AS range_low, {_UNITS} AS unit_source_value FROM data",
        meas,
    )
    obs = rows.table("observation")
    copy(
        "observation",
        f"SELECT row_number() OVER () AS observation_id, person_id, concept AS observation_concept_id, "
        f"{_D}date AS observation_date, 32817::BIGINT AS observation_type_concept_id, "
        "CASE WHEN isnan(value) THEN NULL ELSE value END AS value_as_number, "
        "NULLIF(value_concept, 0) AS value_as_concept_id FROM data",
        obs,
    )
    visits = rows.table("visit_occurrence")
    copy(
        "visit_occurrence",
        f"SELECT row_number() OVER () AS visit_occurrence_id, person_id, concept AS visit_concept_id, "
        f"{_D}date AS visit_start_date, {_D}date AS visit_end_date, 32817::BIGINT AS visit_type_concept_id "
        "FROM data",
        visits,
    )
    concept_rows = v.concept_rows()
    concept: Arrays = {
        "concept_id": np.array([r[0] for r in concept_rows], np.int64),
        "concept_name": np.array([r[1] for r in concept_rows], object),
        "domain_id": np.array([r[2] for r in concept_rows], object),
        "vocabulary_id": np.array([r[3] for r in concept_rows], object),
        "concept_class_id": np.array([r[4] for r in concept_rows], object),
        "standard_concept": np.array([r[5] for r in concept_rows], object),
        "concept_code": np.array([r[6] for r in concept_rows], object),
    }
    copy(
        "concept",
        "SELECT *, DATE '1970-01-01' AS valid_start_date, DATE '2099-12-31' AS valid_end_date, "
        "CAST(NULL AS VARCHAR) AS invalid_reason FROM data",
        concept,
    )
    anc_rows = v.ancestor_rows()
    ancestor: Arrays = {
        "ancestor_concept_id": np.array([r[0] for r in anc_rows], np.int64),
        "descendant_concept_id": np.array([r[1] for r in anc_rows], np.int64),
        "min_levels_of_separation": np.array([r[2] for r in anc_rows], np.int32),
        "max_levels_of_separation": np.array([r[3] for r in anc_rows], np.int32),
    }
    copy("concept_ancestor", "SELECT * FROM data", ancestor)
    con.close()
    return counts
