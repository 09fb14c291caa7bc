"""Lab units: one table of how each spelling converts, used by every study that reads lab values.

A unit as a laboratory or a CDM writes it (``unit_source_value``) is first normalised: Unicode NFKC
(the micro sign U+00B5 and the Greek mu U+03BC become one letter, ``³`` becomes ``3``), ``µ``/``mc``
become ``u``, ``×`` becomes ``x``, spaces and UCUM annotations (``{cells}``) go, superscript exponents
(``10⁹``) become ``10^9``. It is then read as a *quantity per volume*:

* cell counts: ``10^9/L``, ``10*9/L`` (UCUM), ``x10E9/L``, ``10^3/uL``, ``K/uL``, ``thou/uL``, ``/uL``,
  ``cells/uL``, ``/mm3``, ``cells/mm³``, ``giga/L``, ``G/L``, ``Gpt/L``, ``10^6/mL`` ...
* mass concentrations: ``g/L``, ``g/dL``, ``mg/dL``, ``mg/L``, ``mg/mL``, ``ug/mL`` ...

Every unit is a power of ten of its kind's base unit (10^9 cells/L or g/L), so factors are exact. A unit
that cannot be read, or is of another kind than the target (``%`` for a neutrophil count, ``g/L`` for a
count), is **not converted**: its values are left out and counted, per unit, in the study's notes and in
its "lab values by unit" table; it is never taken as factor 1. A value *without* a unit is taken to be in
the analysis unit, and counted and named in the notes as well.

``G/L`` is giga per litre for a cell count (the French and German laboratory spelling) and gram per litre
for a mass concentration: the kind wanted decides, as the two kinds never mix.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from riskplan.studies.cdm import Cdm


class UnitKind(StrEnum):
    CELL_COUNT = "cell count per volume"
    MASS_CONCENTRATION = "mass concentration"


@dataclass(frozen=True)
class LabUnit:
    """A unit as a power of ten of its kind's base unit (10^9 cells/L; g/L)."""

    kind: UnitKind
    exponent: int

    def factor_to(self, target: LabUnit) -> float | None:
        """Multiply a value in this unit by this to express it in ``target`` (None: another kind)."""
        if self.kind is not target.kind:
            return None
        return 10.0 ** (self.exponent - target.exponent)


_VOLUME_EXPONENT: Final[dict[str, int]] = {
    "l": 0,
    "dl": -1,
    "ml": -3,
    "ul": -6,
    "mm3": -6,  # 1 mm³ = 1 µL
    "cumm": -6,
    "cmm": -6,
    "nl": -9,
}
_COUNT_WORD_EXPONENT: Final[dict[str, int]] = {
    "": 0,
    "k": 3,
    "thou": 3,
    "thousand": 3,
    "giga": 9,
    "gpt": 9,  # "Gpt/L", giga-particles, French laboratories
    "tera": 12,
}
_MASS_EXPONENT: Final[dict[str, int]] = {"kg": 3, "g": 0, "mg": -3, "ug": -6, "ng": -9}
_POWER_OF_TEN = re.compile(r"(?:x|\*)?10(?:\^|\*\*|\*|e\+?)(\d{1,2})")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_CELL_WORDS = re.compile(r"cells?|leukocytes|leucocytes")


def normalise_unit(text: str) -> str:
    """The unit in one spelling per meaning: NFKC, micro as ``u``, no spaces or annotations (keeps case)."""
    s = re.sub(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", lambda m: "10^" + m.group(1).translate(_SUPERSCRIPTS), text)
    s = unicodedata.normalize("NFKC", s)  # U+00B5 micro sign -> U+03BC; ³ -> 3; fullwidth -> ASCII
    s = re.sub(r"\{[^}]*\}", "", s)  # UCUM annotations: {cells}/uL
    s = re.sub(r"\s+", "", s).replace("μ", "u").replace("×", "x").replace("·", "")
    s = re.sub(r"(?i)mc(?=[lg]$|[lg]/)", "u", s)  # mcL, mcg
    return s


def parse_unit(text: str | None, want: UnitKind | None = None) -> LabUnit | None:
    """The unit ``text`` as a :class:`LabUnit`, or None when it cannot be read.

    ``want`` settles ``G/L``: giga per litre for a cell count, gram per litre otherwise."""
    if text is None:
        return None
    s = normalise_unit(text)
    numerator, slash, denominator = s.partition("/")
    volume = _VOLUME_EXPONENT.get(denominator.casefold())
    if not slash or volume is None:
        return None
    if numerator == "G" and want is not UnitKind.MASS_CONCENTRATION:
        return LabUnit(UnitKind.CELL_COUNT, 9 - volume - 9)
    num = numerator.casefold()
    if num in _MASS_EXPONENT:
        return LabUnit(UnitKind.MASS_CONCENTRATION, _MASS_EXPONENT[num] - volume)
    num = _CELL_WORDS.sub("", num)
    power = _POWER_OF_TEN.fullmatch(num)
    if power:
        count = int(power.group(1))
    elif num in _COUNT_WORD_EXPONENT:
        count = _COUNT_WORD_EXPONENT[num]
    else:
        return None
    return LabUnit(UnitKind.CELL_COUNT, count - volume - 9)


def target_unit(unit: str) -> LabUnit:
    """An analysis unit (a plan's lab criterion, an analyte's unit): it must be readable."""
    parsed = parse_unit(unit)
    if parsed is None:
        raise ValueError(f"{unit!r} is not a lab unit riskplan can convert to")
    return parsed


def unit_factor(record_unit: str | None, target: str) -> float | None:
    """Multiply a value in ``record_unit`` by this to express it in ``target``.

    None when the unit cannot be read or is of another kind: the value is not converted. A missing unit
    (None or blank) gives 1.0: the value is taken to be in ``target`` (callers count and report it)."""
    return convert_unit(record_unit, target)[0]


def convert_unit(record_unit: str | None, target: str) -> tuple[float | None, str]:
    """The factor from ``record_unit`` to ``target`` and, when there is none, why not."""
    goal = target_unit(target)
    if record_unit is None or not record_unit.strip():
        return 1.0, ""
    parsed = parse_unit(record_unit, goal.kind)
    if parsed is None:
        return None, "unknown unit"
    factor = parsed.factor_to(goal)
    if factor is None:
        return None, f"a {parsed.kind.value}, not a {goal.kind.value}"
    return factor, ""


@dataclass(frozen=True)
class UnitCount:
    """The values of one analyte written in one unit, and how they convert."""

    unit: str | None  # as written; None = no unit
    values: int
    factor: float | None  # None = not converted
    why_not: str = ""  # why it is not converted


@dataclass(frozen=True)
class UnitConversion:
    """How an analyte's values in a CDM convert to the analysis unit, unit by unit."""

    analyte: str
    target: str
    units: tuple[UnitCount, ...]

    def factor_sql(self, column: str) -> str:
        """A SQL CASE giving each row's factor from its raw unit; NULL when not converted."""
        groups: dict[float, list[str]] = {}
        for u in self.units:
            if u.factor is not None and u.unit is not None and u.unit.strip():
                groups.setdefault(u.factor, []).append(u.unit)
        whens = [f"WHEN {column} IS NULL OR trim({column}) = '' THEN 1.0"]
        for factor, spellings in groups.items():
            quoted = ", ".join("'" + s.replace("'", "''") + "'" for s in sorted(spellings))
            whens.append(f"WHEN {column} IN ({quoted}) THEN {factor!r}")
        return f"(CASE {' '.join(whens)} ELSE NULL END)"

    def not_converted(self) -> tuple[UnitCount, ...]:
        return tuple(u for u in self.units if u.factor is None)

    def without_unit(self) -> int:
        return sum(u.values for u in self.units if u.unit is None or not u.unit.strip())

    def notes(self) -> list[str]:
        """What the study must say: values left out per unit, values taken to be in the analysis unit."""
        out = [
            f"{self.analyte}: {u.values:,} value(s) in {u.unit!r} not converted to {self.target} "
            f"({u.why_not}) and left out"
            for u in self.not_converted()
        ]
        missing = self.without_unit()
        if missing:
            out.append(f"{self.analyte}: {missing:,} value(s) without a unit taken to be in {self.target}")
        return out

    def rows(self) -> list[tuple[object, ...]]:
        return [
            (self.analyte, u.unit or "(no unit)", u.values, self.target, u.factor, "yes" if u.factor else "no")
            for u in self.units
        ]


UNIT_TABLE_COLUMNS: Final = ("analyte", "unit", "values", "converted_to", "factor", "converted")


def unit_conversion(cdm: Cdm, concept_table: str, analyte: str, target: str) -> UnitConversion:
    """The units the CDM's measurements of ``concept_table``'s concepts are written in, with their factors."""
    rows = cdm.rows(
        f"SELECT unit_source_value, count(*) FROM measurement "
        f"WHERE measurement_concept_id IN (SELECT concept_id FROM {concept_table}) AND value_as_number IS NOT NULL "
        f"GROUP BY unit_source_value ORDER BY count(*) DESC, unit_source_value"
    )
    units = tuple(UnitCount(r[0], int(r[1]), *convert_unit(r[0], target)) for r in rows)
    return UnitConversion(analyte, target, units)
