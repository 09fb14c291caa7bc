"""The individual case safety report (ICSR) as data, following ICH E2B(R3).

Every field cites its E2B(R3) data element number (ICH E2B(R3) Implementation Guide v5.02, section 3)
at the start of its description, e.g. ``"C.1.1 Sender's (case) safety report unique identifier"``; the
business rules (:mod:`riskplan.cases.e2b._rules`) read the element number from there.

Design decisions
----------------
**Dates.** E2B carries dates as HL7 ``TS`` values of variable precision (``YYYY``, ``YYYYMM``,
``YYYYMMDD``, ``YYYYMMDDhh``, ``YYYYMMDDhhmm``, ``YYYYMMDDhhmmss[.ffff]``, with an optional
``+/-ZZzz`` offset after the day). :class:`Hl7Timestamp` (alias :data:`PartialDate`) keeps the
original text, so ``"2019"`` stays ``"2019"`` through import and export, and answers
:meth:`Hl7Timestamp.earliest_date` / :meth:`Hl7Timestamp.latest_date` for comparisons.

**nullFlavor.** One approach throughout: an optional element that E2B lets be null-flavoured has a
parallel field named ``<field>_null_flavor`` of type :class:`NullFlavor` (e.g. ``birth_date`` and
``birth_date_null_flavor``). A value and a nullFlavor together are a validation error (checked for
every model by :class:`E2bModel`). Which nullFlavors an element may carry is a business rule
(``codes.ALLOWED_NULL_FLAVORS``), checked by ``check_business_rules``. One documented exception:
elements whose only permitted values are ``true`` or nullFlavor ``NI`` (C.1.9.1, E.i.3.2a-f) are
``bool | None`` where ``None`` is sent as ``nullFlavor="NI"``; ``False`` there is a rule violation.

**Regional data.** FDA regional elements (FDA.x) are kept, not dropped: each becomes a
:class:`RegionalElement` (element number, readable value, and the element's canonical XML) in the
``regional`` list of the case, study, patient, reaction or drug it belongs to, and export writes it
back in the same place.

**Not E2B.** ``Reaction.pt_code``, ``pt_name`` and ``llt_name`` are filled by riskplan's MedDRA coding
step; they are never exported.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from lxml import etree
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from riskplan.cases.codes import (
    ActionTaken,
    AdditionalDrugInfo,
    AgeGroup,
    DrugRole,
    FirstSender,
    NullFlavor,
    NullificationCode,
    Outcome,
    Qualification,
    Recurrence,
    ReportType,
    SenderType,
    SeriousnessCriterion,
    Sex,
    StudyType,
    TermHighlighted,
    TestResultCode,
)

__all__ = [
    "ActionTaken",
    "AdditionalDrugInfo",
    "AgeGroup",
    "Attachment",
    "CaseSummary",
    "CauseOfDeath",
    "CodedValue",
    "Comparator",
    "Death",
    "DiagnosticTest",
    "Dosage",
    "Drug",
    "DrugReactionAssessment",
    "DrugRole",
    "E2bModel",
    "FirstSender",
    "HeldDocument",
    "Hl7Timestamp",
    "Icsr",
    "Indication",
    "LiteratureReference",
    "Measurement",
    "MeddraTerm",
    "MedicalHistoryEpisode",
    "NullFlavor",
    "NullificationCode",
    "OtherCaseIdentifier",
    "Outcome",
    "Parent",
    "PartialDate",
    "PastDrug",
    "Patient",
    "Period",
    "PrimarySource",
    "Qualification",
    "Quantity",
    "Reaction",
    "Recurrence",
    "RegionalElement",
    "RelatednessAssessment",
    "ReportType",
    "Sender",
    "SenderType",
    "SeriousnessCriterion",
    "Sex",
    "Study",
    "StudyRegistration",
    "StudyType",
    "Substance",
    "TermHighlighted",
    "TestResult",
    "TestResultCode",
    "TimestampPrecision",
]

# --------------------------------------------------------------------------------------------------
# HL7 TS: dates of variable precision
# --------------------------------------------------------------------------------------------------

_TS_RE = re.compile(r"^(?P<digits>\d{4}(?:\d{2}){0,5})(?P<fraction>\.\d{1,4})?(?P<tz>[+-]\d{4})?$")
#: ISO 8601 calendar date/time of partial precision, accepted on input and stored as HL7 TS.
_ISO_RE = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})(?:[T ](?P<hour>\d{2})(?::(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?P<fraction>\.\d{1,4})?)?)?(?P<tz>Z|[+-]\d{2}:?\d{2})?)?)?)?$"
)


class TimestampPrecision(StrEnum):
    """How much of a date/time an HL7 ``TS`` value states."""

    YEAR = "year"
    MONTH = "month"
    DAY = "day"
    HOUR = "hour"
    MINUTE = "minute"
    SECOND = "second"


_PRECISION_BY_LENGTH = {
    4: TimestampPrecision.YEAR,
    6: TimestampPrecision.MONTH,
    8: TimestampPrecision.DAY,
    10: TimestampPrecision.HOUR,
    12: TimestampPrecision.MINUTE,
    14: TimestampPrecision.SECOND,
}


@functools.lru_cache(maxsize=65536)  # the same few thousand days recur in every case: strptime once each
def _real_datetime(padded: str) -> bool:
    try:
        dt.datetime.strptime(padded, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


class Hl7Timestamp:
    """An HL7 ``TS`` point in time that keeps its original precision (ICH IG Appendix II).

    ``Hl7Timestamp("2019")`` means "some time in 2019": :meth:`earliest_date` is 1 January and
    :meth:`latest_date` 31 December. ``str()`` gives back exactly the text it was made from. A time
    zone offset (``+/-ZZzz``) is only allowed after an hour (the HL7 schema's rule).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = self._check(value)

    @staticmethod
    def _check(value: str) -> str:
        match = _TS_RE.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not an HL7 date/time (CCYY[MM[DD[hh[mm[ss[.ffff]]]]]][+/-ZZzz])")
        digits = match["digits"]
        if match["fraction"] and len(digits) != 14:
            raise ValueError(f"{value!r}: fractions of a second need a full date and time")
        if match["tz"] and len(digits) <= 8:
            raise ValueError(f"{value!r}: a time zone offset needs at least the hour")
        padded = digits + "0101000000"[len(digits) - 4 :] if len(digits) < 14 else digits
        if not _real_datetime(padded):
            raise ValueError(f"{value!r} is not a real calendar date/time")
        if match["tz"] and (int(match["tz"][1:3]) > 14 or int(match["tz"][3:]) > 59):
            raise ValueError(f"{value!r}: time zone offset out of range")
        return value

    @classmethod
    def from_date(cls, value: dt.date) -> Hl7Timestamp:
        """Day precision: ``date(2024, 3, 5)`` -> ``"20240305"``."""
        return cls(value.strftime("%Y%m%d"))

    @classmethod
    def from_datetime(cls, value: dt.datetime) -> Hl7Timestamp:
        """Second precision, with the UTC offset when ``value`` is timezone-aware."""
        text = value.strftime("%Y%m%d%H%M%S")
        offset = value.utcoffset()
        if offset is not None:
            minutes = int(offset.total_seconds()) // 60
            sign = "-" if minutes < 0 else "+"
            text += f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
        return cls(text)

    @property
    def value(self) -> str:
        return self._value

    @property
    def precision(self) -> TimestampPrecision:
        digits = _TS_RE.match(self._value)["digits"]  # type: ignore[index]
        return _PRECISION_BY_LENGTH[len(digits)]

    @property
    def has_time_zone(self) -> bool:
        return _TS_RE.match(self._value)["tz"] is not None  # type: ignore[index]

    def earliest_date(self) -> dt.date:
        """The first calendar day this value can mean (local date; any offset is ignored)."""
        digits = self._value[:8]
        year = int(digits[:4])
        month = int(digits[4:6]) if len(digits) >= 6 else 1
        day = int(digits[6:8]) if len(digits) >= 8 else 1
        return dt.date(year, month, day)

    def latest_date(self) -> dt.date:
        """The last calendar day this value can mean (``"2019"`` -> 31 December 2019)."""
        digits = self._value[:8]
        year = int(digits[:4])
        if len(digits) < 6:
            return dt.date(year, 12, 31)
        month = int(digits[4:6])
        if len(digits) < 8:
            first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
            return first_of_next - dt.timedelta(days=1)
        return dt.date(year, month, int(digits[6:8]))

    def __str__(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Hl7Timestamp({self._value!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Hl7Timestamp):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def _coerce(cls, value: Any) -> Hl7Timestamp:
        if isinstance(value, Hl7Timestamp):
            return value
        if isinstance(value, dt.datetime):
            return cls.from_datetime(value)
        if isinstance(value, dt.date):
            return cls.from_date(value)
        if isinstance(value, str):
            try:
                return cls._from_text(value)
            except ValueError as exc:  # said as it is, without pydantic's "Value error, " in front
                raise PydanticCustomError("value_error", "{message}", {"message": str(exc)}) from None
        raise ValueError(f"expected a date as text (ISO 8601 or HL7), got {type(value).__name__}")

    @classmethod
    def _from_text(cls, value: str) -> Hl7Timestamp:
        """HL7 text as it is; ISO 8601 of any precision (``2026``, ``2026-11``, ``2026-11-25``,
        ``2026-11-25T14:30``, with seconds, fraction, ``Z`` or ``+01:00``) turned into HL7 of the same
        precision, so that a case file can use the dates people write."""
        text = value.strip()
        if _TS_RE.match(text):
            return cls(text)
        iso = _ISO_RE.match(text)
        if iso is None:
            raise ValueError(
                f"{value!r} is not a date: give ISO 8601 (2026, 2026-11, 2026-11-25, 2026-11-25T14:30) "
                "or HL7 (20261125, 202611251430)"
            )
        digits = "".join(part for part in iso.group("year", "month", "day", "hour", "minute", "second") if part)
        tz = iso["tz"]
        if tz is not None:
            tz = "+0000" if tz == "Z" else tz.replace(":", "")
        try:
            return cls(digits + (iso["fraction"] or "") + (tz or ""))
        except ValueError:
            raise ValueError(f"{value!r} is not a real calendar date/time") from None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._coerce,
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="always"),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": f"(?:{_TS_RE.pattern})|(?:{_ISO_RE.pattern})",
            "description": "A date of any precision: ISO 8601 (2026, 2026-11, 2026-11-25, 2026-11-25T14:30) "
            "or HL7 TS (2026, 202611, 20261125, 202611251430)",
        }


#: The name the brief and the case processors use for the same thing.
PartialDate = Hl7Timestamp

# --------------------------------------------------------------------------------------------------
# Scalar types
# --------------------------------------------------------------------------------------------------

_XML_ILLEGAL = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean_text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty or blank")
    bad = _XML_ILLEGAL.search(value)
    if bad is not None:
        raise ValueError(f"contains the character U+{ord(bad.group()):04X}, which XML cannot carry")
    return value


#: Free text as E2B carries it: trimmed, non-empty, only characters XML 1.0 allows.
Text = Annotated[str, AfterValidator(_clean_text)]
#: A coded value (HL7 ``cs``): no whitespace.
Code = Annotated[str, StringConstraints(pattern=r"^\S+$")]
#: ISO 3166-1 alpha-2 country code, or EU (E2B allows the EU code).
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
#: ISO 639-2/RA alpha-3 language code.
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]
#: MedDRA code (8 digits) and version ("26.1").
MeddraCode = Annotated[str, StringConstraints(pattern=r"^\d{8}$")]
MeddraVersion = Annotated[str, StringConstraints(pattern=r"^\d{1,2}\.\d{1,2}$")]
#: HL7 ``uid``: an OID, a UUID or an HL7 reserved identifier.
Uid = Annotated[
    str,
    StringConstraints(
        pattern=r"^(?:[0-2](?:\.(?:0|[1-9][0-9]*))*|[0-9a-zA-Z]{8}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{4}"
        r"-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{12}|[A-Za-z][A-Za-z0-9\-]*)$"
    ),
]
Number = Annotated[Decimal, Field(allow_inf_nan=False)]


def _new_uuid() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------------------------------
# Base model and small value objects
# --------------------------------------------------------------------------------------------------

NULL_FLAVOR_SUFFIX = "_null_flavor"


class E2bModel(BaseModel):
    """Frozen, closed base: every ``x_null_flavor`` field excludes a value in ``x``."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    @classmethod
    def _null_flavor_pairs(cls) -> tuple[tuple[str, str], ...]:
        """(value field, nullFlavor field) pairs of this class, worked out once per class."""
        pairs: tuple[tuple[str, str], ...] | None = cls.__dict__.get("_nf_pairs_cache")
        if pairs is None:
            pairs = tuple(
                (name[: -len(NULL_FLAVOR_SUFFIX)], name)
                for name in cls.model_fields
                if name.endswith(NULL_FLAVOR_SUFFIX)
            )
            type.__setattr__(cls, "_nf_pairs_cache", pairs)
        return pairs

    @model_validator(mode="after")
    def _value_xor_null_flavor(self) -> Self:
        for base, name in type(self)._null_flavor_pairs():
            flavor = getattr(self, name)
            if flavor is not None and getattr(self, base, None) is not None:
                raise ValueError(f"{base}: give either a value or nullFlavor {flavor}, not both")
        return self


class MeddraTerm(E2bModel):
    """A MedDRA-coded term: version (the ``a`` element) and code (the ``b`` element), e.g. E.i.2.1a/b."""

    version: MeddraVersion = Field(description="MedDRA version, e.g. '26.1' (E.i.2.1a and the like)")
    code: MeddraCode = Field(description="MedDRA code, 8 digits (E.i.2.1b and the like)")


class CodedValue(E2bModel):
    """A code from a named terminology: an MPID/PhPID, an EDQM term ID, a substance term ID."""

    code: Code = Field(description="The code (e.g. G.k.2.1.1b MPID, G.k.4.r.10.2b route term ID)")
    code_system: Code | None = Field(default=None, description="OID of the terminology the code is from")
    version: Text | None = Field(default=None, description="Version date / number (the 'a' element)")


class Quantity(E2bModel):
    """An HL7 physical quantity: a number with its UCUM unit."""

    value: Number = Field(description="The number (the 'a' element, e.g. D.2.2a)")
    unit: Code = Field(description="UCUM unit (the 'b' element, e.g. D.2.2b 'a' for years)")


class Measurement(E2bModel):
    """A measured value whose unit may be absent (F.r.4 / F.r.5 normal values)."""

    value: Number = Field(description="The number")
    unit: Code | None = Field(default=None, description="UCUM unit, when given")


class Period(E2bModel):
    """G.k.4.r.2 / G.k.4.r.3: number of units in the interval and the interval unit."""

    value: Number | None = Field(default=None, description="G.k.4.r.2 Number of units in the interval")
    unit: Code = Field(description="G.k.4.r.3 Definition of the time interval unit (UCUM, or {cyclical} ...)")


class Comparator(StrEnum):
    """How F.r.3.2 relates the result to the number (HL7 IVL_PQ with NINF / PINF bounds)."""

    EQ = "="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class TestResult(E2bModel):
    """F.r.3.2 / F.r.3.3 Test result value, its qualifier and unit (e.g. '< 10 mg/dl')."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    comparator: Comparator = Field(default=Comparator.EQ, description="F.r.3.2 qualifier (=, <, <=, >, >=)")
    value: Number = Field(description="F.r.3.2 Test result (value)")
    unit: Code | None = Field(default=None, description="F.r.3.3 Test result (unit), UCUM")


class Attachment(E2bModel):
    """An included document (C.1.6.1.r.2, C.4.r.2): HL7 ED, usually base64."""

    media_type: Text = Field(default="text/plain", description="MIME type, e.g. application/pdf")
    representation: Code = Field(default="B64", description="B64 (base64) or TXT")
    compression: Code | None = Field(default=None, description="HL7 compression algorithm, if any")
    file_name: Text | None = Field(default=None, description="File name (ED reference value)")
    content: str = Field(description="The data: base64 text (whitespace removed) or plain text")

    def decoded(self) -> bytes:
        """The document's bytes (base64-decoded when the representation is B64)."""
        import base64

        if self.representation == "B64":
            return base64.b64decode(self.content)
        return self.content.encode("utf-8")


class RegionalElement(E2bModel):
    """A regional (e.g. FDA.x) element kept verbatim so that it survives import and export."""

    element: Text = Field(description="Regional data element number, e.g. 'FDA.D.11.r.1' (patient race)")
    value: Text | None = Field(default=None, description="Readable value (code or text), for display only")
    xml: Text = Field(description="Canonical XML of the element as it sits in the message (re-emitted on export)")

    @field_validator("xml")
    @classmethod
    def _one_element(cls, value: str) -> str:
        # The E2B package's XML helpers build on this model, so they are imported when first needed.
        from riskplan.cases.e2b import HL7, parse_fragment

        element = parse_fragment(value)
        if etree.QName(element).namespace != HL7:
            raise ValueError("a regional element must be an HL7 v3 (urn:hl7-org:v3) element")
        return value


# --------------------------------------------------------------------------------------------------
# C: identification, primary sources, sender, literature, study
# --------------------------------------------------------------------------------------------------


class HeldDocument(E2bModel):
    """C.1.6.1.r Documents held by sender."""

    title: Text = Field(description="C.1.6.1.r.1 Documents held by sender (title)")
    attachment: Attachment | None = Field(default=None, description="C.1.6.1.r.2 Included documents")


class OtherCaseIdentifier(E2bModel):
    """C.1.9.1.r Source(s) of the case identifier and the identifier."""

    source: Text = Field(description="C.1.9.1.r.1 Source(s) of the case identifier")
    case_id: Text = Field(description="C.1.9.1.r.2 Case identifier(s)")


class PrimarySource(E2bModel):
    """C.2.r Primary source(s) of information (the reporter)."""

    title: Text | None = Field(default=None, description="C.2.r.1.1 Reporter's title")
    title_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.1.1 nullFlavor")
    given_name: Text | None = Field(default=None, description="C.2.r.1.2 Reporter's given name")
    given_name_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.1.2 nullFlavor")
    middle_name: Text | None = Field(default=None, description="C.2.r.1.3 Reporter's middle name")
    middle_name_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.1.3 nullFlavor")
    family_name: Text | None = Field(default=None, description="C.2.r.1.4 Reporter's family name")
    family_name_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.1.4 nullFlavor")
    organisation: Text | None = Field(default=None, description="C.2.r.2.1 Reporter's organisation")
    organisation_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.2.1 nullFlavor")
    department: Text | None = Field(default=None, description="C.2.r.2.2 Reporter's department")
    department_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.2.2 nullFlavor")
    street: Text | None = Field(
        default=None, description="C.2.r.2.3 Reporter's street (several address lines joined by newlines)"
    )
    street_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.2.3 nullFlavor")
    city: Text | None = Field(default=None, description="C.2.r.2.4 Reporter's city")
    city_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.2.4 nullFlavor")
    state: Text | None = Field(default=None, description="C.2.r.2.5 Reporter's state or province")
    state_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.2.5 nullFlavor")
    postcode: Text | None = Field(default=None, description="C.2.r.2.6 Reporter's postcode")
    postcode_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.2.6 nullFlavor")
    telephone: Text | None = Field(default=None, description="C.2.r.2.7 Reporter's telephone")
    telephone_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.2.7 nullFlavor")
    email: Text | None = Field(default=None, description="FDA.C.2.r.2.8 Reporter's e-mail (regional)")
    email_null_flavor: NullFlavor | None = Field(
        default=None,
        description="FDA.C.2.r.2.8 nullFlavor (FDA allows MSK, ASKU, NASK), written telecom value 'mailto'",
    )
    country: CountryCode | None = Field(default=None, description="C.2.r.3 Reporter's country code")
    country_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.3 nullFlavor")
    qualification: Qualification | None = Field(default=None, description="C.2.r.4 Qualification")
    qualification_null_flavor: NullFlavor | None = Field(default=None, description="C.2.r.4 nullFlavor")
    primary_for_regulatory_purposes: bool = Field(
        default=False, description="C.2.r.5 Primary source for regulatory purposes (exactly one per case)"
    )


class Sender(E2bModel):
    """C.3 Information on the sender of the case safety report."""

    sender_type: SenderType | None = Field(default=None, description="C.3.1 Sender type")
    organisation: Text | None = Field(default=None, description="C.3.2 Sender's organisation")
    department: Text | None = Field(default=None, description="C.3.3.1 Sender's department")
    title: Text | None = Field(default=None, description="C.3.3.2 Sender's title")
    given_name: Text | None = Field(default=None, description="C.3.3.3 Sender's given name")
    middle_name: Text | None = Field(default=None, description="C.3.3.4 Sender's middle name")
    family_name: Text | None = Field(default=None, description="C.3.3.5 Sender's family name")
    street: Text | None = Field(default=None, description="C.3.4.1 Sender's street address (lines joined by newlines)")
    city: Text | None = Field(default=None, description="C.3.4.2 Sender's city")
    state: Text | None = Field(default=None, description="C.3.4.3 Sender's state or province")
    postcode: Text | None = Field(default=None, description="C.3.4.4 Sender's postcode")
    country: CountryCode | None = Field(default=None, description="C.3.4.5 Sender's country code")
    telephone: Text | None = Field(default=None, description="C.3.4.6 Sender's telephone")
    fax: Text | None = Field(default=None, description="C.3.4.7 Sender's fax")
    email: Text | None = Field(default=None, description="C.3.4.8 Sender's e-mail address")


class LiteratureReference(E2bModel):
    """C.4.r Literature reference(s)."""

    reference: Text | None = Field(default=None, description="C.4.r.1 Literature reference(s) (Vancouver style)")
    reference_null_flavor: NullFlavor | None = Field(default=None, description="C.4.r.1 nullFlavor")
    attachment: Attachment | None = Field(default=None, description="C.4.r.2 Included documents")


class StudyRegistration(E2bModel):
    """C.5.1.r Study registration."""

    number: Text | None = Field(default=None, description="C.5.1.r.1 Study registration number")
    number_null_flavor: NullFlavor | None = Field(default=None, description="C.5.1.r.1 nullFlavor")
    country: CountryCode | None = Field(default=None, description="C.5.1.r.2 Study registration country")
    country_null_flavor: NullFlavor | None = Field(default=None, description="C.5.1.r.2 nullFlavor")


class Study(E2bModel):
    """C.5 Study identification."""

    registrations: tuple[StudyRegistration, ...] = Field(default=(), description="C.5.1.r Study registration")
    name: Text | None = Field(default=None, description="C.5.2 Study name")
    name_null_flavor: NullFlavor | None = Field(default=None, description="C.5.2 nullFlavor")
    sponsor_study_number: Text | None = Field(default=None, description="C.5.3 Sponsor study number")
    sponsor_study_number_null_flavor: NullFlavor | None = Field(default=None, description="C.5.3 nullFlavor")
    study_type: StudyType | None = Field(
        default=None, description="C.5.4 Study type where reaction(s) / event(s) were observed"
    )
    regional: tuple[RegionalElement, ...] = Field(
        default=(), description="FDA.C.5.5a/b, FDA.C.5.6.r IND / pre-ANDA numbers (regional, kept verbatim)"
    )


# --------------------------------------------------------------------------------------------------
# D: patient
# --------------------------------------------------------------------------------------------------


class MedicalHistoryEpisode(E2bModel):
    """D.7.1.r (and D.10.7.1.r for the parent) Structured relevant medical history."""

    term: MeddraTerm = Field(description="D.7.1.r.1a/b Medical history (disease / surgical procedure), MedDRA")
    start_date: Hl7Timestamp | None = Field(default=None, description="D.7.1.r.2 Start date")
    start_date_null_flavor: NullFlavor | None = Field(default=None, description="D.7.1.r.2 nullFlavor")
    continuing: bool | None = Field(default=None, description="D.7.1.r.3 Continuing")
    continuing_null_flavor: NullFlavor | None = Field(default=None, description="D.7.1.r.3 nullFlavor")
    end_date: Hl7Timestamp | None = Field(default=None, description="D.7.1.r.4 End date")
    end_date_null_flavor: NullFlavor | None = Field(default=None, description="D.7.1.r.4 nullFlavor")
    comments: Text | None = Field(default=None, description="D.7.1.r.5 Comments")
    family_history: bool | None = Field(default=None, description="D.7.1.r.6 Family history (true only)")


class PastDrug(E2bModel):
    """D.8.r (and D.10.8.r for the parent) Relevant past drug history."""

    name: Text | None = Field(default=None, description="D.8.r.1 Name of drug as reported")
    name_null_flavor: NullFlavor | None = Field(default=None, description="D.8.r.1 nullFlavor")
    product_id: CodedValue | None = Field(
        default=None, description="D.8.r.2 MPID (or D.8.r.3 PhPID): version and identifier"
    )
    start_date: Hl7Timestamp | None = Field(default=None, description="D.8.r.4 Start date")
    start_date_null_flavor: NullFlavor | None = Field(default=None, description="D.8.r.4 nullFlavor")
    end_date: Hl7Timestamp | None = Field(default=None, description="D.8.r.5 End date")
    end_date_null_flavor: NullFlavor | None = Field(default=None, description="D.8.r.5 nullFlavor")
    indication: MeddraTerm | None = Field(default=None, description="D.8.r.6a/b Indication (MedDRA)")
    reaction: MeddraTerm | None = Field(default=None, description="D.8.r.7a/b Reaction (MedDRA)")


class CauseOfDeath(E2bModel):
    """D.9.2.r Reported / D.9.4.r autopsy-determined cause(s) of death."""

    term: MeddraTerm | None = Field(default=None, description="D.9.2.r.1a/b (D.9.4.r.1a/b) Cause (MedDRA)")
    text: Text | None = Field(default=None, description="D.9.2.r.2 (D.9.4.r.2) Cause of death (free text)")


class Death(E2bModel):
    """D.9 In case of death."""

    date: Hl7Timestamp | None = Field(default=None, description="D.9.1 Date of death")
    date_null_flavor: NullFlavor | None = Field(default=None, description="D.9.1 nullFlavor")
    reported_causes: tuple[CauseOfDeath, ...] = Field(default=(), description="D.9.2.r Reported cause(s) of death")
    autopsy_done: bool | None = Field(default=None, description="D.9.3 Was autopsy done?")
    autopsy_done_null_flavor: NullFlavor | None = Field(default=None, description="D.9.3 nullFlavor")
    autopsy_causes: tuple[CauseOfDeath, ...] = Field(
        default=(), description="D.9.4.r Autopsy-determined cause(s) of death"
    )

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        parts = (
            self.date,
            self.date_null_flavor,
            self.reported_causes,
            self.autopsy_done,
            self.autopsy_done_null_flavor,
        )
        if all(part is None or part == () for part in parts) and not self.autopsy_causes:
            raise ValueError("D.9 needs the date of death (or a nullFlavor for it), a cause, or the autopsy answer")
        return self


class Parent(E2bModel):
    """D.10 For a parent-child / foetus report, information concerning the parent."""

    identification: Text | None = Field(default=None, description="D.10.1 Parent identification")
    identification_null_flavor: NullFlavor | None = Field(default=None, description="D.10.1 nullFlavor")
    birth_date: Hl7Timestamp | None = Field(default=None, description="D.10.2.1 Date of birth of parent")
    birth_date_null_flavor: NullFlavor | None = Field(default=None, description="D.10.2.1 nullFlavor")
    age: Quantity | None = Field(default=None, description="D.10.2.2a/b Age of parent (number, UCUM unit a or 10.a)")
    last_menstrual_period: Hl7Timestamp | None = Field(
        default=None, description="D.10.3 Last menstrual period date of parent"
    )
    last_menstrual_period_null_flavor: NullFlavor | None = Field(default=None, description="D.10.3 nullFlavor")
    weight_kg: Number | None = Field(default=None, description="D.10.4 Body weight (kg) of parent")
    height_cm: Number | None = Field(default=None, description="D.10.5 Height (cm) of parent")
    sex: Sex | None = Field(default=None, description="D.10.6 Sex of parent")
    sex_null_flavor: NullFlavor | None = Field(default=None, description="D.10.6 nullFlavor")
    medical_history: tuple[MedicalHistoryEpisode, ...] = Field(
        default=(), description="D.10.7.1.r Structured information of parent (medical history)"
    )
    medical_history_text: Text | None = Field(
        default=None, description="D.10.7.2 Text for relevant medical history and concurrent conditions of parent"
    )
    past_drugs: tuple[PastDrug, ...] = Field(default=(), description="D.10.8.r Relevant past drug history of parent")


class Patient(E2bModel):
    """D Patient characteristics."""

    name: Text | None = Field(default=None, description="D.1 Patient (name or initials)")
    name_null_flavor: NullFlavor | None = Field(default=None, description="D.1 nullFlavor")
    gp_record_number: Text | None = Field(default=None, description="D.1.1.1 Patient medical record number (GP)")
    gp_record_number_null_flavor: NullFlavor | None = Field(default=None, description="D.1.1.1 nullFlavor")
    specialist_record_number: Text | None = Field(
        default=None, description="D.1.1.2 Patient medical record number (specialist)"
    )
    specialist_record_number_null_flavor: NullFlavor | None = Field(default=None, description="D.1.1.2 nullFlavor")
    hospital_record_number: Text | None = Field(
        default=None, description="D.1.1.3 Patient medical record number (hospital)"
    )
    hospital_record_number_null_flavor: NullFlavor | None = Field(default=None, description="D.1.1.3 nullFlavor")
    investigation_number: Text | None = Field(default=None, description="D.1.1.4 Patient investigation number")
    investigation_number_null_flavor: NullFlavor | None = Field(default=None, description="D.1.1.4 nullFlavor")
    birth_date: Hl7Timestamp | None = Field(default=None, description="D.2.1 Date of birth")
    birth_date_null_flavor: NullFlavor | None = Field(default=None, description="D.2.1 nullFlavor")
    age: Quantity | None = Field(
        default=None, description="D.2.2a/b Age at time of onset of reaction / event (number, UCUM unit)"
    )
    gestation_period: Quantity | None = Field(
        default=None, description="D.2.2.1a/b Gestation period when reaction / event was observed in the foetus"
    )
    age_group: AgeGroup | None = Field(default=None, description="D.2.3 Patient age group (as per reporter)")
    age_group_null_flavor: NullFlavor | None = Field(default=None, description="D.2.3 nullFlavor")
    weight_kg: Number | None = Field(default=None, description="D.3 Body weight (kg)")
    height_cm: Number | None = Field(default=None, description="D.4 Height (cm)")
    sex: Sex | None = Field(default=None, description="D.5 Sex")
    sex_null_flavor: NullFlavor | None = Field(default=None, description="D.5 nullFlavor")
    last_menstrual_period: Hl7Timestamp | None = Field(default=None, description="D.6 Last menstrual period date")
    last_menstrual_period_null_flavor: NullFlavor | None = Field(default=None, description="D.6 nullFlavor")
    medical_history: tuple[MedicalHistoryEpisode, ...] = Field(
        default=(), description="D.7.1.r Structured information on relevant medical history"
    )
    medical_history_text: Text | None = Field(
        default=None, description="D.7.2 Text for relevant medical history and concurrent conditions"
    )
    medical_history_text_null_flavor: NullFlavor | None = Field(default=None, description="D.7.2 nullFlavor")
    concomitant_therapies: bool | None = Field(default=None, description="D.7.3 Concomitant therapies (true only)")
    past_drugs: tuple[PastDrug, ...] = Field(default=(), description="D.8.r Relevant past drug history")
    death: Death | None = Field(default=None, description="D.9 In case of death")
    parent: Parent | None = Field(default=None, description="D.10 Parent (parent-child / foetus report only)")
    regional: tuple[RegionalElement, ...] = Field(
        default=(), description="FDA.D.11.r race, FDA.D.12 ethnicity (regional, kept verbatim)"
    )


# --------------------------------------------------------------------------------------------------
# E: reactions
# --------------------------------------------------------------------------------------------------

_SERIOUSNESS_FIELDS: dict[str, SeriousnessCriterion] = {
    "results_in_death": SeriousnessCriterion.RESULTS_IN_DEATH,
    "life_threatening": SeriousnessCriterion.LIFE_THREATENING,
    "hospitalisation": SeriousnessCriterion.HOSPITALISATION,
    "disabling": SeriousnessCriterion.DISABLING,
    "congenital_anomaly": SeriousnessCriterion.CONGENITAL_ANOMALY,
    "other_medically_important": SeriousnessCriterion.OTHER_MEDICALLY_IMPORTANT,
}


def _criterion_words() -> dict[str, str]:
    """Words for the E.i.3.2 criteria -> field name, made from the field names and the criteria: "hospitalisation",
    "caused/prolonged hospitalisation", "prolonged hospitalization", "life-threatening", "birth defect" ..."""
    words: dict[str, str] = {}
    for name, criterion in _SERIOUSNESS_FIELDS.items():
        parts = criterion.value.split("/")  # "caused/prolonged hospitalisation": "caused" alone says nothing
        halves = [part for part in parts[:-1] if " " in part] + parts[-1:] if len(parts) > 1 else []
        for word in (name, criterion.value, *halves):
            for spelling in (word, word.replace("isation", "ization")):
                words.setdefault(_seriousness_word(spelling), name)
    return words


def _seriousness_word(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


_CRITERION_WORDS: dict[str, str] = _criterion_words()
_SERIOUSNESS_KEY = "seriousness"


def _seriousness_from_words(data: Any) -> Any:
    """A reaction given with ``"seriousness": ["hospitalisation", "life threatening"]`` (words, any case) has
    those E.i.3.2 criteria set to true; the others stay as given (None is sent as nullFlavor NI)."""
    if not isinstance(data, dict) or _SERIOUSNESS_KEY not in data:
        return data
    data = dict(data)
    given = data.pop(_SERIOUSNESS_KEY)
    words = [given] if isinstance(given, str) else given
    if not isinstance(words, list | tuple) or not all(isinstance(w, str) for w in words):
        raise PydanticCustomError("seriousness", 'seriousness: give a list of criteria, e.g. ["hospitalisation"]')
    for word in words:
        field = _CRITERION_WORDS.get(_seriousness_word(word))
        if field is None:
            accepted = ", ".join(_seriousness_word(name) for name in _SERIOUSNESS_FIELDS)
            raise PydanticCustomError(
                "seriousness",
                f"seriousness: {word!r} is not an E.i.3.2 seriousness criterion; give any of: {accepted} "
                "(any case; the E2B(R3) wording such as 'caused/prolonged hospitalisation' is accepted too)",
            )
        data[field] = True
    return data


def _add_seriousness_to_schema(schema: dict[str, Any]) -> None:
    schema.setdefault("properties", {})[_SERIOUSNESS_KEY] = {
        "type": "array",
        "items": {"type": "string", "enum": sorted(_CRITERION_WORDS)},
        "description": "E.i.3.2a-f Seriousness criteria met, in words (sets the matching fields to true)",
    }


class Reaction(E2bModel):
    """E.i Reaction(s) / event(s).

    A case file may list the criteria met in words (``"seriousness": ["hospitalisation"]``) instead of
    setting ``hospitalisation`` and the like to true.
    """

    model_config = ConfigDict(json_schema_extra=_add_seriousness_to_schema)

    _words = model_validator(mode="before")(_seriousness_from_words)

    id: Uid = Field(default_factory=_new_uuid, description="E.i reaction identifier (UUID) referenced by G.k.9.i.1")
    verbatim_term: Text | None = Field(
        default=None, description="E.i.1.1a Reaction / event as reported by the primary source in native language"
    )
    verbatim_language: LanguageCode | None = Field(
        default=None, description="E.i.1.1b Reaction / event as reported by the primary source language"
    )
    verbatim_term_english: Text | None = Field(
        default=None, description="E.i.1.2 Reaction / event as reported by the primary source for translation"
    )
    meddra: MeddraTerm | None = Field(default=None, description="E.i.2.1a/b MedDRA version and LLT code")
    term_highlighted: TermHighlighted | None = Field(
        default=None, description="E.i.3.1 Term highlighted by the reporter"
    )
    results_in_death: bool | None = Field(default=None, description="E.i.3.2a Results in death (None = NI)")
    life_threatening: bool | None = Field(default=None, description="E.i.3.2b Life threatening (None = NI)")
    hospitalisation: bool | None = Field(
        default=None, description="E.i.3.2c Caused / prolonged hospitalisation (None = NI)"
    )
    disabling: bool | None = Field(default=None, description="E.i.3.2d Disabling / incapacitating (None = NI)")
    congenital_anomaly: bool | None = Field(
        default=None, description="E.i.3.2e Congenital anomaly / birth defect (None = NI)"
    )
    other_medically_important: bool | None = Field(
        default=None, description="E.i.3.2f Other medically important condition (None = NI)"
    )
    start_date: Hl7Timestamp | None = Field(default=None, description="E.i.4 Date of start of reaction / event")
    start_date_null_flavor: NullFlavor | None = Field(default=None, description="E.i.4 nullFlavor")
    end_date: Hl7Timestamp | None = Field(default=None, description="E.i.5 Date of end of reaction / event")
    end_date_null_flavor: NullFlavor | None = Field(default=None, description="E.i.5 nullFlavor")
    duration: Quantity | None = Field(default=None, description="E.i.6a/b Duration of reaction / event")
    outcome: Outcome | None = Field(
        default=None, description="E.i.7 Outcome of reaction / event at the time of last observation"
    )
    medical_confirmation: bool | None = Field(
        default=None, description="E.i.8 Medical confirmation by healthcare professional"
    )
    country: CountryCode | None = Field(
        default=None, description="E.i.9 Identification of the country where the reaction / event occurred"
    )
    pt_code: MeddraCode | None = Field(default=None, description="riskplan (not E2B): MedDRA PT code set by coding")
    pt_name: Text | None = Field(default=None, description="riskplan (not E2B): MedDRA PT name set by coding")
    llt_name: Text | None = Field(default=None, description="riskplan (not E2B): MedDRA LLT name set by coding")
    coded_by_hand: bool = Field(
        default=False,
        exclude_if=lambda value: not value,  # absent unless true: cases stored before keep their exact JSON
        description="riskplan (not E2B): the PT (and LLT) were chosen by a person (`riskplan case code`); "
        "processing keeps them instead of coding the verbatim again",
    )
    regional: tuple[RegionalElement, ...] = Field(
        default=(), description="FDA.E.i.3.2h required intervention (regional, kept verbatim)"
    )

    @property
    def seriousness_criteria(self) -> list[SeriousnessCriterion]:
        """The E.i.3.2 criteria met, in E2B order (a string enum: ``'results in death'`` ...)."""
        return [criterion for name, criterion in _SERIOUSNESS_FIELDS.items() if getattr(self, name) is True]

    @property
    def is_serious(self) -> bool:
        """True when any E.i.3.2 seriousness criterion is met."""
        return bool(self.seriousness_criteria)

    @property
    def label(self) -> str:
        """What a case processor calls the reaction: PT, then LLT, then the reporter's words."""
        for candidate in (self.pt_name, self.llt_name, self.verbatim_term_english, self.verbatim_term):
            if candidate:
                return candidate
        return self.meddra.code if self.meddra else self.id


# --------------------------------------------------------------------------------------------------
# F: tests and procedures
# --------------------------------------------------------------------------------------------------


class DiagnosticTest(E2bModel):
    """F.r Results of tests and procedures relevant to the investigation of the patient."""

    date: Hl7Timestamp | None = Field(default=None, description="F.r.1 Test date")
    date_null_flavor: NullFlavor | None = Field(default=None, description="F.r.1 nullFlavor")
    name: Text | None = Field(default=None, description="F.r.2.1 Test name (free text)")
    meddra: MeddraTerm | None = Field(default=None, description="F.r.2.2a/b Test name (MedDRA version and code)")
    result_code: TestResultCode | None = Field(default=None, description="F.r.3.1 Test result (code)")
    result: TestResult | None = Field(default=None, description="F.r.3.2 / F.r.3.3 Test result (value, unit)")
    result_text: Text | None = Field(default=None, description="F.r.3.4 Result unstructured data (free text)")
    normal_low: Measurement | None = Field(default=None, description="F.r.4 Normal low value")
    normal_high: Measurement | None = Field(default=None, description="F.r.5 Normal high value")
    comments: Text | None = Field(default=None, description="F.r.6 Comments (free text)")
    more_information: bool | None = Field(default=None, description="F.r.7 More information available")


# --------------------------------------------------------------------------------------------------
# G: drugs
# --------------------------------------------------------------------------------------------------


class Substance(E2bModel):
    """G.k.2.3.r Substance / specified substance identifier and strength."""

    name: Text | None = Field(default=None, description="G.k.2.3.r.1 Substance / specified substance name")
    term_id: CodedValue | None = Field(
        default=None, description="G.k.2.3.r.2a/b Substance / specified substance TermID (version, ID)"
    )
    strength: Quantity | None = Field(default=None, description="G.k.2.3.r.3a/b Strength (number, unit)")


_ROUTE_TEXT_FIELDS = {"route": "route_text", "parent_route": "parent_route_text", "dose_form": "dose_form_text"}


def _route_words(data: Any) -> Any:
    """``"route": "intravenous"`` (a word, not an EDQM TermID object) is the route as reported, G.k.4.r.10.1;
    likewise for the parent route (G.k.4.r.11.1) and the dose form (G.k.4.r.9.1)."""
    if not isinstance(data, dict) or not any(isinstance(data.get(k), str) for k in _ROUTE_TEXT_FIELDS):
        return data
    data = dict(data)
    for coded, text in _ROUTE_TEXT_FIELDS.items():
        if isinstance(data.get(coded), str):
            if data.get(text) is not None:
                raise PydanticCustomError(
                    "route", f"{coded}: give the words in {text} or in {coded}, not both ({coded} as text is {text})"
                )
            data[text] = data.pop(coded)
    return data


class Dosage(E2bModel):
    """G.k.4.r Dosage and relevant information.

    ``route``, ``parent_route`` and ``dose_form`` take either an EDQM TermID object or words
    (``"route": "intravenous"``), which are kept as the free text (``route_text`` ...).
    """

    _words = model_validator(mode="before")(_route_words)

    dose: Quantity | None = Field(default=None, description="G.k.4.r.1a/b Dose (number, unit)")
    period: Period | None = Field(
        default=None, description="G.k.4.r.2 / G.k.4.r.3 Number of units in the interval and its unit"
    )
    start_date: Hl7Timestamp | None = Field(default=None, description="G.k.4.r.4 Date and time of start of drug")
    start_date_null_flavor: NullFlavor | None = Field(default=None, description="G.k.4.r.4 nullFlavor")
    end_date: Hl7Timestamp | None = Field(default=None, description="G.k.4.r.5 Date and time of last administration")
    end_date_null_flavor: NullFlavor | None = Field(default=None, description="G.k.4.r.5 nullFlavor")
    timing_null_flavor: NullFlavor | None = Field(
        default=None, description="G.k.4.r.4 nullFlavor for the whole administration timing (effectiveTime)"
    )
    duration: Quantity | None = Field(default=None, description="G.k.4.r.6a/b Duration of drug administration")
    batch_lot: Text | None = Field(default=None, description="G.k.4.r.7 Batch / lot number")
    text: Text | None = Field(default=None, description="G.k.4.r.8 Dosage text")
    dose_form_text: Text | None = Field(default=None, description="G.k.4.r.9.1 Pharmaceutical dose form (free text)")
    dose_form_text_null_flavor: NullFlavor | None = Field(default=None, description="G.k.4.r.9.1 nullFlavor")
    dose_form: CodedValue | None = Field(default=None, description="G.k.4.r.9.2a/b Pharmaceutical dose form TermID")
    route_text: Text | None = Field(default=None, description="G.k.4.r.10.1 Route of administration (free text)")
    route_text_null_flavor: NullFlavor | None = Field(default=None, description="G.k.4.r.10.1 nullFlavor")
    route: CodedValue | None = Field(default=None, description="G.k.4.r.10.2a/b Route of administration TermID")
    parent_route_text: Text | None = Field(
        default=None, description="G.k.4.r.11.1 Parent route of administration (free text)"
    )
    parent_route_text_null_flavor: NullFlavor | None = Field(default=None, description="G.k.4.r.11.1 nullFlavor")
    parent_route: CodedValue | None = Field(
        default=None, description="G.k.4.r.11.2a/b Parent route of administration TermID"
    )

    @model_validator(mode="after")
    def _timing_null_flavor_alone(self) -> Self:
        timed = (self.period, self.start_date, self.end_date, self.duration)
        if self.timing_null_flavor is not None and any(part is not None for part in timed):
            raise ValueError("timing_null_flavor: give either the timing or a nullFlavor for it, not both")
        return self


class Indication(E2bModel):
    """G.k.7.r Indication for use in case."""

    text: Text | None = Field(default=None, description="G.k.7.r.1 Indication as reported by the primary source")
    text_null_flavor: NullFlavor | None = Field(default=None, description="G.k.7.r.1 nullFlavor")
    meddra: MeddraTerm | None = Field(default=None, description="G.k.7.r.2a/b Indication (MedDRA version, code)")


class RelatednessAssessment(E2bModel):
    """G.k.9.i.2.r Assessment of relatedness of drug to reaction(s) / event(s)."""

    source: Text | None = Field(default=None, description="G.k.9.i.2.r.1 Source of assessment")
    method: Text | None = Field(default=None, description="G.k.9.i.2.r.2 Method of assessment")
    result: Text | None = Field(default=None, description="G.k.9.i.2.r.3 Result of assessment")


class DrugReactionAssessment(E2bModel):
    """G.k.9.i Drug-reaction(s) / event(s) matrix: one drug against one reaction."""

    reaction_id: Uid = Field(description="G.k.9.i.1 Reaction(s) / event(s) assessed (the E.i reaction id)")
    assessments: tuple[RelatednessAssessment, ...] = Field(
        default=(), description="G.k.9.i.2.r Assessment of relatedness of drug to reaction / event"
    )
    time_from_start: Quantity | None = Field(
        default=None, description="G.k.9.i.3.1a/b Time interval between beginning of drug administration and start"
    )
    time_from_last_dose: Quantity | None = Field(
        default=None, description="G.k.9.i.3.2a/b Time interval between last dose of drug and start of reaction"
    )
    recurrence: Recurrence | None = Field(
        default=None, description="G.k.9.i.4 Did reaction recur on re-administration?"
    )

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        parts = (self.assessments, self.time_from_start, self.time_from_last_dose, self.recurrence)
        if not any(part for part in parts):
            raise ValueError(
                "a drug-reaction assessment (G.k.9.i) needs a relatedness assessment, an interval or a recurrence"
            )
        return self


class Drug(E2bModel):
    """G.k Drug(s) information."""

    id: Uid = Field(default_factory=_new_uuid, description="G.k drug identifier (UUID) used by G.k.1 and G.k.9.i")
    role: DrugRole | None = Field(default=None, description="G.k.1 Characterisation of drug role")
    product_id: CodedValue | None = Field(
        default=None, description="G.k.2.1.1a/b MPID (or G.k.2.1.2a/b PhPID): version and identifier"
    )
    name: Text | None = Field(
        default=None, description="G.k.2.2 Medicinal product name as reported by the primary source"
    )
    substances: tuple[Substance, ...] = Field(default=(), description="G.k.2.3.r Substance / specified substance")
    obtained_country: CountryCode | None = Field(
        default=None, description="G.k.2.4 Identification of the country where the drug was obtained"
    )
    blinded: bool | None = Field(default=None, description="G.k.2.5 Investigational product blinded (true only)")
    authorisation_number: Text | None = Field(default=None, description="G.k.3.1 Authorisation / application number")
    authorisation_country: CountryCode | None = Field(
        default=None, description="G.k.3.2 Country of authorisation / application"
    )
    authorisation_holder: Text | None = Field(default=None, description="G.k.3.3 Name of holder / applicant")
    dosages: tuple[Dosage, ...] = Field(default=(), description="G.k.4.r Dosage and relevant information")
    cumulative_dose: Quantity | None = Field(default=None, description="G.k.5a/b Cumulative dose to first reaction")
    gestation_at_exposure: Quantity | None = Field(
        default=None, description="G.k.6a/b Gestation period at time of exposure"
    )
    indications: tuple[Indication, ...] = Field(default=(), description="G.k.7.r Indication for use in case")
    action_taken: ActionTaken | None = Field(default=None, description="G.k.8 Action(s) taken with drug")
    reaction_assessments: tuple[DrugReactionAssessment, ...] = Field(
        default=(), description="G.k.9.i Drug-reaction(s) / event(s) matrix"
    )
    additional_info_codes: tuple[AdditionalDrugInfo, ...] = Field(
        default=(), description="G.k.10.r Additional information on drug (coded)"
    )
    additional_info: Text | None = Field(default=None, description="G.k.11 Additional information on drug (free text)")
    regional: tuple[RegionalElement, ...] = Field(
        default=(), description="FDA.G.k.1.a, FDA.G.k.10a, FDA.G.k.10.1, FDA.G.k.12.r (regional, kept verbatim)"
    )

    @property
    def is_suspect(self) -> bool:
        """Suspect or interacting (G.k.1 = 1 or 3): the drugs whose causality is assessed."""
        return self.role in (DrugRole.SUSPECT, DrugRole.INTERACTING)


# --------------------------------------------------------------------------------------------------
# H and the case
# --------------------------------------------------------------------------------------------------


class CaseSummary(E2bModel):
    """H.5.r Case summary and reporter's comments in native language."""

    text: Text = Field(description="H.5.r.1a Case summary and reporter's comments text")
    language: LanguageCode | None = Field(default=None, description="H.5.r.1b Case summary language")


_PARENT_CHILD_AGE_GROUPS = frozenset({AgeGroup.FOETUS, AgeGroup.NEONATE, AgeGroup.INFANT})


class Icsr(E2bModel):
    """An individual case safety report (ICH E2B(R3) sections C to H)."""

    # C.1 Identification of the case safety report
    sender_report_id: Text = Field(description="C.1.1 Sender's (case) safety report unique identifier")
    created: Hl7Timestamp | None = Field(default=None, description="C.1.2 Date of creation")
    report_type: ReportType | None = Field(default=None, description="C.1.3 Type of report")
    first_received: Hl7Timestamp | None = Field(
        default=None, description="C.1.4 Date report was first received from source"
    )
    most_recent_info: Hl7Timestamp | None = Field(
        default=None, description="C.1.5 Date of most recent information for this report"
    )
    additional_documents: bool | None = Field(default=None, description="C.1.6.1 Are additional documents available?")
    documents_held: tuple[HeldDocument, ...] = Field(default=(), description="C.1.6.1.r Documents held by sender")
    local_expedited: bool | None = Field(
        default=None, description="C.1.7 Does this case fulfil the local criteria for an expedited report?"
    )
    local_expedited_null_flavor: NullFlavor | None = Field(default=None, description="C.1.7 nullFlavor")
    worldwide_case_id: Text = Field(description="C.1.8.1 Worldwide unique case identification number")
    first_sender: FirstSender | None = Field(default=None, description="C.1.8.2 First sender of this case")
    other_case_ids_flag: bool | None = Field(
        default=None, description="C.1.9.1 Other case identifiers in previous transmissions (None = NI)"
    )
    other_case_ids: tuple[OtherCaseIdentifier, ...] = Field(
        default=(), description="C.1.9.1.r Source(s) of the case identifier and case identifier(s)"
    )
    linked_reports: tuple[Text, ...] = Field(
        default=(), description="C.1.10.r Identification number of the report which is linked to this report"
    )
    nullification: NullificationCode | None = Field(
        default=None, description="C.1.11.1 Report nullification / amendment"
    )
    nullification_reason: Text | None = Field(default=None, description="C.1.11.2 Reason for nullification / amendment")
    # C.2 - C.5
    primary_sources: tuple[PrimarySource, ...] = Field(default=(), description="C.2.r Primary source(s)")
    sender: Sender | None = Field(default=None, description="C.3 Information on sender of case safety report")
    literature: tuple[LiteratureReference, ...] = Field(default=(), description="C.4.r Literature reference(s)")
    study: Study | None = Field(default=None, description="C.5 Study identification")
    # D - G
    patient: Patient = Field(default_factory=Patient, description="D Patient characteristics")
    reactions: tuple[Reaction, ...] = Field(default=(), description="E.i Reaction(s) / event(s)")
    tests: tuple[DiagnosticTest, ...] = Field(default=(), description="F.r Results of tests and procedures")
    drugs: tuple[Drug, ...] = Field(default=(), description="G.k Drug(s) information")
    # H Narrative case summary and further information
    narrative: Text | None = Field(
        default=None,
        description="H.1 Case narrative including clinical course, therapeutic measures, outcome and other information",
    )
    reporter_comments: Text | None = Field(default=None, description="H.2 Reporter's comments")
    sender_diagnoses: tuple[MeddraTerm, ...] = Field(
        default=(), description="H.3.r Sender's diagnosis / syndrome and / or reclassification (MedDRA)"
    )
    sender_comments: Text | None = Field(default=None, description="H.4 Sender's comments")
    case_summaries: tuple[CaseSummary, ...] = Field(
        default=(), description="H.5.r Case summary and reporter's comments in native language"
    )
    regional: tuple[RegionalElement, ...] = Field(
        default=(), description="FDA.C.1.7.1 report type, FDA.C.1.12 combination product (regional, kept verbatim)"
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        reaction_ids = [reaction.id for reaction in self.reactions]
        if len(set(reaction_ids)) != len(reaction_ids):
            raise ValueError("reactions: every E.i reaction needs its own id")
        drug_ids = [drug.id for drug in self.drugs]
        if len(set(drug_ids)) != len(drug_ids):
            raise ValueError("drugs: every G.k drug needs its own id")
        known = set(reaction_ids)
        for k, drug in enumerate(self.drugs):
            for assessment in drug.reaction_assessments:
                if assessment.reaction_id not in known:
                    raise ValueError(
                        f"drugs[{k}].reaction_assessments: G.k.9.i.1 refers to reaction "
                        f"{assessment.reaction_id!r}, which is not among the case's reactions"
                    )
        return self

    @property
    def case_key(self) -> str:
        """The C.1.8.1 worldwide unique case identification number: the case's identity over versions."""
        return self.worldwide_case_id

    @property
    def is_serious(self) -> bool:
        """True when any reaction meets an E.i.3.2 seriousness criterion."""
        return any(reaction.is_serious for reaction in self.reactions)

    @property
    def suspect_drugs(self) -> list[Drug]:
        """Drugs characterised as suspect or interacting (G.k.1 = 1 or 3), in report order."""
        return [drug for drug in self.drugs if drug.is_suspect]

    @property
    def primary_source(self) -> PrimarySource | None:
        """The C.2.r primary source flagged for regulatory purposes (C.2.r.5), else the first one."""
        for source in self.primary_sources:
            if source.primary_for_regulatory_purposes:
                return source
        return self.primary_sources[0] if self.primary_sources else None

    @property
    def is_parent_child_report(self) -> bool:
        """Whether the case reads as a parent-child / foetus report (the only kind that may carry D.10).

        E2B(R3) has no flag for it; the IG (section 3.3 on D.10) describes it as a child or foetus
        exposed through a parent. riskplan takes any of these as the sign: a gestation period
        (D.2.2.1 or G.k.6), an age group of foetus, neonate or infant (D.2.3), or a drug taken by
        the father (G.k.10.r = 3).
        """
        patient = self.patient
        if patient.gestation_period is not None or patient.age_group in _PARENT_CHILD_AGE_GROUPS:
            return True
        return any(
            drug.gestation_at_exposure is not None or AdditionalDrugInfo.TAKEN_BY_FATHER in drug.additional_info_codes
            for drug in self.drugs
        )

    def reaction(self, reaction_id: str) -> Reaction:
        """The reaction with this E.i id (KeyError when there is none)."""
        for reaction in self.reactions:
            if reaction.id == reaction_id:
                return reaction
        raise KeyError(reaction_id)
