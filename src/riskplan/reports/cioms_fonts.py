"""The two fonts of the CIOMS I form (DejaVu Sans and DejaVu Sans Bold, the files matplotlib ships), subset
once per process for the characters forms use, as PDF font objects (Type0 / CIDFontType2, Identity-H).

A subset covers ASCII, Latin-1, Latin Extended-A, the common punctuation and the form's check boxes
(☐ ☒); text with other characters DejaVu Sans has gets a subset of its own (made once per character set);
text with characters it does not have is not drawn here (``glyphs`` returns None) and the form goes through
WeasyPrint, which falls back to other fonts. Same characters, same subset bytes: the PDFs are reproducible.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
_SYMBOLS = "☐☒·–—‘’“”•…€≤≥±×µ°"
#: the regular face's base subset: ASCII, Latin-1 and Latin Extended-A (Western and Central European text)
BASE = "".join(chr(c) for c in (*range(0x20, 0x7F), *range(0xA0, 0x180))) + _SYMBOLS
#: the bold face draws the form's own headings only
BOLD_BASE = "".join(chr(c) for c in range(0x20, 0x7F))


@dataclass(frozen=True)
class SubsetFont:
    """A font subset ready for a PDF: character -> glyph id, advance widths (1/1000 em), the compressed font
    program and the ToUnicode CMap."""

    file: str
    postscript_name: str
    gids: dict[str, int]
    widths: dict[int, int]
    program: bytes  # FlateDecode'd
    program_length: int
    to_unicode: bytes  # FlateDecode'd
    w_array: bytes  # the CIDFont's /W: every glyph's advance
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int

    def width(self, text: str, size: float) -> float:
        """The advance of ``text`` at ``size`` points (no kerning: the form sets text plainly)."""
        gids, widths = self.gids, self.widths
        return sum(widths[gids[c]] for c in text) * size / 1000

    def encode(self, text: str) -> bytes:
        """``text`` as a PDF hex string of 2-byte glyph ids (Identity-H)."""
        gids = self.gids
        return b"<" + "".join(f"{gids[c]:04x}" for c in text).encode("ascii") + b">"


def _font_path(name: str) -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


@cache
def _coverage(name: str) -> frozenset[str]:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    with TTFont(_font_path(name), lazy=True) as font:
        return frozenset(chr(c) for c in font.getBestCmap())


def _to_unicode(gids: dict[str, int]) -> bytes:
    pairs = sorted((gid, ch) for ch, gid in gids.items())
    lines = [
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        b"1 begincodespacerange <0000> <ffff> endcodespacerange",
    ]
    for start in range(0, len(pairs), 100):
        chunk = pairs[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar".encode())
        lines += [f"<{gid:04x}> <{ch.encode('utf-16-be').hex()}>".encode() for gid, ch in chunk]
        lines.append(b"endbfchar")
    lines.append(b"endcmap CMapName currentdict /CMap defineresource pop end end")
    return zlib.compress(b"\n".join(lines), 9)


@cache
def subset_font(name: str, characters: frozenset[str]) -> SubsetFont:
    """``name`` subset to ``characters`` (those it has), glyph ids renumbered."""
    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = [1, 2, 6]
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]
    font = TTFont(_font_path(name))
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(characters & _coverage(name))))
    subsetter.subset(font)
    data = io.BytesIO()
    font.save(data)
    order = {glyph: gid for gid, glyph in enumerate(font.getGlyphOrder())}
    scale = 1000 / font["head"].unitsPerEm
    gids = {chr(c): order[glyph] for c, glyph in font.getBestCmap().items()}
    widths = {gid: round(font["hmtx"][glyph][0] * scale) for glyph, gid in order.items()}
    head = font["head"]
    program = data.getvalue()
    return SubsetFont(
        name,
        font["name"].getDebugName(6) or "DejaVuSans",
        gids,
        widths,
        zlib.compress(program, 9),
        len(program),
        _to_unicode(gids),
        b"[0 [" + b" ".join(str(widths[g]).encode() for g in range(len(order))) + b"]]",
        (round(head.xMin * scale), round(head.yMin * scale), round(head.xMax * scale), round(head.yMax * scale)),
        round(font["hhea"].ascent * scale),
        round(font["hhea"].descent * scale),
    )


def font_for(name: str, text_characters: set[str]) -> SubsetFont | None:
    """The subset of font ``name`` that draws every character of ``text_characters`` (the base subset when it
    suffices), or None when the font lacks one of them."""
    base = frozenset(BOLD_BASE if name == BOLD else BASE)
    extra = text_characters - base
    if not extra:
        return subset_font(name, base)
    if not extra <= _coverage(name):
        return None
    return subset_font(name, base | frozenset(extra))
