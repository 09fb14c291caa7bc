"""Checking a case as it is entered: one definition of a valid case and of a case complete for sending.

The data is a case in the shape of a case file (``riskplan case schema``; the web intake form builds the
same shape), so a case entered on the form and one given to ``riskplan case new`` are checked alike:

* **refusals** (:attr:`EntryCheck.refusals`): what no stored case may carry — data the ICSR model refuses
  (``Icsr.model_validate``, as ``case new`` does) and impossible values (a date after today, an age no
  person has: :func:`~riskplan.cases.e2b.intake_refusals`);
* **validity** (:attr:`EntryCheck.missing`): the four minimum criteria of a valid ICSR (GVP VI.B.2, ICH
  E2D 4.1: an identifiable reporter and patient, a suspect product, an adverse reaction;
  :func:`~riskplan.cases.validity.assess_validity`);
* **completeness** (:attr:`EntryCheck.to_complete`): the E2B(R3) business-rule errors that block sending
  the case to an authority (:func:`~riskplan.cases.e2b.check_business_rules`, the same check the
  export and the submissions make). A stored case may still lack them: follow-up completes it.

Every problem carries the dotted path of the field it is about (``reactions.1.start_date``), the name the
form gives that field, so a message can be shown next to it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from riskplan.cases.codes import Severity
from riskplan.cases.e2b import check_business_rules, intake_refusals
from riskplan.cases.model import Icsr
from riskplan.cases.validity import assess_validity

__all__ = ["EntryCheck", "Problem", "check_entry", "dotted"]

#: Where each missing minimum criterion (GVP VI.B.2) is shown: the section that would supply it.
_CRITERION_PATHS = (
    ("no identifiable reporter", "primary_sources"),
    ("no identifiable patient", "patient"),
    ("no suspect medicinal product", "drugs"),
    ("no adverse reaction", "reactions"),
)
_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Problem:
    path: str  # dotted, e.g. "drugs.0.dosages.0.start_date"; "" for the case as a whole
    message: str


@dataclass(frozen=True)
class EntryCheck:
    icsr: Icsr | None
    refusals: list[Problem] = field(default_factory=list)
    missing: list[Problem] = field(default_factory=list)
    to_complete: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Storable and meeting the four minimum criteria."""
        return self.icsr is not None and not self.refusals and not self.missing


def dotted(path: str | tuple[str | int, ...]) -> str:
    """``reactions[0].start_date`` or ``("reactions", 0, "start_date")`` as ``reactions.0.start_date``."""
    if isinstance(path, tuple):
        return ".".join(str(p) for p in path)
    return _INDEX.sub(r".\1", path)


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    last = str(error["loc"][-1]) if error["loc"] else ""
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "Required."
    if kind in ("decimal_parsing", "decimal_type", "float_parsing", "int_parsing", "finite_number"):
        return f"Enter a number, not {error.get('input')!r}."
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in ctx.items())
        return f"Enter a number ({bound})."
    if kind == "bool_parsing":
        return "Choose yes or no."
    if kind == "string_pattern_mismatch":
        if last == "country" or last.endswith("_country"):
            return f"{error.get('input')!r} is not a country: use the two-letter ISO 3166 code (e.g. GB, DE)."
        if last.endswith("language"):
            return f"{error.get('input')!r} is not a language: use the three-letter ISO 639-2 code (e.g. eng)."
        if last == "code":
            return f"{error.get('input')!r} is not a MedDRA code: give the 8-digit LLT code."
        if last == "version":
            return f"{error.get('input')!r} is not a MedDRA version: give it as e.g. 27.1."
        return f"{error.get('input')!r} is not in the expected form ({ctx.get('pattern')})."
    if kind == "string_too_long":
        return f"Too long: at most {ctx.get('max_length')} characters."
    return error["msg"].removeprefix("Value error, ")


def _model_problems(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        message = _message(error)
        if error["type"] == "seriousness":  # raised for the reaction, about its seriousness list
            loc = (*loc, "seriousness")
        problems.append(Problem(dotted(loc), message))
    return problems


def check_entry(data: Mapping[str, Any], *, today: dt.date) -> EntryCheck:
    """Check a case in the case-file shape; ``today`` is the date the reporting clocks count from (UTC)."""
    try:
        icsr = Icsr.model_validate(data)
    except ValidationError as exc:
        return EntryCheck(icsr=None, refusals=_model_problems(exc))
    refusals = [Problem(dotted(v.path), v.message) for v in intake_refusals(icsr, today=today)]
    validity = assess_validity(icsr)
    missing = [
        Problem(next((path for start, path in _CRITERION_PATHS if reason.startswith(start)), ""), reason)
        for reason in validity.missing
    ]
    refused = {(p.path, p.message) for p in refusals}
    to_complete = [
        Problem(dotted(v.path), v.message)
        for v in check_business_rules(icsr, today=today)
        if v.severity is Severity.ERROR and (dotted(v.path), v.message) not in refused
    ]
    return EntryCheck(icsr=icsr, refusals=refusals, missing=missing, to_complete=to_complete)
