"""Issue 16 item 4: no diagram expression can hold the server or grow its memory. What is too large in the
text is refused at deploy naming the element; what only the data makes too large is stopped when it runs,
naming the element; the process's memory comes back afterwards (processes/README.md, "Scripts")."""

from __future__ import annotations

import gc

import pytest

from bdd_workflow.engine.runner import Runner
from bdd_workflow.engine.scripting import RestrictedEnvironment, ScriptTooLarge, _resident_bytes, check_expression, check_script
from bdd_workflow.errors import DefinitionInvalid, ScriptError

from .test_sandbox import context, deploy, diagram

MB = 1024 * 1024


@pytest.fixture
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment(context(), timeout_seconds=2, memory_mb=64)


@pytest.mark.parametrize("text", [
    "x = pow(10, 10 ** 7) > 0",           # one C call the deadline cannot stop: 8.5 s before
    "x = 'a'.ljust(10 ** 9)",             # 1 GB in one call
    "x = 10 ** 10 ** 7",
    "x = '%999999999d' % 1",
    "x = f'{1:>999999999}'",
    "x = 'ab' * 10 ** 7",
    "x = [0] + [1] * 10 ** 6",
])
def test_what_is_too_large_in_the_text_is_refused_at_deploy_naming_the_element(text):
    with pytest.raises(ScriptError, match="不能进行如此大的计算"):
        check_script(text)
    with pytest.raises(DefinitionInvalid) as caught:
        deploy(diagram(script=text))
    assert caught.value.element == "probe_script"
    assert "不能进行如此大的计算" in caught.value.message


@pytest.mark.parametrize(("script", "data"), [
    ("x = pow(10, n) > 0", {"n": 10 ** 7}),
    ("x = 'a'.ljust(n)", {"n": 10 ** 9}),
    ("x = 'a'.zfill(n)", {"n": 10 ** 9}),
    ("x = s.replace('a', s)", {"s": "a" * 100_000}),
    ("x = ''.join([s] * 100)", {"s": "a" * 100_000}),
    ("x = sum([[0] * 1000] * 2000, [])", {}),
    ("x = '%*d' % (n, 1)", {"n": 10 ** 9}),
    ("for i in range(10):\n    s = s + s", {"s": "x" * 1_000_000}),
    ("x = []\nfor i in range(40):\n    x.extend(x + [1])", {}),
    ("s += s", {"s": "x" * 600_000}),
])
def test_what_the_data_makes_too_large_is_stopped_when_it_runs(env, script, data):
    with pytest.raises(ValueError, match="不能进行如此大的计算"):
        env.execute(script, dict(data))


def test_a_script_that_grows_memory_bit_by_bit_is_stopped_and_the_memory_comes_back(env):
    """Each step is small enough for the guards; together they would take gigabytes in the one second."""
    gc.collect()
    before = _resident_bytes()
    with pytest.raises(ScriptTooLarge, match="内存超过 64 MB"):
        env.execute("keep = [[0] * 1000000 for i in range(1000)]", {})
    gc.collect()
    after = _resident_bytes()
    assert after - before < 32 * MB, f"{(after - before) / MB:.0f} MB not given back"


def test_a_value_too_large_to_keep_in_the_case_data_is_refused_naming_it(env):
    data: dict = {}
    with pytest.raises(ScriptTooLarge, match="big"):
        env.execute("a = 'x' * 600000\nbig = [a, a]", data)
    assert "big" not in data


def test_the_run_names_the_element():
    process = deploy(diagram(script="x = 'a'.ljust(width)")).processes[0]
    with pytest.raises(ScriptError) as caught:
        Runner(timeout_seconds=0.5).start(process.spec, process.subprocess_specs, {"width": 10 ** 9}, context())
    assert caught.value.details["element"] == "probe_script"
    assert "宽度过大" in caught.value.message


@pytest.mark.parametrize(("expression", "expected"), [
    ("'成安县' + '政务服务中心'", "成安县政务服务中心"),
    ("'请拨打 03107654321，编号 %s' % 5", "请拨打 03107654321，编号 5"),
    ("'%05d' % 42", "00042"),
    ("f'{3:>4}'", "   3"),
    ("pow(2, 10) + pow(3, 4, 5)", 1025),
    ("sum([1, 2, 3])", 6),
    ("sum([[1], [2]], [])", [1, 2]),
    ("'、'.join(['身份证', '户口簿'])", "身份证、户口簿"),
    ("'a-b'.replace('-', '／')", "a／b"),
    ("'7'.zfill(3)", "007"),
])
def test_ordinary_text_and_arithmetic_still_work(env, expression, expected):
    check_expression(expression)
    assert env.evaluate(expression, {}) == expected
