"""Tables behind :mod:`riskplan.cases.synth`: who reports UPLIZNA (inebilizumab) cases, from where, and what.

Every weight here is a *modelling choice* for a synthetic safety database, not a measured rate. Where a
public source ranks or sizes an event, the choice follows it; the source is named next to the number.

Sources
-------
* **USPI**: UPLIZNA (inebilizumab-cdon) US Prescribing Information.

  - 2.1 / 2.2: 300 mg IV on day 1 and day 15, then 300 mg every 6 months from the first infusion;
    pre-medication with a corticosteroid (methylprednisolone 80-125 mg IV), an antihistamine
    (diphenhydramine 25-50 mg orally) and an antipyretic (acetaminophen 500-650 mg orally).
  - 5.1: infusion reactions with the first course in 9.3% of patients (randomised period); signs
    include headache, nausea, somnolence, dyspnoea, fever, myalgia and rash; most common with the
    first infusion.
  - 5.2: the most common infections (randomised and open-label periods): urinary tract infection 20%,
    nasopharyngitis 13%, upper respiratory tract infection 8%, influenza 7%; HBV reactivation and PML
    are class risks of B-cell-depleting antibodies (no HBV reactivation seen with UPLIZNA).
  - 6.1 (randomised period): urinary tract infection 11%, arthralgia 10%, headache 8%, back pain 7%.

* **RMP**: the bundled plan ``plan/plans/uplizna.yaml`` (EU RMP summary): the nine safety concerns and
  the SmPC 4.8 reference safety information (neutropenia, lymphopenia, immunoglobulins decreased are
  expected; PML, malignancy and serious infections are important potential risks).

A spontaneous database is not a trial: reporters over-report serious and unexpected events and
under-report common mild ones, so the index-event weights below keep the label's *ranking* (UTI and
infusion reactions first, then nasopharyngitis, arthralgia, headache, back pain) while giving the
serious and special-interest events the larger share they have among reports. Rare risks are kept
rare: HBV reactivation ~1 in 850 cases, PML ~1 in 3,500, malignancy ~1 in 130. About one case in six comes
out serious (ICH E2A criteria; 16% at 20,000 cases), as in a company database that holds patient
support programme and other solicited reports besides the spontaneous ones.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from riskplan.cases.codes import Outcome, Qualification

T = TypeVar("T")

COMPANY: Final = "Riskplan Demo Pharma"
COMPANY_CODE: Final = "RPDEMO"
PRODUCT: Final = "UPLIZNA"
SUBSTANCE: Final = "inebilizumab"


class Weighted(Generic[T]):
    """A fixed discrete distribution, drawn with one ``rng.random()`` and a bisection."""

    __slots__ = ("_cumulative", "_items", "_total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        if not pairs or any(weight < 0 for _, weight in pairs):
            raise ValueError("a distribution needs at least one item and no negative weights")
        self._items = tuple(item for item, _ in pairs)
        cumulative, total = [], 0.0
        for _, weight in pairs:
            total += weight
            cumulative.append(total)
        self._cumulative = cumulative
        self._total = total

    def pick(self, rng: random.Random) -> T:
        index = bisect.bisect_right(self._cumulative, rng.random() * self._total)
        return self._items[min(index, len(self._items) - 1)]

    @property
    def items(self) -> tuple[T, ...]:
        return self._items


# --------------------------------------------------------------------------------------------------
# Countries, reporters, names
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    name: str
    postcode: str
    state: str | None = None


@dataclass(frozen=True)
class Country:
    """A reporting country: share of cases, first marketed use, native language, names and cities."""

    code: str
    weight: float  # share of reports (per cent)
    market_start: dt.date  # first commercial infusions (approval dates rounded): no earlier therapy start
    language: str | None  # ISO 639-2 code of native-language verbatims; None = English
    names: str  # key of NAMES
    cities: tuple[City, ...]
    organisation: str  # template with {city}, at most 60 characters once filled


# Shares: the US is UPLIZNA's largest market (approved 2020), then Japan (2021), Germany and the other
# EU countries (EU approval 2022), China and Korea. Modelling choice; no public per-country split.
# fmt: off
COUNTRIES: Final[tuple[Country, ...]] = (
    Country("US", 38.0, dt.date(2020, 7, 1), None, "en",
            (City("Boston", "02114", "MA"), City("Houston", "77030", "TX"), City("Chicago", "60611", "IL"),
             City("Seattle", "98195", "WA"), City("Atlanta", "30322", "GA")), "{city} Neurology Associates"),
    Country("JP", 9.0, dt.date(2021, 6, 1), "jpn", "ja",
            (City("Tokyo", "113-8655"), City("Osaka", "565-0871"), City("Sendai", "980-8574")),
            "{city} Neurology Clinic"),
    Country("DE", 10.0, dt.date(2022, 7, 1), "deu", "de",
            (City("Berlin", "10117"), City("München", "81377"), City("Hamburg", "20246"),
             City("Heidelberg", "69120")), "Neurologische Klinik {city}"),
    Country("FR", 6.0, dt.date(2022, 9, 1), "fra", "fr",
            (City("Paris", "75013"), City("Lyon", "69500"), City("Bordeaux", "33000")), "Hôpital de {city}"),
    Country("IT", 5.0, dt.date(2023, 1, 1), "ita", "it",
            (City("Milano", "20132"), City("Roma", "00168"), City("Napoli", "80131")), "Ospedale di {city}"),
    Country("ES", 5.0, dt.date(2023, 1, 1), "spa", "es",
            (City("Madrid", "28041"), City("Barcelona", "08035"), City("Sevilla", "41013")),
            "Hospital de {city}"),
    Country("GB", 4.0, dt.date(2022, 9, 1), None, "en",
            (City("Oxford", "OX3 9DU"), City("Liverpool", "L9 7LJ"), City("London", "WC1N 3BG")),
            "{city} Neuroscience Centre"),
    Country("NL", 2.5, dt.date(2022, 10, 1), "nld", "nl",
            (City("Amsterdam", "1105 AZ"), City("Rotterdam", "3015 GD"), City("Utrecht", "3584 CX")),
            "Ziekenhuis {city}"),
    Country("AT", 2.0, dt.date(2022, 10, 1), "deu", "de",
            (City("Wien", "1090"), City("Graz", "8036")), "Neurologische Abteilung {city}"),
    Country("BE", 2.0, dt.date(2022, 11, 1), "fra", "fr",
            (City("Bruxelles", "1070"), City("Liège", "4000")), "Hôpital de {city}"),
    Country("CH", 1.5, dt.date(2023, 3, 1), "deu", "de",
            (City("Zürich", "8091"), City("Bern", "3010")), "Neurologische Klinik {city}"),
    Country("KR", 3.0, dt.date(2022, 3, 1), None, "ko",
            (City("Seoul", "03080"), City("Busan", "49241")), "{city} University Hospital"),
    Country("CN", 5.0, dt.date(2022, 3, 1), None, "zh",
            (City("Beijing", "100730"), City("Shanghai", "200040"), City("Guangzhou", "510080")),
            "{city} University Hospital"),
    Country("BR", 2.0, dt.date(2023, 6, 1), None, "pt",
            (City("São Paulo", "05403-000"), City("Rio de Janeiro", "21941-913")), "Hospital de {city}"),
    Country("PL", 1.5, dt.date(2023, 3, 1), None, "pl",
            (City("Warszawa", "02-097"), City("Kraków", "30-688")), "Szpital Uniwersytecki {city}"),
    Country("SE", 1.5, dt.date(2022, 10, 1), None, "sv",
            (City("Stockholm", "171 76"), City("Göteborg", "413 45")), "{city} University Hospital"),
)

COUNTRY_NAMES: Final[dict[str, str]] = {
    "US": "the United States", "JP": "Japan", "DE": "Germany", "FR": "France", "IT": "Italy", "ES": "Spain",
    "GB": "the United Kingdom", "NL": "the Netherlands", "AT": "Austria", "BE": "Belgium", "CH": "Switzerland",
    "KR": "South Korea", "CN": "China", "BR": "Brazil", "PL": "Poland", "SE": "Sweden",
}

#: Given names (female, male) and family names per naming tradition.
NAMES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]] = {
    "en": (("Mary", "Jennifer", "Linda", "Sarah", "Emily", "Jessica", "Karen", "Rachel"),
           ("James", "John", "Robert", "Michael", "David", "Daniel", "Mark"),
           ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark")),
    "de": (("Anna", "Julia", "Katrin", "Sabine", "Andrea", "Claudia"),
           ("Thomas", "Michael", "Stefan", "Andreas", "Markus", "Jens"),
           ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann")),
    "fr": (("Marie", "Nathalie", "Isabelle", "Sophie", "Camille", "Claire"),
           ("Pierre", "Nicolas", "Laurent", "Philippe", "Julien"),
           ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy")),
    "it": (("Giulia", "Francesca", "Chiara", "Sara", "Laura"),
           ("Marco", "Luca", "Giuseppe", "Andrea", "Paolo"),
           ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci")),
    "es": (("María", "Carmen", "Laura", "Lucía", "Ana"),
           ("Antonio", "José", "Manuel", "David", "Javier"),
           ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez")),
    "nl": (("Anna", "Sanne", "Lotte", "Emma", "Femke"),
           ("Jan", "Pieter", "Daan", "Bas", "Sander"),
           ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit")),
    "ja": (("Yuki", "Aiko", "Keiko", "Yumi", "Naoko", "Akiko"),
           ("Hiroshi", "Takashi", "Kenji", "Satoshi", "Daisuke"),
           ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura")),
    "ko": (("Ji-yeon", "Min-ji", "Seo-yeon", "Hye-jin"), ("Min-jun", "Ji-hoon", "Sung-min"),
           ("Kim", "Lee", "Park", "Choi", "Jung", "Kang")),
    "zh": (("Na", "Fang", "Min", "Yan", "Jing"), ("Wei", "Qiang", "Lei", "Jun"),
           ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao")),
    "pt": (("Ana", "Juliana", "Mariana", "Fernanda"), ("João", "Pedro", "Lucas", "Rafael"),
           ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira")),
    "pl": (("Anna", "Katarzyna", "Magdalena", "Agnieszka"), ("Piotr", "Krzysztof", "Tomasz"),
           ("Nowak", "Wójcik", "Kowalczyk", "Mazur", "Krawczyk", "Zając")),
    "sv": (("Anna", "Eva", "Maria", "Karin", "Sara"), ("Lars", "Anders", "Johan", "Erik"),
           ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson")),
}
# fmt: on

#: Letters patients' initials are drawn from (common first letters of names; modelling choice).
INITIAL_LETTERS: Final = "AAABBCCDDEEFGGHHIJJKKLLMMMNOPRRSSSTTVWY"

#: C.2.r.4 of spontaneous reports. Infusion-centre nurses and neurologists report most IRRs; consumers
#: report through patient support lines. Modelling choice.
SPONTANEOUS_QUALIFICATIONS: Final = Weighted(
    [
        (Qualification.PHYSICIAN, 42.0),
        (Qualification.PHARMACIST, 8.0),
        (Qualification.OTHER_HEALTH_PROFESSIONAL, 18.0),
        (Qualification.CONSUMER, 32.0),
    ]
)
STUDY_QUALIFICATIONS: Final = Weighted(
    [(Qualification.PHYSICIAN, 88.0), (Qualification.OTHER_HEALTH_PROFESSIONAL, 12.0)]
)

# --------------------------------------------------------------------------------------------------
# Studies (C.5): the plan's category 3 studies plus a patient support programme (solicited reports)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyInfo:
    key: str
    name: str
    sponsor_number: str
    clinical_trial: bool  # C.5.4 = 1 (clinical trial), else 3 (other studies)
    countries: tuple[str, ...]
    share: float  # per cent of all (regular) cases
    subject_prefix: str


STUDIES: Final[tuple[StudyInfo, ...]] = (
    StudyInfo("spheres", "CorEvitas SPHERES Registry for NMOSD", "RPDEMO-NMOSD-REG-301", False, ("US",), 5.0, "SPH"),
    StudyInfo(
        "real-world",
        "Real-World Observational Study of Outcomes for Patients with NMOSD Treated With inebilizumab in Europe",
        "RPDEMO-NMOSD-OBS-302",
        False,
        ("DE", "FR", "IT", "ES", "NL", "AT", "BE"),
        4.0,
        "RWE",
    ),
    StudyInfo(
        "pass",
        "A safety study of NMOSD for patients receiving inebilizumab following closure of the open-label "
        "period N-MOMENTUM Study",
        "RPDEMO-NMOSD-PASS-303",
        True,
        ("US", "JP", "DE", "KR", "ES"),
        2.0,
        "PAS",
    ),
    StudyInfo(
        "psp", "UPLIZNA patient support programme (solicited reports)", "RPDEMO-PSP-US-01", False, ("US",), 6.0, "PSP"
    ),
)
PREGNANCY_REGISTRY: Final = StudyInfo(
    "pregnancy-registry",
    "An Observational Pregnancy Safety Study in Women with NMOSD Exposed to UPLIZNA (inebilizumab-cdon) "
    "during Pregnancy",
    "RPDEMO-NMOSD-PREG-304",
    False,
    ("US",),
    0.0,
    "PRG",
)

# --------------------------------------------------------------------------------------------------
# Events: MedDRA PTs with verbatims that code through the open term list (terms/data/open_terms.csv)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A PT and the English verbatims reporters use for it (each codes to the PT in the open term list)."""

    pt: str
    verbatims: tuple[str, ...]
    sex: str | None = None  # "F" / "M" when the event can only happen to one sex


def term(pt: str, *verbatims: str, sex: str | None = None) -> Term:
    return Term(pt, verbatims or (pt.lower(),), sex)


# Infusion reaction and its signs (USPI 5.1)
IRR = term(
    "Infusion related reaction",
    "infusion reaction",
    "infusion-related reaction",
    "IRR",
    "reaction to the infusion",
    "Infusion related reaction",
)
HEADACHE = term("Headache", "headache", "head ache")
NAUSEA = term("Nausea", "nausea", "feeling sick", "queasy")
PYREXIA = term("Pyrexia", "fever", "high temperature", "pyrexia")
CHILLS = term("Chills", "chills", "shivering", "rigors")
RASH = term("Rash", "rash", "skin rash")
PRURITUS = term("Pruritus", "itching", "itchy skin", "pruritus")
FLUSHING = term("Flushing", "flushing", "facial flushing")
DYSPNOEA = term("Dyspnoea", "shortness of breath", "dyspnea", "difficulty breathing", "dyspnoea")
SOMNOLENCE = term("Somnolence", "drowsiness", "sleepiness", "somnolence")
MYALGIA = term("Myalgia", "muscle pain", "muscle ache", "myalgia")
HYPOTENSION = term("Hypotension", "low blood pressure", "hypotension", "drop in blood pressure")
TACHYCARDIA = term("Tachycardia", "tachycardia", "fast heart rate")
THROAT_TIGHTNESS = term("Throat tightness", "throat tightness", "tight throat")
HYPERSENSITIVITY = term("Hypersensitivity", "allergic reaction", "hypersensitivity reaction", "hypersensitivity")
ANAPHYLAXIS = term("Anaphylactic reaction", "anaphylaxis", "anaphylactic reaction")
URTICARIA = term("Urticaria", "hives", "urticaria")
WHEEZING = term("Wheezing", "wheezing", "wheeze")
# Infections (USPI 5.2)
UTI = term("Urinary tract infection", "UTI", "urinary tract infection", "urine infection", "water infection")
CYSTITIS = term("Cystitis", "bladder infection", "cystitis")
PYELONEPHRITIS = term("Pyelonephritis", "kidney infection", "pyelonephritis")
NASOPHARYNGITIS = term("Nasopharyngitis", "common cold", "head cold", "nasopharyngitis")
URTI = term(
    "Upper respiratory tract infection",
    "URTI",
    "upper respiratory infection",
    "upper respiratory tract infection",
    "URI",
)
RTI = term("Respiratory tract infection", "respiratory infection", "respiratory tract infection")
LRTI = term("Lower respiratory tract infection", "chest infection", "LRTI")
BRONCHITIS = term("Bronchitis", "bronchitis")
INFLUENZA = term("Influenza", "flu", "influenza")
COVID = term("COVID-19", "COVID-19", "covid")
COVID_PNEUMONIA = term("COVID-19 pneumonia", "COVID pneumonia")
SINUSITIS = term("Sinusitis", "sinusitis", "sinus infection")
GASTROENTERITIS = term("Gastroenteritis", "gastroenteritis", "stomach bug")
PNEUMONIA = term("Pneumonia", "pneumonia", "lung infection")
SEPSIS = term("Sepsis", "sepsis", "septicaemia", "septicemia", "blood poisoning")
SEPTIC_SHOCK = term("Septic shock", "septic shock")
CELLULITIS = term("Cellulitis", "cellulitis")
HERPES_ZOSTER = term("Herpes zoster", "shingles", "herpes zoster", "zoster", "herpes zoster reactivation")
ORAL_HERPES = term("Oral herpes", "cold sore", "cold sores", "oral herpes")
HBV_REACTIVATION = term(
    "Hepatitis B reactivation",
    "HBV reactivation",
    "hep B reactivation",
    "reactivation of hepatitis B",
    "hepatitis B reactivation",
)
CMV_REACTIVATION = term("Cytomegalovirus infection reactivation", "CMV reactivation", "cytomegalovirus reactivation")
PJP = term("Pneumocystis jirovecii pneumonia", "PJP", "pneumocystis pneumonia", "PCP")
TUBERCULOSIS = term("Tuberculosis", "TB", "tuberculosis")
PML = term(
    "Progressive multifocal leukoencephalopathy",
    "PML",
    "progressive multifocal leucoencephalopathy",
    "progressive multifocal leukoencephalopathy",
)
JCV = term("JC virus infection", "JCV infection", "JC virus infection")
# Musculoskeletal and general (USPI 6.1)
ARTHRALGIA = term("Arthralgia", "joint pain", "arthralgia", "sore joints")
BACK_PAIN = term("Back pain", "back pain", "backache", "low back pain")
FATIGUE = term("Fatigue", "fatigue", "tiredness", "exhaustion")
# Blood and immune system (RMP: neutropenia important identified risk; SmPC 4.8)
NEUTROPENIA = term("Neutropenia", "neutropenia", "neutropaenia")
NEUTROPHILS_DECREASED = term(
    "Neutrophil count decreased",
    "low neutrophils",
    "low neutrophil count",
    "decreased neutrophil count",
    "neutrophil count decreased",
)
FEBRILE_NEUTROPENIA = term("Febrile neutropenia", "febrile neutropenia", "neutropenic fever")
LYMPHOPENIA = term("Lymphopenia", "lymphopenia", "lymphopaenia")
LYMPHOCYTES_DECREASED = term("Lymphocyte count decreased", "low lymphocytes", "lymphocyte count decreased")
LEUKOPENIA = term("Leukopenia", "leukopenia", "leucopenia")
WBC_DECREASED = term("White blood cell count decreased", "low white cell count", "low WBC")
HYPOGAMMA = term("Hypogammaglobulinaemia", "hypogammaglobulinaemia", "hypogammaglobulinemia")
IG_DECREASED = term("Immunoglobulins decreased", "low immunoglobulins", "low antibody levels")
IGG_DECREASED = term("Blood immunoglobulin G decreased", "low IgG", "IgG decreased")
# Malignancies (RMP important potential risk)
BREAST_CANCER = term("Breast cancer", "breast cancer", sex="F")
BCC = term("Basal cell carcinoma", "basal cell carcinoma", "BCC")
SCC_SKIN = term("Squamous cell carcinoma of skin", "squamous cell carcinoma of skin")
LYMPHOMA = term("Lymphoma", "lymphoma")
B_CELL_LYMPHOMA = term("B-cell lymphoma", "B-cell lymphoma")
NHL = term("Non-Hodgkin's lymphoma", "non-Hodgkin lymphoma", "NHL")
MELANOMA = term("Malignant melanoma", "melanoma")
CERVIX_CARCINOMA = term("Cervix carcinoma", "cervical cancer", sex="F")
THYROID_CANCER = term("Thyroid cancer", "thyroid cancer")
LUNG_CANCER = term("Lung neoplasm malignant", "lung cancer")
COLON_CANCER = term("Colon cancer", "colon cancer")
PROSTATE_CANCER = term("Prostate cancer", "prostate cancer", sex="M")
MALIGNANCY = term("Neoplasm malignant", "malignancy", "cancer")
# Unlisted (not in the SmPC 4.8 reference safety information)
DIZZINESS = term("Dizziness", "dizziness", "dizzy", "light-headedness")
DIARRHOEA = term("Diarrhoea", "diarrhoea", "diarrhea")
VOMITING = term("Vomiting", "vomiting", "being sick")
COUGH = term("Cough", "cough")
SORE_THROAT = term("Oropharyngeal pain", "sore throat")
HYPERTENSION = term("Hypertension", "high blood pressure", "hypertension")
PALPITATIONS = term("Palpitations", "palpitations", "heart pounding")
ANAEMIA = term("Anaemia", "anaemia", "anemia")
THROMBOCYTOPENIA = term("Thrombocytopenia", "thrombocytopenia", "thrombocytopaenia")
PLATELETS_DECREASED = term("Platelet count decreased", "low platelets", "low platelet count")
LIVER_ENZYMES = term("Hepatic enzyme increased", "raised liver enzymes")
ALT_INCREASED = term("Alanine aminotransferase increased", "raised ALT")
ORAL_CANDIDIASIS = term("Oral candidiasis", "oral thrush")
FUNGAL_INFECTION = term("Fungal infection", "fungal infection")
EAR_INFECTION = term("Ear infection", "ear infection")
MIGRAINE = term("Migraine", "migraine")
# Pregnancy, lactation, parent-child (RMP missing information; blood disorders in foetus / newborn)
EXPOSURE_PREGNANCY = term(
    "Exposure during pregnancy",
    "pregnancy exposure",
    "exposure in pregnancy",
    "pregnant while on treatment",
    "became pregnant on treatment",
    "exposure during pregnancy",
)
MATERNAL_EXPOSURE_PREGNANCY = term("Maternal exposure during pregnancy", "mother exposed during pregnancy")
FOETAL_EXPOSURE = term(
    "Foetal exposure during pregnancy", "foetal exposure", "fetal exposure", "fetal exposure during pregnancy"
)
MISCARRIAGE = term("Abortion spontaneous", "miscarriage", "spontaneous abortion")
PRETERM = term("Premature delivery", "premature birth", "preterm birth", "preterm delivery")
B_CELLS_DECREASED = term(
    "B-lymphocyte count decreased",
    "low B cells",
    "B-cell depletion",
    "B cell count decreased",
    "B-lymphocyte count decreased",
)
NEONATAL_NEUTROPENIA = term("Neutropenia neonatal", "neonatal neutropenia")
BREAST_FEEDING = term(
    "Maternal exposure during breast feeding", "breastfeeding on treatment", "maternal exposure during breastfeeding"
)
BREAST_MILK = term(
    "Exposure via breast milk", "exposure through breast milk", "breastfed infant exposed", "exposure via breast milk"
)

#: Realistic misspellings that must NOT code (not in the open term list) but should draw a fuzzy
#: suggestion of the intended PT. About 1.5% of reactions that have one use it.
MISSPELLINGS: Final[dict[str, tuple[str, ...]]] = {
    "Pneumonia": ("pnuemonia", "pneumonai"),
    "Urinary tract infection": ("urinary tract infecton", "urinary tract infektion"),
    "Neutropenia": ("neutropnia", "neutrapenia"),
    "Nasopharyngitis": ("nasopharingitis",),
    "Arthralgia": ("arthralgya", "athralgia"),
    "Headache": ("headahce", "hedache"),
    "Infusion related reaction": ("infusion related reacton", "infusion relatd reaction"),
    "Herpes zoster": ("herpes zooster", "herpes zostre"),
    "Lymphopenia": ("lymphopnia", "lymphopeina"),
    "Hypogammaglobulinaemia": ("hypogamaglobulinaemia", "hypogammaglobulinamia"),
    "Cellulitis": ("celulitis", "cellulitus"),
    "Fatigue": ("fatige", "fatigeu"),
    "Sepsis": ("sepssis",),
    "Influenza": ("influensa",),
}

#: Native-language verbatims (E.i.1.1a) for the commonest events; the English verbatim then goes in
#: E.i.1.2 ("for translation"), which is what riskplan codes.
# fmt: off
NATIVE_TERMS: Final[dict[str, dict[str, str]]] = {
    "Infusion related reaction": {"deu": "Infusionsreaktion", "fra": "réaction liée à la perfusion",
                                  "ita": "reazione correlata all'infusione", "spa": "reacción a la infusión",
                                  "nld": "infusiereactie", "jpn": "注入に伴う反応"},
    "Urinary tract infection": {"deu": "Harnwegsinfekt", "fra": "infection urinaire",
                                "ita": "infezione delle vie urinarie", "spa": "infección urinaria",
                                "nld": "urineweginfectie", "jpn": "尿路感染"},
    "Nasopharyngitis": {"deu": "Erkältung", "fra": "rhinopharyngite", "ita": "rinofaringite",
                        "spa": "nasofaringitis", "nld": "verkoudheid", "jpn": "鼻咽頭炎"},
    "Headache": {"deu": "Kopfschmerzen", "fra": "céphalées", "ita": "cefalea", "spa": "cefalea",
                 "nld": "hoofdpijn", "jpn": "頭痛"},
    "Arthralgia": {"deu": "Gelenkschmerzen", "fra": "arthralgies", "ita": "artralgia", "spa": "artralgia",
                   "nld": "gewrichtspijn", "jpn": "関節痛"},
    "Pyrexia": {"deu": "Fieber", "fra": "fièvre", "ita": "febbre", "spa": "fiebre", "nld": "koorts", "jpn": "発熱"},
    "Nausea": {"deu": "Übelkeit", "fra": "nausées", "ita": "nausea", "spa": "náuseas", "nld": "misselijkheid",
               "jpn": "悪心"},
    "Back pain": {"deu": "Rückenschmerzen", "fra": "lombalgie", "ita": "mal di schiena", "spa": "dolor de espalda",
                  "nld": "rugpijn", "jpn": "背部痛"},
    "Neutropenia": {"deu": "Neutropenie", "fra": "neutropénie", "ita": "neutropenia", "spa": "neutropenia",
                    "nld": "neutropenie", "jpn": "好中球減少症"},
    "Herpes zoster": {"deu": "Gürtelrose", "fra": "zona", "ita": "herpes zoster", "spa": "herpes zóster",
                      "nld": "gordelroos", "jpn": "帯状疱疹"},
    "Pneumonia": {"deu": "Lungenentzündung", "fra": "pneumonie", "ita": "polmonite", "spa": "neumonía",
                  "nld": "longontsteking", "jpn": "肺炎"},
}
# fmt: on

# --------------------------------------------------------------------------------------------------
# Event profiles: the index event of a case, what comes with it, how serious it is, how it ends
# --------------------------------------------------------------------------------------------------

#: Seriousness criteria, as letters: D death, L life threatening, H hospitalisation, I disabling,
#: C congenital anomaly, M other medically important condition (E.i.3.2a-f).
Criteria = str


@dataclass(frozen=True)
class Companion:
    term: Term
    probability: float
    serious_with_index: bool = False  # shares the index event's seriousness criteria


_MEDICALLY_IMPORTANT: Final[Weighted[Criteria]] = Weighted([("M", 1.0)])
_DEFAULT_OUTCOMES: Final = Weighted(
    [(Outcome.RECOVERED, 70.0), (Outcome.RECOVERING, 12.0), (Outcome.NOT_RECOVERED, 8.0), (Outcome.UNKNOWN, 10.0)]
)
_DEFAULT_RELATED: Final = Weighted([("Related", 40.0), ("Possibly related", 45.0), ("Unassessable", 15.0)])


@dataclass(frozen=True)
class Profile:
    """One kind of index event: its frequency among cases and its clinical course."""

    key: str
    weight: float  # per cent of regular cases whose index event this is
    terms: Weighted[Term]
    companions: tuple[Companion, ...] = ()
    serious: float = 0.0  # probability the index reaction is serious
    criteria: Weighted[Criteria] = _MEDICALLY_IMPORTANT  # criteria given serious (without D)
    fatal: float = 0.0  # probability of a fatal outcome given serious
    onset_days: tuple[int, int] = (0, 30)  # days from the last infusion to onset
    duration_days: tuple[int, int] = (1, 14)
    outcomes: Weighted[Outcome] = _DEFAULT_OUTCOMES
    withdrawn: float = 0.02  # probability UPLIZNA was withdrawn (else dose not changed / unknown)
    lab: str | None = None  # key of the F.r generator in synth.py
    lab_probability: float = 0.0
    first_infusion: float = 0.0  # probability the event follows the very first infusion (day 1)
    min_course: int = 0  # the event needs at least this many infusions before it (0 = day 1)
    related: Weighted[str] = _DEFAULT_RELATED
    source: str = ""


def _w(*pairs: tuple[Term, float]) -> Weighted[Term]:
    return Weighted(list(pairs))


def _one(t: Term) -> Weighted[Term]:
    return Weighted([(t, 1.0)])


_RECOVERS = Weighted([(Outcome.RECOVERED, 80.0), (Outcome.RECOVERING, 8.0), (Outcome.UNKNOWN, 12.0)])
_CHRONIC = Weighted(
    [(Outcome.NOT_RECOVERED, 45.0), (Outcome.RECOVERING, 20.0), (Outcome.RECOVERED, 20.0), (Outcome.UNKNOWN, 15.0)]
)
_SERIOUS_INFECTION = Weighted(
    [
        (Outcome.RECOVERED, 55.0),
        (Outcome.RECOVERING, 25.0),
        (Outcome.RECOVERED_WITH_SEQUELAE, 5.0),
        (Outcome.NOT_RECOVERED, 5.0),
        (Outcome.UNKNOWN, 10.0),
    ]
)
_MALIGNANCY_OUTCOME = Weighted(
    [(Outcome.NOT_RECOVERED, 55.0), (Outcome.RECOVERING, 15.0), (Outcome.RECOVERED, 10.0), (Outcome.UNKNOWN, 20.0)]
)
_INFECTION_DAYS = (7, 170)
_UNLIKELY = Weighted([("Not related", 30.0), ("Unlikely related", 40.0), ("Unassessable", 30.0)])

# fmt: off
PROFILES: Final[tuple[Profile, ...]] = (
    Profile(
        "infusion-reaction", 13.0, _w((IRR, 1.0)),
        companions=(Companion(HEADACHE, 0.40), Companion(NAUSEA, 0.25), Companion(PYREXIA, 0.25),
                    Companion(CHILLS, 0.15), Companion(RASH, 0.12), Companion(PRURITUS, 0.10),
                    Companion(FLUSHING, 0.10), Companion(DYSPNOEA, 0.08, True), Companion(SOMNOLENCE, 0.08),
                    Companion(MYALGIA, 0.06), Companion(HYPOTENSION, 0.05, True), Companion(TACHYCARDIA, 0.04)),
        serious=0.12, criteria=Weighted([("H", 45.0), ("M", 45.0), ("LH", 10.0)]),
        onset_days=(0, 0), duration_days=(0, 2), outcomes=_RECOVERS, withdrawn=0.03, first_infusion=0.55,
        related=Weighted([("Related", 80.0), ("Possibly related", 20.0)]),
        source="USPI 5.1: infusion reactions in 9.3% with the first course; headache, nausea, fever and the like",
    ),
    Profile(
        "hypersensitivity", 1.0, _one(HYPERSENSITIVITY),
        companions=(Companion(URTICARIA, 0.35), Companion(PRURITUS, 0.25), Companion(RASH, 0.2),
                    Companion(FLUSHING, 0.1)),
        serious=0.15, criteria=Weighted([("M", 70.0), ("H", 30.0)]), onset_days=(0, 1), duration_days=(0, 3),
        outcomes=_RECOVERS, withdrawn=0.10, first_infusion=0.45,
        related=Weighted([("Related", 70.0), ("Possibly related", 30.0)]),
        source="RMP infusion-reaction concern (hypersensitivity PTs); SmPC 4.4",
    ),
    Profile(
        "anaphylaxis", 0.3, _one(ANAPHYLAXIS),
        companions=(Companion(THROAT_TIGHTNESS, 0.4, True), Companion(HYPOTENSION, 0.5, True),
                    Companion(URTICARIA, 0.4), Companion(DYSPNOEA, 0.5, True), Companion(WHEEZING, 0.2)),
        serious=1.0, criteria=Weighted([("L", 40.0), ("LH", 45.0), ("M", 15.0)]), onset_days=(0, 0),
        duration_days=(0, 2), outcomes=_RECOVERS, withdrawn=0.85, first_infusion=0.4,
        related=Weighted([("Related", 90.0), ("Possibly related", 10.0)]),
        source="USPI 4 / 5.1: a life-threatening infusion reaction contraindicates further dosing",
    ),
    Profile(
        "urinary-tract-infection", 11.0, _w((UTI, 85.0), (CYSTITIS, 15.0)), companions=(Companion(PYREXIA, 0.1),),
        serious=0.10, criteria=Weighted([("H", 80.0), ("M", 20.0)]), onset_days=_INFECTION_DAYS,
        duration_days=(5, 14), outcomes=_RECOVERS, lab="urine", lab_probability=0.3,
        source="USPI 5.2: UTI 20% (randomised + open-label); USPI 6.1: 11% (randomised)",
    ),
    Profile(
        "nasopharyngitis", 7.0, _one(NASOPHARYNGITIS),
        companions=(Companion(COUGH, 0.2), Companion(SORE_THROAT, 0.15)),
        onset_days=_INFECTION_DAYS, duration_days=(3, 14), outcomes=_RECOVERS,
        source="USPI 5.2: nasopharyngitis 13%",
    ),
    Profile(
        "upper-respiratory-tract-infection", 4.5, _one(URTI), companions=(Companion(COUGH, 0.25),),
        serious=0.02, criteria=Weighted([("H", 1.0)]), onset_days=_INFECTION_DAYS, duration_days=(4, 14),
        outcomes=_RECOVERS, source="USPI 5.2: upper respiratory tract infection 8%",
    ),
    Profile(
        "influenza", 2.5, _one(INFLUENZA), companions=(Companion(PYREXIA, 0.4), Companion(MYALGIA, 0.2)),
        serious=0.15, criteria=Weighted([("H", 85.0), ("M", 15.0)]), fatal=0.01, onset_days=_INFECTION_DAYS,
        duration_days=(5, 14), outcomes=_RECOVERS, source="USPI 5.2: influenza 7%",
    ),
    Profile(
        "covid-19", 3.5, _w((COVID, 88.0), (COVID_PNEUMONIA, 12.0)), companions=(Companion(PYREXIA, 0.3),),
        serious=0.25, criteria=Weighted([("H", 75.0), ("LH", 15.0), ("M", 10.0)]), fatal=0.03,
        onset_days=_INFECTION_DAYS, duration_days=(7, 21), outcomes=_SERIOUS_INFECTION, lab="sars-cov-2",
        lab_probability=0.5, source="Class effect of B-cell depletion on COVID-19 severity; modelling choice",
    ),
    Profile(
        "respiratory-infection", 2.5, _w((RTI, 40.0), (LRTI, 25.0), (BRONCHITIS, 35.0)),
        companions=(Companion(COUGH, 0.4), Companion(PYREXIA, 0.2)), serious=0.12,
        criteria=Weighted([("H", 1.0)]), onset_days=_INFECTION_DAYS, duration_days=(5, 21), outcomes=_RECOVERS,
        source="SmPC 4.8 (respiratory tract infection listed)",
    ),
    Profile(
        "sinusitis", 1.0, _one(SINUSITIS), onset_days=_INFECTION_DAYS, duration_days=(5, 21), outcomes=_RECOVERS,
        related=_UNLIKELY, source="Modelling choice (unlisted infection)",
    ),
    Profile(
        "gastroenteritis", 1.0, _one(GASTROENTERITIS),
        companions=(Companion(DIARRHOEA, 0.5), Companion(VOMITING, 0.3)),
        serious=0.08, criteria=Weighted([("H", 1.0)]), onset_days=_INFECTION_DAYS, duration_days=(2, 7),
        outcomes=_RECOVERS, related=_UNLIKELY, source="Modelling choice (unlisted infection)",
    ),
    Profile(
        "arthralgia", 6.0, _one(ARTHRALGIA), onset_days=(0, 30), duration_days=(2, 30), outcomes=_CHRONIC,
        source="USPI 6.1: arthralgia 10% (randomised)",
    ),
    Profile(
        "back-pain", 4.5, _one(BACK_PAIN), onset_days=(0, 30), duration_days=(2, 30), outcomes=_CHRONIC,
        source="USPI 6.1: back pain 7% (randomised)",
    ),
    Profile(
        "headache", 3.5, _w((HEADACHE, 88.0), (MIGRAINE, 12.0)), companions=(Companion(NAUSEA, 0.15),),
        onset_days=(0, 3), duration_days=(0, 3), outcomes=_RECOVERS, source="USPI 6.1: headache 8% (randomised)",
    ),
    Profile(
        "fatigue", 2.5, _one(FATIGUE), onset_days=(0, 14), duration_days=(2, 30), outcomes=_CHRONIC,
        related=Weighted([("Possibly related", 60.0), ("Unassessable", 40.0)]),
        source="Modelling choice (common unlisted complaint)",
    ),
    Profile(
        "myalgia", 1.0, _one(MYALGIA), onset_days=(0, 7), duration_days=(1, 10), outcomes=_RECOVERS,
        source="USPI 5.1 (sign of infusion reaction), reported alone",
    ),
    Profile(
        "neutropenia", 3.5, _w((NEUTROPENIA, 65.0), (NEUTROPHILS_DECREASED, 35.0)), serious=0.2,
        criteria=Weighted([("M", 75.0), ("H", 25.0)]), onset_days=(20, 180), duration_days=(7, 60),
        outcomes=Weighted([(Outcome.RECOVERED, 50.0), (Outcome.RECOVERING, 25.0), (Outcome.NOT_RECOVERED, 15.0),
                           (Outcome.UNKNOWN, 10.0)]),
        withdrawn=0.05, lab="neutrophils", lab_probability=0.9, min_course=1,
        source="RMP important identified risk; SmPC 4.8 (neutropenia common); late-onset neutropenia of anti-CD20",
    ),
    Profile(
        "febrile-neutropenia", 0.3, _one(FEBRILE_NEUTROPENIA), companions=(Companion(PYREXIA, 0.3),),
        serious=1.0, criteria=Weighted([("H", 85.0), ("LH", 15.0)]), fatal=0.01, onset_days=(20, 180),
        duration_days=(5, 21), outcomes=_SERIOUS_INFECTION, withdrawn=0.15, lab="neutrophils-severe",
        lab_probability=0.95, min_course=1, source="RMP neutropenia concern (febrile neutropenia PT)",
    ),
    Profile(
        "lymphopenia", 2.5, _w((LYMPHOPENIA, 70.0), (LYMPHOCYTES_DECREASED, 30.0)), serious=0.08,
        criteria=Weighted([("M", 1.0)]), onset_days=(14, 180), duration_days=(30, 180), outcomes=_CHRONIC,
        lab="lymphocytes", lab_probability=0.85, min_course=1,
        related=Weighted([("Related", 70.0), ("Possibly related", 30.0)]),
        source="SmPC 4.8 (lymphopenia common); expected pharmacology",
    ),
    Profile(
        "leukopenia", 0.7, _w((LEUKOPENIA, 60.0), (WBC_DECREASED, 40.0)), onset_days=(14, 180),
        duration_days=(14, 90), outcomes=_CHRONIC, lab="leukocytes", lab_probability=0.8, min_course=1,
        source="Modelling choice (unlisted; blood count abnormality)",
    ),
    Profile(
        "hypogammaglobulinaemia", 2.5, _w((HYPOGAMMA, 50.0), (IGG_DECREASED, 30.0), (IG_DECREASED, 20.0)),
        serious=0.15, criteria=Weighted([("M", 1.0)]), onset_days=(60, 180), duration_days=(60, 365),
        outcomes=_CHRONIC, withdrawn=0.04, lab="igg", lab_probability=0.9, min_course=3,
        related=Weighted([("Related", 60.0), ("Possibly related", 40.0)]),
        source="SmPC 4.8 (immunoglobulins decreased); USPI 5 (hypogammaglobulinaemia with long-term use)",
    ),
    Profile(
        "pneumonia", 5.0, _one(PNEUMONIA),
        companions=(Companion(PYREXIA, 0.4), Companion(COUGH, 0.3), Companion(DYSPNOEA, 0.2)),
        serious=0.85, criteria=Weighted([("H", 85.0), ("LH", 10.0), ("M", 5.0)]), fatal=0.04,
        onset_days=_INFECTION_DAYS, duration_days=(7, 30), outcomes=_SERIOUS_INFECTION, withdrawn=0.04,
        lab="pneumonia", lab_probability=0.6, source="RMP important potential risk: serious infections",
    ),
    Profile(
        "sepsis", 1.2, _w((SEPSIS, 85.0), (SEPTIC_SHOCK, 15.0)),
        companions=(Companion(UTI, 0.35, True), Companion(PNEUMONIA, 0.25, True), Companion(PYREXIA, 0.3)),
        serious=1.0, criteria=Weighted([("H", 40.0), ("LH", 60.0)]), fatal=0.10, onset_days=_INFECTION_DAYS,
        duration_days=(7, 30), outcomes=_SERIOUS_INFECTION, withdrawn=0.10, lab="sepsis", lab_probability=0.7,
        source="RMP important potential risk: serious infections",
    ),
    Profile(
        "cellulitis", 2.0, _one(CELLULITIS), companions=(Companion(PYREXIA, 0.2),), serious=0.55,
        criteria=Weighted([("H", 1.0)]), onset_days=_INFECTION_DAYS, duration_days=(7, 21),
        outcomes=_SERIOUS_INFECTION, lab="crp", lab_probability=0.4,
        source="RMP important potential risk: serious infections",
    ),
    Profile(
        "pyelonephritis", 0.6, _one(PYELONEPHRITIS), companions=(Companion(PYREXIA, 0.5),), serious=0.7,
        criteria=Weighted([("H", 1.0)]), onset_days=_INFECTION_DAYS, duration_days=(7, 21),
        outcomes=_SERIOUS_INFECTION, lab="urine", lab_probability=0.6,
        source="RMP important potential risk: serious infections (complicated UTI)",
    ),
    Profile(
        "herpes-zoster", 2.0, _one(HERPES_ZOSTER), serious=0.18, criteria=Weighted([("H", 60.0), ("M", 40.0)]),
        onset_days=_INFECTION_DAYS, duration_days=(10, 40),
        outcomes=Weighted([(Outcome.RECOVERED, 55.0), (Outcome.RECOVERING, 25.0),
                           (Outcome.RECOVERED_WITH_SEQUELAE, 8.0), (Outcome.UNKNOWN, 12.0)]),
        lab="vzv", lab_probability=0.2,
        source="RMP serious-infection concern names herpes zoster (viral reactivation)",
    ),
    Profile(
        "oral-herpes", 0.8, _one(ORAL_HERPES), onset_days=_INFECTION_DAYS, duration_days=(5, 14), outcomes=_RECOVERS,
        source="Modelling choice (viral reactivation, non-serious)",
    ),
    Profile(
        "hbv-reactivation", 0.12, _one(HBV_REACTIVATION), companions=(Companion(ALT_INCREASED, 0.5),),
        serious=1.0, criteria=Weighted([("M", 50.0), ("H", 45.0), ("LH", 5.0)]), fatal=0.02, onset_days=(60, 180),
        duration_days=(30, 120), outcomes=_SERIOUS_INFECTION, withdrawn=0.8, lab="hbv", lab_probability=0.95,
        min_course=2, source="USPI 5.2 / RMP: class risk, none seen with UPLIZNA in trials (so: rare)",
    ),
    Profile(
        "cmv-reactivation", 0.10, _one(CMV_REACTIVATION), serious=0.8,
        criteria=Weighted([("H", 60.0), ("M", 40.0)]), onset_days=_INFECTION_DAYS, duration_days=(14, 45),
        outcomes=_SERIOUS_INFECTION, withdrawn=0.3, min_course=1,
        source="RMP serious-infection concern (opportunistic infection PTs)",
    ),
    Profile(
        "pjp", 0.08, _one(PJP), companions=(Companion(DYSPNOEA, 0.6, True),), serious=1.0,
        criteria=Weighted([("H", 50.0), ("LH", 50.0)]), fatal=0.12, onset_days=_INFECTION_DAYS,
        duration_days=(14, 30), outcomes=_SERIOUS_INFECTION, withdrawn=0.5, lab="pneumonia", lab_probability=0.6,
        min_course=1, source="RMP serious-infection concern (opportunistic infection PTs)",
    ),
    Profile(
        "tuberculosis", 0.05, _one(TUBERCULOSIS), serious=1.0, criteria=Weighted([("H", 70.0), ("M", 30.0)]),
        onset_days=_INFECTION_DAYS, duration_days=(90, 240), outcomes=_CHRONIC, withdrawn=0.6, min_course=2,
        source="USPI 4: active or untreated latent TB is a contraindication; RMP serious infections",
    ),
    Profile(
        "pml", 0.03, _one(PML), companions=(Companion(JCV, 0.5, True),), serious=1.0,
        criteria=Weighted([("HI", 40.0), ("LH", 30.0), ("HM", 30.0)]), fatal=0.35, onset_days=(30, 180),
        duration_days=(60, 365),
        outcomes=Weighted([(Outcome.NOT_RECOVERED, 50.0), (Outcome.RECOVERED_WITH_SEQUELAE, 35.0),
                           (Outcome.UNKNOWN, 15.0)]),
        withdrawn=1.0, lab="jcv", lab_probability=0.95, min_course=3,
        related=Weighted([("Possibly related", 70.0), ("Related", 20.0), ("Unassessable", 10.0)]),
        source="RMP important potential risk: PML (class risk; very rare, often fatal)",
    ),
    Profile(
        "malignancy", 0.8,
        _w((BREAST_CANCER, 24.0), (BCC, 16.0), (SCC_SKIN, 5.0), (LYMPHOMA, 5.0), (B_CELL_LYMPHOMA, 3.0), (NHL, 3.0),
           (MELANOMA, 7.0), (CERVIX_CARCINOMA, 6.0), (THYROID_CANCER, 7.0), (LUNG_CANCER, 6.0), (COLON_CANCER, 5.0),
           (PROSTATE_CANCER, 5.0), (MALIGNANCY, 8.0)),
        serious=1.0, criteria=Weighted([("M", 70.0), ("HM", 30.0)]), fatal=0.04, onset_days=(0, 180),
        duration_days=(90, 365), outcomes=_MALIGNANCY_OUTCOME, withdrawn=0.6, min_course=3, related=_UNLIKELY,
        source="RMP important potential risk: malignancy (rare)",
    ),
    Profile(
        "unlisted", 12.0,
        _w((DIZZINESS, 16.0), (DIARRHOEA, 12.0), (VOMITING, 6.0), (COUGH, 7.0), (SORE_THROAT, 6.0), (URTICARIA, 6.0),
           (PRURITUS, 6.0), (HYPERTENSION, 5.0), (PALPITATIONS, 4.0), (ANAEMIA, 5.0), (THROMBOCYTOPENIA, 2.0),
           (PLATELETS_DECREASED, 2.0), (LIVER_ENZYMES, 5.0), (ALT_INCREASED, 3.0), (ORAL_CANDIDIASIS, 4.0),
           (FUNGAL_INFECTION, 3.0), (EAR_INFECTION, 4.0), (RASH, 4.0)),
        serious=0.12, criteria=Weighted([("M", 60.0), ("H", 40.0)]), onset_days=(0, 90), duration_days=(1, 30),
        outcomes=Weighted([(Outcome.RECOVERED, 55.0), (Outcome.RECOVERING, 15.0), (Outcome.NOT_RECOVERED, 12.0),
                           (Outcome.UNKNOWN, 18.0)]),
        related=Weighted([("Possibly related", 45.0), ("Unlikely related", 30.0), ("Unassessable", 25.0)]),
        source="Unlisted events (not in SmPC 4.8): modelling choice",
    ),
)
# fmt: on

#: A second, unrelated non-serious event added to 12% of regular cases (modelling choice).
BACKGROUND: Final = Weighted(
    [
        (FATIGUE, 25.0),
        (HEADACHE, 20.0),
        (NAUSEA, 12.0),
        (DIZZINESS, 12.0),
        (ARTHRALGIA, 10.0),
        (DIARRHOEA, 8.0),
        (BACK_PAIN, 8.0),
        (RASH, 5.0),
    ]
)
BACKGROUND_SHARE: Final = 0.12

# --------------------------------------------------------------------------------------------------
# Concomitant medication (G.k, role 2)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Concomitant:
    key: str
    name: str  # G.k.2.2 as reported
    substance: str  # G.k.2.3.r.1
    dose: str  # number as text
    unit: str  # UCUM
    period: tuple[str, str] | None  # (number of units, unit) of G.k.4.r.2/3
    route: str
    indication: str
    text: str  # G.k.4.r.8


# fmt: off
PREMEDICATION_US: Final[tuple[Concomitant, ...]] = (
    Concomitant("methylprednisolone", "Solu-Medrol", "methylprednisolone", "125", "mg", None, "Intravenous",
                "Premedication", "125 mg IV 30 minutes before each UPLIZNA infusion"),
    Concomitant("diphenhydramine", "Diphenhydramine", "diphenhydramine", "50", "mg", None, "Oral", "Premedication",
                "50 mg orally 30-60 minutes before each UPLIZNA infusion"),
    Concomitant("acetaminophen", "Tylenol", "paracetamol", "650", "mg", None, "Oral", "Premedication",
                "650 mg orally 30-60 minutes before each UPLIZNA infusion"),
)
PREMEDICATION_EU: Final[tuple[Concomitant, ...]] = (
    Concomitant("methylprednisolone", "Methylprednisolone", "methylprednisolone", "100", "mg", None, "Intravenous",
                "Premedication", "100 mg IV 30 minutes before each UPLIZNA infusion"),
    Concomitant("cetirizine", "Cetirizine", "cetirizine", "10", "mg", None, "Oral", "Premedication",
                "10 mg orally before each UPLIZNA infusion"),
    Concomitant("paracetamol", "Paracetamol", "paracetamol", "1000", "mg", None, "Oral", "Premedication",
                "1 g orally before each UPLIZNA infusion"),
)
#: Immunosuppressants overlapping with UPLIZNA (tapering after a switch): the RMP missing-information
#: concern "patients concomitantly receiving other immunosuppressive agents".
IMMUNOSUPPRESSANTS: Final = Weighted([
    (Concomitant("prednisolone", "Prednisolone", "prednisolone", "10", "mg", ("1", "d"), "Oral",
                 "Neuromyelitis optica spectrum disorder", "10 mg daily, tapering"), 45.0),
    (Concomitant("prednisone", "Prednisone", "prednisone", "10", "mg", ("1", "d"), "Oral",
                 "Neuromyelitis optica spectrum disorder", "10 mg daily, tapering"), 15.0),
    (Concomitant("azathioprine", "Azathioprine", "azathioprine", "100", "mg", ("1", "d"), "Oral",
                 "Neuromyelitis optica spectrum disorder", "100 mg daily"), 22.0),
    (Concomitant("mycophenolate", "CellCept", "mycophenolate mofetil", "1000", "mg", ("12", "h"), "Oral",
                 "Neuromyelitis optica spectrum disorder", "1000 mg twice daily"), 15.0),
    (Concomitant("tacrolimus", "Tacrolimus", "tacrolimus", "2", "mg", ("12", "h"), "Oral",
                 "Neuromyelitis optica spectrum disorder", "2 mg twice daily"), 3.0),
])
IMMUNOSUPPRESSANT_SHARE: Final = 0.14
#: Other concomitant medication of NMOSD patients and the share of cases listing each (modelling choice).
OTHER_CONCOMITANTS: Final[tuple[tuple[Concomitant, float], ...]] = (
    (Concomitant("vitamin-d", "Vitamin D3", "colecalciferol", "1000", "[iU]", ("1", "d"), "Oral",
                 "Vitamin D deficiency", "1000 IU daily"), 0.12),
    (Concomitant("pregabalin", "Pregabalin", "pregabalin", "75", "mg", ("12", "h"), "Oral", "Neuropathic pain",
                 "75 mg twice daily"), 0.06),
    (Concomitant("baclofen", "Baclofen", "baclofen", "10", "mg", ("8", "h"), "Oral", "Muscle spasticity",
                 "10 mg three times daily"), 0.05),
    (Concomitant("pantoprazole", "Pantoprazole", "pantoprazole", "40", "mg", ("1", "d"), "Oral",
                 "Gastric protection", "40 mg daily"), 0.05),
    (Concomitant("levothyroxine", "Levothyroxine", "levothyroxine", "50", "ug", ("1", "d"), "Oral",
                 "Hypothyroidism", "50 micrograms daily"), 0.04),
    (Concomitant("sertraline", "Sertraline", "sertraline", "50", "mg", ("1", "d"), "Oral", "Depression",
                 "50 mg daily"), 0.03),
)
FOLIC_ACID: Final = Concomitant("folic-acid", "Folic acid", "folic acid", "400", "ug", ("1", "d"), "Oral",
                                "Pregnancy supplementation", "400 micrograms daily")
# fmt: on

#: D.8.r: what NMOSD patients had before UPLIZNA (name only; no MedDRA codes without a release).
PAST_DRUGS: Final = Weighted(
    [
        ("Rituximab", 35.0),
        ("Azathioprine", 25.0),
        ("Mycophenolate mofetil", 15.0),
        ("Eculizumab", 8.0),
        ("Satralizumab", 7.0),
        ("Prednisolone", 10.0),
    ]
)
COMORBIDITIES: Final = Weighted(
    [
        ("hypertension", 20.0),
        ("hypothyroidism", 14.0),
        ("depression", 12.0),
        ("Sjögren's syndrome", 8.0),
        ("systemic lupus erythematosus", 6.0),
        ("type 2 diabetes mellitus", 10.0),
        ("migraine", 10.0),
        ("asthma", 8.0),
        ("obesity", 12.0),
    ]
)
INDICATIONS: Final = Weighted(
    [
        ("Neuromyelitis optica spectrum disorder", 55.0),
        ("NMOSD", 20.0),
        ("Neuromyelitis optica spectrum disorder, AQP4-IgG seropositive", 15.0),
        ("Neuromyelitis optica", 10.0),
    ]
)
