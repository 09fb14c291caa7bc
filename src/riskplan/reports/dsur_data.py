"""What the DSUR shows (ICH E2F), read from the case store as at the data lock point; no rendering.

* **Trial cases** (E2F 3.7): the serious clinical-trial cases of the plan (C.1.3 = 2 and C.5.4 = 1) known at
  the DLP, as the PSUR counts them (:func:`riskplan.cases.versions_at_dlp`: each case's latest version received
  on or before the DLP, valid, first received on or before the DLP). A case belongs to the trial of the plan
  whose sponsor study number (C.5.3) or registration number (C.5.1.r.1) it carries; other trial cases go to
  "other or unidentified trial".
* **Arm** (E2F 3.7.3: by investigational drug, comparator and blinded treatment): the PBRER's definition,
  :func:`riskplan.cases.treatment_arm`, with the arms of the case's trial: "blinded" when a drug of the case is
  flagged blinded (G.k.2.5); else the first arm of the trial whose name appears in the product name or
  substances of a suspect, interacting or not-administered drug (G.k.2.2, G.k.2.3.r; a placebo is a "drug not
  administered", G.k.1 = 4); else "other".
* **Cumulative tabulation of serious adverse events** (E2F 3.7.3): serious reactions (E.i.3.2) of the trial
  cases by MedDRA SOC and PT and arm, counted as **cases** (a case reporting a PT twice counts once), from the
  first trial case up to the DLP.
* **Line listing of serious adverse reactions** (E2F 3.7.2): the serious reactions of trial cases first
  received in the interval for which no relatedness assessment of a suspect drug (G.k.9.i.2.r.3) excludes a
  reasonable possibility of a causal relationship (ICH E2A III.A.1: where investigator and sponsor differ, or
  causality is not given, the reaction is treated as related).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases import (
    BLINDED,
    CLINICAL_TRIAL,
    DrugRole,
    Icsr,
    case_number,
    reactions_by_version,
    synthetic_worldwide_ids,
    treatment_arm,
    version_icsrs,
    versions_at_dlp,
)
from riskplan.errors import UserInputError
from riskplan.plan import ClinicalTrial, RiskManagementPlan, content_hash, list_versions
from riskplan.reports.periodic_common import PlanChoice, choose_plan
from riskplan.reports.psur_counts import NOT_CODED, check_interval
from riskplan.reports.psur_data import report_checksum

OTHER_ARM: Final = "other"
OTHER_TRIAL: Final = "other or unidentified trial"
# G.k.9.i.2.r.3 results that exclude a reasonable possibility (ICH E2A III.A.1); anything else counts as related
_NOT_RELATED = re.compile(
    r"\b(not related|unrelated|not suspected|unlikely|excluded|no reasonable possibility)\b", re.I
)


@dataclass(frozen=True)
class SaeRow:
    """Cases with a serious adverse event of one PT, by arm, cumulatively to the DLP (E2F 3.7.3)."""

    soc: str
    pt: str
    by_arm: dict[str, int]
    total: int


@dataclass(frozen=True)
class SarListing:
    """One serious adverse reaction of a trial case first received in the interval (E2F 3.7.2)."""

    case: str
    trial: str
    arm: str
    first_received: dt.date
    country: str
    age_sex: str
    soc: str
    pt: str
    onset: str
    outcome: str
    causality: str


@dataclass(frozen=True)
class DsurData:
    """Everything the DSUR shows, with the checksum of its inputs."""

    plan_name: str
    plan: RiskManagementPlan
    plan_version: int | None
    plan_label: str
    plan_sha256: str
    start: dt.date
    end: dt.date
    trials: tuple[ClinicalTrial, ...]
    arms: tuple[str, ...]
    cases_by_trial: dict[str, tuple[int, int]]  # trial id -> (interval, cumulative) serious trial cases
    sae_rows: tuple[SaeRow, ...]
    soc_totals: dict[str, dict[str, int]]  # SOC -> arm -> cases
    listing: tuple[SarListing, ...]
    deaths: tuple[str, ...]  # case numbers of trial cases with a fatal reaction in the interval
    plan_changes: tuple[tuple[int, str, str], ...]  # (version, date, reason) stored in the interval
    parameters: dict[str, Any]
    synthetic: int = 0  # trial cases made by riskplan synth or the demo (not real reports)
    audit_trail: tuple[int, str] = (0, "")
    checksum: str = field(default="")


def _trial_of(icsr: Icsr, trials: tuple[ClinicalTrial, ...]) -> ClinicalTrial | None:
    study = icsr.study
    if study is None:
        return None
    number = (study.sponsor_study_number or "").casefold()
    registrations = {r.number.casefold() for r in study.registrations if r.number}
    for trial in trials:
        if number and trial.sponsor_study_number and trial.sponsor_study_number.casefold() == number:
            return trial
        if registrations & {r.casefold() for r in trial.registrations}:
            return trial
    return None


def _causality(icsr: Icsr, reaction_index: int) -> tuple[bool, str]:
    """(related, the assessments as text) for one reaction: related unless an assessment excludes it."""
    if reaction_index >= len(icsr.reactions):
        return True, "not given (treated as related, ICH E2A)"
    reaction_id = icsr.reactions[reaction_index].id
    results: list[str] = []
    for drug in icsr.drugs:
        if drug.role not in (DrugRole.SUSPECT, DrugRole.INTERACTING):
            continue
        for assessment in drug.reaction_assessments:
            if assessment.reaction_id != reaction_id:
                continue
            for r in assessment.assessments:
                if r.result:
                    results.append(f"{r.source or 'source not given'}: {r.result}")
    if not results:
        return True, "not given (treated as related, ICH E2A)"
    related = not all(_NOT_RELATED.search(text) for text in results)
    return related, "; ".join(results)


def _age_sex(icsr: Icsr) -> str:
    patient = icsr.patient
    age = f"{patient.age.value} {patient.age.unit}" if patient.age is not None else "age not given"
    sex = patient.sex.label if patient.sex is not None else "sex not given"
    return f"{age}, {sex}"


def collect_dsur(
    session: Session, plan_name: str, start: dt.date, end: dt.date, *, version: int | None = None
) -> DsurData:
    """Read everything the DSUR shows. A plan without trials (``clinical_development.trials``) is a user error."""
    check_interval(start, end)
    chosen: PlanChoice = choose_plan(session, plan_name, version)
    plan = chosen.plan
    development = plan.clinical_development
    if development is None or not development.trials:
        raise UserInputError(
            f"plan {plan_name!r} lists no clinical trials (clinical_development.trials): a DSUR (ICH E2F) covers "
            "the trials of a product in clinical development; add them to the plan"
        )
    trials = tuple(development.trials)
    arms = tuple(dict.fromkeys([*(a for t in trials for a in t.arms), BLINDED, OTHER_ARM]))
    counted = versions_at_dlp(session, plan_name, end).subquery("counted")
    # the arm (riskplan.cases.treatment_arm, the PBRER's definition) with the arms of each trial, and with none
    # for a case of no listed trial; the case's trial is read from its document below
    arm_in = [
        treatment_arm(
            session, counted.c.version_id, [(a, (a,)) for a in arms_of], other_suspect=None, otherwise=OTHER_ARM
        )
        for arms_of in ((), *(trial.arms for trial in trials))
    ]
    rows = session.execute(
        select(counted.c.version_id, counted.c.case_id, counted.c.first_received, *arm_in).where(
            counted.c.serious.is_(True), counted.c.source == CLINICAL_TRIAL
        )
    ).all()
    ids = [int(r[0]) for r in rows]
    documents = version_icsrs(session, ids)  # the trial cases' documents only (with recorded causality)
    reactions = reactions_by_version()
    reaction_rows: dict[int, list[Any]] = defaultdict(list)
    for at in range(0, len(ids), 500):
        for row in session.execute(
            select(reactions)
            .where(reactions.c.case_version_id.in_(ids[at : at + 500]))
            .order_by(reactions.c.case_version_id, reactions.c.seq)
        ):
            reaction_rows[int(row.case_version_id)].append(row)
    by_trial: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    sae: dict[tuple[str, str], dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    soc_cases: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    listing: list[SarListing] = []
    deaths: list[str] = []
    digest = hashlib.sha256()
    for version_id, case_id, first, *arm_by_trial in sorted(rows, key=lambda r: int(r[1])):
        first_received = first if isinstance(first, dt.date) else dt.date.fromisoformat(str(first)[:10])
        icsr = documents[int(version_id)]
        trial = _trial_of(icsr, trials)
        trial_label = trial.id if trial else OTHER_TRIAL
        arm = str(arm_by_trial[0 if trial is None else 1 + trials.index(trial)])
        in_interval = first_received >= start
        counts = by_trial[trial_label]
        counts[1] += 1
        counts[0] += int(in_interval)
        digest.update(f"{case_id},{version_id},{first_received.isoformat()},{trial_label},{arm}\n".encode())
        fatal = False
        for r in reaction_rows[int(version_id)]:
            if not r.serious:
                continue
            soc, pt = r.soc_name or NOT_CODED, r.pt_name or NOT_CODED
            sae[(soc, pt)][arm].add(int(case_id))
            soc_cases[soc][arm].add(int(case_id))
            fatal = fatal or "fatal" in str(r.outcome or "").casefold()
            if not in_interval:
                continue
            related, causality = _causality(icsr, int(r.seq) - 1)
            if related:
                listing.append(
                    SarListing(
                        case_number(int(case_id)),
                        trial_label,
                        arm,
                        first_received,
                        icsr.primary_sources[0].country
                        if icsr.primary_sources and icsr.primary_sources[0].country
                        else "not given",
                        _age_sex(icsr),
                        soc,
                        pt,
                        r.onset.isoformat() if isinstance(r.onset, dt.date) else str(r.onset or "not given"),
                        str(r.outcome or "not given"),
                        causality,
                    )
                )
        if fatal and in_interval:
            deaths.append(case_number(int(case_id)))
    sae_rows = tuple(
        SaeRow(soc, pt, {a: len(by_arm.get(a, ())) for a in arms}, len(set().union(*by_arm.values())))
        for (soc, pt), by_arm in sorted(sae.items(), key=lambda kv: (kv[0][0].casefold(), kv[0][1].casefold()))
    )
    soc_totals = {
        soc: {a: len(by_arm.get(a, ())) for a in arms} | {"total": len(set().union(*by_arm.values()))}
        for soc, by_arm in sorted(soc_cases.items(), key=lambda kv: kv[0].casefold())
    }
    versions = list_versions(session, plan_name) if chosen.version is not None else []
    changes = tuple(
        (v.version, v.loaded_at.date().isoformat(), v.reason or "no reason recorded")
        for v in versions
        if start <= v.loaded_at.date() <= end
    )
    data = DsurData(
        plan_name=plan_name,
        plan=plan,
        plan_version=chosen.version,
        plan_label=chosen.label,
        plan_sha256=content_hash(plan),
        start=start,
        end=end,
        trials=trials,
        arms=arms,
        cases_by_trial={k: (v[0], v[1]) for k, v in sorted(by_trial.items())},
        sae_rows=sae_rows,
        soc_totals=soc_totals,
        listing=tuple(sorted(listing, key=lambda x: (x.case, x.soc.casefold(), x.pt.casefold()))),
        deaths=tuple(deaths),
        plan_changes=changes,
        synthetic=len(synthetic_worldwide_ids(session, [int(r[1]) for r in rows])),
        parameters={
            "plan": plan_name,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "cases_sha256": digest.hexdigest(),
        },
    )
    return dataclasses.replace(data, checksum=_checksum(data))


def _checksum(data: DsurData) -> str:
    return report_checksum(
        data.parameters,
        data.plan_name,
        data.plan_version,
        data.plan_sha256,
        cases_by_trial=data.cases_by_trial,
        sae=[dataclasses.asdict(r) for r in data.sae_rows],
        listing=[dataclasses.asdict(r) | {"first_received": r.first_received.isoformat()} for r in data.listing],
        plan_changes=data.plan_changes,
    )
