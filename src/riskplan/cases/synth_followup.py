"""Synthetic ICSRs: follow-up versions of a case (internal to :mod:`riskplan.cases.synth`)."""

from __future__ import annotations

import datetime as dt
import random

from riskplan.cases.codes import (
    Outcome,
    Qualification,
    Sex,
)
from riskplan.cases.model import (
    DrugReactionAssessment,
    Hl7Timestamp,
    Icsr,
    Reaction,
)
from riskplan.cases.synth_build import (
    lab_fields,
    lab_text,
)
from riskplan.cases.synth_data import (
    INITIAL_LETTERS,
)
from riskplan.cases.synth_labs import (
    cell_count,
    igg_labs,
    neutrophil_labs,
)
from riskplan.cases.synth_specs import (
    M,
    assessment,
    day_stamp,
    days_of,
    fmt,
    quantity,
    uid,
)

# --------------------------------------------------------------------------------------------------
# Follow-up versions
# --------------------------------------------------------------------------------------------------


def _rebuilt(model: M, **changes: object) -> M:
    """A validated copy of a pydantic model with ``changes`` (unlike ``model_copy``, which skips validation)."""
    cls = type(model)
    values: dict[str, object] = {name: getattr(model, name) for name in cls.model_fields}
    values.update(changes)
    return cls.model_validate(values)


class FollowUp:
    """Builds a follow-up version of one case."""

    def __init__(self, icsr: Icsr, rng: random.Random, received: dt.date) -> None:
        self.icsr = icsr
        self.rng = rng
        self.received = received
        self.news: list[str] = []
        self.changes: dict[str, object] = {}

    def build(self) -> Icsr:
        if not self._complete_invalid():
            steps = [self._outcome_update, self._hospitalisation, self._lab_result]
            self.rng.shuffle(steps)
            for step in steps:
                if step() and (len(self.news) >= 2 or self.rng.random() < 0.5):
                    break
            if not self.news:
                self.news.append("the reporter confirmed the information already given")
        day = self.received + days_of(self.rng.randint(1, 3))
        created = f"{day:%Y%m%d}{self.rng.randint(8, 18):02d}{self.rng.randint(0, 59):02d}00"
        narrative = (
            f"{self.icsr.narrative or ''} Follow-up information received on {fmt(self.received)}: "
            + "; ".join(self.news)
            + "."
        )
        return _rebuilt(
            self.icsr,
            most_recent_info=day_stamp(self.received),
            created=Hl7Timestamp(created),
            narrative=narrative.strip(),
            **self.changes,
        )

    def _reactions(self) -> tuple[Reaction, ...]:
        return self.changes.get("reactions", self.icsr.reactions)  # type: ignore[return-value]

    def _complete_invalid(self) -> bool:
        icsr = self.icsr
        source = icsr.primary_sources[0] if icsr.primary_sources else None
        if source is not None and source.qualification is None and source.country is None:
            country = icsr.worldwide_case_id[:2]
            done = _rebuilt(
                source,
                qualification=Qualification.PHYSICIAN,
                qualification_null_flavor=None,
                country=country,
                country_null_flavor=None,
            )
            self.changes["primary_sources"] = (done, *icsr.primary_sources[1:])
            self.news.append("the treating neurologist was identified and confirmed the report")
            return True
        p = icsr.patient
        if p.name is None and p.sex is None and p.age is None and p.age_group is None and p.parent is None:
            self.changes["patient"] = _rebuilt(
                p,
                name="".join(self.rng.choice(INITIAL_LETTERS) for _ in range(2)),
                name_null_flavor=None,
                sex=Sex.FEMALE,
                sex_null_flavor=None,
                age=quantity(self.rng.randint(25, 60), "a"),
                age_group_null_flavor=None,
            )
            self.news.append("the patient's initials, age and sex were provided")
            return True
        if not icsr.reactions:
            self._add_reaction()
            return True
        return False

    def _add_reaction(self) -> None:
        onset = self.received - days_of(self.rng.randint(1, 20))
        reaction = Reaction(
            id=uid(self.rng),
            verbatim_term="headache",
            verbatim_language="eng",
            start_date=day_stamp(onset),
            outcome=Outcome.RECOVERED,
            end_date=day_stamp(onset + days_of(1)),
        )
        suspect = next(d for d in self.icsr.drugs if d.is_suspect)
        row = DrugReactionAssessment(
            reaction_id=reaction.id, assessments=(assessment("Primary source reporter", "Possibly related"),)
        )
        drugs = tuple(
            _rebuilt(d, reaction_assessments=(*d.reaction_assessments, row)) if d is suspect else d
            for d in self.icsr.drugs
        )
        self.changes.update(reactions=(reaction,), drugs=drugs)
        self.news.append("the patient reported headache after the last infusion")

    def _outcome_update(self) -> bool:
        reactions = list(self._reactions())
        for i, r in enumerate(reactions):
            if r.outcome in (Outcome.NOT_RECOVERED, Outcome.RECOVERING, Outcome.UNKNOWN) and r.start_date:
                start = r.start_date.latest_date()
                if start >= self.received:
                    continue
                end = start + days_of(self.rng.randint(0, (self.received - start).days))
                reactions[i] = _rebuilt(
                    r, outcome=Outcome.RECOVERED, end_date=day_stamp(end), end_date_null_flavor=None
                )
                self.changes["reactions"] = tuple(reactions)
                self.news.append(f"{r.verbatim_term_english or r.verbatim_term} resolved on {fmt(end)}")
                return True
        return False

    def _hospitalisation(self) -> bool:
        """An unresolved event turned out to need hospital care (E.i.3.2c): the case may become serious."""
        reactions = list(self._reactions())
        for i, r in enumerate(reactions):
            unresolved = r.outcome in (Outcome.NOT_RECOVERED, Outcome.RECOVERING, Outcome.UNKNOWN)
            if unresolved and not r.hospitalisation and r.start_date is not None:
                reactions[i] = _rebuilt(r, hospitalisation=True)
                self.changes["reactions"] = tuple(reactions)
                self.changes["local_expedited"] = True
                admitted = max(r.start_date.latest_date(), self.received - days_of(self.rng.randint(1, 10)))
                name = r.verbatim_term_english or r.verbatim_term
                self.news.append(f"the patient was admitted to hospital on {fmt(admitted)} because of {name}")
                return True
        return False

    def _lab_result(self) -> bool:
        day = self.received - days_of(self.rng.randint(0, 5))
        if self.icsr.first_received and day < self.icsr.first_received.earliest_date():
            day = self.icsr.first_received.earliest_date()
        us = self.icsr.worldwide_case_id.startswith("US-")
        rng = self.rng
        if rng.random() < 0.7:  # routine blood count of B-cell-depletion monitoring: half of them low
            low = rng.random() < 0.5
            lab = (
                neutrophil_labs(rng, day, us)[0]
                if low
                else cell_count(rng, day, us, "Neutrophil count", rng.uniform(2.0, 6.0), 1.8, 7.5)
            )
        else:
            lab = igg_labs(rng, day, us)[0]
        self.changes["tests"] = (*self.icsr.tests, lab_fields(lab))
        self.news.append(lab_text(lab))
        return True
