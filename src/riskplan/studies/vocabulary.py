"""The concepts the NMOSD studies use, and how the plan's words (substances, MedDRA PTs, lab analytes)
map onto them.

Standard OMOP concept ids are used where they could be checked here: RxNorm ingredients found in the
OHDSI Eunomia vocabulary (prednisone 1551099, hydrocortisone 975125, diphenhydramine 1129625, cetirizine
1149196, acetaminophen 1125315, methotrexate 1305058, cyclosporine 19010482) or in public OHDSI mapping
tables (azathioprine 19014878, mycophenolate mofetil 19003999), and rituximab 1314273 (the id used in
public OHDSI biologic concept lists; check in Athena before regulatory use). Gender: 8507 male, 8532
female. Everything else is a *local* concept, id >= 2,000,000,000 (the OMOP range reserved for local
concepts), vocabulary ``riskplan-local``, with the MedDRA PT, LOINC-like code or substance it stands for
as ``concept_code``. Map these to standard concepts of your vocabulary before running on real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

LOCAL_CONCEPT_MIN: Final = 2_000_000_000
LOCAL_VOCABULARY: Final = "riskplan-local"

MALE: Final = 8507
FEMALE: Final = 8532


@dataclass(frozen=True)
class VocabConcept:
    concept_id: int
    name: str
    domain: str
    vocabulary: str
    concept_class: str
    code: str
    parent: int | None = None

    @property
    def is_local(self) -> bool:
        return self.concept_id >= LOCAL_CONCEPT_MIN


def _local(offset: int) -> int:
    return LOCAL_CONCEPT_MIN + offset


# --- drugs: ingredients ---------------------------------------------------------------------------
INEBILIZUMAB = _local(1)
ECULIZUMAB = _local(2)
SATRALIZUMAB = _local(3)
METHYLPREDNISOLONE = _local(10)
RITUXIMAB = 1314273
AZATHIOPRINE = 19014878
MYCOPHENOLATE_MOFETIL = 19003999
PREDNISONE = 1551099
DIPHENHYDRAMINE = 1129625
CETIRIZINE = 1149196
ACETAMINOPHEN = 1125315

# --- conditions (local; concept_code = MedDRA PT or grouping) ----------------------------------------
NMOSD = _local(1_001)
INFUSION_REACTION = _local(1_010)
ANAPHYLAXIS = _local(1_011)
HYPERSENSITIVITY = _local(1_012)
CYTOKINE_RELEASE = _local(1_013)
SERIOUS_INFECTION = _local(1_020)
PNEUMONIA = _local(1_021)
SEPSIS = _local(1_022)
PYELONEPHRITIS = _local(1_023)
HERPES_ZOSTER = _local(1_024)
HBV_REACTIVATION = _local(1_025)
PJP = _local(1_026)
TUBERCULOSIS = _local(1_027)
CMV_REACTIVATION = _local(1_028)
PML = _local(1_030)
JC_VIRUS_INFECTION = _local(1_031)
MALIGNANCY = _local(1_040)
BREAST_CANCER = _local(1_041)
LYMPHOMA = _local(1_042)
COLORECTAL_CANCER = _local(1_043)
SKIN_CANCER = _local(1_044)
NEUTROPENIA = _local(1_050)
FEBRILE_NEUTROPENIA = _local(1_051)
AGRANULOCYTOSIS = _local(1_052)
HYPERTENSION = _local(1_060)
DIABETES = _local(1_061)
DEPRESSION = _local(1_062)
SLE = _local(1_063)

# --- measurements (local, LOINC-like codes) ---------------------------------------------------------
NEUTROPHILS = _local(2_001)
LYMPHOCYTES = _local(2_002)
CD19_B_CELLS = _local(2_003)
IGG = _local(2_004)
BIRTH_WEIGHT = _local(2_010)

# --- pregnancy observations (local) -----------------------------------------------------------------
PREGNANCY_START = _local(3_001)
LIVE_BIRTH = _local(3_010)
SPONTANEOUS_ABORTION = _local(3_011)
STILLBIRTH = _local(3_012)
ELECTIVE_TERMINATION = _local(3_013)
INFANT_SEX = _local(3_020)
MAJOR_CONGENITAL_MALFORMATION = _local(3_030)
REGISTRY_ENROLMENT = _local(3_040)

# --- other substances of the plan (local unless checked above) --------------------------------------
_OTHER_SUBSTANCES: Final[dict[str, int]] = {
    "mycophenolic acid": _local(20),
    "methotrexate": 1305058,
    "tacrolimus": _local(21),
    "ciclosporin": 19010482,
    "cyclophosphamide": _local(22),
    "mitoxantrone": _local(23),
    "ravulizumab": _local(24),
    "tocilizumab": _local(25),
    "prednisolone": _local(26),
    "dexamethasone": _local(27),
    "hydrocortisone": 975125,
}

SUBSTANCES: Final[dict[str, int]] = {
    "inebilizumab": INEBILIZUMAB,
    "rituximab": RITUXIMAB,
    "eculizumab": ECULIZUMAB,
    "satralizumab": SATRALIZUMAB,
    "azathioprine": AZATHIOPRINE,
    "mycophenolate mofetil": MYCOPHENOLATE_MOFETIL,
    "methylprednisolone": METHYLPREDNISOLONE,
    "prednisone": PREDNISONE,
    "diphenhydramine": DIPHENHYDRAMINE,
    "cetirizine": CETIRIZINE,
    "acetaminophen": ACETAMINOPHEN,
    **_OTHER_SUBSTANCES,
}
"""Substance name (as the plan writes it) -> ingredient concept id."""

PREMEDICATION_CLASSES: Final[dict[str, tuple[int, ...]]] = {
    "corticosteroid": (
        METHYLPREDNISOLONE,
        PREDNISONE,
        _OTHER_SUBSTANCES["prednisolone"],
        _OTHER_SUBSTANCES["dexamethasone"],
        _OTHER_SUBSTANCES["hydrocortisone"],
    ),
    "antihistamine": (DIPHENHYDRAMINE, CETIRIZINE),
    "antipyretic": (ACETAMINOPHEN,),
}
"""Premedication before each inebilizumab infusion (SmPC 4.2: corticosteroid, antihistamine, antipyretic)."""

PT_CONCEPTS: Final[dict[str, int]] = {
    "infusion related reaction": INFUSION_REACTION,
    "hypersensitivity": HYPERSENSITIVITY,
    "anaphylactic reaction": ANAPHYLAXIS,
    "anaphylactic shock": ANAPHYLAXIS,
    "cytokine release syndrome": CYTOKINE_RELEASE,
    "neutropenia": NEUTROPENIA,
    "neutrophil count decreased": NEUTROPENIA,
    "febrile neutropenia": FEBRILE_NEUTROPENIA,
    "agranulocytosis": AGRANULOCYTOSIS,
    "hepatitis b reactivation": HBV_REACTIVATION,
    "herpes zoster": HERPES_ZOSTER,
    "cytomegalovirus infection reactivation": CMV_REACTIVATION,
    "pneumocystis jirovecii pneumonia": PJP,
    "tuberculosis": TUBERCULOSIS,
    "progressive multifocal leukoencephalopathy": PML,
    "jc virus infection": JC_VIRUS_INFECTION,
}
"""MedDRA PT (lower case) -> condition concept id (its descendants count too)."""

SOC_CONCEPTS: Final[dict[str, int]] = {
    "infections and infestations": SERIOUS_INFECTION,
    "neoplasms benign, malignant and unspecified (incl cysts and polyps)": MALIGNANCY,
}
"""MedDRA SOC -> grouping concept. The infections grouping holds serious infections only (the plan's
``serious_only`` definition), so it stands for serious reactions in the SOC."""


@dataclass(frozen=True)
class LabAnalyte:
    name: str
    concept_id: int
    unit: str
    default_lln: float
    lln_source: str


LAB_ANALYTES: Final[dict[str, LabAnalyte]] = {
    "neutrophil count": LabAnalyte(
        "neutrophil count",
        NEUTROPHILS,
        "10^9/L",
        2.0,
        "typical adult reference range 2.0-7.5 x10^9/L; the record's range_low is used when present",
    ),
    "lymphocyte count": LabAnalyte(
        "lymphocyte count",
        LYMPHOCYTES,
        "10^9/L",
        1.0,
        "typical adult reference range 1.0-4.0 x10^9/L; the record's range_low is used when present",
    ),
    "cd19 b-cell count": LabAnalyte(
        "CD19 B-cell count",
        CD19_B_CELLS,
        "cells/uL",
        80.0,
        "typical adult CD19+ reference range about 80-500 cells/uL (laboratory-specific); range_low used when present",
    ),
    "igg": LabAnalyte(
        "IgG",
        IGG,
        "g/L",
        7.0,
        "hypogammaglobulinaemia threshold 7 g/L (common adult LLN); range_low used when present",
    ),
}


def _c(
    cid: int, name: str, domain: str, cls: str, code: str, parent: int | None = None, vocabulary: str | None = None
) -> VocabConcept:
    vocab = vocabulary or (LOCAL_VOCABULARY if cid >= LOCAL_CONCEPT_MIN else "RxNorm")
    return VocabConcept(cid, name, domain, vocab, cls, code, parent)


CONCEPTS: Final[tuple[VocabConcept, ...]] = (
    _c(INEBILIZUMAB, "inebilizumab", "Drug", "Ingredient", "inebilizumab"),
    _c(RITUXIMAB, "rituximab", "Drug", "Ingredient", "121191"),
    _c(ECULIZUMAB, "eculizumab", "Drug", "Ingredient", "eculizumab"),
    _c(SATRALIZUMAB, "satralizumab", "Drug", "Ingredient", "satralizumab"),
    _c(AZATHIOPRINE, "azathioprine", "Drug", "Ingredient", "1256"),
    _c(MYCOPHENOLATE_MOFETIL, "mycophenolate mofetil", "Drug", "Ingredient", "68149"),
    _c(METHYLPREDNISOLONE, "methylprednisolone", "Drug", "Ingredient", "methylprednisolone"),
    _c(PREDNISONE, "Prednisone", "Drug", "Ingredient", "8640"),
    _c(DIPHENHYDRAMINE, "Diphenhydramine", "Drug", "Ingredient", "3498"),
    _c(CETIRIZINE, "Cetirizine", "Drug", "Ingredient", "20610"),
    _c(ACETAMINOPHEN, "Acetaminophen", "Drug", "Ingredient", "161"),
    *(_c(cid, name, "Drug", "Ingredient", name) for name, cid in _OTHER_SUBSTANCES.items() if cid >= LOCAL_CONCEPT_MIN),
    # clinical drugs (local), descendants of their ingredient
    _c(_local(101), "inebilizumab 100 MG in 10 ML Injection", "Drug", "Clinical Drug", "ineb-100", INEBILIZUMAB),
    _c(_local(102), "rituximab 10 MG/ML Injectable Solution", "Drug", "Clinical Drug", "ritux-10", RITUXIMAB),
    _c(_local(103), "eculizumab 10 MG/ML Injectable Solution", "Drug", "Clinical Drug", "ecu-10", ECULIZUMAB),
    _c(_local(104), "satralizumab 120 MG/ML Prefilled Syringe", "Drug", "Clinical Drug", "satra-120", SATRALIZUMAB),
    _c(_local(105), "azathioprine 50 MG Oral Tablet", "Drug", "Clinical Drug", "aza-50", AZATHIOPRINE),
    _c(
        _local(106),
        "mycophenolate mofetil 500 MG Oral Tablet",
        "Drug",
        "Clinical Drug",
        "mmf-500",
        MYCOPHENOLATE_MOFETIL,
    ),
    _c(_local(107), "methylprednisolone 100 MG Injection", "Drug", "Clinical Drug", "mp-100", METHYLPREDNISOLONE),
    _c(_local(108), "diphenhydramine 25 MG Oral Tablet", "Drug", "Clinical Drug", "dph-25", DIPHENHYDRAMINE),
    _c(_local(109), "acetaminophen 1000 MG Oral Tablet", "Drug", "Clinical Drug", "apap-1000", ACETAMINOPHEN),
    _c(_local(110), "prednisone 20 MG Oral Tablet", "Drug", "Clinical Drug", "pred-20", PREDNISONE),
    # conditions
    _c(NMOSD, "Neuromyelitis optica spectrum disorder", "Condition", "Clinical Finding", "NMOSD"),
    _c(INFUSION_REACTION, "Infusion related reaction", "Condition", "Clinical Finding", "Infusion related reaction"),
    _c(
        ANAPHYLAXIS,
        "Anaphylactic reaction",
        "Condition",
        "Clinical Finding",
        "Anaphylactic reaction",
        INFUSION_REACTION,
    ),
    _c(HYPERSENSITIVITY, "Hypersensitivity", "Condition", "Clinical Finding", "Hypersensitivity"),
    _c(CYTOKINE_RELEASE, "Cytokine release syndrome", "Condition", "Clinical Finding", "Cytokine release syndrome"),
    _c(SERIOUS_INFECTION, "Serious infection", "Condition", "Grouping", "Infections and infestations (serious)"),
    _c(PNEUMONIA, "Pneumonia (serious)", "Condition", "Clinical Finding", "Pneumonia", SERIOUS_INFECTION),
    _c(SEPSIS, "Sepsis", "Condition", "Clinical Finding", "Sepsis", SERIOUS_INFECTION),
    _c(PYELONEPHRITIS, "Pyelonephritis", "Condition", "Clinical Finding", "Pyelonephritis", SERIOUS_INFECTION),
    _c(HERPES_ZOSTER, "Herpes zoster (serious)", "Condition", "Clinical Finding", "Herpes zoster", SERIOUS_INFECTION),
    _c(
        HBV_REACTIVATION,
        "Hepatitis B reactivation",
        "Condition",
        "Clinical Finding",
        "Hepatitis B reactivation",
        SERIOUS_INFECTION,
    ),
    _c(
        PJP,
        "Pneumocystis jirovecii pneumonia",
        "Condition",
        "Clinical Finding",
        "Pneumocystis jirovecii pneumonia",
        SERIOUS_INFECTION,
    ),
    _c(TUBERCULOSIS, "Tuberculosis", "Condition", "Clinical Finding", "Tuberculosis", SERIOUS_INFECTION),
    _c(
        CMV_REACTIVATION,
        "Cytomegalovirus infection reactivation",
        "Condition",
        "Clinical Finding",
        "Cytomegalovirus infection reactivation",
        SERIOUS_INFECTION,
    ),
    _c(
        PML,
        "Progressive multifocal leukoencephalopathy",
        "Condition",
        "Clinical Finding",
        "Progressive multifocal leukoencephalopathy",
        SERIOUS_INFECTION,
    ),
    _c(
        JC_VIRUS_INFECTION,
        "JC virus infection",
        "Condition",
        "Clinical Finding",
        "JC virus infection",
        SERIOUS_INFECTION,
    ),
    _c(MALIGNANCY, "Malignant neoplasm", "Condition", "Grouping", "Neoplasms malignant"),
    _c(BREAST_CANCER, "Breast cancer", "Condition", "Clinical Finding", "Breast cancer", MALIGNANCY),
    _c(LYMPHOMA, "Lymphoma", "Condition", "Clinical Finding", "Lymphoma", MALIGNANCY),
    _c(COLORECTAL_CANCER, "Colorectal cancer", "Condition", "Clinical Finding", "Colorectal cancer", MALIGNANCY),
    _c(SKIN_CANCER, "Basal cell carcinoma", "Condition", "Clinical Finding", "Basal cell carcinoma", MALIGNANCY),
    _c(NEUTROPENIA, "Neutropenia", "Condition", "Clinical Finding", "Neutropenia"),
    _c(FEBRILE_NEUTROPENIA, "Febrile neutropenia", "Condition", "Clinical Finding", "Febrile neutropenia", NEUTROPENIA),
    _c(AGRANULOCYTOSIS, "Agranulocytosis", "Condition", "Clinical Finding", "Agranulocytosis", NEUTROPENIA),
    _c(HYPERTENSION, "Essential hypertension", "Condition", "Clinical Finding", "Hypertension"),
    _c(DIABETES, "Type 2 diabetes mellitus", "Condition", "Clinical Finding", "Type 2 diabetes mellitus"),
    _c(DEPRESSION, "Depressive disorder", "Condition", "Clinical Finding", "Depression"),
    _c(SLE, "Systemic lupus erythematosus", "Condition", "Clinical Finding", "Systemic lupus erythematosus"),
    # measurements
    _c(NEUTROPHILS, "Neutrophils [#/volume] in Blood", "Measurement", "Lab Test", "751-8 (LOINC-like)"),
    _c(LYMPHOCYTES, "Lymphocytes [#/volume] in Blood", "Measurement", "Lab Test", "731-0 (LOINC-like)"),
    _c(CD19_B_CELLS, "CD19 B cells [#/volume] in Blood", "Measurement", "Lab Test", "CD19-abs (LOINC-like)"),
    _c(IGG, "IgG [Mass/volume] in Serum or Plasma", "Measurement", "Lab Test", "2465-3 (LOINC-like)"),
    _c(BIRTH_WEIGHT, "Body weight at birth", "Measurement", "Clinical Observation", "8339-4 (LOINC-like)"),
    # pregnancy
    _c(
        PREGNANCY_START,
        "Pregnancy start (first day of last menstrual period)",
        "Observation",
        "Clinical Observation",
        "LMP",
    ),
    _c(LIVE_BIRTH, "Live birth", "Observation", "Clinical Finding", "Live birth"),
    _c(SPONTANEOUS_ABORTION, "Spontaneous abortion", "Observation", "Clinical Finding", "Spontaneous abortion"),
    _c(STILLBIRTH, "Stillbirth", "Observation", "Clinical Finding", "Stillbirth"),
    _c(
        ELECTIVE_TERMINATION,
        "Elective termination of pregnancy",
        "Observation",
        "Clinical Finding",
        "Elective termination",
    ),
    _c(INFANT_SEX, "Sex of infant", "Observation", "Clinical Observation", "Infant sex"),
    _c(
        MAJOR_CONGENITAL_MALFORMATION,
        "Major congenital malformation in offspring",
        "Observation",
        "Clinical Finding",
        "MCM",
    ),
    _c(REGISTRY_ENROLMENT, "Pregnancy registry enrolment", "Observation", "Clinical Observation", "Enrolment"),
)


def concept_rows() -> list[tuple[int, str, str, str, str, str, str]]:
    """Rows for a ``concept`` table: (concept_id, name, domain, vocabulary, class, standard, code)."""
    return [(c.concept_id, c.name, c.domain, c.vocabulary, c.concept_class, "S", c.code) for c in CONCEPTS]


def ancestor_rows() -> list[tuple[int, int, int, int]]:
    """Rows for ``concept_ancestor``: every concept is its own ancestor (level 0) and its parent's chain."""
    parents = {c.concept_id: c.parent for c in CONCEPTS}
    rows: list[tuple[int, int, int, int]] = []
    for cid in parents:
        rows.append((cid, cid, 0, 0))
        level, current = 0, parents[cid]
        while current is not None:
            level += 1
            rows.append((current, cid, level, level))
            current = parents.get(current)
    return rows


def product_of(ingredient: int) -> int:
    """The local clinical-drug concept the synthetic data records for an ingredient."""
    for c in CONCEPTS:
        if c.parent == ingredient and c.domain == "Drug":
            return c.concept_id
    return ingredient
