"""The causality scales a safety physician assesses a drug-reaction pair by: WHO-UMC and Naranjo.

* WHO-UMC (the Uppsala Monitoring Centre's system for standardised case causality assessment): six
  categories, from certain to unassessable/unclassifiable.
* Naranjo (Naranjo CA et al., "A method for estimating the probability of adverse drug reactions",
  Clin Pharmacol Ther 1981;30:239-245): ten questions answered yes, no or do not know; the weights of
  the answers add up to a score from -4 to 13, read as definite (9 or more), probable (5 to 8),
  possible (1 to 4) or doubtful (0 or less).

Both are written to E2B(R3) as text: G.k.9.i.2.r.2 (method) and G.k.9.i.2.r.3 (result) are free text,
so :func:`result_text` and :func:`read_result` fix one spelling that is written and read back.
No database here: the functions are the scales themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from riskplan.errors import UserInputError

__all__ = [
    "NARANJO_QUESTIONS",
    "Method",
    "NaranjoAnswer",
    "NaranjoCategory",
    "NaranjoQuestion",
    "ReadResult",
    "WhoUmc",
    "naranjo_category",
    "naranjo_score",
    "parse_method",
    "parse_naranjo_answers",
    "parse_who_umc",
    "read_result",
    "result_text",
]


class Method(StrEnum):
    """G.k.9.i.2.r.2 Method of assessment, as written to E2B(R3)."""

    WHO_UMC = "WHO-UMC"
    NARANJO = "Naranjo"


class WhoUmc(StrEnum):
    """WHO-UMC causality categories (stored by their first word)."""

    CERTAIN = "certain"
    PROBABLE = "probable"
    POSSIBLE = "possible"
    UNLIKELY = "unlikely"
    CONDITIONAL = "conditional"
    UNASSESSABLE = "unassessable"

    @property
    def label(self) -> str:
        """The category as the WHO-UMC system names it."""
        return WHO_UMC_LABELS[self]


WHO_UMC_LABELS: Final[dict[WhoUmc, str]] = {
    WhoUmc.CERTAIN: "Certain",
    WhoUmc.PROBABLE: "Probable/likely",
    WhoUmc.POSSIBLE: "Possible",
    WhoUmc.UNLIKELY: "Unlikely",
    WhoUmc.CONDITIONAL: "Conditional/unclassified",
    WhoUmc.UNASSESSABLE: "Unassessable/unclassifiable",
}
_WHO_UMC_WORDS: Final[dict[str, WhoUmc]] = {
    "certain": WhoUmc.CERTAIN,
    "probable": WhoUmc.PROBABLE,
    "likely": WhoUmc.PROBABLE,
    "possible": WhoUmc.POSSIBLE,
    "unlikely": WhoUmc.UNLIKELY,
    "conditional": WhoUmc.CONDITIONAL,
    "unclassified": WhoUmc.CONDITIONAL,
    "unassessable": WhoUmc.UNASSESSABLE,
    "unclassifiable": WhoUmc.UNASSESSABLE,
}


class NaranjoAnswer(StrEnum):
    YES = "yes"
    NO = "no"
    DO_NOT_KNOW = "dk"


class NaranjoCategory(StrEnum):
    DEFINITE = "definite"
    PROBABLE = "probable"
    POSSIBLE = "possible"
    DOUBTFUL = "doubtful"


@dataclass(frozen=True)
class NaranjoQuestion:
    number: int
    text: str
    yes: int
    no: int
    do_not_know: int = 0

    @property
    def weights(self) -> str:
        """The weights as a reader checks them: ``yes +2, no -1, dk 0``."""
        return ", ".join(f"{a} {w:+d}" if w else f"{a} 0" for a, w in (("yes", self.yes), ("no", self.no), ("dk", 0)))

    def weight(self, answer: NaranjoAnswer) -> int:
        return {NaranjoAnswer.YES: self.yes, NaranjoAnswer.NO: self.no}.get(answer, self.do_not_know)


# Naranjo et al. 1981, Table 1: the questions and the weight of each answer (do not know always 0).
NARANJO_QUESTIONS: Final[tuple[NaranjoQuestion, ...]] = (
    NaranjoQuestion(1, "Are there previous conclusive reports on this reaction?", 1, 0),
    NaranjoQuestion(2, "Did the adverse event appear after the suspected drug was administered?", 2, -1),
    NaranjoQuestion(
        3,
        "Did the adverse reaction improve when the drug was discontinued or a specific antagonist was administered?",
        1,
        0,
    ),
    NaranjoQuestion(4, "Did the adverse reaction reappear when the drug was readministered?", 2, -1),
    NaranjoQuestion(
        5, "Are there alternative causes (other than the drug) that could on their own have caused the reaction?", -1, 2
    ),
    NaranjoQuestion(6, "Did the reaction reappear when a placebo was given?", -1, 1),
    NaranjoQuestion(
        7, "Was the drug detected in the blood (or other fluids) in concentrations known to be toxic?", 1, 0
    ),
    NaranjoQuestion(
        8, "Was the reaction more severe when the dose was increased, or less severe when the dose was decreased?", 1, 0
    ),
    NaranjoQuestion(
        9, "Did the patient have a similar reaction to the same or similar drugs in any previous exposure?", 1, 0
    ),
    NaranjoQuestion(10, "Was the adverse event confirmed by any objective evidence?", 1, 0),
)

_ANSWER_WORDS: Final[dict[str, NaranjoAnswer]] = {
    "yes": NaranjoAnswer.YES,
    "y": NaranjoAnswer.YES,
    "no": NaranjoAnswer.NO,
    "n": NaranjoAnswer.NO,
    "dk": NaranjoAnswer.DO_NOT_KNOW,
    "?": NaranjoAnswer.DO_NOT_KNOW,
    "unknown": NaranjoAnswer.DO_NOT_KNOW,
    "do not know": NaranjoAnswer.DO_NOT_KNOW,
    "don't know": NaranjoAnswer.DO_NOT_KNOW,
}


def parse_method(value: str) -> Method:
    """``who-umc`` / ``WHO-UMC`` / ``naranjo`` as a method; UserInputError naming the methods otherwise."""
    key = value.strip().lower().replace("_", "-").replace(" ", "-")
    for method in Method:
        if key == method.value.lower():
            return method
    if key in ("who", "whoumc"):
        return Method.WHO_UMC
    raise UserInputError(f"unknown method of assessment {value!r}: choose who-umc or naranjo")


def parse_who_umc(value: str) -> WhoUmc:
    """A WHO-UMC category by its name (``probable``, ``Probable/likely``, ``likely``...); UserInputError
    naming the categories otherwise."""
    key = value.strip().lower()
    found = _WHO_UMC_WORDS.get(key) or _WHO_UMC_WORDS.get(key.split("/")[0])
    if found is None:
        choices = ", ".join(c.value for c in WhoUmc)
        raise UserInputError(f"unknown WHO-UMC causality {value!r}: choose from {choices}")
    return found


def parse_naranjo_answers(value: str | list[str] | tuple[str, ...]) -> tuple[NaranjoAnswer, ...]:
    """Ten answers in question order, comma-separated (``yes,no,dk,...``; also ``y``, ``n``, ``?``,
    ``do not know``); UserInputError saying which answer is wrong or how many are missing."""
    items = [p.strip().lower() for p in (value.split(",") if isinstance(value, str) else value)]
    if len(items) != len(NARANJO_QUESTIONS):
        raise UserInputError(
            f"the Naranjo scale has {len(NARANJO_QUESTIONS)} questions; {len(items)} answer(s) given "
            "(give yes, no or dk for each, comma-separated, in question order)"
        )
    answers: list[NaranjoAnswer] = []
    for number, item in enumerate(items, start=1):
        answer = _ANSWER_WORDS.get(item)
        if answer is None:
            raise UserInputError(f"Naranjo question {number}: {item!r} is not an answer (yes, no or dk)")
        answers.append(answer)
    return tuple(answers)


def naranjo_score(answers: tuple[NaranjoAnswer, ...]) -> int:
    """The total of the answers' weights (Naranjo et al. 1981, Table 1): -4 to 13."""
    if len(answers) != len(NARANJO_QUESTIONS):
        raise UserInputError(f"the Naranjo scale needs {len(NARANJO_QUESTIONS)} answers, not {len(answers)}")
    return sum(q.weight(a) for q, a in zip(NARANJO_QUESTIONS, answers, strict=True))


def naranjo_category(score: int) -> NaranjoCategory:
    """Naranjo et al. 1981: 9 or more definite, 5 to 8 probable, 1 to 4 possible, 0 or less doubtful."""
    if score >= 9:
        return NaranjoCategory.DEFINITE
    if score >= 5:
        return NaranjoCategory.PROBABLE
    if score >= 1:
        return NaranjoCategory.POSSIBLE
    return NaranjoCategory.DOUBTFUL


def result_text(method: Method | str, result: str, score: int | None = None) -> str:
    """G.k.9.i.2.r.3 as written: the WHO-UMC label, or the Naranjo category with its score."""
    if method == Method.WHO_UMC:
        return parse_who_umc(result).label
    category = result.capitalize()
    return category if score is None else f"{category} (score {score})"


@dataclass(frozen=True)
class ReadResult:
    """A received G.k.9.i.2.r read as one of the scales (None: a method riskplan does not know)."""

    method: Method
    result: str
    score: int | None


_SCORE = re.compile(r"\(score\s*(-?\d+)\)", re.IGNORECASE)


def read_result(method: str | None, result: str | None) -> ReadResult | None:
    """A G.k.9.i.2.r method and result as text, read as WHO-UMC or Naranjo where they are one of them."""
    if not method or not result:
        return None
    key = method.strip().lower()
    if "who" in key and "umc" in key:
        try:
            return ReadResult(Method.WHO_UMC, parse_who_umc(result).value, None)
        except UserInputError:
            return None
    if "naranjo" in key:
        word = result.strip().split()[0].lower() if result.strip() else ""
        score = _SCORE.search(result)
        if word in {c.value for c in NaranjoCategory}:
            return ReadResult(Method.NARANJO, word, int(score.group(1)) if score else None)
    return None
