"""Normalising term names for matching.

MedDRA Term Selection: Points to Consider (MTS:PTC) asks that the reported verbatim be coded to the
LLT that most accurately reflects it, without altering MedDRA; riskplan treats two spellings as "the
same term" only when they differ in letter case, Unicode composition or white space, nothing else.
"""

from __future__ import annotations

import unicodedata


def fold_term(text: str) -> str:
    """The matching key of a term name: NFC-normalised, white space collapsed, case-folded.

    ``fold_term("  PNEUMONIA  ") == fold_term("Pneumonia") == "pneumonia"``.
    """
    if not text.isascii():  # NFC leaves ASCII as it is: most names skip the normalisation
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split()).casefold()
