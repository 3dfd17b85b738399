"""Case state is stored without the spec (stored once per deployed version) and restores exactly."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter

from bdd_workflow.clock import FixedClock
from bdd_workflow.engine.runner import Runner
from bdd_workflow.engine.serializer import Serializer

from .support import Walk, make_ctx, make_parser


def snapshot(workflow) -> dict:
    return {
        str(task.id): (task.task_spec.name, task.state, task.data, dict(task.internal_data))
        for task in workflow.get_tasks()
    }


@pytest.fixture
def dispatched(parsed, forms) -> Walk:
    """A consultation with a dispatched work order: a ready task, a waiting timer, Chinese data."""
    walk = Walk(parsed["consultation"], forms, FixedClock(datetime.now(timezone.utc)), roundtrip=False)
    walk.start()
    walk.do("record_consultation", answerable=False)
    walk.do("dispatch_work_order")
    assert walk.result.timers
    return walk


def test_state_dump_does_not_contain_the_spec(dispatched):
    state = json.loads(Serializer().dump_state(dispatched.result.workflow))
    assert "spec" not in state and "subprocess_specs" not in state
    assert "task_specs" not in json.dumps(state)
    assert state["format"] == 1


def spiffworkflow_own_json(workflow) -> str:
    """SpiffWorkflow's own serialize_json (spec included), knowing every class the project registers."""
    reference = Serializer()
    BpmnWorkflowConverter(BpmnWorkflow, reference.registry)  # the library's workflow converter, not the instance one
    return BpmnWorkflowSerializer(reference.registry).serialize_json(workflow)


def test_state_dump_is_much_smaller_than_spiffworkflows_own(dispatched):
    ours = Serializer().dump_state(dispatched.result.workflow)
    theirs = spiffworkflow_own_json(dispatched.result.workflow)
    assert '"spec"' in theirs
    assert len(ours) < 0.5 * len(theirs), (len(ours), len(theirs))


def test_full_export_contains_the_spec_and_reads_back(dispatched):
    """Serializer.dump_full: "SpiffWorkflow's own format, spec included (for export and comparison)"."""
    serializer = Serializer()
    full = serializer.dump_full(dispatched.result.workflow)
    assert '"spec"' in full, "the export has no spec"
    restored = BpmnWorkflowSerializer(serializer.registry).deserialize_json(full)
    assert snapshot(restored) == snapshot(dispatched.result.workflow)


def test_state_keeps_chinese_readable(dispatched):
    assert "咨询低保政策细节" in Serializer().dump_state(dispatched.result.workflow)


def test_state_round_trips_to_the_same_tasks_states_and_data(dispatched):
    serializer = Serializer()
    workflow = dispatched.result.workflow
    spec, subprocess_specs = serializer.load_spec(serializer.dump_spec(dispatched.spec, dispatched.subprocess_specs))
    restored = serializer.load_state(serializer.dump_state(workflow), spec, subprocess_specs)
    assert snapshot(restored) == snapshot(workflow)
    assert restored.data == workflow.data
    assert restored.last_task.id == workflow.last_task.id
    assert restored.is_completed() == workflow.is_completed()
    assert serializer.dump_state(restored) == serializer.dump_state(workflow)


def test_restored_state_shows_the_same_ready_tasks_and_timers(dispatched):
    serializer, runner = Serializer(), Runner()
    workflow = dispatched.result.workflow
    restored = serializer.load_state(serializer.dump_state(workflow), dispatched.spec, dispatched.subprocess_specs)
    before, after = runner.view(workflow, make_ctx()), runner.view(restored, make_ctx())
    assert [(t.id, t.name, t.unit, t.due_at) for t in after.ready] == [(t.id, t.name, t.unit, t.due_at) for t in before.ready]
    assert [(t.id, t.name, t.due_at) for t in after.timers] == [(t.id, t.name, t.due_at) for t in before.timers]
    assert after.data == before.data


def test_completed_case_round_trips(parsed, forms):
    walk = Walk(parsed["callback"], forms, FixedClock(datetime.now(timezone.utc)), roundtrip=False)
    walk.start()
    walk.do("make_callback", satisfaction="dissatisfied")
    serializer = Serializer()
    restored = serializer.load_state(serializer.dump_state(walk.result.workflow), walk.spec, walk.subprocess_specs)
    assert restored.is_completed()
    assert snapshot(restored) == snapshot(walk.result.workflow)


SCRIPTED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_scripted" targetNamespace="http://chengan.gov.cn/bdd/test">
  <bpmn:process id="scripted" name="脚本结果" isExecutable="true">
    <bpmn:startEvent id="scripted_start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="compute_grace" name="计算宽限" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>grace = timedelta(hours=2)
kinds = {"phone", "walk_in"}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="scripted_end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="scripted_start" targetRef="compute_grace"/>
    <bpmn:sequenceFlow id="f2" sourceRef="compute_grace" targetRef="scripted_end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_values_the_sandbox_offers_survive_a_save():
    """`timedelta` is one of the script functions (processes/README.md); a script may keep one in the
    case data, and a set too. SpiffWorkflow's own serializer stores both; the case must be savable."""
    process = make_parser().parse(SCRIPTED.encode(), "scripted.bpmn").processes[0]
    result = Runner().start(process.spec, process.subprocess_specs, {}, make_ctx())
    assert result.data["grace"] == timedelta(hours=2)
    serializer = Serializer()
    restored = serializer.load_state(serializer.dump_state(result.workflow), process.spec, process.subprocess_specs)
    assert restored.last_task.data["grace"] == timedelta(hours=2)
    assert sorted(restored.last_task.data["kinds"]) == ["phone", "walk_in"]
