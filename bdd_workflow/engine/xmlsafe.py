"""XML from outside is parsed with entity resolution, DTDs and network access off."""

from __future__ import annotations

from lxml import etree

from ..errors import DefinitionInvalid

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=False,
    )


def parse_xml(data: bytes, filename: str, max_bytes: int) -> etree._Element:
    """Parse untrusted XML; refuse DOCTYPEs (entity tricks) and oversize input with a clear message."""
    if len(data) > max_bytes:
        raise DefinitionInvalid(f"文件 {filename} 超过大小上限 {max_bytes // 1024} KiB。")
    if not data.strip():
        raise DefinitionInvalid(f"文件 {filename} 是空的。")
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise DefinitionInvalid(f"文件 {filename} 不是格式正确的 XML: 第 {exc.lineno} 行: {exc.msg}") from None
    if tree.docinfo.doctype:
        raise DefinitionInvalid(f"文件 {filename} 含有 DOCTYPE 声明；出于安全原因不接受 DTD 和实体。")
    return tree.getroot()


def kind_of(root: etree._Element) -> str:
    """'bpmn' or 'dmn', from the root element's namespace; anything else is refused."""
    qname = etree.QName(root)
    if qname.localname == "definitions" and qname.namespace == BPMN_NS:
        return "bpmn"
    if qname.localname == "definitions" and qname.namespace in DMN_NAMESPACES:
        return "dmn"
    raise DefinitionInvalid(
        f"根元素 {qname.localname} ({qname.namespace}) 不是 BPMN 2.0 或 DMN 的 definitions。"
    )
