"""Unit conversion for lab values as SQL: a factor from the record's ``unit_source_value`` to the
unit a criterion is written in (cell counts in 10^9/L or cells/uL; IgG in g/L or mg/dL).

Unknown or empty units are taken to be in the criterion's unit already (factor 1); studies say so in
their notes when records lack units.
"""

from __future__ import annotations

from typing import Final

_PER_L_9: Final = (
    "10^9/l",
    "10*9/l",
    "x10e9/l",
    "10e9/l",
    "giga/l",
    "g/l(cells)",
    "10^3/ul",
    "10*3/ul",
    "k/ul",
    "x10^9/l",
)
_PER_UL: Final = ("/ul", "cells/ul", "/mm3", "cells/mm3", "/µl", "cells/µl")
_G_L: Final = ("g/l",)
_MG_DL: Final = ("mg/dl",)


def _canon(unit: str) -> str:
    u = unit.strip().casefold().replace(" ", "")
    if u in _PER_L_9:
        return "10^9/l"
    if u in _PER_UL:
        return "/ul"
    if u in _G_L:
        return "g/l"
    if u in _MG_DL:
        return "mg/dl"
    return u


_FACTORS: Final[dict[tuple[str, str], float]] = {
    ("/ul", "10^9/l"): 0.001,
    ("10^9/l", "/ul"): 1000.0,
    ("mg/dl", "g/l"): 0.01,
    ("g/l", "mg/dl"): 100.0,
}


def unit_factor(record_unit: str | None, target_unit: str) -> float:
    """Multiply a value in ``record_unit`` by this to express it in ``target_unit``."""
    if not record_unit:
        return 1.0
    return _FACTORS.get((_canon(record_unit), _canon(target_unit)), 1.0)


def unit_factor_sql(column: str, target_unit: str) -> str:
    """A SQL CASE giving :func:`unit_factor` for each row's unit column."""
    target = _canon(target_unit)
    whens = []
    for (src, dst), factor in _FACTORS.items():
        if dst != target:
            continue
        spellings = {
            "/ul": _PER_UL,
            "10^9/l": _PER_L_9,
            "g/l": _G_L,
            "mg/dl": _MG_DL,
        }[src]
        quoted = ", ".join("'" + s.replace("'", "''") + "'" for s in spellings)
        whens.append(f"WHEN lower(replace({column}, ' ', '')) IN ({quoted}) THEN {factor!r}")
    if not whens:
        return "1.0"
    return f"(CASE {' '.join(whens)} ELSE 1.0 END)"
