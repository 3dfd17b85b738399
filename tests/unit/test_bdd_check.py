"""`bdd check` applies the rules the modeler's 校验 and every deploy apply: what it passes deploys,
what it refuses is named with its element, and warnings are printed without failing."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from bdd_workflow.cli import main
from bdd_workflow.config import PROJECT_ROOT


@pytest.fixture
def processes(tmp_path):
    target = tmp_path / "processes"
    shutil.copytree(PROJECT_ROOT / "processes", target)
    return target


def run_check(tmp_path, processes):
    env = {"BDD_PROCESSES_DIR": str(processes), "BDD_INSTANCE_DIR": str(tmp_path / "instance")}
    return CliRunner().invoke(main, ["check"], env=env)


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_diagrams_pass(tmp_path, processes):
    result = run_check(tmp_path, processes)
    assert result.exit_code == 0, result.stderr
    assert "全部通过" in result.stdout and "通过 assist.bpmn: assist" in result.stdout
    assert "通过 onsite.bpmn: onsite（发起表单 onsite_apply，" in result.stdout


def test_a_lane_that_is_no_role_fails_naming_its_tasks(tmp_path, processes):
    edit(processes / "assist.bpmn", '<bpmn:lane id="Lane_assistant" name="帮办员">', '<bpmn:lane id="Lane_assistant" name="门卫">')
    result = run_check(tmp_path, processes)
    assert result.exit_code == 1
    assert "问题 assist.bpmn:" in result.stderr and "门卫" in result.stderr and "guide_materials" in result.stderr


def test_an_element_citing_no_requirement_is_a_reminder_not_a_failure(tmp_path, processes):
    edit(processes / "assist.bpmn", "R-9.1.5 帮办服务结束", "帮办服务结束")
    result = run_check(tmp_path, processes)
    assert result.exit_code == 0, result.stderr
    assert "提醒 assist.bpmn:" in result.stderr and "assist_completed" in result.stderr


def test_a_start_event_naming_a_missing_form_fails_naming_the_event(tmp_path, processes):
    """R-9.3.1: the start form carries what an onsite start needs; a diagram naming one that is not in
    forms/ would accept starts nobody can check, so it is refused."""
    edit(processes / "onsite.bpmn", '<spiffworkflow:property name="form" value="onsite_apply"/>',
         '<spiffworkflow:property name="form" value="onsite_apply_v2"/>')
    result = run_check(tmp_path, processes)
    assert result.exit_code == 1
    assert "onsite_applied" in result.stderr and "发起表单 forms/onsite_apply_v2.json 不存在" in result.stderr


def test_two_start_events_naming_different_forms_fail(tmp_path, processes):
    edit(processes / "onsite.bpmn", '<bpmn:outgoing>Flow_applied_to_route</bpmn:outgoing>',
         '<bpmn:outgoing>Flow_applied_to_route</bpmn:outgoing>\n    </bpmn:startEvent>\n'
         '    <bpmn:startEvent id="onsite_applied_by_phone" name="电话申请">\n'
         '      <bpmn:documentation>R-9.3.1 电话申请</bpmn:documentation>\n'
         '      <bpmn:extensionElements><spiffworkflow:properties>'
         '<spiffworkflow:property name="form" value="consultation_record"/></spiffworkflow:properties></bpmn:extensionElements>\n'
         '      <bpmn:outgoing>Flow_phone_to_route</bpmn:outgoing>')
    edit(processes / "onsite.bpmn", '<bpmn:incoming>Flow_applied_to_route</bpmn:incoming>',
         '<bpmn:incoming>Flow_applied_to_route</bpmn:incoming>\n      <bpmn:incoming>Flow_phone_to_route</bpmn:incoming>')
    edit(processes / "onsite.bpmn", '<bpmn:sequenceFlow id="Flow_applied_to_route"',
         '<bpmn:sequenceFlow id="Flow_phone_to_route" sourceRef="onsite_applied_by_phone" targetRef="route_matter"/>\n'
         '    <bpmn:sequenceFlow id="Flow_applied_to_route"')
    result = run_check(tmp_path, processes)
    assert result.exit_code == 1
    assert "一个流程只能有一个发起表单" in result.stderr


def test_a_start_event_naming_a_form_that_asks_for_a_signature_fails(tmp_path, processes):
    """A start has no task to upload the applicant's signature to: the entrustment form cannot be a start form."""
    edit(processes / "onsite.bpmn", '<spiffworkflow:property name="form" value="onsite_apply"/>',
         '<spiffworkflow:property name="form" value="proxy_record_entrustment"/>')
    result = run_check(tmp_path, processes)
    assert result.exit_code == 1
    assert "onsite_applied" in result.stderr and "不能作发起表单" in result.stderr
