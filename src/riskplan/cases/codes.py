"""ICH E2B(R3) code lists, object identifiers (OIDs) and per-element constraints.

Sources: the ICH E2B(R3) Implementation Guide (IG) v5.02 with its Appendix I(B) OIDs, and FDA's
"ICSR data elements and business rules" sheet (conformance, permitted nullFlavors, maximum lengths),
kept at ``shared/standards/e2b_r3/reference/`` next to this repository.

Every enumeration carries the E2B code as its value, so ``ReportType("1")`` is the wire code and
``ReportType.SPONTANEOUS.label`` is what a case processor reads.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema


class NullFlavor(StrEnum):
    """HL7 nullFlavor codes used by E2B(R3) (IG section 3.3.6)."""

    NI = "NI"  # no information
    UNK = "UNK"  # unknown
    MSK = "MSK"  # masked (privacy)
    ASKU = "ASKU"  # asked but unknown
    NASK = "NASK"  # not asked
    NA = "NA"  # not applicable
    PINF = "PINF"  # positive infinity
    NINF = "NINF"  # negative infinity
    OTH = "OTH"  # other


def _normalise_word(text: str) -> str:
    """``" Drug_Withdrawn "`` -> ``"drug withdrawn"``: case, underscores and runs of spaces do not count."""
    return " ".join(text.replace("_", " ").split()).casefold()


class _Labelled(StrEnum):
    """A code list whose members have a human label (the E2B(R3) wording).

    A case file may give a member by its E2B code (``"2"``, or the number ``2``), by its name in words
    (``"female"``, ``"drug withdrawn"`` for ``WITHDRAWN`` is its label) or by its E2B(R3) label or a part
    of a label between slashes (``"recovered/resolved"``, ``"resolved"``), in any case. The words are made
    from the members and labels below, so they can never disagree with the codes.
    """

    @property
    def label(self) -> str:
        return _LABELS[type(self).__name__][self.value]

    @property
    def word(self) -> str:
        """The member's name as a case processor writes it: ``Outcome.NOT_RECOVERED.word == "not recovered"``."""
        return _normalise_word(self.name)

    @classmethod
    def words(cls) -> dict[str, str]:
        """Every accepted word (normalised) -> the E2B code it means; ambiguous words are left out."""
        cached: dict[str, str] | None = cls.__dict__.get("_words_cache")
        if cached is not None:
            return cached
        found: dict[str, str] = {}
        for tier in (_whole_words, _label_parts):
            seen: dict[str, set[str]] = {}
            for member in cls:
                for word in tier(member):
                    seen.setdefault(word, set()).add(member.value)
            for word, codes in seen.items():
                if len(codes) == 1 and word not in found:
                    found[word] = next(iter(codes))
        type.__setattr__(cls, "_words_cache", found)
        return found

    @classmethod
    def from_word(cls, value: object) -> object:
        """The code for a word or a number; anything else is returned for the enum check to refuse."""
        if isinstance(value, cls) or (isinstance(value, str) and value in cls._value2member_map_):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            text = value.strip()
            if text in cls._value2member_map_:
                return text
            code = cls.words().get(_normalise_word(text))
            if code is not None:
                return code
            raise PydanticCustomError("enum", "{message}", {"message": f"{value!r} is not {cls.accepted()}"})
        return value

    @classmethod
    def accepted(cls) -> str:
        """What may be given, for an error message: ``a Sex code or word: 1 = male, 2 = female (any case)``."""
        listed = ", ".join(f"{m.value} = {m.word}" for m in cls)
        what = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()  # ActionTaken -> action taken
        article = "an" if what[0] in "aeiou" else "a"
        return f"{article} {what} code or word: {listed} (any case; the E2B(R3) labels are accepted too)"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(cls.from_word, handler(source))

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        target = handler.resolve_ref_schema(json_schema)
        target["enum"] = [m.value for m in cls] + [m.word for m in cls]
        target["description"] = f"{cls.__doc__ or ''} Give {cls.accepted()}.".strip()
        return json_schema


def _whole_words(member: _Labelled) -> list[str]:
    return [member.word, _normalise_word(member.label)]


def _label_parts(member: _Labelled) -> list[str]:
    parts = [_normalise_word(part) for part in member.label.split("(")[0].split("/")]
    # "recovered/resolved" gives "recovered" and "resolved"; "no - n/a" is not two words
    return parts if len(parts) > 1 and all(len(part) >= 3 for part in parts) else []


class ReportType(_Labelled):
    """C.1.3 Type of report (OID 2.16.840.1.113883.3.989.2.1.1.2)."""

    SPONTANEOUS = "1"
    STUDY = "2"
    OTHER = "3"
    NOT_AVAILABLE_TO_SENDER = "4"


class FirstSender(_Labelled):
    """C.1.8.2 First sender of this case (OID ...2.1.1.3)."""

    REGULATOR = "1"
    OTHER = "2"


class NullificationCode(_Labelled):
    """C.1.11.1 Report nullification / amendment (OID ...2.1.1.5)."""

    NULLIFICATION = "1"
    AMENDMENT = "2"


class Qualification(_Labelled):
    """C.2.r.4 Qualification of the primary source (OID ...2.1.1.6)."""

    PHYSICIAN = "1"
    PHARMACIST = "2"
    OTHER_HEALTH_PROFESSIONAL = "3"
    LAWYER = "4"
    CONSUMER = "5"


class SenderType(_Labelled):
    """C.3.1 Sender type (OID ...2.1.1.7)."""

    PHARMACEUTICAL_COMPANY = "1"
    REGULATORY_AUTHORITY = "2"
    HEALTH_PROFESSIONAL = "3"
    REGIONAL_PV_CENTRE = "4"
    WHO_COLLABORATING_CENTRE = "5"
    OTHER = "6"
    PATIENT_CONSUMER = "7"


class StudyType(_Labelled):
    """C.5.4 Study type where reaction(s) / event(s) were observed (OID ...2.1.1.8)."""

    CLINICAL_TRIAL = "1"
    INDIVIDUAL_PATIENT_USE = "2"
    OTHER_STUDY = "3"


class MedicalRecordSource(_Labelled):
    """D.1.1.1-D.1.1.4 Source of the patient medical record number (OID ...2.1.1.4)."""

    GP = "1"
    SPECIALIST = "2"
    HOSPITAL = "3"
    INVESTIGATION = "4"


class AgeGroup(_Labelled):
    """D.2.3 Patient age group as per reporter (OID ...2.1.1.9)."""

    FOETUS = "0"
    NEONATE = "1"
    INFANT = "2"
    CHILD = "3"
    ADOLESCENT = "4"
    ADULT = "5"
    ELDERLY = "6"


class Sex(_Labelled):
    """D.5 / D.10.6 Sex (ISO 5218, OID 1.0.5218); unknown is sent as a nullFlavor."""

    MALE = "1"
    FEMALE = "2"


class TermHighlighted(_Labelled):
    """E.i.3.1 Term highlighted by the reporter (OID ...2.1.1.10)."""

    HIGHLIGHTED_NOT_SERIOUS = "1"
    NOT_HIGHLIGHTED_NOT_SERIOUS = "2"
    HIGHLIGHTED_SERIOUS = "3"
    NOT_HIGHLIGHTED_SERIOUS = "4"


class Outcome(_Labelled):
    """E.i.7 Outcome of reaction / event at the time of last observation (OID ...2.1.1.11)."""

    UNKNOWN = "0"
    RECOVERED = "1"
    RECOVERING = "2"
    NOT_RECOVERED = "3"
    RECOVERED_WITH_SEQUELAE = "4"
    FATAL = "5"


class TestResultCode(_Labelled):
    """F.r.3.1 Test result (code) (OID ...2.1.1.12)."""

    __test__ = False  # not a pytest test class

    POSITIVE = "1"
    NEGATIVE = "2"
    BORDERLINE = "3"
    INCONCLUSIVE = "4"


class DrugRole(_Labelled):
    """G.k.1 Characterisation of drug role (OID ...2.1.1.13)."""

    SUSPECT = "1"
    CONCOMITANT = "2"
    INTERACTING = "3"
    DRUG_NOT_ADMINISTERED = "4"


class ActionTaken(_Labelled):
    """G.k.8 Action(s) taken with drug (OID ...2.1.1.15)."""

    UNKNOWN = "0"
    WITHDRAWN = "1"
    DOSE_REDUCED = "2"
    DOSE_INCREASED = "3"
    DOSE_NOT_CHANGED = "4"
    NOT_APPLICABLE = "9"


class Recurrence(_Labelled):
    """G.k.9.i.4 Did reaction recur on re-administration? (OID ...2.1.1.16)."""

    RECHALLENGE_RECURRED = "1"
    RECHALLENGE_DID_NOT_RECUR = "2"
    RECHALLENGE_OUTCOME_UNKNOWN = "3"
    NO_RECHALLENGE = "4"


class AdditionalDrugInfo(_Labelled):
    """G.k.10.r Additional information on drug (coded) (OID ...2.1.1.17)."""

    COUNTERFEIT = "1"
    OVERDOSE = "2"
    TAKEN_BY_FATHER = "3"
    BEYOND_EXPIRY = "4"
    BATCH_WITHIN_SPECIFICATION = "5"
    BATCH_NOT_WITHIN_SPECIFICATION = "6"
    MEDICATION_ERROR = "7"
    MISUSE = "8"
    ABUSE = "9"
    OCCUPATIONAL_EXPOSURE = "10"
    OFF_LABEL_USE = "11"


class Severity(StrEnum):
    """Severity of a business-rule finding: errors block export, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


_LABELS: Final[dict[str, dict[str, str]]] = {
    "ReportType": {
        "1": "Spontaneous report",
        "2": "Report from study",
        "3": "Other",
        "4": "Not available to sender (unknown)",
    },
    "FirstSender": {"1": "Regulator", "2": "Other"},
    "NullificationCode": {"1": "Nullification", "2": "Amendment"},
    "Qualification": {
        "1": "Physician",
        "2": "Pharmacist",
        "3": "Other health professional",
        "4": "Lawyer",
        "5": "Consumer or other non health professional",
    },
    "SenderType": {
        "1": "Pharmaceutical company",
        "2": "Regulatory authority",
        "3": "Health professional",
        "4": "Regional pharmacovigilance centre",
        "5": "WHO collaborating centre for international drug monitoring",
        "6": "Other (e.g. distributor or other organisation)",
        "7": "Patient / consumer",
    },
    "StudyType": {
        "1": "Clinical trials",
        "2": "Individual patient use",
        "3": "Other studies",
    },
    "MedicalRecordSource": {"1": "GP", "2": "Specialist", "3": "Hospital", "4": "Investigation"},
    "AgeGroup": {
        "0": "Foetus",
        "1": "Neonate",
        "2": "Infant",
        "3": "Child",
        "4": "Adolescent",
        "5": "Adult",
        "6": "Elderly",
    },
    "Sex": {"1": "Male", "2": "Female"},
    "TermHighlighted": {
        "1": "Yes, highlighted by the reporter, NOT serious",
        "2": "No, not highlighted by the reporter, NOT serious",
        "3": "Yes, highlighted by the reporter, SERIOUS",
        "4": "No, not highlighted by the reporter, SERIOUS",
    },
    "Outcome": {
        "0": "unknown",
        "1": "recovered/resolved",
        "2": "recovering/resolving",
        "3": "not recovered/not resolved/ongoing",
        "4": "recovered/resolved with sequelae",
        "5": "fatal",
    },
    "TestResultCode": {"1": "Positive", "2": "Negative", "3": "Borderline", "4": "Inconclusive"},
    "DrugRole": {"1": "Suspect", "2": "Concomitant", "3": "Interacting", "4": "Drug not administered"},
    "ActionTaken": {
        "0": "Unknown",
        "1": "Drug withdrawn",
        "2": "Dose reduced",
        "3": "Dose increased",
        "4": "Dose not changed",
        "9": "Not applicable",
    },
    "Recurrence": {
        "1": "yes - yes (rechallenge was done, reaction recurred)",
        "2": "yes - no (rechallenge was done, reaction did not recur)",
        "3": "yes - unk (rechallenge was done, outcome unknown)",
        "4": "no - n/a (no rechallenge was done, recurrence is not applicable)",
    },
    "AdditionalDrugInfo": {
        "1": "Counterfeit",
        "2": "Overdose",
        "3": "Drug taken by the father",
        "4": "Drug taken beyond expiry date",
        "5": "Batch and lot tested and found within specifications",
        "6": "Batch and lot tested and found not within specifications",
        "7": "Medication error",
        "8": "Misuse",
        "9": "Abuse",
        "10": "Occupational exposure",
        "11": "Off label use",
    },
}


class Oid:
    """Object identifiers of ICH E2B(R3) (IG Appendix I(B)) and of the external terminologies."""

    # Code systems (ICH code lists, 2.16.840.1.113883.3.989.2.1.1.x).
    MESSAGE_TYPE: Final = "2.16.840.1.113883.3.989.2.1.1.1"
    REPORT_TYPE: Final = "2.16.840.1.113883.3.989.2.1.1.2"
    FIRST_SENDER: Final = "2.16.840.1.113883.3.989.2.1.1.3"
    MEDICAL_RECORD_SOURCE: Final = "2.16.840.1.113883.3.989.2.1.1.4"
    NULLIFICATION: Final = "2.16.840.1.113883.3.989.2.1.1.5"
    QUALIFICATION: Final = "2.16.840.1.113883.3.989.2.1.1.6"
    SENDER_TYPE: Final = "2.16.840.1.113883.3.989.2.1.1.7"
    STUDY_TYPE: Final = "2.16.840.1.113883.3.989.2.1.1.8"
    AGE_GROUP: Final = "2.16.840.1.113883.3.989.2.1.1.9"
    TERM_HIGHLIGHTED: Final = "2.16.840.1.113883.3.989.2.1.1.10"
    OUTCOME: Final = "2.16.840.1.113883.3.989.2.1.1.11"
    TEST_RESULT: Final = "2.16.840.1.113883.3.989.2.1.1.12"
    DRUG_ROLE: Final = "2.16.840.1.113883.3.989.2.1.1.13"
    ACTION_TAKEN: Final = "2.16.840.1.113883.3.989.2.1.1.15"
    RECURRENCE: Final = "2.16.840.1.113883.3.989.2.1.1.16"
    ADDITIONAL_INFO: Final = "2.16.840.1.113883.3.989.2.1.1.17"
    SUPPLY: Final = "2.16.840.1.113883.3.989.2.1.1.18"
    OBSERVATION: Final = "2.16.840.1.113883.3.989.2.1.1.19"
    ORGANIZER: Final = "2.16.840.1.113883.3.989.2.1.1.20"
    AUTHOR_ROLE: Final = "2.16.840.1.113883.3.989.2.1.1.21"
    RELATED_INVESTIGATION: Final = "2.16.840.1.113883.3.989.2.1.1.22"
    CHARACTERISTIC: Final = "2.16.840.1.113883.3.989.2.1.1.23"
    DOCUMENT: Final = "2.16.840.1.113883.3.989.2.1.1.27"
    # Instance identifier roots (2.16.840.1.113883.3.989.2.1.3.x).
    SENDER_REPORT_ID: Final = "2.16.840.1.113883.3.989.2.1.3.1"  # C.1.1 and N.2.r.1
    WORLDWIDE_CASE_ID: Final = "2.16.840.1.113883.3.989.2.1.3.2"  # C.1.8.1 and C.1.10.r
    OTHER_CASE_ID: Final = "2.16.840.1.113883.3.989.2.1.3.3"  # C.1.9.1.r
    AUTHORISATION_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.4"  # G.k.3.1
    SPONSOR_STUDY_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.5"  # C.5.3
    STUDY_REGISTRATION: Final = "2.16.840.1.113883.3.989.2.1.3.6"  # C.5.1.r.1
    RECORD_GP: Final = "2.16.840.1.113883.3.989.2.1.3.7"  # D.1.1.1
    RECORD_SPECIALIST: Final = "2.16.840.1.113883.3.989.2.1.3.8"  # D.1.1.2
    RECORD_HOSPITAL: Final = "2.16.840.1.113883.3.989.2.1.3.9"  # D.1.1.3
    RECORD_INVESTIGATION: Final = "2.16.840.1.113883.3.989.2.1.3.10"  # D.1.1.4
    MESSAGE_SENDER: Final = "2.16.840.1.113883.3.989.2.1.3.11"  # N.2.r.2
    MESSAGE_RECEIVER: Final = "2.16.840.1.113883.3.989.2.1.3.12"  # N.2.r.3
    BATCH_SENDER: Final = "2.16.840.1.113883.3.989.2.1.3.13"  # N.1.3
    BATCH_RECEIVER: Final = "2.16.840.1.113883.3.989.2.1.3.14"  # N.1.4
    BATCH_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.22"  # N.1.2
    # External terminologies and HL7 vocabularies.
    MEDDRA: Final = "2.16.840.1.113883.6.163"
    ISO_COUNTRY: Final = "1.0.3166.1.2.2"
    ISO_SEX: Final = "1.0.5218"
    ISO_LANGUAGE: Final = "1.0.639.2"
    UCUM: Final = "2.16.840.1.113883.6.8"
    HL7_ACT_CODE: Final = "2.16.840.1.113883.5.4"
    HL7_ROLE_CODE: Final = "2.16.840.1.113883.5.111"
    HL7_INTERPRETATION: Final = "2.16.840.1.113883.5.83"
    HL7_INTERACTION: Final = "2.16.840.1.113883.1.6"
    HL7_TRIGGER_EVENT: Final = "2.16.840.1.113883.1.18"
    EDQM_DOSE_FORM: Final = "0.4.0.127.0.16.1.1.2.1"
    EDQM_ROUTE: Final = "0.4.0.127.0.16.1.1.2.6"
    NCI_THESAURUS: Final = "2.16.840.1.113883.3.26.1.1"  # FDA regional codes (FDA.x)
    FDA_REGIONAL_PREFIX: Final = "2.16.840.1.113883.3.989.5."  # FDA regional OIDs


class ObservationCode(StrEnum):
    """Observation codes of the ICH code list 2.16.840.1.113883.3.989.2.1.1.19."""

    ADDITIONAL_DOCUMENTS = "1"
    ADDITIONAL_INFORMATION = "2"
    AGE = "3"
    AGE_GROUP = "4"
    AUTOPSY = "5"
    BLINDED = "6"
    BODY_WEIGHT = "7"
    CAUSE_OF_DEATH = "8"
    CODED_DRUG_INFORMATION = "9"
    COMMENT = "10"
    CONCOMITANT_THERAPY = "11"
    CONGENITAL_ANOMALY = "12"
    CONTINUING = "13"
    CUMULATIVE_DOSE = "14"
    DIAGNOSIS = "15"
    GESTATION_PERIOD = "16"
    HEIGHT = "17"
    HISTORY_TEXT = "18"
    INDICATION = "19"
    CHARACTERISATION = "20"
    LIFE_THREATENING = "21"
    LAST_MENSTRUAL_PERIOD = "22"
    LOCAL_CRITERIA = "23"
    MEDICAL_CONFIRMATION = "24"
    MORE_INFORMATION = "25"
    OTHER_MEDICALLY_IMPORTANT = "26"
    OUTCOME = "27"
    PARENT_ROUTE = "28"
    REACTION = "29"
    REACTION_FOR_TRANSLATION = "30"
    RECURRENCE = "31"
    REPORTED_CAUSE_OF_DEATH = "32"
    HOSPITALISATION = "33"
    RESULTS_IN_DEATH = "34"
    DISABLING = "35"
    SUMMARY_AND_COMMENT = "36"
    TERM_HIGHLIGHTED = "37"
    FAMILY_HISTORY = "38"
    CAUSALITY = "39"


#: nullFlavors each element may carry (FDA business-rule sheet, "Null Flag Applicable" columns).
ALLOWED_NULL_FLAVORS: Final[dict[str, frozenset[NullFlavor]]] = {
    "C.1.7": frozenset({NullFlavor.NI}),
    "C.1.9.1": frozenset({NullFlavor.NI}),
    "C.2.r.1.1": frozenset({NullFlavor.MSK, NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.1.2": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.1.3": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.1.4": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.2.1": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.2.2": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.2.3": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.2.4": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.2.5": frozenset({NullFlavor.NI, NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.2.6": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.2.7": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "FDA.C.2.r.2.8": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),  # FDA data element sheet
    "C.2.r.3": frozenset({NullFlavor.MSK, NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "C.2.r.4": frozenset({NullFlavor.UNK}),
    "C.4.r.1": frozenset({NullFlavor.ASKU, NullFlavor.NASK}),
    "C.5.1.r.1": frozenset({NullFlavor.ASKU, NullFlavor.NASK}),
    "C.5.1.r.2": frozenset({NullFlavor.ASKU, NullFlavor.NASK}),
    "C.5.2": frozenset({NullFlavor.ASKU, NullFlavor.NASK}),
    "C.5.3": frozenset({NullFlavor.ASKU, NullFlavor.NASK}),
    "D.1": frozenset({NullFlavor.MSK, NullFlavor.UNK, NullFlavor.NA, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.1.1.1": frozenset({NullFlavor.MSK}),
    "D.1.1.2": frozenset({NullFlavor.MSK}),
    "D.1.1.3": frozenset({NullFlavor.MSK}),
    "D.1.1.4": frozenset({NullFlavor.MSK}),
    "D.2.1": frozenset({NullFlavor.MSK}),
    "D.2.3": frozenset({NullFlavor.NI, NullFlavor.MSK, NullFlavor.UNK, NullFlavor.ASKU}),
    "D.5": frozenset({NullFlavor.MSK, NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.6": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.7.1.r.2": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.7.1.r.3": frozenset({NullFlavor.MSK, NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.7.1.r.4": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.7.2": frozenset({NullFlavor.MSK, NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.8.r.1": frozenset({NullFlavor.UNK, NullFlavor.NA}),
    "D.8.r.4": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.8.r.5": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.9.1": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.9.3": frozenset({NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.10.1": frozenset({NullFlavor.MSK, NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.10.2.1": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.10.3": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.10.6": frozenset({NullFlavor.MSK, NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.10.7.1.r.2": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.10.7.1.r.3": frozenset({NullFlavor.MSK, NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.10.7.1.r.4": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.10.8.r.1": frozenset({NullFlavor.UNK, NullFlavor.NA}),
    "D.10.8.r.4": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "D.10.8.r.5": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "E.i.4": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "E.i.5": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "F.r.1": frozenset({NullFlavor.UNK}),
    "G.k.4.r.4": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "G.k.4.r.5": frozenset({NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK}),
    "G.k.4.r.9.1": frozenset({NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "G.k.4.r.10.1": frozenset({NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "G.k.4.r.11.1": frozenset({NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
    "G.k.7.r.1": frozenset({NullFlavor.UNK, NullFlavor.ASKU, NullFlavor.NASK}),
}

#: Maximum lengths of the free-text elements (FDA sheet, "MAX LENGTH"); longer values are rejected.
MAX_LENGTHS: Final[dict[str, int]] = {
    "C.1.1": 100,
    "C.1.6.1.r.1": 2000,
    "C.1.8.1": 100,
    "C.1.9.1.r.1": 100,
    "C.1.9.1.r.2": 100,
    "C.1.10.r": 100,
    "C.1.11.2": 2000,
    "C.2.r.1.1": 50,
    "C.2.r.1.2": 60,
    "C.2.r.1.3": 60,
    "C.2.r.1.4": 60,
    "C.2.r.2.1": 60,
    "C.2.r.2.2": 60,
    "C.2.r.2.3": 100,
    "C.2.r.2.4": 35,
    "C.2.r.2.5": 40,
    "C.2.r.2.6": 15,
    "C.2.r.2.7": 33,
    "C.3.2": 100,
    "C.3.3.1": 60,
    "C.3.3.2": 50,
    "C.3.3.3": 60,
    "C.3.3.4": 60,
    "C.3.3.5": 60,
    "C.3.4.1": 100,
    "C.3.4.2": 35,
    "C.3.4.3": 40,
    "C.3.4.4": 15,
    "C.3.4.6": 33,
    "C.3.4.7": 33,
    "C.3.4.8": 100,
    "C.4.r.1": 500,
    "C.5.1.r.1": 50,
    "C.5.2": 2000,
    "C.5.3": 50,
    "D.1": 60,
    "D.1.1.1": 20,
    "D.1.1.2": 20,
    "D.1.1.3": 20,
    "D.1.1.4": 20,
    "D.7.1.r.5": 2000,
    "D.7.2": 10000,
    "D.8.r.1": 250,
    "D.9.2.r.2": 250,
    "D.9.4.r.2": 250,
    "D.10.1": 60,
    "D.10.7.1.r.5": 2000,
    "D.10.7.2": 10000,
    "D.10.8.r.1": 250,
    "E.i.1.1a": 250,
    "E.i.1.2": 250,
    "F.r.2.1": 250,
    "F.r.3.4": 2000,
    "F.r.6": 2000,
    "G.k.2.2": 250,
    "G.k.2.3.r.1": 250,
    "G.k.3.1": 35,
    "G.k.3.3": 60,
    "G.k.4.r.7": 35,
    "G.k.4.r.8": 2000,
    "G.k.4.r.9.1": 60,
    "G.k.4.r.10.1": 60,
    "G.k.4.r.11.1": 60,
    "G.k.7.r.1": 250,
    "G.k.9.i.2.r.1": 60,
    "G.k.9.i.2.r.2": 60,
    "G.k.9.i.2.r.3": 60,
    "G.k.11": 2000,
    "H.1": 100000,
    "H.2": 20000,
    "H.4": 20000,
    "H.5.r.1a": 100000,
}

#: UCUM units allowed per element (IG section 3.3.5 and the element definitions).
AGE_UNITS: Final = frozenset({"a", "mo", "wk", "d", "h", "10.a"})  # D.2.2b
PARENT_AGE_UNITS: Final = frozenset({"a", "10.a"})  # D.10.2.2b
GESTATION_UNITS: Final = frozenset({"mo", "wk", "d", "{trimester}", "{Trimester}"})  # D.2.2.1b, G.k.6b
DURATION_UNITS: Final = frozenset({"s", "min", "h", "d", "wk", "mo", "a"})  # E.i.6b, G.k.4.r.6b, G.k.9.i.3.xb
INTERVAL_UNITS: Final = frozenset(  # G.k.4.r.3
    {"a", "mo", "wk", "d", "h", "min", "{cyclical}", "{asnecessary}", "{total}"}
)


class SeriousnessCriterion(StrEnum):
    """E.i.3.2a-f Seriousness criteria at event level, named as a safety physician says them."""

    RESULTS_IN_DEATH = "results in death"  # E.i.3.2a
    LIFE_THREATENING = "life threatening"  # E.i.3.2b
    HOSPITALISATION = "caused/prolonged hospitalisation"  # E.i.3.2c
    DISABLING = "disabling/incapacitating"  # E.i.3.2d
    CONGENITAL_ANOMALY = "congenital anomaly/birth defect"  # E.i.3.2e
    OTHER_MEDICALLY_IMPORTANT = "other medically important condition"  # E.i.3.2f
