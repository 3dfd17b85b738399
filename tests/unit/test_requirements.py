"""spec/REQUIREMENTS.md: requirement IDs, and the diagrams' traceability to them."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from bdd_workflow.requirements import Requirements, cited, expand

from .support import PROCESSES, SHARED_SPEC, SPEC

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def procedures_table_ids() -> list[str]:
    """The IDs in the first column of the table under '## The procedures'."""
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("## The procedures"):]
    section = section[:section.index("\n## ", 1)]
    ids = [m.group(1) for line in section.splitlines() if (m := re.match(r"\|\s*(R-[^|]+?)\s*\|", line))]
    return [single for rid in ids for single in expand(rid)]


def documentation_texts() -> list[tuple[str, str, str]]:
    """(file, element id, text) for every documentation of every diagram, and every description of the DMN."""
    found = []
    for path in sorted([*PROCESSES.glob("*.bpmn"), *PROCESSES.glob("*.dmn")]):
        for element in etree.parse(str(path)).getroot().iter():
            if isinstance(element.tag, str) and etree.QName(element).localname in ("documentation", "description"):
                found.append((path.name, element.getparent().get("id"), element.text or ""))
    return found


def test_knows_ordinary_ids(requirements):
    assert requirements.knows("R-9.1.1.2")
    assert requirements.knows("R-4.c")
    assert requirements.knows("R-10.2")
    assert requirements.knows("R-7.1.2 b")


def test_ranges_are_expanded(requirements):
    assert expand("R-9.1.3.1–2") == ["R-9.1.3.1", "R-9.1.3.2"]
    assert expand("R-9.2.2.1–3") == ["R-9.2.2.1", "R-9.2.2.2", "R-9.2.2.3"]
    for rid in ("R-9.1.3.1", "R-9.1.3.2", "R-9.2.2.1", "R-9.2.2.2", "R-9.2.2.3"):
        assert rid in requirements.defined
    assert "R-9.1.3.1–2" not in requirements.defined


def test_a_clause_above_defined_ids_is_known(requirements):
    assert requirements.knows("R-9.1.3")
    assert not requirements.knows("R-9.1.3.9")


def test_unknown_citation_is_flagged(requirements):
    assert requirements.unknown("R-99.1 不存在的条款") == ["R-99.1"]
    assert requirements.unknown("R-9.1.1.2 R-99.1") == ["R-99.1"]
    assert requirements.unknown("R-9.1.3.1–9") == ["R-9.1.3.1–9"]
    assert requirements.unknown("R-9.1.1.2 帮办员半小时内联系服务对象") == []
    assert requirements.unknown("") == []


def test_citations_in_text():
    assert cited("R-9.1.3.1–2 R-4.c 说明") == {"R-9.1.3.1", "R-9.1.3.2", "R-4.c"}


def test_missing_file_gives_none(tmp_path):
    assert Requirements.from_file(tmp_path / "absent.md") is None


@pytest.mark.parametrize(("diagram", "element", "text"), documentation_texts(), ids=lambda v: str(v)[:40])
def test_diagram_cites_only_known_requirements(requirements, diagram, element, text):
    assert requirements.unknown(text) == [], f"{diagram} {element}"


def test_documentation_of_every_diagram_is_read():
    assert {d for d, _, _ in documentation_texts()} == {p.name for p in PROCESSES.iterdir() if p.suffix in (".bpmn", ".dmn")}


def test_diagrams_deploy_with_requirement_checks(parsed):
    """`bdd check` refuses an unknown ID; the whole directory passes it."""
    assert set(parsed) == {"consultation", "assist", "proxy", "onsite", "callback", "rectification", "complaint",
                           "problem_report", "handover"}


def test_every_element_has_documentation_citing_a_requirement():
    """processes/README.md: every task, gateway and event has documentation naming its requirement."""
    kinds = ("startEvent", "endEvent", "userTask", "serviceTask", "scriptTask", "businessRuleTask",
             "exclusiveGateway", "boundaryEvent")
    missing = []
    for path in sorted(PROCESSES.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for kind in kinds:
            for element in root.iter(f"{{{BPMN}}}{kind}"):
                doc = element.find(f"{{{BPMN}}}documentation")
                if doc is None or not cited(doc.text or ""):
                    missing.append(f"{path.name}:{element.get('id')}")
    assert missing == []


@pytest.mark.parametrize("rid", procedures_table_ids())
def test_every_procedure_requirement_is_cited_by_a_diagram_element(parsed, rid):
    """Each ID of the procedures table is carried by at least one element (task, gateway, event)."""
    carriers = [name for name, process in parsed.items() if rid in process.requirement_ids]
    assert carriers, f"{rid} is cited by no diagram element"


def test_procedures_table_is_read():
    ids = procedures_table_ids()
    assert "R-9.1.1.1" in ids and "R-4.c" in ids and "R-9.2.2.3" in ids
    assert "R-1" not in ids, "R-1 belongs to the organisation table"


def test_copy_in_the_project_equals_the_shared_spec():
    shared = SHARED_SPEC / "REQUIREMENTS.md"
    if not shared.exists():
        pytest.skip(f"{shared} is not available on this machine")
    assert SPEC.read_bytes() == shared.read_bytes()
