"""Low-level XML helpers shared by the E2B(R3) model, import and export.

Everything here parses with entity resolution, DTD loading and network access switched off
(``safe_parser``); XML that carries a DOCTYPE is refused by the importer before it is ever mapped.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

HL7: Final = "urn:hl7-org:v3"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE: Final = f"{{{XSI}}}type"
NSMAP: Final = {None: HL7, "xsi": XSI}


def q(tag: str) -> str:
    """The Clark name of an HL7 v3 element: ``q("id")`` -> ``{urn:hl7-org:v3}id``."""
    return f"{{{HL7}}}{tag}"


def safe_parser(*, remove_comments: bool = True) -> etree.XMLParser:
    """A parser that never expands entities, never loads a DTD and never touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=remove_comments,
        remove_pis=True,
    )


def localname(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def element_path(element: etree._Element) -> str:
    """An XPath-like location with 1-based positions among same-named siblings.

    ``/MCCI_IN200100UV01/PORR_IN049016UV[2]/controlActProcess/subject/investigationEvent/...``
    """
    parts: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = localname(node)
        parent = node.getparent()
        if parent is not None:
            same = [sibling for sibling in parent if isinstance(sibling.tag, str) and sibling.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


def _strip_whitespace_text(element: etree._Element) -> None:
    for node in element.iter():
        if node.text is not None and not node.text.strip() and len(node):
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None


def canonical_xml(element: etree._Element) -> str:
    """Exclusive C14N of a copy of ``element`` without comments or indentation whitespace."""
    copy = etree.fromstring(etree.tostring(element), safe_parser())
    _strip_whitespace_text(copy)
    data: bytes = etree.tostring(copy, method="c14n", exclusive=True, with_comments=False)
    return data.decode("utf-8")


def parse_fragment(xml: str) -> etree._Element:
    """Parse one XML element (as kept in a regional element) safely; ValueError when it is not one."""
    try:
        element = etree.fromstring(xml.encode("utf-8"), safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    if element.getroottree().docinfo.doctype:
        raise ValueError("a DOCTYPE is not allowed in a regional element")
    return element
