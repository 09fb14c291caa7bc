"""Standardised MedDRA Queries (SMQs) of a MedDRA release: reading ``smq_list.asc`` and ``smq_content.asc``,
and the terms an SMQ stands for.

File layouts (MedDRA ASCII distribution file format document, "SMQ files"; ``$``-delimited like the rest):

================  ============================================================================
file              fields, in order
================  ============================================================================
smq_list.asc      smq_code, smq_name, smq_level, smq_description, smq_source, smq_note,
                  MedDRA_version, status, smq_algorithm                                 (9)
smq_content.asc   smq_code, term_code, term_level, term_scope, term_category, term_weight,
                  term_status, term_addition_version, term_last_modified_version        (9)
================  ============================================================================

``term_level`` is 4 for a PT, 5 for an LLT and 0 for a child SMQ of a hierarchical SMQ;
``term_scope`` is 2 narrow, 1 broad, 0 for a child SMQ; ``status`` / ``term_status`` are ``A`` (active)
or ``I`` (inactive); ``smq_algorithm`` is ``N`` for a non-algorithmic SMQ, else an expression over the
categories of the SMQ's terms such as ``A or (B and C)`` (MedDRA SMQ Introductory Guide: a narrow
search takes the narrow terms (category A), a broad search the narrow and broad terms, and for an
algorithmic SMQ the broad search keeps a case only when its terms meet the algorithm).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.terms.tables import NAME_LENGTH, MeddraLlt, MeddraSmq, MeddraSmqTerm
from riskplan.terms.text import fold_term

SMQ_FILES: Mapping[str, int] = {"smq_list.asc": 9, "smq_content.asc": 9}
NARROW, BROAD, CHILD = 2, 1, 0
_VERSION = re.compile(r"\d{1,3}\.\d{1,2}")
_TOKEN = re.compile(r"\s*(\(|\)|[A-Z]\b|and\b|or\b|not\b|AND\b|OR\b|NOT\b)")

Records = Callable[[str], list[tuple[int, list[str]]]]


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# --- the algorithm ----------------------------------------------------------------------------------


def algorithm_categories(algorithm: str) -> frozenset[str] | None:
    """The categories a boolean algorithm names, or None when it is not one riskplan evaluates
    (``N``, empty, or an algorithm with weights or counts such as "sum of weights >= 6")."""
    tokens = _tokens(algorithm)
    if tokens is None:
        return None
    return frozenset(t for t in tokens if len(t) == 1 and t.isupper())


def _tokens(algorithm: str) -> list[str] | None:
    text = algorithm.strip()
    if text in ("", "N"):
        return None
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            return None
        tokens.append(m.group(1) if len(m.group(1)) == 1 else m.group(1).lower())
        pos = m.end()
    try:
        _evaluate(tokens, frozenset())
    except ValueError:
        return None
    return tokens


def meets_algorithm(algorithm: str, categories: frozenset[str]) -> bool:
    """Whether a case whose terms fall in ``categories`` meets a boolean SMQ algorithm
    (``A or (B and C)``: "and" binds tighter than "or", as in the SMQ Introductory Guide's examples)."""
    tokens = _tokens(algorithm)
    if tokens is None:
        raise ValueError(f"{algorithm!r} is not a boolean SMQ algorithm")
    return _evaluate(tokens, categories)


def _evaluate(tokens: list[str], categories: frozenset[str]) -> bool:
    pos = 0

    def expr() -> bool:
        nonlocal pos
        value = term()
        while pos < len(tokens) and tokens[pos] == "or":
            pos += 1
            value = term() or value
        return value

    def term() -> bool:
        nonlocal pos
        value = factor()
        while pos < len(tokens) and tokens[pos] == "and":
            pos += 1
            value = factor() and value
        return value

    def factor() -> bool:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError("unexpected end")
        token = tokens[pos]
        pos += 1
        if token == "not":
            return not factor()
        if token == "(":
            value = expr()
            if pos >= len(tokens) or tokens[pos] != ")":
                raise ValueError("missing ')'")
            pos += 1
            return value
        if len(token) == 1 and token.isupper():
            return token in categories
        raise ValueError(f"unexpected {token!r}")

    result = expr()
    if pos != len(tokens):
        raise ValueError("trailing tokens")
    return result


# --- reading the files ------------------------------------------------------------------------------


@dataclass
class ParsedSmqs:
    smqs: dict[int, dict[str, Any]] = field(default_factory=dict)
    terms: list[dict[str, Any]] = field(default_factory=list)


def parse_smqs(
    records: Records,
    error: Callable[..., Exception],
    version: str,
    pts: Mapping[int, Any],
    llt_codes: set[int],
) -> ParsedSmqs:
    """Validate ``smq_list.asc`` and ``smq_content.asc`` against the release; raise ``error`` on the first
    problem (file, line, reason). ``records(file)`` gives each file's ``(line, fields)``."""
    out = ParsedSmqs()
    file = "smq_list.asc"
    lines: dict[int, int] = {}
    for line, f in records(file):
        code = _code(f[0], "smq_code", file, line, error)
        if code in lines:
            raise error(f"duplicate smq_code {code} (first on line {lines[code]})", file=file, line=line)
        lines[code] = line
        smq_name = f[1].strip()
        if not smq_name or len(smq_name) > NAME_LENGTH:
            raise error(f"smq_name must be 1 to {NAME_LENGTH} characters", file=file, line=line)
        if f[2] not in ("1", "2", "3", "4", "5"):
            raise error(f"smq_level {f[2]!r} must be 1 to 5", file=file, line=line)
        if f[6].strip() != version:
            raise error(
                f"MedDRA_version {f[6].strip()!r} differs from the release version {version}: the SMQ files "
                "belong to another release",
                file=file,
                line=line,
            )
        if f[7] not in ("A", "I"):
            raise error(f"status {f[7]!r} must be 'A' (active) or 'I' (inactive)", file=file, line=line)
        algorithm = f[8].strip() or "N"
        if len(algorithm) > 400:
            raise error("smq_algorithm is longer than 400 characters", file=file, line=line)
        out.smqs[code] = {
            "release_version": version,
            "smq_code": code,
            "smq_name": smq_name,
            "smq_name_folded": fold_term(smq_name),
            "smq_level": int(f[2]),
            "is_active": f[7] == "A",
            "algorithm": algorithm,
        }

    file = "smq_content.asc"
    seen: dict[tuple[int, int], int] = {}
    categories: dict[int, set[str]] = {}
    children: dict[int, set[int]] = {}
    for line, f in records(file):
        smq = _code(f[0], "smq_code", file, line, error)
        term = _code(f[1], "term_code", file, line, error)
        if smq not in out.smqs:
            raise error(f"smq_code {smq} is not in smq_list.asc", file=file, line=line)
        level = f[2]
        if level == "0":
            if term not in out.smqs:
                raise error(f"child SMQ {term} (term_level 0) is not in smq_list.asc", file=file, line=line)
            children.setdefault(smq, set()).add(term)
        elif level == "4":
            if term not in pts:
                raise error(f"PT {term} (term_level 4) is not in pt.asc", file=file, line=line)
        elif level == "5":
            if term not in llt_codes:
                raise error(f"LLT {term} (term_level 5) is not in llt.asc", file=file, line=line)
        else:
            raise error(f"term_level {level!r} must be 0 (child SMQ), 4 (PT) or 5 (LLT)", file=file, line=line)
        scope = f[3]
        if scope not in ("0", "1", "2") or (scope == "0") != (level == "0"):
            raise error(
                f"term_scope {scope!r} must be 2 (narrow) or 1 (broad) for a term, 0 for a child SMQ",
                file=file,
                line=line,
            )
        category = f[4].strip()
        if not re.fullmatch(r"[A-Z]", category):
            raise error(f"term_category {f[4]!r} must be one capital letter (A, B, ...)", file=file, line=line)
        weight = f[5].strip() or "0"
        if not weight.isascii() or not weight.isdigit():
            raise error(f"term_weight {f[5]!r} is not a whole number", file=file, line=line)
        if f[6] not in ("A", "I"):
            raise error(f"term_status {f[6]!r} must be 'A' (active) or 'I' (inactive)", file=file, line=line)
        for what, value in (("term_addition_version", f[7]), ("term_last_modified_version", f[8])):
            value = value.strip()
            if not _VERSION.fullmatch(value):
                raise error(f"{what} {value!r} is not a MedDRA version such as '27.1'", file=file, line=line)
            if version_key(value) > version_key(version):
                raise error(
                    f"{what} {value} is later than the release version {version}: the file belongs to another release",
                    file=file,
                    line=line,
                )
        first = seen.setdefault((smq, term), line)
        if first != line:
            raise error(f"duplicate term {term} of SMQ {smq} (first on line {first})", file=file, line=line)
        if level != "0":
            categories.setdefault(smq, set()).add(category)
        out.terms.append(
            {
                "release_version": version,
                "smq_code": smq,
                "term_code": term,
                "term_level": int(level),
                "scope": int(scope),
                "category": category,
                "weight": int(weight),
                "is_active": f[6] == "A",
                "added_in": f[7].strip(),
                "modified_in": f[8].strip(),
            }
        )
    # An algorithm may only name categories the SMQ has terms in (SMQ Introductory Guide 2.4).
    for code, smq_row in out.smqs.items():
        named = algorithm_categories(smq_row["algorithm"])
        missing = sorted((named or frozenset()) - categories.get(code, set()))
        if missing:
            raise error(
                f"the algorithm {smq_row['algorithm']!r} of SMQ {code} names categories {', '.join(missing)} "
                "that none of its terms in smq_content.asc has",
                file="smq_list.asc",
                line=lines[code],
            )
    _refuse_cycles(children, lines, error)
    return out


def _refuse_cycles(children: Mapping[int, set[int]], lines: Mapping[int, int], error: Callable[..., Exception]) -> None:
    state: dict[int, int] = {}

    def visit(code: int) -> None:
        state[code] = 1
        for child in children.get(code, ()):
            if state.get(child) == 1:
                raise error(f"SMQ {child} is its own ancestor through child SMQs", file="smq_content.asc")
            if child not in state:
                visit(child)
        state[code] = 2

    for code in children:
        if code not in state:
            visit(code)


def _code(value: str, what: str, file: str, line: int, error: Callable[..., Exception]) -> int:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        raise error(f"{what} {value!r} is not an 8-digit MedDRA code", file=file, line=line)
    return int(value)


# --- what an SMQ stands for ------------------------------------------------------------------------


@dataclass(frozen=True)
class SmqTerms:
    """The active terms of an SMQ (its child SMQs included) for one scope.

    ``pts`` and ``llts`` map each code to its category; ``algorithm`` is the boolean algorithm to apply
    case by case (only for a broad search of an algorithmic SMQ), else None.
    """

    code: int
    name: str
    scope: str  # "narrow" | "broad"
    pts: Mapping[int, str]
    llts: Mapping[int, str]
    algorithm: str | None
    algorithm_text: str  # as in smq_list.asc ("N" when not algorithmic)


def find_smq(session: Session, release: str, name_or_code: str) -> MeddraSmq | None:
    text = name_or_code.strip()
    stmt = select(MeddraSmq).where(MeddraSmq.release_version == release)
    if text.isascii() and text.isdigit():
        return session.scalars(stmt.where(MeddraSmq.smq_code == int(text))).first()
    return session.scalars(stmt.where(MeddraSmq.smq_name_folded == fold_term(text))).first()


def smq_terms(session: Session, release: str, smq: MeddraSmq, scope: str) -> SmqTerms:
    """The PTs and LLTs of ``smq`` in ``scope`` ("narrow": scope 2 only; "broad": 2 and 1), through its
    child SMQs, active terms only. A broad search of an algorithmic SMQ keeps its algorithm."""
    if scope not in ("narrow", "broad"):
        raise ValueError(scope)
    scopes = {NARROW} if scope == "narrow" else {NARROW, BROAD}
    rows = session.execute(
        select(
            MeddraSmqTerm.smq_code,
            MeddraSmqTerm.term_code,
            MeddraSmqTerm.term_level,
            MeddraSmqTerm.scope,
            MeddraSmqTerm.category,
            MeddraSmqTerm.is_active,
        ).where(MeddraSmqTerm.release_version == release)
    ).all()
    by_smq: dict[int, list[tuple[int, int, int, str, bool]]] = {}
    for s, t, lvl, sc, cat, active in rows:
        by_smq.setdefault(int(s), []).append((int(t), int(lvl), int(sc), str(cat), bool(active)))
    pts: dict[int, str] = {}
    llts: dict[int, str] = {}
    stack, done = [smq.smq_code], set()
    while stack:
        code = stack.pop()
        if code in done:
            continue
        done.add(code)
        for term, level, term_scope, category, active in by_smq.get(code, []):
            if level == 0:
                stack.append(term)
            elif active and term_scope in scopes:
                (pts if level == 4 else llts).setdefault(term, category)
    algorithm = smq.algorithm if scope == "broad" and algorithm_categories(smq.algorithm) is not None else None
    return SmqTerms(smq.smq_code, smq.smq_name, scope, pts, llts, algorithm, smq.algorithm)


def llt_pts(session: Session, release: str, llt_codes: set[int]) -> dict[int, int]:
    """The PT of each of ``llt_codes`` in ``release``."""
    if not llt_codes:
        return {}
    rows = session.execute(
        select(MeddraLlt.llt_code, MeddraLlt.pt_code).where(
            MeddraLlt.release_version == release, MeddraLlt.llt_code.in_(sorted(llt_codes))
        )
    )
    return {int(a): int(b) for a, b in rows}
