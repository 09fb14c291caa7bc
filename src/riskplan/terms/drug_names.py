"""Free-text drug names normalised to active ingredients without WHODrug.

Spontaneous reports name the same medicine in dozens of ways ("Celebrex 200mg caps", "CELECOXIB.",
"celecoxib capsules"); without a licensed drug dictionary riskplan maps them with what is at hand:

* the data's own ingredient field (FAERS ``prod_ai``) and the names it is reported with;
* the OMOP CDM vocabulary (RxNorm): every Ingredient concept, and every drug concept (Clinical / Branded
  Drug, Drug Form, Brand Name) mapped to its Ingredient ancestors through ``concept_ancestor``;
* the plan's own product list (product name -> active substance).

A name is mapped by the first route that finds it (:class:`Route`):

1. ``exact``: the name, case-folded and trimmed, is a known name;
2. ``normalised``: equal after :func:`normalise_drug_name` (punctuation, strengths, dosage-form words, release
   words and salt words stripped, brackets dropped);
3. ``fuzzy``: the normalised name scores at least ``threshold`` (default 90) against a normalised known name
   with :func:`rapidfuzz.fuzz.token_sort_ratio` (Levenshtein-based, 0-100); ties go to the name first in order;
4. ``unmapped``.

Fuzzy mappings are suggestions for review, never silent corrections: every result carries its route, the
known name it matched, the score and the source of the mapping.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from rapidfuzz import fuzz, process

from riskplan.errors import UserInputError

__all__ = [
    "DEFAULT_FUZZY_THRESHOLD",
    "DrugNameIndex",
    "MappedName",
    "Route",
    "fold_drug_name",
    "normalise_drug_name",
    "omop_ingredient_names",
]

DEFAULT_FUZZY_THRESHOLD = 90.0

# Dosage forms and release words (EDQM Standard Terms and RxNorm dose forms, in the words reporters use)
_FORM_WORDS = frozenset(
    [
        "tablet",
        "tablets",
        "tab",
        "tabs",
        "capsule",
        "capsules",
        "cap",
        "caps",
        "injection",
        "injectable",
        "inj",
        "solution",
        "soln",
        "suspension",
        "susp",
        "syrup",
        "elixir",
        "cream",
        "ointment",
        "gel",
        "lotion",
        "patch",
        "patches",
        "transdermal",
        "spray",
        "nasal",
        "inhaler",
        "inhalation",
        "aerosol",
        "powder",
        "drops",
        "drop",
        "eye",
        "ear",
        "oral",
        "topical",
        "vial",
        "vials",
        "ampoule",
        "ampoules",
        "infusion",
        "concentrate",
        "for",
        "intravenous",
        "iv",
        "subcutaneous",
        "sc",
        "intramuscular",
        "im",
        "pen",
        "prefilled",
        "syringe",
        "film",
        "coated",
        "filmcoated",
        "chewable",
        "dispersible",
        "effervescent",
        "orally",
        "disintegrating",
        "delayed",
        "extended",
        "modified",
        "prolonged",
        "release",
        "er",
        "xr",
        "sr",
        "cr",
        "dr",
        "la",
        "mr",
        "ec",
        "gastro",
        "resistant",
        "hard",
        "soft",
        "liquid",
        "pack",
        "kit",
        "unit",
        "dose",
        "dosage",
        "form",
        "product",
    ]
)
# Salt and ester words (stripped only when something else remains: "sodium chloride" stays)
_SALT_WORDS = frozenset(
    [
        "hydrochloride",
        "bisulfate",
        "bisulphate",
        "hcl",
        "dihydrochloride",
        "hydrobromide",
        "sodium",
        "potassium",
        "calcium",
        "magnesium",
        "phosphate",
        "sulfate",
        "sulphate",
        "maleate",
        "mesylate",
        "mesilate",
        "besylate",
        "besilate",
        "citrate",
        "tartrate",
        "bitartrate",
        "succinate",
        "acetate",
        "bromide",
        "chloride",
        "fumarate",
        "hyclate",
        "monohydrate",
        "dihydrate",
        "trihydrate",
        "anhydrous",
        "disodium",
        "dipropionate",
        "propionate",
        "valerate",
        "gluconate",
        "lactate",
        "nitrate",
        "oxalate",
        "pamoate",
        "stearate",
        "tosylate",
        "trometamol",
        "tromethamine",
    ]
)
_UNIT = (
    r"(?:mg|mcg|µg|ug|g|kg|ml|l|iu|units?|u|meq|mmol|%|mg/ml|mg/g|mcg/ml|mg/h|mcg/h|microgram|micrograms|milligrams?)"
)
_STRENGTH = re.compile(rf"\b\d+(?:[.,]\d+)?\s*{_UNIT}?(?:\s*/\s*\d*(?:[.,]\d+)?\s*{_UNIT})?(?=\s|$)")
_RXNORM_BRAND = re.compile(r"\[([^\]]+)\]\s*$")
_BRACKETS = re.compile(r"[\[(][^\])]*[\])]")
_PUNCTUATION = re.compile(r"[^\w\s/]+|_")


class Route(StrEnum):
    EXACT = "exact"
    NORMALISED = "normalised"
    FUZZY = "fuzzy"
    UNMAPPED = "unmapped"


def fold_drug_name(name: str) -> str:
    """Case-folded, accents kept, runs of blanks collapsed, trailing punctuation dropped."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", name)).strip().rstrip(".,;:!?").strip().casefold()


def normalise_drug_name(name: str) -> str:
    """The name reduced to its substance words: lower case, accents removed, bracketed text, strengths,
    dosage-form and release words, and salt words (unless nothing else is left) stripped."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = _BRACKETS.sub(" ", text)
    text = _STRENGTH.sub(" ", text)
    text = _PUNCTUATION.sub(" ", text.replace("/", " / "))
    words = [w for w in text.split() if w not in _FORM_WORDS and w != "/" and not w.isdigit()]
    kept = [w for w in words if w not in _SALT_WORDS]
    return " ".join(kept or words)


@dataclass(frozen=True)
class MappedName:
    """Where a name mapped: the route, the ingredients, the known name it matched, the score, the source."""

    name: str
    route: Route
    ingredients: tuple[str, ...] = ()
    matched: str | None = None
    score: float | None = None
    source: str | None = None


@dataclass
class DrugNameIndex:
    """Known names (ingredients and products) with their ingredients and the source of each mapping."""

    threshold: float = DEFAULT_FUZZY_THRESHOLD
    _exact: dict[str, tuple[tuple[str, ...], str, str]] = field(default_factory=dict)
    _normalised: dict[str, tuple[tuple[str, ...], str, str]] = field(default_factory=dict)
    _fuzzy_keys: list[str] | None = None

    def add(self, name: str, ingredients: Iterable[str], source: str) -> None:
        """Know ``name`` as having ``ingredients`` (from ``source``); the first mapping of a name wins."""
        found = tuple(dict.fromkeys(fold_drug_name(i) for i in ingredients if i and i.strip()))
        folded = fold_drug_name(name)
        if not folded or not found:
            return
        self._exact.setdefault(folded, (found, name, source))
        normalised = normalise_drug_name(name)
        if normalised:
            self._normalised.setdefault(normalised, (found, name, source))
        self._fuzzy_keys = None

    def __len__(self) -> int:
        return len(self._exact)

    def map(self, name: str) -> MappedName:
        """The first route (exact, normalised, fuzzy) that maps ``name``, else ``unmapped``."""
        folded = fold_drug_name(name)
        if folded in self._exact:
            ingredients, matched, source = self._exact[folded]
            return MappedName(name, Route.EXACT, ingredients, matched, 100.0, source)
        normalised = normalise_drug_name(name)
        if normalised in self._normalised:
            ingredients, matched, source = self._normalised[normalised]
            return MappedName(name, Route.NORMALISED, ingredients, matched, 100.0, source)
        if normalised:
            if self._fuzzy_keys is None:
                self._fuzzy_keys = list(self._normalised)
            best = process.extractOne(
                normalised, self._fuzzy_keys, scorer=fuzz.token_sort_ratio, score_cutoff=self.threshold
            )
            if best is not None:
                ingredients, matched, source = self._normalised[best[0]]
                return MappedName(name, Route.FUZZY, ingredients, matched, float(best[1]), source)
        return MappedName(name, Route.UNMAPPED)


def _csv_rows(path: Path) -> Iterable[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        header = fh.readline()
        fh.seek(0)
        delimiter = "\t" if header.count("\t") > header.count(",") else ","
        yield from csv.DictReader(fh, delimiter=delimiter)


def _id(value: str) -> int:
    """A concept id; some exports (Eunomia's CSV) write them as 4180628.0."""
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"concept id {value!r} is not a whole number")
    return int(number)


def _rxnorm_ingredient_part(part: str) -> str:
    """The ingredient words of one part of an RxNorm drug name: the words before its strength."""
    words: list[str] = []
    for word in part.split():
        if word[:1].isdigit() or word.startswith("{"):
            break
        words.append(word)
    return " ".join(words).casefold()


def omop_ingredient_names(folder: Path) -> dict[str, tuple[str, ...]]:
    """Every RxNorm drug name of an OMOP CDM vocabulary export (``concept.csv`` and ``concept_ancestor.csv``,
    comma- or tab-delimited, any case of the file names) mapped to its ingredient names.

    OMOP CDM v5.4: an RxNorm ``Ingredient`` concept is its own ingredient; other RxNorm / RxNorm Extension drug
    concepts map to their ``Ingredient`` ancestors (``concept_ancestor``), or, for a drug without any there, to
    the ingredients its RxNorm name starts with (RxNorm Technical Documentation, clinical drug names:
    "ingredient strength dose form", several ingredients joined by " / "). A Branded Drug's brand (in
    brackets at the end of its name) maps to the same ingredients. Invalid concepts are skipped.
    """
    files = {p.name.casefold(): p for p in folder.iterdir()} if folder.is_dir() else {}
    missing = [n for n in ("concept.csv", "concept_ancestor.csv") if n not in files]
    if missing:
        raise UserInputError(f"{folder}: no {', '.join(missing)}; give an OMOP CDM vocabulary folder (e.g. Eunomia's)")
    names: dict[int, str] = {}
    ingredients: set[int] = set()
    try:
        for row in _csv_rows(files["concept.csv"]):
            if row["vocabulary_id"] not in ("RxNorm", "RxNorm Extension") or row["domain_id"] != "Drug":
                continue
            if row.get("invalid_reason"):
                continue
            cid = _id(row["concept_id"])
            names[cid] = row["concept_name"]
            if row["concept_class_id"] == "Ingredient":
                ingredients.add(cid)
        mapping: dict[str, list[str]] = {names[i]: [names[i]] for i in ingredients}
        for row in _csv_rows(files["concept_ancestor.csv"]):
            ancestor, descendant = _id(row["ancestor_concept_id"]), _id(row["descendant_concept_id"])
            if ancestor in ingredients and descendant in names and descendant not in ingredients:
                mapping.setdefault(names[descendant], []).append(names[ancestor])
    except (KeyError, ValueError) as exc:
        raise UserInputError(f"{folder}: not an OMOP CDM vocabulary table ({exc})") from None
    # where concept_ancestor lacks a drug (Eunomia's extract does), RxNorm's naming convention gives its
    # ingredients: "ingredient strength unit dose form [brand]", several joined by " / "
    by_name = {names[i].casefold(): names[i] for i in ingredients}
    for cid, name in names.items():
        if cid in ingredients or name in mapping:
            continue
        parts = [by_name.get(_rxnorm_ingredient_part(part)) for part in _BRACKETS.sub("", name).split(" / ")]
        resolved = [p for p in parts if p is not None]
        if resolved and len(resolved) == len(parts):
            mapping[name] = resolved
    # RxNorm Branded Drug names end in their brand: "celecoxib 200 MG Oral Capsule [Celebrex]"
    for name, found in list(mapping.items()):
        brand = _RXNORM_BRAND.search(name)
        if brand is not None:
            mapping.setdefault(brand.group(1), []).extend(found)
    return {name: tuple(sorted(set(found))) for name, found in mapping.items()}


def plan_product_names(products: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """The plan's products (name -> active substance) as name -> ingredients ("a / b" splits)."""
    return {
        name: tuple(s.strip() for s in re.split(r"\s*(?:/|\+| and )\s*", substance))
        for name, substance in products.items()
    }
