"""Published standards riskplan ships as package data (read-only files, no code of their own).

``e2b_r3/schema/``: the ICH E2B(R3) ICSR XML schema set, entry points ``MCCI_IN200100UV01.xsd`` (ICSR
batch) and ``MCCI_IN200101UV01.xsd`` (acknowledgment batch), with its relative include layout kept.
Where it came from, its version and the terms it is published under: ``e2b_r3/NOTICE``. The files
live inside the installed package, so an installed riskplan never reads the repository or a folder
beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["E2B_R3_ACK_SCHEMA", "E2B_R3_ICSR_SCHEMA", "E2B_R3_NOTICE", "E2B_R3_SCHEMA_DIR"]

_HERE: Final = Path(__file__).resolve().parent
E2B_R3_SCHEMA_DIR: Final = _HERE / "e2b_r3" / "schema"
E2B_R3_ICSR_SCHEMA: Final = E2B_R3_SCHEMA_DIR / "multicacheschemas" / "MCCI_IN200100UV01.xsd"
E2B_R3_ACK_SCHEMA: Final = E2B_R3_SCHEMA_DIR / "multicacheschemas" / "MCCI_IN200101UV01.xsd"
E2B_R3_NOTICE: Final = _HERE / "e2b_r3" / "NOTICE"
