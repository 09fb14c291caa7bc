"""The words a drafted narrative uses for coded E2B(R3) values, per language (ICH E2D, CIOMS VIII).

Only the code lists a narrative states are here; each entry is the coded value said in words, never a
fact of its own. English follows the E2B(R3) labels (:mod:`riskplan.cases.codes`); German follows the
wording of the German CIOMS I form and the BfArM's case report forms.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LANGUAGES", "UNITS", "WORDS", "unit_word"]

#: Languages with narrative templates (ISO 639-1, as the plan's patient card keys them).
LANGUAGES: Final = ("en", "de")

#: Coded values in words, by language and code list (the E2B code as key).
WORDS: Final[dict[str, dict[str, dict[str, str]]]] = {
    "en": {
        "Sex": {"1": "male", "2": "female"},
        "Qualification": {
            "1": "physician",
            "2": "pharmacist",
            "3": "other health professional",
            "4": "lawyer",
            "5": "consumer or other non-health professional",
        },
        "Outcome": {
            "0": "unknown",
            "1": "recovered/resolved",
            "2": "recovering/resolving",
            "3": "not recovered/not resolved/ongoing",
            "4": "recovered/resolved with sequelae",
            "5": "fatal",
        },
        "ActionTaken": {
            "0": "unknown",
            "1": "drug withdrawn",
            "2": "dose reduced",
            "3": "dose increased",
            "4": "dose not changed",
            "9": "not applicable",
        },
        "Recurrence": {
            "1": "the reaction recurred on rechallenge",
            "2": "the reaction did not recur on rechallenge",
            "3": "a rechallenge was done, its outcome is unknown",
            "4": "no rechallenge was done",
        },
        "Seriousness": {
            "results in death": "results in death",
            "life threatening": "life threatening",
            "caused/prolonged hospitalisation": "caused or prolonged hospitalisation",
            "disabling/incapacitating": "disabling or incapacitating",
            "congenital anomaly/birth defect": "congenital anomaly or birth defect",
            "other medically important condition": "other medically important condition",
        },
        "TestResultCode": {"1": "positive", "2": "negative", "3": "borderline", "4": "inconclusive"},
        "DrugRole": {"1": "suspect", "2": "concomitant", "3": "interacting", "4": "not administered"},
    },
    "de": {
        "Sex": {"1": "männlich", "2": "weiblich"},
        "Qualification": {
            "1": "Arzt/Ärztin",
            "2": "Apotheker/in",
            "3": "andere Angehörige eines Gesundheitsberufs",
            "4": "Rechtsanwalt/Rechtsanwältin",
            "5": "Verbraucher/in oder andere Person ohne Gesundheitsberuf",
        },
        "Outcome": {
            "0": "unbekannt",
            "1": "wiederhergestellt",
            "2": "in Besserung",
            "3": "nicht wiederhergestellt/andauernd",
            "4": "wiederhergestellt mit Folgeschäden",
            "5": "tödlich",
        },
        "ActionTaken": {
            "0": "unbekannt",
            "1": "Arzneimittel abgesetzt",
            "2": "Dosis verringert",
            "3": "Dosis erhöht",
            "4": "Dosis nicht geändert",
            "9": "nicht zutreffend",
        },
        "Recurrence": {
            "1": "die Reaktion trat bei Reexposition erneut auf",
            "2": "die Reaktion trat bei Reexposition nicht erneut auf",
            "3": "eine Reexposition erfolgte, ihr Ergebnis ist unbekannt",
            "4": "es erfolgte keine Reexposition",
        },
        "Seriousness": {
            "results in death": "tödlich",
            "life threatening": "lebensbedrohlich",
            "caused/prolonged hospitalisation": "Krankenhausaufenthalt oder dessen Verlängerung",
            "disabling/incapacitating": "Behinderung oder Arbeitsunfähigkeit",
            "congenital anomaly/birth defect": "angeborene Anomalie oder Geburtsfehler",
            "other medically important condition": "anderes medizinisch bedeutsames Ereignis",
        },
        "TestResultCode": {"1": "positiv", "2": "negativ", "3": "grenzwertig", "4": "nicht eindeutig"},
        "DrugRole": {"1": "verdächtig", "2": "Begleitmedikation", "3": "interagierend", "4": "nicht verabreicht"},
    },
}

#: UCUM time and age units in words (ICH E2B(R3) IG Appendix II), by language.
UNITS: Final[dict[str, dict[str, str]]] = {
    "en": {"a": "years", "mo": "months", "wk": "weeks", "d": "days", "h": "hours", "min": "minutes", "10.a": "decades"},
    "de": {
        "a": "Jahre",
        "mo": "Monate",
        "wk": "Wochen",
        "d": "Tage",
        "h": "Stunden",
        "min": "Minuten",
        "10.a": "Jahrzehnte",
    },
}


def unit_word(unit: str, language: str) -> str:
    """A UCUM unit in words where it is a time unit (``"a"`` -> ``"years"``), else the unit as given."""
    return UNITS[language].get(unit, unit)
