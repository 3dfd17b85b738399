"""Migrating a suspended case to a newer version of its process (issue 5 item 7): allowed when
SpiffWorkflow's diff says the case can move, refused with the elements named when it cannot; either way
one unit of work, audited, and the case stays suspended until resumed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from bdd_workflow.config import PROJECT_ROOT
from bdd_workflow.db.models import AuditEvent, Case, ElementVisit, HumanTask, PendingTimer
from bdd_workflow.errors import Conflict, Forbidden, FormInvalid
from bdd_workflow.services import case_admin, definitions
from bdd_workflow.services.identity import SYSTEM
from bdd_workflow.services.timers import fire_due_timers

ASSIST = (PROJECT_ROOT / "processes" / "assist.bpmn").read_text(encoding="utf-8")
ONSITE = (PROJECT_ROOT / "processes" / "onsite.bpmn").read_text(encoding="utf-8")
T0 = datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)  # a Tuesday, 09:00 in Cheng'an
ADDRESS = "成安县商城镇西庄村18号"


def assist_with_review_step() -> str:
    """assist with a new user task 复核材料清单 (review_guidance) after guide_materials (inside the handling
    subprocess, whose lane its steps share)."""
    xml = ASSIST.replace('<bpmn:exclusiveGateway id="materials_gateway"', '''<bpmn:userTask id="review_guidance" name="复核材料清单">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="form" value="assist_track_approval"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_guide_to_review</bpmn:incoming>
      <bpmn:outgoing>Flow_guide_to_gateway</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="materials_gateway"''', 1)
    xml = re.sub(r'(<bpmn:userTask id="guide_materials".*?)<bpmn:outgoing>Flow_guide_to_gateway</bpmn:outgoing>',
                 r'\1<bpmn:outgoing>Flow_guide_to_review</bpmn:outgoing>', xml, count=1, flags=re.S)
    xml = xml.replace(
        '<bpmn:sequenceFlow id="Flow_guide_to_gateway" sourceRef="guide_materials" targetRef="materials_gateway"/>',
        '<bpmn:sequenceFlow id="Flow_guide_to_review" sourceRef="guide_materials" targetRef="review_guidance"/>\n'
        '    <bpmn:sequenceFlow id="Flow_guide_to_gateway" sourceRef="review_guidance" targetRef="materials_gateway"/>')
    assert xml.count("review_guidance") == 3
    return xml


def assist_without_guidance() -> str:
    """assist without guide_materials: the handling starts at the materials gateway."""
    xml = re.sub(r'<bpmn:userTask id="guide_materials".*?</bpmn:userTask>', '', ASSIST, flags=re.S)
    xml = xml.replace('targetRef="guide_materials"', 'targetRef="materials_gateway"')
    xml = xml.replace('<bpmn:sequenceFlow id="Flow_guide_to_gateway" sourceRef="guide_materials" '
                      'targetRef="materials_gateway"/>', '')
    xml = re.sub(r'<bpmn:incoming>Flow_guide_to_gateway</bpmn:incoming>',
                 '<bpmn:incoming>Flow_handle_started_to_guide</bpmn:incoming>\n      '
                 '<bpmn:incoming>Flow_materials_await_resumed</bpmn:incoming>', xml)
    xml = re.sub(r'<bpmndi:BPMN(Shape|Edge) id="(guide_materials|Flow_guide_to_gateway)_di".*?</bpmndi:BPMN\1>', '',
                 xml, flags=re.S)
    assert 'id="guide_materials"' not in xml
    return xml


def deploy(system, xml: str, filename: str) -> int:
    result = definitions.deploy(system, SYSTEM, xml.encode("utf-8"), filename)
    return result["processes"][0]["version"]


def snapshot(system, case_id: int) -> dict:
    """What a migration may change: the case row, its inbox and timer rows, its audit trail."""
    with system.db.unit_of_work(write=False) as session:
        case = session.get(Case, case_id)
        return {
            "case": (case.definition_id, case.version, case.status, case.state_json, case.lock_version),
            "tasks": sorted((t.id, t.name, t.title, t.status, t.due_at) for t in session.scalars(
                select(HumanTask).where(HumanTask.case_id == case_id))),
            "timers": sorted((t.id, t.name, t.due_at) for t in session.scalars(
                select(PendingTimer).where(PendingTimer.case_id == case_id))),
            "audit": [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id))],
        }


def suspended_assist(desk, at=T0):
    with time_machine.travel(at, tick=False):
        case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
        case_admin.suspend_case(desk.system, desk.actor("zhangwei"), case["id"], "等待新版流程上线")
    return case


def test_a_suspended_case_moves_to_the_new_version_and_reaches_the_new_task(desk, form, system):
    """The case waits at guide_materials; version 2 adds 复核材料清单 after it. After the move the case is on
    version 2, still suspended, with the same inbox row; resumed, it reaches the new task, then goes on."""
    case = suspended_assist(desk)
    before = desk.task(case["id"], "guide_materials")
    assert deploy(system, assist_with_review_step(), "assist.bpmn") == 2

    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        moved = case_admin.migrate_case(system, desk.actor("zhangwei"), case["id"], 2, "新增复核环节（2026 年第 3 号通知）")
    assert (moved["from_version"], moved["version"], moved["status"]) == (1, 2, "suspended")
    view = desk.case(case["id"])
    assert (view["version"], view["status"]) == (2, "suspended")
    after = desk.task(case["id"], "guide_materials")
    assert (after.id, after.unit_code, after.due_at, after.created_at) == (before.id, before.unit_code, before.due_at,
                                                                            before.created_at)
    migrated = [e for e in view["history"] if e["action"] == "case_migrated"]
    assert len(migrated) == 1 and migrated[0]["actor"] == "zhangwei"
    assert migrated[0]["detail"]["from_version"] == 1 and migrated[0]["detail"]["to_version"] == 2
    assert migrated[0]["detail"]["reason"] == "新增复核环节（2026 年第 3 号通知）"

    case_admin.resume_case(system, desk.actor("zhangwei"), case["id"])
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    assert desk.ready_names(case["id"]) == ["review_guidance"]
    review = desk.task(case["id"], "review_guidance")
    assert review.title == "复核材料清单" and review.role == "assistant" and review.form == "assist_track_approval"
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):  # within the promised deadline (R-4.a)
        desk.do(case["id"], "review_guidance", form("track_approval", applicant_informed=True, approval_result="材料已复核"))
    assert desk.ready_names(case["id"]) == ["accompany_submission"]  # the decision made before is kept

    with system.db.unit_of_work(write=False) as session:
        guide = session.scalars(select(ElementVisit).where(ElementVisit.case_id == case["id"],
                                                           ElementVisit.element == "guide_materials")).one()
    # The time at guide_materials counts from when it became ready, on the version it was left on.
    assert guide.entered_at == T0 and guide.seconds == 2 * 3600 and guide.version == 2


def test_a_case_whose_current_task_is_gone_is_refused_and_left_unchanged(desk, system):
    """Version 2 drops guide_materials, where the case waits: refused, naming the element; nothing changed."""
    case = suspended_assist(desk)
    deploy(system, assist_without_guidance(), "assist.bpmn")
    before = snapshot(system, case["id"])
    with pytest.raises(Conflict) as refused:
        case_admin.migrate_case(system, desk.actor("zhangwei"), case["id"], 2, "删除指导环节")
    message = refused.value.message
    assert "指导准备申报材料" in message and "guide_materials" in message and "第 2 版" in message
    assert "未作任何改动" in message
    assert snapshot(system, case["id"]) == before


def test_a_case_that_passed_a_removed_element_is_refused(desk, form, system):
    """Its history could not be matched to the new version: refused, naming the element."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    case_admin.suspend_case(system, desk.actor("zhangwei"), case["id"], "等待新版流程上线")
    deploy(system, assist_without_guidance(), "assist.bpmn")
    before = snapshot(system, case["id"])
    with pytest.raises(Conflict) as refused:
        case_admin.migrate_case(system, desk.actor("zhangwei"), case["id"], 2, "删除指导环节")
    assert "已经过的环节" in refused.value.message and "guide_materials" in refused.value.message
    assert snapshot(system, case["id"]) == before


def test_open_deadlines_keep_their_due_time_and_renamed_tasks_their_row(desk, form, system):
    """R-9.3.2.2: an onsite case with its deadline timer running moves to a version that renames the open
    task and its timer; the timer keeps its id and due time (not restarted at the move), the inbox and timer
    rows take the new titles."""
    accepted = datetime(2025, 9, 30, 2, 0, tzinfo=timezone.utc)
    with time_machine.travel(accepted, tick=False):
        case = desk.start("onsite", by="gaohongxia", matter_code="GR-007", address=ADDRESS)
        desk.do(case["id"], "visit_applicant", form("visit_applicant", materials_complete=False, fixable_on_site=False))
        desk.do(case["id"], "accept_with_deficiencies", form("accept_with_deficiencies"))
        case_admin.suspend_case(system, desk.actor("zhangwei"), case["id"], "等待新版流程上线")
    before = snapshot(system, case["id"])
    xml = ONSITE.replace('id="complete_within_deadline" name="承诺期限内办结"',
                         'id="complete_within_deadline" name="承诺期限内补齐并办结"').replace(
        'id="deadline_overdue" name="超过承诺期限"', 'id="deadline_overdue" name="超过承诺办结期限"')
    assert xml != ONSITE
    deploy(system, xml, "onsite.bpmn")
    with time_machine.travel(accepted + timedelta(days=3), tick=False):
        case_admin.migrate_case(system, desk.actor("zhangwei"), case["id"], "2", "环节更名")
    after = snapshot(system, case["id"])
    assert after["timers"] == before["timers"] and after["timers"]
    with system.db.unit_of_work(write=False) as session:
        assert session.scalars(select(PendingTimer.title).where(
            PendingTimer.case_id == case["id"], PendingTimer.name == "deadline_overdue")).all() == ["超过承诺办结期限"]
    task = desk.task(case["id"], "complete_within_deadline")
    assert task.title == "承诺期限内补齐并办结"
    assert [t[4] for t in after["tasks"] if t[3] == "ready"] == [t[4] for t in before["tasks"] if t[3] == "ready"]
    assert desk.case(case["id"])["status"] == "suspended"
    # Resumed, the case goes on under version 2: the deadline fires at its original time.
    with time_machine.travel(datetime(2025, 10, 22, 2, 0, tzinfo=timezone.utc), tick=False):
        case_admin.resume_case(system, desk.actor("zhangwei"), case["id"])
        assert fire_due_timers(system) == 1
        assert desk.ready_names(case["id"]) == ["complete_within_deadline", "escalate_deadline_breach"]
        desk.do(case["id"], "complete_within_deadline", form("complete_within_deadline"))
    assert desk.case(case["id"])["version"] == 2


def test_refusals_for_bad_requests_change_nothing(desk, system):
    case = suspended_assist(desk)
    deploy(system, assist_with_review_step(), "assist.bpmn")
    chief = desk.actor("zhangwei")
    before = snapshot(system, case["id"])
    with pytest.raises(FormInvalid) as not_newer:
        case_admin.migrate_case(system, chief, case["id"], 1, "迁移到旧版本")
    assert "不比办件当前的第 1 版新" in not_newer.value.errors["version"][0]
    with pytest.raises(FormInvalid) as missing:
        case_admin.migrate_case(system, chief, case["id"], 9, "迁移到不存在的版本")
    assert "没有第 9 版" in missing.value.errors["version"][0] and "第 2 版" in missing.value.errors["version"][0]
    with pytest.raises(FormInvalid) as other:
        case_admin.migrate_case(system, chief, case["id"], 2, "迁移到别的流程", process="proxy")
    assert "proxy" in other.value.errors["process"][0]
    with pytest.raises(FormInvalid) as reason:
        case_admin.migrate_case(system, chief, case["id"], 2, "短")
    assert reason.value.errors["reason"]
    with pytest.raises(FormInvalid):
        case_admin.migrate_case(system, chief, case["id"], "二", "版本不是数字")
    with pytest.raises(Forbidden):
        case_admin.migrate_case(system, desk.actor("gaohongxia"), case["id"], 2, "帮办员无权迁移")
    assert snapshot(system, case["id"]) == before


def test_only_a_suspended_case_can_be_moved(desk, system):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    deploy(system, assist_with_review_step(), "assist.bpmn")
    before = snapshot(system, case["id"])
    with pytest.raises(Conflict) as refused:
        case_admin.migrate_case(system, desk.actor("chenguodong"), case["id"], 2, "未暂停就迁移")
    assert "请先暂停" in refused.value.message
    assert snapshot(system, case["id"]) == before


def test_the_diagram_page_offers_newer_versions_for_a_suspended_case(desk, system):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    deploy(system, assist_with_review_step(), "assist.bpmn")
    assert case_admin.diagram_state(system, desk.actor("zhangwei"), case["id"])["newer_versions"] == []
    case_admin.suspend_case(system, desk.actor("zhangwei"), case["id"], "等待新版流程上线")
    state = case_admin.diagram_state(system, desk.actor("zhangwei"), case["id"])
    assert [v["version"] for v in state["newer_versions"]] == [2]
    assert case_admin.diagram_state(system, desk.actor("gaohongxia"), case["id"])["newer_versions"] == []
