"""Render a PDF to PNG (pypdfium2) and look for ink in the page's right margin: what a reader of the printed
page would see cut off or crowding the edge. Used beside the layout-box checks (WeasyPrint's boxes); this one
reads the pixels of the PDF as written.

A page passes when its rightmost non-white pixel column lies left of the page width minus the right margin
(the right edge of the content area), with one pixel of slack for anti-aliasing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["SCALE", "ink_in_right_margin", "right_margins"]

SCALE = 0.75  # 54 dpi: enough to see a table cut at the margin, cheap to render
WHITE = 245  # a pixel darker than this in any channel is ink


def right_margins(document: Any) -> list[float]:
    """Each page's right margin as a fraction of its width, from a WeasyPrint document (``HTML().render()``)."""
    out = []
    for page in document.pages:
        box = page._page_box
        right_of_content = box.content_box_x() + box.width
        out.append((box.margin_width() - right_of_content) / box.margin_width())
    return out


def ink_in_right_margin(pdf: bytes, margins: float | Sequence[float], png_dir: Path, stem: str) -> list[str]:
    """Render every page of ``pdf`` to ``png_dir/<stem>-<page>.png`` and return the pages with ink in the right
    margin (``margins``: the right margin as a fraction of the page width, one for all pages or one per page)."""
    import numpy as np
    import pypdfium2 as pdfium

    png_dir.mkdir(parents=True, exist_ok=True)
    found: list[str] = []
    pdf_doc = pdfium.PdfDocument(pdf)
    try:
        assert len(pdf_doc) > 0, "the PDF has no page"
        for index in range(len(pdf_doc)):
            image = pdf_doc[index].render(scale=SCALE).to_pil().convert("RGB")
            image.save(png_dir / f"{stem}-{index + 1}.png")
            pixels = np.asarray(image)
            inked = np.nonzero((pixels < WHITE).any(axis=2).any(axis=0))[0]
            margin = margins if isinstance(margins, float) else margins[min(index, len(margins) - 1)]
            limit = image.width * (1 - margin) + 1
            if inked.size and inked[-1] >= limit:
                found.append(
                    f"page {index + 1}: ink at column {inked[-1]} of {image.width}, content ends at {limit:.0f}"
                )
    finally:
        pdf_doc.close()
    return found
