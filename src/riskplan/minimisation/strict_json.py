"""Strict JSON for patient records: parsed once, and every value JSON or Python would bend is refused.

The standard library accepts ``NaN`` and ``Infinity``, reads ``1e400`` as infinity, lets a repeated key
silently overwrite the first, converts a 5000-digit integer (or fails with a ``ValueError`` past 4300
digits) and overflows the stack on deeply nested arrays. For a record that decides whether an infusion
may go ahead none of that is acceptable (21 CFR 11.10(h): input checks), so :func:`load_strict_json`

* refuses ``NaN``, ``Infinity`` and ``-Infinity`` and numbers out of the range of a double,
* refuses integers longer than :data:`MAX_INTEGER_DIGITS` digits,
* refuses an object with a repeated key,
* refuses nesting deeper than :data:`MAX_DEPTH` levels (and catches the parser's ``RecursionError``),

and names where each problem is (``labs.0.value``), as the record's validation errors do.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

from riskplan.errors import UserInputError

MAX_DEPTH: Final = 32
"""A patient record is 4 levels deep (record > infusions > item > premedication > item); 32 is ample."""
MAX_INTEGER_DIGITS: Final = 15
"""No number in a patient record needs more digits than a double holds exactly."""
MAX_PROBLEMS: Final = 20


class _Refused:
    """A value the parser refused; reported with its path once the whole text is read."""

    def __init__(self, why: str) -> None:
        self.why = why


class _RepeatedKeys(dict[str, Any]):
    """An object in which some key appears more than once (the keys kept for the report)."""

    def __init__(self, pairs: list[tuple[str, Any]], repeated: list[str]) -> None:
        super().__init__(pairs)
        self.repeated = repeated


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _ in pairs:
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    return _RepeatedKeys(pairs, repeated)


def _constant(text: str) -> _Refused:
    return _Refused(f"{text} is not a number (JSON has no NaN or Infinity)")


def _float(text: str) -> float | _Refused:
    value = float(text)
    if not math.isfinite(value):
        return _Refused(f"{_short(text)} is out of range (larger than any number a record can hold)")
    return value


def _int(text: str) -> int | _Refused:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        return _Refused(f"an integer of {digits} digits is out of range (at most {MAX_INTEGER_DIGITS} digits)")
    return int(text)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:20] + "…" + text[-10:]


def _path(parts: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in parts) or "(top level)"


def _problems(data: Any) -> list[str]:
    """Each refused value, repeated key and too-deep nesting in ``data``, with its path (iteratively)."""
    problems: list[str] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack and len(problems) < MAX_PROBLEMS:
        path, value = stack.pop()
        if isinstance(value, _Refused):
            problems.append(f"{_path(path)}: {value.why}")
            continue
        if len(path) > MAX_DEPTH and isinstance(value, dict | list):
            problems.append(f"{_path(path[:MAX_DEPTH])}: nested deeper than {MAX_DEPTH} levels")
            continue
        if isinstance(value, _RepeatedKeys):
            keys = ", ".join(repr(k) for k in value.repeated)
            problems.append(f"{_path(path)}: key {keys} given more than once (which one is meant?)")
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
    return problems


def load_strict_json(text: str, where: str) -> Any:
    """Parse ``text`` as strict JSON; any problem is a :class:`UserInputError` naming where it is and why."""
    try:
        data = json.loads(text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{where}: not valid JSON: {exc}") from None
    except RecursionError:
        raise UserInputError(
            f"{where}: not a patient record: JSON nested too deeply to read (a record is at most "
            f"{MAX_DEPTH} levels deep)"
        ) from None
    problems = _problems(data)
    if problems:
        raise UserInputError(
            f"{where}: {len(problems)} problem(s) in the JSON:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return data
