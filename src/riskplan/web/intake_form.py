"""The complete-case intake form: its fields, its repeatable rows, and the case it describes.

Every field is named by its place in a case file (``reactions.1.start_date``, ``drugs.0.dosages.0.route``;
``riskplan case example`` shows the shape), takes the same words and codes a case file does, and is
turned into the case-file data that :func:`riskplan.cases.entry_check.check_entry` checks — the one
definition of a valid case and of one complete for sending. A problem found at a path is shown next to
the field of that name (or the row or section holding it).

Reactions, drugs, medical history, tests and the parent (D.10) are rows the user adds and removes; the
row counts travel with the form (``rows.<section>``) so a draft keeps its empty rows too.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from riskplan.cases import (
    ActionTaken,
    AgeGroup,
    DrugRole,
    FormValues,
    Hl7Timestamp,
    Outcome,
    Problem,
    Qualification,
    Recurrence,
    ReportType,
    Sex,
    TestResultCode,
)
from riskplan.web.forms import SERIOUSNESS_LABELS

Choices = tuple[tuple[str, str], ...]
MAX_ROWS: Final = 50
MAX_FIELDS: Final = 3000
MAX_VALUE: Final = 20_000
_NAME = re.compile(r"^[a-z_]+(\.[a-z_0-9]+){0,6}$")


def _words(enum: Any) -> Choices:
    """A code list's options: the word a case file takes, shown with the E2B(R3) label."""
    return tuple((m.word, m.label) for m in enum)


AGE_UNITS: Choices = (("a", "years"), ("mo", "months"), ("wk", "weeks"), ("d", "days"), ("h", "hours"))
GESTATION_UNITS: Choices = (("wk", "weeks"), ("mo", "months"), ("d", "days"), ("{trimester}", "trimester"))
YES_NO: Choices = (("true", "yes"), ("false", "no"))
#: E2B(R3) has no dechallenge element: the result goes into G.k.11 beside the action taken (G.k.8).
DECHALLENGE: dict[str, str] = {
    "positive": "Dechallenge positive: the reaction abated when the drug was stopped or the dose reduced.",
    "negative": "Dechallenge negative: the reaction did not abate when the drug was stopped or the dose reduced.",
    "unknown": "Dechallenge outcome unknown.",
    "not done": "No dechallenge: the drug was neither stopped nor reduced.",
}
_DECHALLENGE_ACTIONS = frozenset({ActionTaken.WITHDRAWN, ActionTaken.DOSE_REDUCED})


@dataclass(frozen=True)
class Field:
    key: str  # the name under the row or section, e.g. "dosages.0.start_date"
    label: str
    kind: str = "text"  # text | date | number | select | textarea | check | checks | hidden
    options: Choices = ()
    hint: str | None = None
    required: bool = False  # needed for a valid case (GVP VI.B.2), marked *
    default: str | None = None  # what a new row starts with


@dataclass(frozen=True)
class Section:
    key: str  # rows.<key> counts its rows
    title: str
    prefix: str  # "reactions.{i}." for rows
    fields: tuple[Field, ...]
    repeat: bool = False
    minimum: int = 0
    noun: str = "row"

    @property
    def container(self) -> str:
        """Where problems about the section as a whole are shown (its path in the case file)."""
        return _CONTAINERS.get(self.key, "")

    @property
    def most(self) -> int:
        return _MAX_ROWS.get(self.key, MAX_ROWS)


DATE_HINT = "YYYY-MM-DD, or YYYY-MM / YYYY when only that is known"

REPORT = Section(
    "report",
    "Report (C.1)",
    "",
    (
        Field("worldwide_case_id", "Worldwide case id (C.1.8.1)", required=True, hint="e.g. GB-ACME-2026-000123"),
        Field("sender_report_id", "Sender's report id (C.1.1)", hint="default: the worldwide case id"),
        Field("report_type", "Type of report (C.1.3)", "select", _words(ReportType), default="spontaneous"),
        Field("first_received", "Date first received (C.1.4)", "date", hint=DATE_HINT),
        Field("most_recent_info", "Date of most recent information (C.1.5)", "date", hint="default: first received"),
    ),
)
REPORTER = Section(
    "reporter",
    "Reporter (C.2)",
    "primary_sources.0.",
    (
        Field("given_name", "Given name (C.2.r.1.2)"),
        Field("family_name", "Family name (C.2.r.1.4)"),
        Field("organisation", "Organisation (C.2.r.2.1)"),
        Field("qualification", "Qualification (C.2.r.4)", "select", _words(Qualification)),
        Field("country", "Country (C.2.r.3)", hint="two letters, e.g. GB"),
    ),
)
PATIENT = Section(
    "patient",
    "Patient (D)",
    "patient.",
    (
        Field("name", "Initials (D.1)"),
        Field("birth_date", "Date of birth (D.2.1)", "date"),
        Field("age.value", "Age (D.2.2a)", "number"),
        Field("age.unit", "Age unit (D.2.2b)", "select", AGE_UNITS, default="a"),
        Field("age_group", "Age group (D.2.3)", "select", _words(AgeGroup)),
        Field("sex", "Sex (D.5)", "select", _words(Sex)),
        Field("weight_kg", "Weight, kg (D.3)", "number"),
        Field("height_cm", "Height, cm (D.4)", "number"),
        Field("last_menstrual_period", "Last menstrual period (D.6)", "date"),
        Field("gestation_period.value", "Gestation at the reaction (D.2.2.1a)", "number", hint="foetus / child"),
        Field("gestation_period.unit", "Gestation unit (D.2.2.1b)", "select", GESTATION_UNITS, default="wk"),
        Field("medical_history_text", "Medical history as text (D.7.2)", "textarea"),
    ),
)
HISTORY = Section(
    "history",
    "Medical history (D.7.1.r)",
    "patient.medical_history.{i}.",
    (
        Field("term.code", "MedDRA LLT code (D.7.1.r.1b)", hint="8 digits"),
        Field("term.version", "MedDRA version (D.7.1.r.1a)", hint="e.g. 27.1"),
        Field("start_date", "Start (D.7.1.r.2)", "date"),
        Field("end_date", "End (D.7.1.r.4)", "date"),
        Field("continuing", "Continuing (D.7.1.r.3)", "select", YES_NO),
        Field("comments", "Comments (D.7.1.r.5)"),
        Field("family_history", "Family history (D.7.1.r.6)", "check"),
    ),
    repeat=True,
    noun="episode",
)
REACTIONS = Section(
    "reactions",
    "Reactions / events (E.i)",
    "reactions.{i}.",
    (
        Field("id", "Reaction id", "hidden"),
        Field("verbatim_term", "Reaction as reported (E.i.1.1a)", required=True, hint="the reporter's words"),
        Field("verbatim_language", "Language (E.i.1.1b)", hint="ISO 639-2, e.g. eng", default="eng"),
        Field("start_date", "Start (E.i.4)", "date"),
        Field("end_date", "End (E.i.5)", "date"),
        Field("outcome", "Outcome (E.i.7)", "select", _words(Outcome)),
        Field("country", "Country where it occurred (E.i.9)", hint="two letters"),
        Field("medical_confirmation", "Medically confirmed (E.i.8)", "check"),
        Field("seriousness", "Seriousness (E.i.3.2)", "checks", tuple(SERIOUSNESS_LABELS.items())),
    ),
    repeat=True,
    minimum=1,
    noun="reaction",
)
TESTS = Section(
    "tests",
    "Tests and lab results (F.r)",
    "tests.{i}.",
    (
        Field("name", "Test (F.r.2.1)", hint="e.g. ALT"),
        Field("date", "Date (F.r.1)", "date"),
        Field("result.value", "Result (F.r.3.2)", "number"),
        Field("result.unit", "Unit (F.r.3.3)", hint="UCUM, e.g. U/L"),
        Field("result_code", "Result code (F.r.3.1)", "select", _words(TestResultCode)),
        Field("result_text", "Result as text (F.r.3.4)"),
        Field("normal_low.value", "Normal low (F.r.4)", "number"),
        Field("normal_high.value", "Normal high (F.r.5)", "number"),
        Field("comments", "Comments (F.r.6)"),
    ),
    repeat=True,
    noun="test",
)
DRUGS = Section(
    "drugs",
    "Drugs (G.k)",
    "drugs.{i}.",
    (
        Field("role", "Role (G.k.1)", "select", _words(DrugRole), default="concomitant"),
        Field("name", "Medicinal product (G.k.2.2)", required=True),
        Field("substances.0.name", "Active substance (G.k.2.3.r.1)"),
        Field("dosages.0.dose.value", "Dose (G.k.4.r.1a)", "number"),
        Field("dosages.0.dose.unit", "Dose unit (G.k.4.r.1b)", hint="UCUM, e.g. mg", default="mg"),
        Field("dosages.0.route", "Route (G.k.4.r.10.1)", hint="e.g. intravenous, oral"),
        Field("dosages.0.start_date", "Start (G.k.4.r.4)", "date"),
        Field("dosages.0.end_date", "Stop / last dose (G.k.4.r.5)", "date"),
        Field("dosages.0.batch_lot", "Batch / lot (G.k.4.r.7)"),
        Field("indications.0.text", "Indication (G.k.7.r.1)"),
        Field("action_taken", "Action taken (G.k.8)", "select", _words(ActionTaken)),
        Field("dechallenge", "Dechallenge", "select", tuple((k, k) for k in DECHALLENGE), hint="kept in G.k.11"),
        Field("rechallenge", "Rechallenge (G.k.9.i.4)", "select", _words(Recurrence)),
        Field("rechallenge_reaction", "Rechallenged reaction (G.k.9.i.1)", "select"),
        Field("gestation_at_exposure.value", "Gestation at exposure (G.k.6a)", "number"),
        Field("gestation_at_exposure.unit", "Gestation unit (G.k.6b)", "select", GESTATION_UNITS, default="wk"),
        Field("additional_info", "Additional information (G.k.11)"),
    ),
    repeat=True,
    minimum=1,
    noun="drug",
)
PARENT = Section(
    "parent",
    "Parent (D.10) — parent-child / foetus report",
    "patient.parent.",
    (
        Field("identification", "Parent identification (D.10.1)"),
        Field("birth_date", "Parent's date of birth (D.10.2.1)", "date"),
        Field("age.value", "Parent's age in years (D.10.2.2a)", "number"),
        Field("last_menstrual_period", "Last menstrual period (D.10.3)", "date"),
        Field("weight_kg", "Parent's weight, kg (D.10.4)", "number"),
        Field("height_cm", "Parent's height, cm (D.10.5)", "number"),
        Field("sex", "Parent's sex (D.10.6)", "select", _words(Sex)),
        Field("medical_history_text", "Parent's medical history (D.10.7.2)", "textarea"),
    ),
    repeat=True,
    noun="parent",
)
NARRATIVE = Section(
    "narrative",
    "Narrative (H)",
    "",
    (
        Field("narrative", "Narrative (H.1)", "textarea", hint="clinical course, therapeutic measures, outcome"),
        Field("reporter_comments", "Reporter's comments (H.2)", "textarea"),
    ),
)
SECTIONS: Final = (REPORT, REPORTER, PATIENT, PARENT, HISTORY, REACTIONS, DRUGS, TESTS, NARRATIVE)
REPEATED: Final = {s.key: s for s in SECTIONS if s.repeat}
_MAX_ROWS = {"parent": 1}
_CONTAINERS = {
    "reporter": "primary_sources",
    "patient": "patient",
    "parent": "patient.parent",
    "history": "patient.medical_history",
    "reactions": "reactions",
    "drugs": "drugs",
    "tests": "tests",
}
_QUANTITIES = frozenset(
    {"age", "gestation_period", "dose", "gestation_at_exposure", "result", "normal_low", "normal_high"}
)
_NOT_CONTENT = frozenset({"id", "verbatim_language", "role", "unit"})
_ALIASES: Final = (  # where the model reports an error the form field has another name
    (re.compile(r"^(drugs\.\d+)\.reaction_assessments(\..*)?$"), r"\1.rechallenge"),
    (re.compile(r"^(drugs\.\d+\.dosages\.\d+)\.route_text$"), r"\1.route"),
    (re.compile(r"^(patient\.medical_history\.\d+)\.term$"), r"\1.term.code"),
)


# -- the values as submitted -------------------------------------------------------------------------


def form_values(items: Iterable[tuple[str, str]]) -> FormValues:
    """The submitted fields that belong to the case, blanks left out (names checked, sizes capped);
    ``*.seriousness`` as lists."""
    values: FormValues = {}
    for n, (key, value) in enumerate(items):
        if n >= MAX_FIELDS:
            break
        if not (key.startswith("rows.") or _NAME.fullmatch(key)) or key in ("csrf_token", "action", "dup_ack"):
            continue
        value = value[:MAX_VALUE]
        if not value.strip():  # a blank field is no value (and a draft's audit trail lists only what was typed)
            continue
        if key.endswith(".seriousness"):
            listed = values.setdefault(key, [])
            if isinstance(listed, list):
                listed.append(value)
        else:
            values[key] = value
    return values


def row_count(values: Mapping[str, Any], section: Section) -> int:
    try:
        count = int(str(values.get(f"rows.{section.key}", section.minimum)))
    except ValueError:
        count = section.minimum
    return max(section.minimum, min(count, _MAX_ROWS.get(section.key, MAX_ROWS)))


def _new_row(section: Section, i: int, values: FormValues) -> None:
    prefix = section.prefix.format(i=i)
    for f in section.fields:
        if f.default is not None:
            values[prefix + f.key] = f.default
    if section is DRUGS and i == 0:
        values[prefix + "role"] = "suspect"
    if section is REACTIONS:
        values[prefix + "id"] = str(uuid.uuid4())


def new_form(**given: str) -> FormValues:
    """An empty form: one reaction and one (suspect) drug."""
    values: FormValues = {}
    for section in SECTIONS:
        if not section.repeat:
            for f in section.fields:
                if f.default is not None:
                    values[section.prefix + f.key] = f.default
    for section in REPEATED.values():
        values[f"rows.{section.key}"] = str(section.minimum)
        for i in range(section.minimum):
            _new_row(section, i, values)
    values.update(given)
    return values


def change_rows(values: FormValues, action: str) -> FormValues:
    """``add:<section>`` adds an empty row; ``remove:<section>:<n>`` removes row n, the rows after it move up."""
    parts = action.split(":")
    section = REPEATED.get(parts[1]) if len(parts) > 1 else None
    if section is None:
        return values
    count = row_count(values, section)
    changed = dict(values)
    if parts[0] == "add" and count < _MAX_ROWS.get(section.key, MAX_ROWS):
        _new_row(section, count, changed)
        changed[f"rows.{section.key}"] = str(count + 1)
    elif parts[0] == "remove" and len(parts) == 3 and parts[2].isdigit() and count > section.minimum:
        gone = int(parts[2])
        if "{i}" not in section.prefix:  # the one parent: its fields go with it
            changed = {k: v for k, v in values.items() if not k.startswith(section.prefix)}
            changed[f"rows.{section.key}"] = str(count - 1)
            return changed
        head, _, tail = section.prefix.partition("{i}")
        row = re.compile(rf"^{re.escape(head)}(\d+){re.escape(tail)}")
        changed = {}
        for key, value in values.items():
            m = row.match(key)
            if m is None:
                changed[key] = value
            elif (i := int(m.group(1))) != gone:
                changed[key if i < gone else f"{head}{i - 1}{tail}{key[m.end() :]}"] = value
        changed[f"rows.{section.key}"] = str(count - 1)
    return changed


def reaction_choices(values: Mapping[str, Any]) -> Choices:
    """The reactions a rechallenge may be about: (reaction id, "#n words")."""
    return tuple(
        (str(values.get(f"reactions.{i}.id") or ""), f"#{i + 1} {values.get(f'reactions.{i}.verbatim_term') or ''}")
        for i in range(row_count(values, REACTIONS))
        if values.get(f"reactions.{i}.id")
    )


def summary(values: Mapping[str, Any]) -> str | None:
    """What a draft is about, for the list: its first reaction and first drug."""
    parts = [str(values.get(k) or "").strip() for k in ("reactions.0.verbatim_term", "drugs.0.name")]
    text = " · ".join(p for p in parts if p)
    return text[:300] or None


# -- from the form to the case file's data -------------------------------------------------------------


def _blank(value: str | list[str]) -> bool:
    return not value if isinstance(value, list) else not value.strip()


def _unflatten(flat: Mapping[str, str | list[str]]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        node = tree
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[last] = value.strip() if isinstance(value, str) else value
    return tree


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    items = {k: v for k, v in items.items() if not (k in _QUANTITIES and isinstance(v, dict) and "value" not in v)}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def _has_content(node: Any) -> bool:
    if isinstance(node, dict):
        return any(_has_content(v) for k, v in node.items() if k not in _NOT_CONTENT)
    if isinstance(node, list):
        return any(_has_content(v) for v in node)
    return bool(node)


@dataclass(frozen=True)
class CaseData:
    data: dict[str, Any]
    problems: list[Problem]  # found by the form itself (dechallenge, rechallenge)
    rows: dict[str, list[int]]  # per list path: data index -> form row


def case_data(values: Mapping[str, Any], *, created: dt.datetime, sender_organisation: str) -> CaseData:
    """The case file's data for ``values``; empty rows are left out (``rows`` maps data rows to form rows)."""
    kept: dict[str, str | list[str]] = {}
    for section in SECTIONS:
        count = row_count(values, section) if section.repeat else 1
        for i in range(count):
            prefix = section.prefix.format(i=i)
            for f in section.fields:
                value = values.get(prefix + f.key)
                if isinstance(value, str | list) and not _blank(value):
                    kept[prefix + f.key] = value
    data = _listify(_unflatten(kept))
    rows: dict[str, list[int]] = {}
    for path in ("reactions", "drugs", "tests", "patient.medical_history"):
        *parents, last = path.split(".")
        holder = data
        for part in parents:
            holder = holder.get(part) or {}
        listed = holder.get(last) if isinstance(holder, dict) else None
        if isinstance(listed, list):
            section = next(s for s in REPEATED.values() if s.prefix.startswith(path + ".{i}"))
            form_rows = _row_numbers(kept, section)
            pairs = [(row, n) for row, n in zip(listed, form_rows, strict=False) if _has_content(row)]
            holder[last] = [row for row, _ in pairs]
            rows[path] = [n for _, n in pairs]
    patient = data.setdefault("patient", {})
    if isinstance(patient.get("parent"), list):
        patient["parent"] = patient["parent"][0] if patient["parent"] else None
    problems = _complete(data, rows, created=created, sender_organisation=sender_organisation)
    return CaseData(data, problems, rows)


def _row_numbers(kept: Mapping[str, Any], section: Section) -> list[int]:
    head, _, tail = section.prefix.partition("{i}")
    found = {int(m.group(1)) for k in kept if (m := re.match(rf"^{re.escape(head)}(\d+){re.escape(tail)}", k))}
    return sorted(found)


def _complete(
    data: dict[str, Any], rows: Mapping[str, list[int]], *, created: dt.datetime, sender_organisation: str
) -> list[Problem]:
    """What the form adds to what was typed: defaults, nullFlavors for what the reporter did not give
    (E2B(R3) requires them there), and the dechallenge and rechallenge rows."""
    wid = data.get("worldwide_case_id")
    data.setdefault("sender_report_id", wid)
    if "first_received" in data:
        data.setdefault("most_recent_info", data["first_received"])
    data["created"] = str(Hl7Timestamp.from_datetime(created))
    data["sender"] = {"sender_type": "pharmaceutical company", "organisation": sender_organisation}
    source = (data.get("primary_sources") or [{}])[0]
    source["primary_for_regulatory_purposes"] = True
    for key in ("qualification", "country"):
        if key not in source:
            source[f"{key}_null_flavor"] = "UNK"
    data["primary_sources"] = [source]
    patient = data["patient"]
    if "name" not in patient:
        patient["name_null_flavor"] = "UNK"
    if isinstance(patient.get("parent"), dict) and "value" in (patient["parent"].get("age") or {}):
        patient["parent"]["age"]["unit"] = "a"
    for test in data.get("tests") or []:
        unit = (test.get("result") or {}).get("unit")
        for bound in ("normal_low", "normal_high"):
            if unit and isinstance(test.get(bound), dict):
                test[bound]["unit"] = unit
    problems: list[Problem] = []
    reaction_ids = [r.get("id") for r in data.get("reactions") or [] if r.get("id")]
    for k, drug in enumerate(data.get("drugs") or []):
        at = f"drugs.{rows['drugs'][k]}"
        dechallenge = drug.pop("dechallenge", None)
        rechallenge = drug.pop("rechallenge", None)
        rechallenged = drug.pop("rechallenge_reaction", None)
        if dechallenge is not None:
            if dechallenge not in DECHALLENGE:
                problems.append(Problem(f"{at}.dechallenge", "Choose one of the options."))
            else:
                if dechallenge in ("positive", "negative") and _action(drug) not in _DECHALLENGE_ACTIONS:
                    problems.append(
                        Problem(
                            f"{at}.dechallenge",
                            f"A {dechallenge} dechallenge means the drug was withdrawn or its dose reduced: "
                            "set the action taken (G.k.8) to say which.",
                        )
                    )
                text = DECHALLENGE[dechallenge]
                drug["additional_info"] = f"{text} {drug['additional_info']}" if drug.get("additional_info") else text
        if rechallenged is not None and rechallenged not in reaction_ids:
            problems.append(Problem(f"{at}.rechallenge_reaction", "Choose one of the case's reactions."))
        elif rechallenge is not None:
            about = [rechallenged] if rechallenged else reaction_ids
            drug["reaction_assessments"] = [{"reaction_id": r, "recurrence": rechallenge} for r in about]
        elif rechallenged is not None:
            problems.append(Problem(f"{at}.rechallenge", "Say whether the reaction recurred on rechallenge."))
    return problems


def _action(drug: Mapping[str, Any]) -> object:
    try:
        return ActionTaken(str(ActionTaken.from_word(drug.get("action_taken"))))
    except ValueError:  # no or unknown action: the case model says so at the field
        return None


def form_path(path: str, rows: Mapping[str, list[int]]) -> str:
    """The form field (or row, or section) a problem at the case-file ``path`` is shown at."""
    for list_path, numbers in rows.items():
        m = re.match(rf"^{re.escape(list_path)}\.(\d+)(?=\.|$)", path)
        if m is not None:
            k = int(m.group(1))
            row = numbers[k] if k < len(numbers) else k
            path = f"{list_path}.{row}{path[m.end() :]}"
            break
    for pattern, target in _ALIASES:
        path = pattern.sub(target, path)
    return path


def field_labels(values: Mapping[str, Any]) -> dict[str, str]:
    """Every field, row and section shown on the form with ``values`` (where messages can go): its label."""
    labels: dict[str, str] = {"": "The case"}
    for section in SECTIONS:
        if section.container:
            labels[section.container] = section.title
        for i in range(row_count(values, section) if section.repeat else 1):
            prefix = section.prefix.format(i=i)
            row = f"{section.noun.capitalize()} #{i + 1}" if section.repeat and "{i}" in section.prefix else ""
            if row:
                labels[prefix.rstrip(".")] = row
            labels.update({prefix + f.key: f"{row} · {f.label}" if row else f.label for f in section.fields})
    labels.setdefault("primary_sources.0", REPORTER.title)
    return labels


def anchors(values: Mapping[str, Any]) -> set[str]:
    """The names a message can be shown at on the form with ``values``."""
    return set(field_labels(values))


def place(path: str, rows: Mapping[str, list[int]], shown: Mapping[str, str] | set[str]) -> str:
    """The nearest shown name for a problem at ``path``: the field, else its row or section, else the form."""
    name = form_path(path, rows)
    while name and name not in shown:
        name = name.rpartition(".")[0]
    return name
