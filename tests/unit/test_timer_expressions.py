"""Timer expressions are checked at deploy (issue: spiff-arena's users deploy an unquoted `PT10M`
and find out when a case reaches the timer), and timers read the one clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bdd_workflow.clock import FixedClock
from bdd_workflow.engine.runner import Runner
from bdd_workflow.errors import DefinitionInvalid

from .support import make_ctx, make_parser

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="timer_probe" name="计时器测试" isExecutable="true">
    <bpmn:startEvent id="probe_start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="probe_wait" name="等待">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="probe_end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="probe_start" targetRef="probe_wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="probe_wait" targetRef="probe_end"/>
  </bpmn:process>
</bpmn:definitions>"""

AT = datetime(2025, 11, 3, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Cheng'an


def deploy(kind: str, expression: str):
    return make_parser(clock=FixedClock(AT)).parse(DIAGRAM.format(kind=kind, expression=expression).encode(), "t.bpmn")


@pytest.mark.parametrize("kind, expression", [
    ("timeDuration", '"PT10M"'),
    ("timeDate", 'add_duration(now(), "PT10M")'),
    ("timeDate", "add_working_days(now(), promised_days)"),
    ("timeDate", '"2025-11-03T10:00:00+08:00"'),
    ("timeCycle", '"R3/PT1H"'),
])
def test_valid_timer_expressions_deploy(kind, expression):
    assert deploy(kind, expression).processes[0].process_id == "timer_probe"


@pytest.mark.parametrize("kind, expression, says", [
    ("timeDuration", "PT10M", '加引号'),                  # the classic: unquoted duration
    ("timeDate", "PT10M", '加引号'),
    ("timeDate", '"tomorrow"', "不是有效的 ISO 8601"),   # a string, but no date
    ("timeDate", '"PT30M"', "时长"),                      # a duration where a moment is needed
    ("timeDuration", "30", "不是 ISO 8601 字符串"),       # a number
    ("timeCycle", '"R/PT1H"', "限定次数"),                # an unbounded cycle in a user-facing process
    ("timeDate", "undefined_variable", "无法求值"),
])
def test_bad_timer_expressions_are_refused_naming_the_timer(kind, expression, says):
    with pytest.raises(DefinitionInvalid) as refused:
        deploy(kind, expression)
    assert refused.value.element == "probe_wait"
    assert "probe_wait" in refused.value.message and says in refused.value.message


def test_a_timer_fires_by_the_injected_clock_not_the_wall_clock():
    """A test clock in the past never fires a timer early; moved past the due time, it fires."""
    process = deploy("timeDate", 'add_duration(now(), "PT10M")').processes[0]
    clock = FixedClock(AT)
    result = Runner().start(process.spec, process.subprocess_specs, {}, make_ctx(clock))
    assert [t.name for t in result.timers] == ["probe_wait"]
    assert result.timers[0].due_at == AT + timedelta(minutes=10)
    clock.advance(minutes=9)
    assert not Runner().view(result.workflow, make_ctx(clock)).completed
    again = Runner().fire(result.workflow, [], make_ctx(clock))  # a run that fires nothing by hand
    assert not again.completed and again.fired == []
    clock.advance(minutes=2)
    later = Runner().fire(result.workflow, [], make_ctx(clock))
    assert later.completed and [t.name for t in later.fired] == ["probe_wait"]
