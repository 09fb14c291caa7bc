"""Background incidence rates for standardised incidence ratios (SIR = observed / expected).

The shipped table ``studies/data/background_rates.csv`` has one row per outcome and stratum, with the
rate per 100 person-years, the population it describes, a citation, and whether the figure is
``published`` or ``illustrative`` (a placeholder to be replaced by a literature value before use).
Expected counts are person-years times the rate of the best matching stratum: (age group, sex), then
(age group, all), (all, sex), (all, all) — indirect standardisation (Breslow & Day 1987, vol. II, 2.3).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from riskplan.errors import UserInputError

_COLUMNS = ("outcome", "age_group", "sex", "rate_per_100py", "population", "evidence", "source")


@dataclass(frozen=True)
class BackgroundRate:
    outcome: str
    age_group: str
    sex: str
    rate_per_100py: float
    population: str
    evidence: str
    source: str


@dataclass(frozen=True)
class BackgroundRates:
    rates: tuple[BackgroundRate, ...]
    where: str

    def outcomes(self) -> list[str]:
        return sorted({r.outcome for r in self.rates})

    def best(self, outcome: str, age_group: str, sex: str) -> BackgroundRate | None:
        """The rate of the most specific stratum that matches (see module docstring)."""
        rows = [r for r in self.rates if r.outcome == outcome]
        for want in ((age_group, sex), (age_group, "all"), ("all", sex), ("all", "all")):
            for r in rows:
                if (r.age_group, r.sex) == want:
                    return r
        return None


def load_background_rates(path: Path | None = None) -> BackgroundRates:
    """The shipped table, or a CSV of the same columns."""
    if path is None:
        text = (resources.files("riskplan.studies") / "data" / "background_rates.csv").read_text(encoding="utf-8")
        where = "riskplan/studies/data/background_rates.csv"
    else:
        if not path.is_file():
            raise UserInputError(f"{path}: no such background-rate file")
        text = path.read_text(encoding="utf-8")
        where = str(path)
    reader = csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise UserInputError(f"{where}: missing column(s) {', '.join(missing)}; needs {', '.join(_COLUMNS)}")
    rates = []
    for i, row in enumerate(reader, start=2):
        try:
            rate = float(row["rate_per_100py"])
        except ValueError:
            raise UserInputError(
                f"{where} line {i}: rate_per_100py {row['rate_per_100py']!r} is not a number"
            ) from None
        rates.append(
            BackgroundRate(
                row["outcome"].strip(),
                row["age_group"].strip(),
                row["sex"].strip(),
                rate,
                row["population"].strip(),
                row["evidence"].strip(),
                row["source"].strip(),
            )
        )
    return BackgroundRates(tuple(rates), where)
