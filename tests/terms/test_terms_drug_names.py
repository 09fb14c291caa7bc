"""Free-text drug names to ingredients without WHODrug: the normaliser, and the real Eunomia (OMOP CDM)
vocabulary's RxNorm drugs mapped to their ingredients (mappings known from the drugs' labels)."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskplan.terms import DrugNameIndex, Route, normalise_drug_name, omop_ingredient_names
from shared_data import missing_shared

EUNOMIA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eunomia_gibleed"


@pytest.mark.parametrize(
    ("reported", "normalised"),
    [
        ("Warfarin Sodium 5 MG Oral Tablet", "warfarin"),  # strength, form and salt stripped
        ("Sodium Chloride 0.9% injection", "sodium chloride"),  # a salt word alone is the substance
        ("CAFÉINE CITRATE", "cafeine"),  # accents dropped
        ("Amoxicillin 250mg/5ml susp.", "amoxicillin"),
        ("celecoxib 200 MG Oral Capsule [Celebrex]", "celecoxib"),  # the bracketed brand dropped
        ("Metformin HCl ER 500 mg tabs", "metformin"),
    ],
)
def test_names_are_normalised_to_their_substance_words(reported: str, normalised: str) -> None:
    assert normalise_drug_name(reported) == normalised


@pytest.fixture(scope="module")
def eunomia() -> dict[str, tuple[str, ...]]:
    if not (EUNOMIA / "concept.csv").is_file():
        missing_shared(f"{EUNOMIA} is absent (Eunomia GiBleed)")
    return omop_ingredient_names(EUNOMIA)


def test_eunomia_rxnorm_drugs_map_to_their_ingredients(eunomia: dict[str, tuple[str, ...]]) -> None:
    assert eunomia["celecoxib"] == ("celecoxib",)  # an Ingredient is its own
    assert eunomia["celecoxib 200 MG Oral Capsule [Celebrex]"] == ("celecoxib",)  # Branded Drug
    assert eunomia["Celebrex"] == ("celecoxib",)  # its brand
    assert eunomia["Acetaminophen 325 MG Oral Tablet"] == ("Acetaminophen",)  # Clinical Drug
    assert eunomia["NuvaRing"] == ("Ethinyl Estradiol", "Etonogestrel")  # two ingredients
    assert eunomia["Aricept"] == ("donepezil",)


def test_reported_names_map_by_route(eunomia: dict[str, tuple[str, ...]]) -> None:
    index = DrugNameIndex()
    for name, ingredients in eunomia.items():
        index.add(name, ingredients, "OMOP")
    exact = index.map("CELEBREX")
    assert (exact.route, exact.ingredients) == (Route.EXACT, ("celecoxib",))
    normalised = index.map("Celebrex 200mg caps")
    assert (normalised.route, normalised.ingredients) == (Route.NORMALISED, ("celecoxib",))
    fuzzy = index.map("celecoxb")  # one letter missing: Levenshtein ratio 2*8/17 = 94.1
    assert (fuzzy.route, fuzzy.ingredients, round(fuzzy.score or 0, 1)) == (Route.FUZZY, ("celecoxib",), 94.1)
    assert index.map("celecoxb").matched == "celecoxib"
    assert index.map("unknownium").route is Route.UNMAPPED
    strict = DrugNameIndex(threshold=95)
    for name, ingredients in eunomia.items():
        strict.add(name, ingredients, "OMOP")
    assert strict.map("celecoxb").route is Route.UNMAPPED
