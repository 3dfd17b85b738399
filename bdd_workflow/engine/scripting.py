"""The restricted environment every expression and script of a diagram runs in.

SpiffWorkflow's default environment calls plain ``eval``/``exec``; RestrictedPython's
``safe_globals`` with plain ``exec`` is not a sandbox either (``().__class__.__mro__`` reaches
``os``). Here every expression is compiled by RestrictedPython's compiler and runs with its
guards, with no import machinery, and under a deadline.
"""

from __future__ import annotations

import ast
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from ..clock import Clock
from ..errors import ScriptError
from ..workdays import WorkingCalendar

MAX_RANGE = 100_000
MAX_SEQUENCE = 1_000_000  # items a multiplication may build
MAX_BITS = 100_000  # size of an integer a power, product or shift may build
BAD_RATINGS = frozenset({"dissatisfied", "very_dissatisfied"})


class ScriptTimeout(ScriptError):
    """A diagram's script or expression ran past its deadline and was stopped."""


class _Deadline_Passed(BaseException):
    """Raised inside the script. A BaseException: ``except Exception`` does not catch it, and
    the policy refuses bare ``except:``, ``except BaseException`` and ``finally`` in diagrams."""


def _guarded_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise ValueError(f"range() 最多 {MAX_RANGE} 个元素")
    return r


def _too_big(message: str) -> ValueError:
    return ValueError(f"{message}：图中的表达式不能进行如此大的计算")


def _guarded_pow(base, exponent):
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if base.bit_length() * exponent > MAX_BITS:
            raise _too_big("乘方结果过大")
    return base ** exponent


def _guarded_mul(left, right):
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_SEQUENCE:
            raise _too_big("重复的序列过长")
    if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_BITS:
        raise _too_big("乘积过大")
    return left * right


def _guarded_lshift(value, shift):
    if isinstance(value, int) and isinstance(shift, int) and shift > MAX_BITS:
        raise _too_big("移位过大")
    return value << shift


class DiagramPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: no imports at all, and bounded ``**``, ``*`` and ``<<``.

    A deadline cannot interrupt one C-level operation such as ``9 ** 9 ** 8``; so those
    operators are rewritten into calls that refuse results too large to be meant.
    """

    GUARDED = {ast.Pow: "_bdd_pow_", ast.Mult: "_bdd_mul_", ast.LShift: "_bdd_lshift_"}

    def visit_Import(self, node):
        self.error(node, "不允许 import：图中的脚本不能导入模块")
        return node

    visit_ImportFrom = visit_Import

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        guard = self.GUARDED.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(id=guard, ctx=ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_ExceptHandler(self, node):
        # The deadline is a BaseException; a handler that could catch it would outlive it.
        caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
        if any(c is None or (isinstance(c, ast.Name) and c.id == "BaseException") for c in caught):
            self.error(node, "不允许 except: 或 except BaseException：请写明要捕获的异常，例如 except ValueError")
        return self.node_contents_visit(node)

    def visit_Try(self, node):
        if node.finalbody:
            self.error(node, "不允许 finally：图中的脚本不能在 finally 中继续运行")
        return self.node_contents_visit(node)

    visit_TryStar = visit_Try


_INPLACE = {
    "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": _guarded_mul, "**=": _guarded_pow,
    "<<=": _guarded_lshift,
    "/=": lambda a, b: a / b, "//=": lambda a, b: a // b, "%=": lambda a, b: a % b,
    "|=": lambda a, b: a | b, "&=": lambda a, b: a & b,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    if op not in _INPLACE:
        raise SyntaxError(f"不支持的运算符 {op}")
    return _INPLACE[op](x, y)


def _builtins() -> dict[str, Any]:
    allowed = dict(safe_builtins)
    allowed.update(limited_builtins)
    for name in ("setattr", "delattr", "__build_class__", "id", "hash"):
        allowed.pop(name, None)
    allowed.update({
        "range": _guarded_range, "min": min, "max": max, "sum": sum, "any": any, "all": all,
        "sorted": sorted, "enumerate": enumerate, "zip": zip, "list": list, "dict": dict,
        "set": set, "tuple": tuple, "reversed": reversed, "map": map, "filter": filter,
    })
    return allowed


GUARDS = {
    "__builtins__": _builtins(),
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_bdd_pow_": _guarded_pow,
    "_bdd_mul_": _guarded_mul,
    "_bdd_lshift_": _guarded_lshift,
    "__name__": "diagram_script",
    "__metaclass__": type,
}


@lru_cache(maxsize=4096)
def _compile_eval(expression: str):
    result = compile_restricted_eval(expression.strip(), policy=DiagramPolicy)
    if result.errors:
        raise ScriptError("表达式被拒绝: " + "; ".join(result.errors), expression=expression)
    return result.code


@lru_cache(maxsize=1024)
def _compile_exec(script: str):
    result = compile_restricted_exec(script, policy=DiagramPolicy)
    if result.errors:
        raise ScriptError("脚本被拒绝: " + "; ".join(result.errors), script=script)
    return result.code


@lru_cache(maxsize=4096)
def _syntax_error(expression: str) -> tuple | None:
    """The arguments of the SyntaxError parsing this text raises, or None (not the error itself:
    its traceback would keep the parser's frames alive in the cache)."""
    try:
        ast.parse(expression)
    except SyntaxError as error:
        return error.args
    return None


def check_expression(expression: str) -> None:
    """Compile only; raises ScriptError for what the sandbox refuses or cannot parse."""
    _compile_eval(expression)


def check_script(script: str) -> None:
    _compile_exec(script)


# The operations a service task may name, with the parameters each needs: start_case starts a linked case
# (processes/README.md); note_source_case writes a line into the history of the case this one was started
# from (a problem report's answer shows on the case it is about, R-6.4.2).
# start_case may also name ``items`` (a list: one linked case per item, its keys joined to that case's data; 问题交办
# starts one per problem a callback found, R-10.1) and ``link_from`` ('this', the default, or 'source': the new
# case is linked from the case this one was started from). record_complaint_finding keeps a complaint's finding for
# the figures of the unit and the staff member it is about (R-4.c, R-5.2).
SERVICE_OPERATIONS: dict[str, tuple[str, ...]] = {"start_case": ("process",), "note_source_case": ("label", "text"),
                                                  "record_complaint_finding": ()}


@dataclass
class RunContext:
    """What the functions of one engine run need, and what they noticed on the way."""

    clock: Clock
    calendar: WorkingCalendar
    sla: dict[str, object]
    units_by_kind: dict[str, str]
    # code -> (level, parent code) of every unit: the levels the routing decision walks.
    unit_tree: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    # Who directs a unit, whose a case or a staff member is: asked of the database only when an expression
    # calls directing_unit, case_unit, staff_unit or staff_role (System.run_context gives it).
    directory: Any = None
    provisional: bool = False
    service_calls: list[dict[str, Any]] = field(default_factory=list)
    _now: datetime | None = None

    def now(self) -> datetime:
        # One reading per run: a due date and the timer that guards it agree to the second.
        if self._now is None:
            self._now = self.clock.now()
        return self._now

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.calendar.tz)


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"时间 {value!r} 缺少时区")
    return moment


def script_functions(ctx: RunContext) -> dict[str, Callable[..., Any]]:
    """The functions a diagram's expressions may call (documented in processes/README.md)."""

    def now() -> str:
        return ctx.local(ctx.now()).isoformat()

    def add_duration(start: Any, duration: str) -> str:
        parsed = TimerEventDefinition.parse_iso_duration(str(duration))
        moment = _to_datetime(start)
        return ctx.local(moment + TimerEventDefinition.get_timedelta_from_start(parsed, moment)).isoformat()

    def add_working_days(start: Any, days: Any) -> str:
        due, provisional = ctx.calendar.add_working_days(_to_datetime(start), int(days))
        ctx.provisional = ctx.provisional or provisional
        return due.isoformat()

    def sla(name: str) -> Any:
        if name not in ctx.sla:
            raise KeyError(f"未配置的时限 {name!r}")
        return ctx.sla[name]

    def unit_of_kind(kind: str) -> str:
        if kind not in ctx.units_by_kind:
            raise KeyError(f"没有类型为 {kind!r} 的单位")
        return ctx.units_by_kind[kind]

    def unit_level(code: str | None) -> str | None:
        """The level (county, township, village) of a unit; None for no unit (an online application)."""
        if not code:
            return None
        if code not in ctx.unit_tree:
            raise KeyError(f"没有编码为 {code!r} 的单位")
        return ctx.unit_tree[code][0]

    def unit_at_level(code: str | None, level: str) -> str | None:
        """The unit itself or the nearest unit above it at ``level``: a village's township centre."""
        seen = 0
        while code and seen < 16:
            if code not in ctx.unit_tree:
                raise KeyError(f"没有编码为 {code!r} 的单位")
            own_level, parent = ctx.unit_tree[code]
            if own_level == level:
                return code
            code, seen = parent, seen + 1
        return None

    def is_bad_rating(satisfaction: str) -> bool:
        return satisfaction in BAD_RATINGS

    def _directory():
        if ctx.directory is None:
            raise KeyError("这里不能查询单位和人员")
        return ctx.directory

    def directing_unit(code: str | None) -> str | None:
        """The unit of the chief officer who directs ``code``: itself or the nearest unit above it with an
        active chief officer (a village's township, a county department's county centre, R-6.4.1)."""
        return _directory().directing_unit(code) if code else None

    def case_unit(number: str | None) -> str | None:
        """The handling unit of the case with this number; None for no case."""
        return _directory().case_unit(str(number)) if number else None

    def staff_unit(username: str | None) -> str | None:
        return _directory().staff(str(username))[0] if username else None

    def staff_role(username: str | None) -> str | None:
        return _directory().staff(str(username))[1] if username else None

    return {
        "now": now, "add_duration": add_duration, "add_working_days": add_working_days,
        "sla": sla, "unit_of_kind": unit_of_kind, "unit_level": unit_level, "unit_at_level": unit_at_level,
        "is_bad_rating": is_bad_rating, "directing_unit": directing_unit, "case_unit": case_unit,
        "staff_unit": staff_unit, "staff_role": staff_role,
        "timedelta": timedelta,
    }


class _Deadline:
    """A trace function that stops Python code running past its deadline.

    It traces opcodes, not lines, so a one-line loop is stopped too.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def __call__(self, frame, event, arg):
        frame.f_trace_opcodes = True
        if time.monotonic() > self.deadline:
            raise _Deadline_Passed()
        return self


class RestrictedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment, compiled by RestrictedPython and time-bounded."""

    def __init__(self, ctx: RunContext, timeout_seconds: float = 1.0) -> None:
        self.ctx = ctx
        self.timeout_seconds = timeout_seconds
        super().__init__(dict(GUARDS, **script_functions(ctx)))

    def _run(self, code, namespace: dict[str, Any], mode: str):
        previous = sys.gettrace()
        sys.settrace(_Deadline(self.timeout_seconds))
        try:
            return eval(code, namespace) if mode == "eval" else exec(code, namespace)  # noqa: S307 - restricted code
        except _Deadline_Passed:
            raise ScriptTimeout(f"脚本运行超过 {self.timeout_seconds:g} 秒，已被终止。") from None
        finally:
            sys.settrace(previous)

    def evaluate(self, expression, context, external_context=None):
        code = _compile_eval(expression)
        namespace = dict(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        return self._run(code, namespace, "eval")

    def execute(self, script, context, external_context=None):
        code = _compile_exec(script)
        self.check_for_overwrite(context, external_context or {})
        namespace = dict(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        before = set(namespace)
        self._run(code, namespace, "exec")
        for key, value in namespace.items():
            if key in self.globals or (external_context and key in external_context):
                continue
            if callable(value) or key.startswith("_"):
                continue
            if key in context or key not in before:
                context[key] = value
        return True

    def call_service(self, context, operation_name=None, operation_params=None, **kwargs):
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        if operation_name not in SERVICE_OPERATIONS:
            raise ScriptError(f"未知的服务操作 {operation_name!r}")
        for required in SERVICE_OPERATIONS[operation_name]:
            if not params.get(required):
                raise ScriptError(f"{operation_name} 需要参数 {required}")
        self.ctx.service_calls.append({"operation": operation_name, **params})
        return json.dumps({"requested": True, **{k: v for k, v in params.items() if k == "process"}})


class RestrictedScriptEngine(PythonScriptEngine):
    """Script engine whose errors name the element and never leak a Python stack."""

    def __init__(self, ctx: RunContext, timeout_seconds: float = 1.0) -> None:
        super().__init__(environment=RestrictedEnvironment(ctx, timeout_seconds))
        self.ctx = ctx

    def validate(self, expression):
        """Does the text parse as Python? SpiffWorkflow's DMN engine asks this of every input entry of
        every rule it checks (``"personal"`` parses, ``< 5`` does not and is read as ``v < 5``), by
        parsing it again each time; a failed parse also looks for a source file named ``<unknown>``.
        The answer for a text never changes, so it is kept (a fresh error each time: a raised
        exception object collects the traceback of every raise)."""
        error = _syntax_error(expression)
        if error is not None:
            raise SyntaxError(*error)

    def call_service(self, task, **kwargs):
        return self.environment.call_service(task.data, **kwargs)
