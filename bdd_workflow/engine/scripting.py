"""The restricted environment every expression and script of a diagram runs in.

SpiffWorkflow's default environment calls plain ``eval``/``exec``; RestrictedPython's
``safe_globals`` with plain ``exec`` is not a sandbox either (``().__class__.__mro__`` reaches
``os``). Here every expression is compiled by RestrictedPython's compiler and runs with its
guards, with no import machinery, and under a deadline.
"""

from __future__ import annotations

import ast
import json
import os
import re
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


_SEQUENCES = (str, bytes, list, tuple)


def _guarded_add(left, right):
    """``s = s + s`` ten times is half a gigabyte: a concatenation may build at most MAX_SEQUENCE items."""
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES) and len(left) + len(right) > MAX_SEQUENCE:
        raise _too_big("拼接的序列过长")
    return left + right


# A width or precision in a format string ('%999999999d', '{:>999999999}', f"{x:>999999999}") builds a
# string of that size in one C call.
# Only the format fields are read: a phone number in the text is no width.
_WIDE_FORMAT = re.compile(r"\d{7,}")
_WIDE_FIELD = re.compile(r"%[-#0 +]*(\d{7,}|\*)|%[-#0 +]*\d*\.(\d{7,}|\*)"  # '%999999999d', '%*d'
                         r"|\{[^{}]*:[^{}]*(\d{7,}|\{)")  # '{:>999999999}', '{:{}}'


def _check_format(template) -> None:
    if isinstance(template, (str, bytes)) and _WIDE_FIELD.search(
            template if isinstance(template, str) else template.decode("latin-1")):
        raise _too_big("格式宽度过大")


def _guarded_mod(left, right):
    _check_format(left)
    return left % right


def _guarded_pow_builtin(base, exponent, modulus=None):
    """``pow(10, 10**7)`` is one C call no deadline stops: bounded like ``**`` (with a modulus it stays small)."""
    return pow(base, exponent, modulus) if modulus is not None else _guarded_pow(base, exponent)


def _guarded_sum(iterable, start=0):
    """``sum(lists, [])`` concatenates in one C call: a sum of sequences is bounded like ``+``."""
    if not isinstance(start, _SEQUENCES):
        return sum(iterable, start)
    items = list(iterable)
    if len(start) + sum(len(i) for i in items if isinstance(i, _SEQUENCES)) > MAX_SEQUENCE:
        raise _too_big("求和拼接的序列过长")
    if not isinstance(start, (list, tuple)):
        return sum(items, start)  # str and bytes: sum() itself refuses them
    joined = list(start)  # linear, where sum() of lists copies the growing total at every item
    for item in items:
        if not isinstance(item, type(start)):
            raise TypeError(f"can only concatenate {type(start).__name__} (not \"{type(item).__name__}\")")
        joined.extend(item)
    return joined if isinstance(start, list) else tuple(joined)


def _width_method(method, name: str):
    def guarded(width, *args):
        if isinstance(width, int) and width > MAX_SEQUENCE:
            raise _too_big(f"{name}() 宽度过大")
        return method(width, *args)
    return guarded


def _size_checked(method, name: str, size: Callable[..., int]):
    def guarded(*args, **kwargs):
        if size(*args, **kwargs) > MAX_SEQUENCE:
            raise _too_big(f"{name}() 的结果过长")
        return method(*args, **kwargs)
    return guarded


def _guarded_getattr(obj, name, default=None):
    """RestrictedPython's getattr, with the methods of strings and containers that can build a huge value in
    one C call ('a'.ljust(10**9), s.replace('a', s), x.extend(x) in a loop) bounded to MAX_SEQUENCE."""
    value = safer_getattr(obj, name, default)
    if isinstance(obj, (str, bytes)):
        if name in ("ljust", "rjust", "center", "zfill"):
            return _width_method(value, name)
        if name == "expandtabs":
            return _size_checked(value, name, lambda tabsize=8: len(obj) + obj.count("\t" if isinstance(obj, str) else b"\t") * max(tabsize, 0))
        if name == "replace":
            return _size_checked(value, name, lambda old, new, count=-1: len(obj) + max(len(new) - len(old), 0) * (
                (len(obj) + 1) if not old else obj.count(old)) if count < 0 else len(obj) + max(len(new) - len(old), 0) * count)
        if name == "join":
            def join(items):
                items = list(items)
                if sum(len(i) for i in items if isinstance(i, (str, bytes))) + len(obj) * len(items) > MAX_SEQUENCE:
                    raise _too_big("join() 的结果过长")
                return value(items)
            return join
    elif isinstance(obj, (list, set, dict)) and name in ("extend", "update"):
        return _size_checked(value, name, lambda *others, **more: len(obj) + sum(len(o) for o in others if hasattr(o, "__len__")) + len(more))
    return value


class DiagramPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: no imports at all, and bounded ``**``, ``*`` and ``<<``.

    A deadline cannot interrupt one C-level operation such as ``9 ** 9 ** 8``; so those
    operators are rewritten into calls that refuse results too large to be meant. What is too large
    already in the text (``10 ** 10 ** 7``, ``pow(10, 10 ** 7)``, ``'a'.ljust(10 ** 9)``, a format width of
    a billion) is refused when the diagram is deployed, naming the element.
    """

    def _refuse_if_too_big(self, node) -> None:
        try:
            _constant_value(node)
        except ValueError as exc:
            self.error(node, str(exc))

    def visit_Call(self, node):
        self._refuse_if_too_big(node)
        return super().visit_Call(node)

    def visit_FormattedValue(self, node):
        spec = node.format_spec
        if spec is not None:
            for part in getattr(spec, "values", [spec]):
                if not isinstance(part, ast.Constant):
                    self.error(node, "格式说明里不能再嵌表达式：请先算好宽度，或不用宽度")
                elif _WIDE_FORMAT.search(str(part.value)):
                    self.error(node, _too_big("格式宽度过大").args[0])
        return super().visit_FormattedValue(node)

    GUARDED = {ast.Pow: "_bdd_pow_", ast.Mult: "_bdd_mul_", ast.LShift: "_bdd_lshift_", ast.Add: "_bdd_add_",
               ast.Mod: "_bdd_mod_"}

    def visit_Import(self, node):
        self.error(node, "不允许 import：图中的脚本不能导入模块")
        return node

    visit_ImportFrom = visit_Import

    def visit_BinOp(self, node):
        self._refuse_if_too_big(node)
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


_NOT_CONSTANT = object()
_CONSTANT_OPS = {ast.Pow: _guarded_pow, ast.Mult: _guarded_mul, ast.LShift: _guarded_lshift, ast.Add: _guarded_add,
                 ast.Mod: _guarded_mod, ast.Sub: lambda a, b: a - b, ast.FloorDiv: lambda a, b: a // b}


def _constant_value(node):
    """The value of an expression made of literals only, computed with the guards (which refuse before they
    build anything large): ValueError if it is too large; _NOT_CONSTANT if it depends on anything else or
    fails otherwise (the run will say why)."""
    try:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [_constant_value(e) for e in node.elts]
            return _NOT_CONSTANT if _NOT_CONSTANT in items else (items if isinstance(node, ast.List) else tuple(items))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = _constant_value(node.operand)
            return _NOT_CONSTANT if value is _NOT_CONSTANT else -value
        if isinstance(node, ast.BinOp) and type(node.op) in _CONSTANT_OPS:
            left, right = _constant_value(node.left), _constant_value(node.right)
            if _NOT_CONSTANT in (left, right):
                return _NOT_CONSTANT
            return _CONSTANT_OPS[type(node.op)](left, right)
        if isinstance(node, ast.Call) and not node.keywords:
            args = [_constant_value(a) for a in node.args]
            if _NOT_CONSTANT in args:
                return _NOT_CONSTANT
            if isinstance(node.func, ast.Name) and node.func.id == "pow":
                return _guarded_pow_builtin(*args)
            if isinstance(node.func, ast.Attribute):
                owner = _constant_value(node.func.value)
                if isinstance(owner, (str, bytes)):
                    return _guarded_getattr(owner, node.func.attr)(*args)
    except ValueError as exc:
        if "图中的表达式不能进行如此大的计算" in str(exc):
            raise
    except Exception:  # noqa: BLE001 - any other failure is the run's to report
        pass
    return _NOT_CONSTANT


_INPLACE = {
    "+=": _guarded_add, "%=": _guarded_mod, "-=": lambda a, b: a - b, "*=": _guarded_mul, "**=": _guarded_pow,
    "<<=": _guarded_lshift,
    "/=": lambda a, b: a / b, "//=": lambda a, b: a // b,
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
        "range": _guarded_range, "pow": _guarded_pow_builtin, "sum": _guarded_sum, "min": min, "max": max, "any": any, "all": all,
        "sorted": sorted, "enumerate": enumerate, "zip": zip, "list": list, "dict": dict,
        "set": set, "tuple": tuple, "reversed": reversed, "map": map, "filter": filter,
    })
    return allowed


GUARDS = {
    "__builtins__": _builtins(),
    "_getattr_": _guarded_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_bdd_pow_": _guarded_pow,
    "_bdd_mul_": _guarded_mul,
    "_bdd_lshift_": _guarded_lshift,
    "_bdd_add_": _guarded_add,
    "_bdd_mod_": _guarded_mod,
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
    # Facts an expression may ask of the stored data, answered by the caller (the engine knows no SQL): who
    # directs a unit, whose a case or a staff member is, whether a unit has an active staff member of a role,
    # the channel of a case's rating of record. Asked only when an expression calls directing_unit, case_unit,
    # staff_unit, staff_role, unit_has_staff or rating_of_record (System.run_context gives it; without it, at
    # deploy-time checks, the last two answer False and None).
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

    def rating_of_record(case_number: str | None) -> str | None:
        """The channel (callback, window, online) of the case's rating of record; None: not rated (一事一评)."""
        if not case_number or ctx.directory is None:
            return None
        return ctx.directory.rating_channel(str(case_number))

    def unit_has_staff(code: str | None, role: str) -> bool:
        """Whether the unit itself has an active staff member of the role (a unit's own chief officer)."""
        if not code or ctx.directory is None:
            return False
        return bool(ctx.directory.unit_staffed(str(code), str(role)))

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
        "is_bad_rating": is_bad_rating, "rating_of_record": rating_of_record, "unit_has_staff": unit_has_staff,
        "directing_unit": directing_unit, "case_unit": case_unit, "staff_unit": staff_unit, "staff_role": staff_role,
        "timedelta": timedelta,
    }


class ScriptTooLarge(ScriptError):
    """A diagram's script grew the server's memory, or left data, past the configured bound."""


class _Memory_Exceeded(BaseException):
    """Raised inside the script, as the deadline is (a BaseException no diagram can catch)."""


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


try:  # kept open: a pread is a microsecond, an open and a read tens
    _STATM: int | None = os.open("/proc/self/statm", os.O_RDONLY)
except OSError:
    _STATM = None


def _resident_bytes() -> int | None:
    """This process's resident memory (Linux /proc; None elsewhere: then only the guards bound it)."""
    if _STATM is None:
        return None
    try:
        return int(os.pread(_STATM, 128, 0).split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


_SCRIPT_FILE = "<string>"  # what RestrictedPython names the code it compiles


class _Deadline:
    """A trace function that stops Python code running past its deadline, or growing the process's
    memory past ``max_growth`` bytes (read every 64 opcodes: one small read of /proc, while a guarded
    operation builds at most MAX_SEQUENCE items at a time).

    It traces opcodes, not lines, so a one-line loop is stopped too.
    """

    CHECK_EVERY = 64

    def __init__(self, seconds: float, max_growth: int) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.max_growth = max_growth
        self.baseline = _resident_bytes()
        self.ticks = 0

    def __call__(self, frame, event, arg):
        if event == "call" and frame.f_code.co_filename != _SCRIPT_FILE:
            # The system's own functions (the calendar, the guards) are bounded: trace the diagram's code only.
            # Calls out of them into the diagram's code (a lambda given to map) are traced again.
            return None
        frame.f_trace_opcodes = True
        if time.monotonic() > self.deadline:
            raise _Deadline_Passed()
        self.ticks += 1
        if self.baseline is not None and self.ticks % self.CHECK_EVERY == 0:
            now = _resident_bytes()
            if now is not None and now - self.baseline > self.max_growth:
                raise _Memory_Exceeded()
        return self


def _size(value: Any, budget: int) -> int:
    """Roughly how many items/characters ``value`` holds, counting no further than ``budget``."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, dict):
        total, items = len(value), value.items()
    elif isinstance(value, (list, tuple, set, frozenset)):
        total, items = len(value), ((v, None) for v in value)
    else:
        return 1
    for key, item in items:
        if total > budget:
            break
        total += _size(key, budget - total) + _size(item, budget - total)
    return total


class RestrictedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment, compiled by RestrictedPython and time-bounded."""

    def __init__(self, ctx: RunContext, timeout_seconds: float = 1.0, memory_mb: int = 64,
                 max_result: int = MAX_SEQUENCE) -> None:
        self.ctx = ctx
        self.timeout_seconds = timeout_seconds
        self.memory_bytes = memory_mb * 1024 * 1024
        self.max_result = max_result
        super().__init__(dict(GUARDS, **script_functions(ctx)))

    def _run(self, code, namespace: dict[str, Any], mode: str):
        previous = sys.gettrace()
        sys.settrace(_Deadline(self.timeout_seconds, self.memory_bytes))
        try:
            return eval(code, namespace) if mode == "eval" else exec(code, namespace)  # noqa: S307 - restricted code
        except _Deadline_Passed:
            raise ScriptTimeout(f"脚本运行超过 {self.timeout_seconds:g} 秒，已被终止。") from None
        except _Memory_Exceeded:
            namespace.clear()  # what it built goes now, not at the next collection
            raise ScriptTooLarge(f"脚本占用内存超过 {self.memory_bytes // (1024 * 1024)} MB，已被终止。") from None
        except MemoryError:
            namespace.clear()
            raise ScriptTooLarge("脚本占用内存过多，已被终止。") from None
        finally:
            sys.settrace(previous)

    def _check_result(self, name: str, value: Any) -> None:
        if _size(value, self.max_result) > self.max_result:
            raise ScriptTooLarge(f"脚本留下的数据 {name} 过大（超过 {self.max_result} 个字符或元素），"
                                 "办件数据里不能保存这样大的值。")

    def evaluate(self, expression, context, external_context=None):
        code = _compile_eval(expression)
        namespace = dict(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        result = self._run(code, namespace, "eval")
        self._check_result("（表达式的值）", result)
        return result

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
                if context.get(key) is not value:
                    self._check_result(key, value)
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

    def __init__(self, ctx: RunContext, timeout_seconds: float = 1.0, memory_mb: int = 64) -> None:
        super().__init__(environment=RestrictedEnvironment(ctx, timeout_seconds, memory_mb))
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
