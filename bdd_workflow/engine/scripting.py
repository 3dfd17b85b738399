"""The restricted environment every expression and script of a diagram runs in.

SpiffWorkflow's default environment calls plain ``eval``/``exec``; RestrictedPython's
``safe_globals`` with plain ``exec`` is not a sandbox either (``().__class__.__mro__`` reaches
``os``). Here every expression is compiled by RestrictedPython's compiler and runs with its
guards, with no import machinery, and under a deadline.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
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
BAD_RATINGS = frozenset({"dissatisfied", "very_dissatisfied"})


class ScriptTimeout(Exception):
    pass


def _guarded_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise ValueError(f"range() 最多 {MAX_RANGE} 个元素")
    return r


_INPLACE = {
    "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": lambda a, b: a * b,
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
    "__name__": "diagram_script",
    "__metaclass__": type,
}


@lru_cache(maxsize=4096)
def _compile_eval(expression: str):
    result = compile_restricted_eval(expression.strip())
    if result.errors:
        raise ScriptError("表达式被拒绝: " + "; ".join(result.errors), expression=expression)
    return result.code


@lru_cache(maxsize=1024)
def _compile_exec(script: str):
    result = compile_restricted_exec(script)
    if result.errors:
        raise ScriptError("脚本被拒绝: " + "; ".join(result.errors), script=script)
    return result.code


def check_expression(expression: str) -> None:
    """Compile only; raises ScriptError for what the sandbox refuses or cannot parse."""
    _compile_eval(expression)


def check_script(script: str) -> None:
    _compile_exec(script)


@dataclass
class RunContext:
    """What the functions of one engine run need, and what they noticed on the way."""

    clock: Clock
    calendar: WorkingCalendar
    sla: dict[str, object]
    units_by_kind: dict[str, str]
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

    def is_bad_rating(satisfaction: str) -> bool:
        return satisfaction in BAD_RATINGS

    return {
        "now": now, "add_duration": add_duration, "add_working_days": add_working_days,
        "sla": sla, "unit_of_kind": unit_of_kind, "is_bad_rating": is_bad_rating,
        "timedelta": timedelta,
    }


class _Deadline:
    """A trace function that stops Python code running past its deadline."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def __call__(self, frame, event, arg):
        if time.monotonic() > self.deadline:
            raise ScriptTimeout("脚本运行超时")
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
        if operation_name != "start_case":
            raise ScriptError(f"未知的服务操作 {operation_name!r}")
        if not params.get("process"):
            raise ScriptError("start_case 需要参数 process")
        self.ctx.service_calls.append({"operation": operation_name, **params})
        return json.dumps({"requested": True, "process": params["process"]})


class RestrictedScriptEngine(PythonScriptEngine):
    """Script engine whose errors name the element and never leak a Python stack."""

    def __init__(self, ctx: RunContext, timeout_seconds: float = 1.0) -> None:
        super().__init__(environment=RestrictedEnvironment(ctx, timeout_seconds))
        self.ctx = ctx

    def call_service(self, task, **kwargs):
        return self.environment.call_service(task.data, **kwargs)
