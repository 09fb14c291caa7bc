"""Text of a public RMP summary (RMP Part VI): normalisation, line structure and PDF extraction.

The public "Summary of the risk management plan" (EU RMP template Rev. 2.0.1, Part VI; GVP Module V.C.3)
is published as a PDF whose tables come out of any text conversion in several ways: a label cell on
lines of its own, a label and its value on one line, cells broken by page breaks, blank lines where a
page ended, bullets in Symbol-font code points. This module turns such text into a sequence of
:class:`Line` s with the layout noise removed, so that the parser only sees words:

* line ends (LF, CRLF, CR), form feeds and vertical tabs are line breaks; line numbers count LF/CR
  line ends as an editor does;
* non-breaking and other Unicode spaces and tabs are spaces, runs of spaces are one space, zero-width
  characters are dropped, typographic ligatures of PDF fonts ("ﬁ") are letters again;
* bullets ("•", the Symbol-font private-use "\\uf0b7", "▪", "●", or "- " at the start of a line)
  become "•";
* blank lines and bare page numbers ("3", "Page 3 of 10") are dropped: a blank line in a converted
  summary may be a paragraph break or a page break inside a table cell, so it carries no meaning.

Paragraph text is rebuilt with :func:`join_lines` (single spaces; a word hyphenated at a line end,
"open-" / "label", stays one word). :class:`Segment` and the helpers after it cut table cells at their
labels and bullets and clean list items; what the cells mean is the parser's business
(:mod:`riskplan.plan.parser`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

BULLET = "•"

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACE_CHARS = "\t\u00a0\u1680\u202f\u205f\u3000" + "".join(chr(c) for c in range(0x2000, 0x200B))
_SPACES = dict.fromkeys(map(ord, _SPACE_CHARS), " ")
_BULLET_CHARS = "•\uf0b7\uf0a7\uf076\uf0d8▪■●◦‣∙"
_BULLETS = dict.fromkeys(map(ord, _BULLET_CHARS), BULLET)
_LIGATURES = {
    0xFB00: "ff",
    0xFB01: "fi",
    0xFB02: "fl",
    0xFB03: "ffi",
    0xFB04: "ffl",
    0xFB05: "st",
    0xFB06: "st",
}
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_DASH_BULLET = re.compile(r"^[-–*]\s+")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$", re.IGNORECASE)
_SOFT_HYPHEN = "\u00ad"
SENTENCE_END = re.compile(r"[.;:!?][\"'”’)]*$")
SECTION_NUMBER = r"\d+(?:\.\d+)*"
_SECTION_LIST = re.compile(
    rf"\bsections?\s+({SECTION_NUMBER}(?:\s*(?:,\s*(?:and\s+)?|and\s+|&\s*|or\s+)(?:sections?\s+)?"
    rf"{SECTION_NUMBER})*)",
    re.IGNORECASE,
)


class Line(NamedTuple):
    """A non-blank line of the summary: its 1-based number in the input and its normalised text."""

    number: int
    text: str


class UnreadablePdfError(ValueError):
    """The PDF could not be opened or has no extractable text."""


def normalise_lines(text: str) -> list[Line]:
    """The non-blank lines of ``text``, whitespace-normalised, with their line numbers."""
    text = text.translate(_ZERO_WIDTH).replace("\r\n", "\n").replace("\r", "\n")
    lines: list[Line] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        for part in re.split(r"[\f\v\x1c\x1d\x1e\x85\u2028\u2029]", raw):
            cleaned = _normalise_line(part)
            if cleaned and not _PAGE_NUMBER.match(cleaned):
                lines.append(Line(number, cleaned))
    return lines


def _normalise_line(raw: str) -> str:
    line = _CONTROL.sub(" ", raw.translate(_SPACES).translate(_BULLETS).translate(_LIGATURES))
    line = re.sub(r"\s+", " ", line).strip()
    # Soft hyphens only matter at the end of a line (see join_lines).
    line = (line[:-1].replace(_SOFT_HYPHEN, "") + line[-1:]) if line else line
    line = _DASH_BULLET.sub(BULLET + " ", line)
    return re.sub(BULLET + r"(?=\S)", BULLET + " ", line)


def join_lines(lines: Iterable[str]) -> str:
    """Lines of one paragraph or table cell joined with single spaces.

    A word split at a line end ("open-" / "label", or with a soft hyphen) is joined without a space;
    an explicit hyphen is kept.
    """
    out = ""
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if not out:
            out = text
        elif out.endswith(_SOFT_HYPHEN):
            out = out[:-1] + text
        elif re.search(r"\w-$", out) and text[0].isalnum():
            out += text
        else:
            out += " " + text
    return out.replace(_SOFT_HYPHEN, "")


def join_text(text: str) -> str:
    """A multi-line stretch of text as one paragraph (see :func:`join_lines`)."""
    return join_lines(text.split("\n"))


def rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A case-insensitive, multi-line pattern in which each space also matches a line break.

    Headings and table labels of a converted summary wrap anywhere ("Evidence for linking the risk" /
    "to the medicine"); ``^`` means "at the start of a line".
    """
    return re.compile(pattern.replace(" ", r"\s+"), re.IGNORECASE | re.MULTILINE | flags)


def clean_item(text: str) -> str:
    """A list item without its separator: trailing ".", ",", ";", ", and", "; or" and a leading "and"."""
    text = re.sub(r"^(?:and|or)\s+", "", " ".join(text.split()))
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"(?:[,;]\s*(?:and|or)|\s+(?:and|or)|[,;.])$", "", text).rstrip()
    return text


def strip_stop(text: str) -> str:
    """Whitespace-normalised text without a trailing full stop."""
    text = " ".join(text.split())
    return text[:-1].rstrip() if text.endswith(".") else text


def section_numbers(text: str) -> list[str]:
    """Section numbers of a product-information reference, in order, once each.

    "SmPC Section 4.2, Section 4.4 and Section 5.1" and "Sections 4.4, 4.6 and 5.3" give the numbers
    after "section(s)"; text without the word gives every number in it ("SmPC 4.4, 4.8").
    """
    found: list[str] = []
    for chunk in _SECTION_LIST.findall(text) or [text]:
        extend_unique(found, re.findall(rf"(?<![\d.]){SECTION_NUMBER}", chunk))
    return found


def extend_unique(target: list[str], values: Iterable[str]) -> None:
    for value in values:
        if value not in target:
            target.append(value)


@dataclass(frozen=True)
class Segment:
    """A stretch of the summary: whole or partial lines, searchable as one text.

    ``text`` is the lines joined with newlines, so a regular expression can use ``^`` for "at the
    start of a line" and ``\\s+`` between words to match a label that wraps onto the next line.
    """

    lines: tuple[Line, ...]

    @cached_property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @cached_property
    def _starts(self) -> list[int]:
        starts: list[int] = []
        offset = 0
        for line in self.lines:
            starts.append(offset)
            offset += len(line.text) + 1
        return starts

    def __bool__(self) -> bool:
        return bool(self.lines)

    @property
    def first_line(self) -> int | None:
        return self.lines[0].number if self.lines else None

    def line_number(self, offset: int) -> int:
        """The input line number of the character at ``offset`` of :attr:`text`."""
        number = self.lines[0].number if self.lines else 0
        for start, line in zip(self._starts, self.lines, strict=True):
            if start > offset:
                break
            number = line.number
        return number

    def slice(self, start: int, end: int | None = None) -> Segment:
        """The part of the segment between two offsets of :attr:`text`, partial lines stripped."""
        stop = len(self.text) if end is None else end
        out: list[Line] = []
        for line_start, line in zip(self._starts, self.lines, strict=True):
            line_end = line_start + len(line.text)
            if line_end <= start or line_start >= stop:
                continue
            part = line.text[max(start - line_start, 0) : min(stop, line_end) - line_start].strip()
            if part:
                out.append(Line(line.number, part))
        return Segment(tuple(out))

    def joined(self) -> str:
        """The whole segment as one whitespace-normalised paragraph."""
        return join_lines(line.text for line in self.lines)


def segment(lines: Sequence[Line]) -> Segment:
    return Segment(tuple(lines))


def split_labelled(seg: Segment, labels: dict[str, re.Pattern[str]]) -> tuple[Segment, list[tuple[str, Segment, int]]]:
    """Cut a stretch of table cells at its labels: the text before the first label, then for each label
    found its key, its value and its line number.

    A label counts at the start of a line, also right after another label on the same line ("Risk
    minimisation measures Routine risk minimisation measures:"); its value may start on the label's
    line ("Risk factors and risk groups: ...") or below it.
    """
    rest = seg
    lead = Segment(())
    out: list[tuple[str, Segment, int]] = []
    key: str | None = None
    line = 0
    while True:
        best: tuple[int, int, str] | None = None
        for k, pattern in labels.items():
            m = pattern.search(rest.text)
            if m and (best is None or m.start() < best[0]):
                best = (m.start(), m.end(), k)
        value = rest.slice(0, best[0]) if best else rest
        if key is None:
            lead = value
        else:
            out.append((key, value, line))
        if best is None:
            return lead, out
        key, line = best[2], rest.line_number(best[0])
        rest = rest.slice(best[1])


def bullet_split(seg: Segment) -> list[tuple[str, int]]:
    """Text split at bullets, each part as one paragraph with its line number (text before the first
    bullet is a part of its own)."""
    parts: list[tuple[str, int]] = []
    start = 0
    for m in re.finditer(re.escape(BULLET), seg.text + BULLET):
        chunk = seg.text[start : m.start()]
        if chunk.strip():
            parts.append((join_text(chunk), seg.line_number(start + len(chunk) - len(chunk.lstrip()))))
        start = m.end()
    return parts


def extract_pdf_text(path: Path) -> str:
    """The text of a PDF, page after page (pypdf's plain extraction; see :func:`normalise_lines`).

    Raises :class:`UnreadablePdfError` when the file is not a readable PDF or holds no text (a scan).
    """
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many kinds of error for damaged files
        raise UnreadablePdfError(f"{exc.__class__.__name__}: {exc}") from exc
    if not pages:
        raise UnreadablePdfError("the PDF has no pages")
    text = "\n\f".join(pages)
    if not text.strip():
        raise UnreadablePdfError(
            f"none of its {len(pages)} page(s) has extractable text (a scanned image needs OCR first)"
        )
    return text
