"""The restricted environment every expression and script of a diagram runs in (processes/README.md, "Scripts")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from bdd_workflow.clock import Clock, FixedClock
from bdd_workflow.engine.runner import Runner
from bdd_workflow.engine.scripting import RestrictedEnvironment, RestrictedScriptEngine, RunContext, ScriptTimeout
from bdd_workflow.errors import DefinitionInvalid, ScriptError
from bdd_workflow.workdays import WorkingCalendar

from .support import DMN, ROOT, SLA, UNITS_BY_KIND, make_parser

AT = datetime(2025, 9, 15, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Cheng'an


def context(clock: Clock | None = None) -> RunContext:
    return RunContext(clock=clock or FixedClock(AT), calendar=WorkingCalendar.load("Asia/Shanghai", "17:30"),
                      sla=dict(SLA), units_by_kind=dict(UNITS_BY_KIND))


@pytest.fixture
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment(context(), timeout_seconds=0.2)


CASE = {"materials_complete": True, "relay_to_unit": "", "items": [1, 2, 3],
        "applicant": {"name": "王芳", "phone": "13812345678"}, "promised_days": 3, "x": 1}


# --- what diagrams ordinarily write ------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "expected"), [
    ('"PT30M"', "PT30M"),
    ("materials_complete == True", True),
    ('relay_to_unit != ""', False),
    ("[i * 2 for i in items if i > 1]", [4, 6]),
    ('applicant["name"]', "王芳"),
    ('add_duration(now(), sla("contact"))', "2025-09-15T09:30:00+08:00"),
    ("add_working_days(now(), promised_days)", "2025-09-18T17:30:00+08:00"),
    ('unit_of_kind("consultation_centre")', "CA-ZX"),
    ('is_bad_rating("dissatisfied") and not is_bad_rating("satisfied")', True),
    ("sum(range(10))", 45),
])
def test_ordinary_expressions_evaluate(env, expression, expected):
    """Conditions, timer and due-date expressions of the diagrams evaluate in the sandbox."""
    assert env.evaluate(expression, dict(CASE)) == expected


def test_now_is_the_one_clock_in_local_time(env):
    assert env.evaluate("now()", {}) == "2025-09-15T09:00:00+08:00"


def test_unknown_sla_is_a_clear_error(env):
    with pytest.raises(KeyError, match="未配置的时限"):
        env.evaluate('sla("coffee_break")', {})


# --- what the sandbox refuses, with no side effect ---------------------------------------------------

ESCAPES = [
    "__import__('os')",
    "open('/etc/passwd').read()",
    "().__class__.__mro__[1].__subclasses__()",
    "getattr(x, '__class__')",
    "(lambda: 1).__globals__",
    "eval('1')",
    "exec('x=1')",
    "(i for i in items).gi_frame",
    "'{0.__class__}'.format(x)",
    "now.__globals__",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_escape_attempt_in_an_expression_is_refused(env, expression):
    data = dict(CASE)
    with pytest.raises(Exception) as caught:
        env.evaluate(expression, data)
    assert not isinstance(caught.value, ScriptTimeout)
    assert data == CASE


@pytest.mark.parametrize("expression", ESCAPES + ["import os", "from os import system"])
def test_escape_attempt_in_a_script_is_refused_and_writes_nothing(env, expression):
    script = expression if expression.startswith(("import", "from")) else f"result = {expression}"
    data = dict(CASE)
    with pytest.raises(Exception):
        env.execute(script, data)
    assert data == CASE, "a refused script must not change the case data"


@pytest.mark.parametrize("expression", [
    "__import__('os')", "().__class__.__mro__[1].__subclasses__()", "(lambda: 1).__globals__",
    "eval('1')", "exec('x=1')",
])
def test_refusal_at_compile_time_is_a_script_error_naming_the_reason(env, expression):
    with pytest.raises(ScriptError) as caught:
        env.evaluate(expression, dict(CASE))
    assert "被拒绝" in caught.value.message
    assert caught.value.status == 422


@pytest.mark.parametrize("attempt", [
    "import os\nos.system('touch {path}')",
    "result = __import__('os').system('touch {path}')",
    "result = open('{path}', 'w').write('x')",
    "result = ().__class__.__mro__[1].__subclasses__()",
])
def test_no_file_is_created_by_an_escape_attempt(env, tmp_path, attempt):
    sentinel = tmp_path / "pwned"
    with pytest.raises(Exception):
        env.execute(attempt.format(path=sentinel), {})
    assert not sentinel.exists()


def test_range_of_a_billion_is_refused(env):
    with pytest.raises(ValueError, match="range"):
        env.evaluate("range(10**9)", {})
    with pytest.raises(ValueError):
        env.execute("for i in range(10**9):\n    pass", {})


def test_script_assignments_are_written_back_but_callables_are_not(env):
    data = {"x": 1, "handling_unit": "CA-MZ"}
    env.execute(
        "y = x + 1\n"
        "handling_unit = 'CA-SPJ'\n"
        "f = lambda: 1\n"
        "def g():\n"
        "    return 2\n"
        "z = g() + f()\n",
        data,
    )
    assert data == {"x": 1, "y": 2, "z": 3, "handling_unit": "CA-SPJ"}
    assert "now" not in data and "sla" not in data, "script functions never leak into case data"


def test_script_engine_evaluates_and_executes_in_the_restricted_environment():
    engine = RestrictedScriptEngine(context(), timeout_seconds=0.2)
    assert isinstance(engine.environment, RestrictedEnvironment)
    task = SimpleNamespace(data={"promised_days": 2, "materials_complete": True})
    assert engine.evaluate(task, "materials_complete == True") is True
    engine.execute(task, "due = add_working_days(now(), promised_days)")
    assert task.data["due"] == "2025-09-17T17:30:00+08:00"
    with pytest.raises(Exception):
        engine.execute(task, "result = ().__class__.__mro__[1].__subclasses__()")
    assert "result" not in task.data


def test_a_dmn_input_entry_reads_as_a_value_or_as_a_comparison_every_time():
    """SpiffWorkflow's DMN engine asks the script engine whether an input entry parses: a value
    (``"personal"``) is compared with ``==``, a comparison (``< 5``) gets the input put in front.
    The answer is kept per text; a refused text raises a SyntaxError each time it is asked."""
    from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

    engine = RestrictedScriptEngine(context(), timeout_seconds=0.2)
    for _ in range(2):
        assert DMNEngine.needs_eq(None, engine, '"personal"') is True
        assert DMNEngine.needs_eq(None, engine, "< 5") is False
        with pytest.raises(SyntaxError) as first:
            engine.validate("v <")
        with pytest.raises(SyntaxError) as second:
            engine.validate("v <")
        assert first.value is not second.value and first.value.lineno == second.value.lineno == 1
        assert engine.validate("materials_complete == True") is None


# --- time bounds (probes run in child processes: a hung probe must not hang the suite) ----------------

PROBE = r"""
import json, sys, time
from datetime import datetime, timezone
from bdd_workflow.clock import FixedClock
from bdd_workflow.engine.scripting import RestrictedEnvironment, RunContext
from bdd_workflow.workdays import WorkingCalendar
ctx = RunContext(clock=FixedClock(datetime(2025, 9, 15, tzinfo=timezone.utc)),
                 calendar=WorkingCalendar.load("Asia/Shanghai", "17:30"), sla={}, units_by_kind={})
env = RestrictedEnvironment(ctx, timeout_seconds=0.2)
started = time.monotonic()
try:
    env.execute(sys.argv[1], {})
    outcome = "completed"
except BaseException as exc:
    outcome = type(exc).__name__
print(json.dumps({"outcome": outcome, "seconds": time.monotonic() - started}))
"""

LOOPS = {
    "one_line_loop": "while True: pass",
    "two_line_loop": "while True:\n    pass",
    "counting_loop": "n = 0\nwhile True:\n    n += 1",
    "swallowed_timeout": "n = 0\nwhile True:\n    try:\n        while True:\n            n += 1\n    except Exception:\n        n = 0",
    "huge_power": "x = 9 ** 9 ** 8",
}
PROBE_LIMIT = 4.0  # seconds; a 0.2 s budget must have tripped long before


@pytest.fixture(scope="module")
def probes():
    """All loop probes start at once, so the slow (hung) ones cost the suite a few seconds in total."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.monotonic()
    running = {name: subprocess.Popen([sys.executable, "-c", PROBE, script], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name, script in LOOPS.items()}
    yield running, started
    for proc in running.values():
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def outcome_of(probes, name: str) -> dict:
    running, started = probes
    proc = running[name]
    try:
        out, err = proc.communicate(timeout=max(0.1, PROBE_LIMIT - (time.monotonic() - started)))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"script {LOOPS[name]!r} was still running after {PROBE_LIMIT} s with timeout_seconds=0.2")
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_infinite_loop_one_liner_stops_with_script_timeout(probes):
    """`while True: pass` — the loop the README's "bounded time" is about."""
    result = outcome_of(probes, "one_line_loop")
    assert result["outcome"] == "ScriptTimeout"
    assert result["seconds"] < 2


@pytest.mark.parametrize("name", ["two_line_loop", "counting_loop"])
def test_infinite_loop_stops_with_script_timeout(probes, name):
    result = outcome_of(probes, name)
    assert result["outcome"] == "ScriptTimeout"
    assert result["seconds"] < 2


def test_a_script_cannot_swallow_the_timeout_and_keep_running(probes):
    """`try/except Exception` around the loop catches ScriptTimeout; the script must still be stopped."""
    result = outcome_of(probes, "swallowed_timeout")
    assert result["outcome"] == "ScriptTimeout"


def test_a_huge_computation_in_one_operation_is_bounded_too(probes):
    """`9 ** 9 ** 8` runs in C for minutes, where a line-trace deadline never gets a say."""
    result = outcome_of(probes, "huge_power")
    assert result["outcome"] != "completed"
    assert result["seconds"] < 2


# --- deploy-time refusal (DiagramParser) ---------------------------------------------------------------

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_probe" targetNamespace="http://chengan.gov.cn/bdd/test">
  <bpmn:process id="sandbox_probe" name="沙箱测试" isExecutable="true">
    <bpmn:startEvent id="probe_start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="probe_script" name="计算" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="probe_gateway" name="判断" default="f4">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="probe_end_a"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="probe_end_b"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="probe_start" targetRef="probe_script"/>
    <bpmn:sequenceFlow id="f2" sourceRef="probe_script" targetRef="probe_gateway"/>
    <bpmn:sequenceFlow id="f3" sourceRef="probe_gateway" targetRef="probe_end_a">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="probe_gateway" targetRef="probe_end_b"/>
  </bpmn:process>
</bpmn:definitions>"""


def diagram(script: str = "x = 1", condition: str = "x == 1") -> bytes:
    return DIAGRAM.format(script=script, condition=condition).encode()


def deploy(data: bytes, decisions=()):
    return make_parser(clock=FixedClock(AT)).parse(data, "probe.bpmn", list(decisions))


def test_a_clean_probe_diagram_deploys_and_runs():
    process = deploy(diagram()).processes[0]
    result = Runner(timeout_seconds=0.2).start(process.spec, process.subprocess_specs, {}, context())
    assert result.completed and result.data["x"] == 1


def test_script_importing_os_fails_to_deploy_naming_the_element():
    """README: "Scripts run restricted: no imports" — refused at deploy, not when a case reaches it."""
    with pytest.raises(DefinitionInvalid) as caught:
        deploy(diagram(script="import os"))
    assert caught.value.element == "probe_script"
    assert "probe_script" in caught.value.message


def test_script_importing_os_never_runs():
    """Whatever the deploy check does, running such a script is refused with the element named."""
    try:
        process = deploy(diagram(script="import os\nx = 1")).processes[0]
    except DefinitionInvalid:
        return
    with pytest.raises(ScriptError) as caught:
        Runner(timeout_seconds=0.2).start(process.spec, process.subprocess_specs, {}, context())
    assert caught.value.details["element"] == "probe_script"


def test_condition_walking_subclasses_fails_to_deploy_naming_the_gateway():
    with pytest.raises(DefinitionInvalid) as caught:
        deploy(diagram(condition="len(().__class__.__mro__[1].__subclasses__()) > 0"))
    assert caught.value.element == "probe_gateway"
    assert "__subclasses__" in caught.value.message


def test_script_walking_subclasses_fails_to_deploy():
    with pytest.raises(DefinitionInvalid) as caught:
        deploy(diagram(script="x = ().__class__.__mro__[1].__subclasses__()"))
    assert caught.value.element == "probe_script"


def test_routing_table_walking_subclasses_fails_to_deploy():
    """The DMN's output entries are expressions too (R-1 routing); refused when the table is deployed."""
    bad = DMN.read_text(encoding="utf-8").replace(
        "<text>responsible_unit</text>", "<text>str(().__class__.__mro__[1].__subclasses__())</text>")
    assert "__subclasses__" in bad
    with pytest.raises(DefinitionInvalid):
        make_parser(clock=FixedClock(AT)).parse(bad.encode(), "handling_unit_routing.dmn")


def test_pre_and_post_scripts_are_checked_at_deploy_too():
    """A user task's spiffworkflow:preScript / postScript runs in the sandbox like any script."""
    bad = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="hooks" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:manualTask id="hooked"><bpmn:extensionElements>
      <spiffworkflow:postScript>import os</spiffworkflow:postScript></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:manualTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="hooked"/>
    <bpmn:sequenceFlow id="f2" sourceRef="hooked" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""
    with pytest.raises(DefinitionInvalid) as caught:
        make_parser(clock=FixedClock(AT)).parse(bad.encode(), "hooks.bpmn")
    assert caught.value.element == "hooked" and "后置脚本" in caught.value.message
