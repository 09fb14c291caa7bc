"""Destinations of individual case reports and their reporting rules, as data.

A destination is an authority (EudraVigilance, FDA FAERS, MHRA) or a licensing partner with a
pharmacovigilance agreement. Its rules are tried in order; the first whose conditions all hold decides
the report (expedited within N days, periodic, not reportable) and cites its source, e.g.
``GVP VI.C.3`` or ``21 CFR 314.80(c)(1)``. One YAML file per destination is bundled in
``submissions/destinations/``; a user's edited file is stored as a new version
(:mod:`riskplan.submissions.destination_versions`).
"""

from __future__ import annotations

import json
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from riskplan.errors import NotFoundError, UserInputError, validation_problems

DestinationCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]{0,29}$")]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Country = Annotated[str, StringConstraints(pattern=r"^([A-Z]{2}|EU)$")]


class ReportKind(StrEnum):
    EXPEDITED = "expedited"
    PERIODIC = "periodic"
    NOT_REPORTABLE = "not reportable"


class Occurrence(StrEnum):
    """Where the reaction occurred, seen from the destination's territory."""

    DOMESTIC = "domestic"
    FOREIGN = "foreign"


class Source(StrEnum):
    """The kind of report (E2B C.1.3, C.4 literature)."""

    SPONTANEOUS = "spontaneous"
    STUDY = "study"
    LITERATURE = "literature"
    OTHER = "other"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    """What a case must be for a rule to fire; an absent condition holds for every case."""

    serious: bool | None = None
    unexpected: bool | None = Field(
        default=None, description="Some (serious, for a serious case) reaction is not listed in the destination's RSI"
    )
    occurrence: Occurrence | None = None
    sources: list[Source] = Field(default_factory=list, description="Kinds of report; empty means any")


class Rule(_Model):
    id: RuleId
    when: Condition = Field(default_factory=Condition)
    report: ReportKind
    days: int | None = Field(default=None, ge=0, le=366, description="Calendar days from day 0 (expedited)")
    cites: NonEmpty = Field(description="The source of the rule, e.g. 'GVP VI.C.3'")
    note: str | None = None

    @model_validator(mode="after")
    def _days_for_expedited(self) -> Rule:
        if self.report is ReportKind.EXPEDITED and self.days is None:
            raise ValueError(f"rule {self.id!r}: an expedited report needs days (the time frame from day 0)")
        return self


class Destination(_Model):
    """Where reports go, which cases must go there, and how they are sent."""

    code: DestinationCode = Field(description="Short code used on the command line, e.g. EU, US, UK")
    name: NonEmpty
    kind: Literal["authority", "partner"]
    territory: list[Country] = Field(description="Countries whose cases are domestic (ISO 3166-1 alpha-2)")
    rsi_region: str | None = Field(
        default=None, description="Region of the plan's RSI that judges expectedness here (none: the plan's default)"
    )
    authorised: bool = Field(default=True, description="Whether the product is authorised in this territory")
    receiver_id: NonEmpty | None = Field(
        default=None,
        description="E2B(R3) N.1.4 batch receiver identifier; none: the setting e2b_receiver_ids must give it",
    )
    message_receiver_id: str | None = Field(default=None, description="E2B(R3) N.2.r.3 (default: N.1.4)")
    profile: Literal["ich", "eu", "fda"] = Field(default="ich", description="Regional checks applied before sending")
    channel: NonEmpty = Field(default="manual", description="Default transport: manual (web upload) or as2")
    downgrade_days: int = Field(default=15, ge=0, le=366)
    nullification_days: int = Field(default=15, ge=0, le=366)
    follow_up_cites: NonEmpty = Field(default="GVP VI.C.6.2.2.7 (follow-up), VI.C.6.2.2.9 (nullification)")
    rules: list[Rule]

    @field_validator("territory", mode="before")
    @classmethod
    def _norway(cls, value: object) -> object:
        # YAML 1.1 reads a bare NO (Norway) as false: take it back as the country code
        return ["NO" if v is False else v for v in value] if isinstance(value, list) else value

    @field_validator("rules")
    @classmethod
    def _rules_present_and_unique(cls, rules: list[Rule]) -> list[Rule]:
        if not rules:
            raise ValueError("a destination needs at least one rule")
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
        return rules

    def is_domestic(self, country: str | None) -> bool:
        """A case whose country is unknown counts as domestic (the stricter reading)."""
        return country is None or country.upper() in {c.upper() for c in self.territory}


def canonical_json(destination: Destination) -> str:
    return json.dumps(destination.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def destination_from_data(data: object, where: str) -> Destination:
    try:
        return Destination.model_validate(data)
    except ValidationError as exc:
        raise UserInputError(validation_problems(exc, where, "destination")) from None


def read_destination_file(path: Path) -> Destination:
    """A destination from a YAML (or JSON) file; a clear error when it is not one."""
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserInputError(f"{path}: not valid YAML: {exc}") from None
    return destination_from_data(data, str(path))


def bundled_destinations() -> dict[str, Destination]:
    """The destinations shipped with riskplan, by code."""
    folder = resources.files("riskplan.submissions") / "destinations"
    found: dict[str, Destination] = {}
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".yaml"):
            d = destination_from_data(yaml.safe_load(item.read_text(encoding="utf-8")), f"bundled {item.name}")
            found[d.code] = d
    return found


def unknown_destination(code: str, known: list[str]) -> NotFoundError:
    return NotFoundError(f"no destination {code!r}: known destinations are {', '.join(known)}")
