"""Worked examples of a case file for ``riskplan case new``: one per kind of report a case processor enters.

Each is bundled as JSON under ``cases/examples/`` and written the way people write a case: ISO 8601 dates
(``"2026-11-24"``, ``"2026-08"``), words for coded fields (``"sex": "female"``, ``"outcome": "recovered"``,
``"seriousness": ["hospitalisation"]``, ``"route": "intravenous"``). Each meets the four minimum criteria of
a valid ICSR (GVP VI.B.2; ICH E2D 4.1) and has everything the E2B(R3) export requires (reactions are
coded in MedDRA by riskplan's coding step, so the only finding left is the warning that they are not
coded yet when no MedDRA release is loaded).
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources


class ExampleKind(StrEnum):
    """The kinds of report with a worked example."""

    SPONTANEOUS = "spontaneous"  # C.1.3 = 1, a physician's report
    LITERATURE = "literature"  # C.4.r literature reference, author as primary source
    STUDY = "study"  # C.1.3 = 2 with C.5 study identification
    PREGNANCY = "pregnancy"  # exposure in pregnancy: LMP (D.6) and gestation at exposure (G.k.6)


def example_case_text(kind: ExampleKind) -> str:
    """The bundled case file of this kind, as JSON text."""
    return (resources.files("riskplan.cases") / "examples" / f"{kind.value}.json").read_text(encoding="utf-8")
