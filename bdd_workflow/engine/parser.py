"""Deploy-time parsing: XML -> SpiffWorkflow specs, plus the checks that make a diagram runnable here.

A diagram is refused with every problem found, each naming the element and the reason; nothing
half-parsed ever leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.ExclusiveChoice import ExclusiveChoice
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask

from ..errors import DefinitionInvalid, ScriptError
from ..requirements import Requirements, cited
from ..roles import role_of_lane
from .scripting import SERVICE_OPERATIONS, RestrictedEnvironment, RunContext, check_expression, check_script
from .timers import ClockedBoundaryEventParser, ClockedIntermediateCatchEventParser, ClockedStartEventParser
from .xmlsafe import kind_of, parse_xml


class ClockedBpmnParser(SpiffBpmnParser):
    """SpiffWorkflow's parser, building timer events that read the one clock (engine/timers.py)."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (ClockedStartEventParser, StartEvent),
        full_tag("boundaryEvent"): (ClockedBoundaryEventParser, BoundaryEvent),
        full_tag("intermediateCatchEvent"): (ClockedIntermediateCatchEventParser, IntermediateCatchEvent),
    }

# A "?" outside quotes in a DMN input entry: the input's value (SpiffWorkflow's DMNEngine uses the same pattern).
_INPUT_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")

# Data every case has when it starts (processes/README.md); timer expressions are tried on it.
SAMPLE_CASE_DATA: dict[str, Any] = {
    "applicant_name": "示例", "applicant_phone": "13800000000", "applicant_type": "personal",
    "matter_code": "SAMPLE", "matter_name": "示例事项", "matter_kind": "personal",
    "matter_department": "示例部门", "responsible_unit": "SAMPLE", "promised_days": 3, "matter_levels": ["county"],
    "channel": "walk_in", "address": "", "started_unit": "SAMPLE", "handling_unit": "SAMPLE",
    # Set by the service diagrams before their timers are reached (processes/README.md "Case data"): the
    # case's promised deadline, written at acceptance, and an onsite visit's deadline.
    "case_due_at": "2025-01-06T17:30:00+08:00", "visit_due_at": "2025-01-06T17:30:00+08:00",
}


@dataclass
class ParsedProcess:
    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    requirement_ids: list[str]
    user_tasks: list[dict[str, Any]]
    # The form a start of this process fills in beyond the applicant (the start event's `form`
    # property): what the procedure needs to begin, e.g. the address an onsite visit goes to.
    start_form: str | None = None


@dataclass
class ParsedDecision:
    decision_id: str
    name: str


@dataclass
class ParseResult:
    kind: str  # "bpmn" or "dmn"
    processes: list[ParsedProcess] = field(default_factory=list)
    decisions: list[ParsedDecision] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    # Every problem found (element, message, source "spiffworkflow" or "check"); parse() refuses if any.
    problems: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None  # the refusal's message when it is not the first problem's


def _describe(spec) -> str:
    name = getattr(spec, "bpmn_name", None)
    return f"{spec.bpmn_id}（{name}）" if name else str(getattr(spec, "bpmn_id", spec.name))


def _validation_message(exc: ValidationException) -> dict[str, str]:
    element = getattr(exc, "id", "") or getattr(exc, "name", "") or getattr(exc, "tag", "") or None
    text = str(exc.args[0]) if exc.args else exc.__class__.__name__
    where = f"元素 {element}" if element else "图"
    line = getattr(exc, "line_number", "")
    suffix = f"（第 {line} 行）" if line else ""
    return {"element": element, "message": f"{where}{suffix}: {text}", "source": "spiffworkflow"}


class DiagramParser:
    """Parses BPMN and DMN documents and checks them against what this system can run."""

    def __init__(
        self,
        ctx_factory: Callable[[], RunContext],
        form_exists: Callable[[str], bool] | None = None,
        requirements: Requirements | None = None,
        max_bytes: int = 2 * 1024 * 1024,
        form_schema: Callable[[str], dict[str, Any]] | None = None,
    ) -> None:
        self.ctx_factory = ctx_factory
        self.form_exists = form_exists
        self.form_schema = form_schema  # a form's JSON Schema by name, for the start form's own rules
        self.requirements = requirements
        self.max_bytes = max_bytes

    def parse(self, data: bytes, filename: str, decisions: Iterable[bytes] = ()) -> ParseResult:
        result = self.check(data, filename, decisions)
        if result.problems:
            first = result.problems[0]
            message = result.message or (first["message"] if len(result.problems) == 1
                                         else f"{first['message']}（另有 {len(result.problems) - 1} 个问题）")
            raise DefinitionInvalid(message, first.get("element"), result.problems)
        return result

    def check(self, data: bytes, filename: str, decisions: Iterable[bytes] = ()) -> ParseResult:
        """Parse and check without refusing: every problem is in ``result.problems`` (the modeler's
        validation shows them all); the processes that parsed are in ``result.processes``."""
        try:
            return self._parse(data, filename, decisions)
        except DefinitionInvalid as exc:
            problems = [{**problem, "source": problem.get("source", "check")} for problem in exc.problems]
            return ParseResult(kind="unknown", problems=problems, message=exc.message)

    def _parse(self, data: bytes, filename: str, decisions: Iterable[bytes]) -> ParseResult:
        root = parse_xml(data, filename, self.max_bytes)
        kind = kind_of(root)
        parser = ClockedBpmnParser()
        try:
            for dmn in decisions:
                parser.add_dmn_xml(parse_xml(dmn, "decision.dmn", self.max_bytes))
            if kind == "dmn":
                parser.add_dmn_xml(root, filename)
                return self._decisions(parser, root, filename)
            parser.add_bpmn_xml(root, filename)
        except ValidationException as exc:
            problem = _validation_message(exc)
            raise DefinitionInvalid(problem["message"], problem["element"], [problem]) from None
        except (SpiffWorkflowException, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise DefinitionInvalid(f"{filename} 无法解析: {exc}", problems=[
                {"element": None, "message": f"{filename} 无法解析: {exc}", "source": "spiffworkflow"}]) from None
        return self._processes(parser, root, filename)

    def _decisions(self, parser, root, filename) -> ParseResult:
        result = ParseResult(kind="dmn")
        for decision_id, dmn_parser in parser.dmn_parsers.items():
            try:
                dmn_parser.parse()
            except ValidationException as exc:
                problem = _validation_message(exc)
                raise DefinitionInvalid(problem["message"], problem["element"], [problem]) from None
            except DefinitionInvalid:
                raise
            except Exception as exc:  # DMN parser raises plain exceptions for bad tables
                raise DefinitionInvalid(f"决策 {decision_id} 无法解析: {exc}", decision_id, [{
                    "element": decision_id, "message": f"决策 {decision_id} 无法解析: {exc}", "source": "spiffworkflow"}]) from None
            self._check_decision(dmn_parser.decision)
            result.decisions.append(ParsedDecision(decision_id, dmn_parser.get_name()))
        if not result.decisions:
            raise DefinitionInvalid(f"{filename} 中没有决策（decision）。")
        return result

    @staticmethod
    def _check_decision(decision) -> None:
        """Every expression of a decision table runs in the sandbox too: check them at deploy."""
        problems = []

        def check(element: str, what: str, expression: str | None, prefix: str = "") -> None:
            text = (expression or "").strip()
            if not text or text == "-":
                return
            # Input entries may begin with an operator ("!= 'enterprise'"): test them as a comparison;
            # a "?" outside quotes stands for the input's value ('"village" in ?'), as SpiffWorkflow reads it.
            if prefix and _INPUT_MARK.search(text):
                candidate = _INPUT_MARK.sub("dmn_input_value", text)
            elif prefix and re.match(r"^(==|!=|<=|>=|<|>|in\b|not\b)", text):
                candidate = f"dmn_input_value {text}"
            else:
                candidate = text
            try:
                check_expression(candidate)
            except ScriptError as exc:
                problems.append({"element": element, "message": f"元素 {element}: {what} `{text}` 不被允许: {exc.message}",
                                 "source": "check"})
            except SyntaxError as exc:
                problems.append({"element": element, "message": f"元素 {element}: {what} `{text}` 有语法错误: {exc.msg}",
                                 "source": "check"})

        for table in decision.decisionTables:
            for column in table.inputs:
                check(column.id, "输入表达式", column.expression)
            for rule in table.rules:
                for entry in rule.inputEntries:
                    for lhs in entry.lhs:
                        check(entry.id, "输入条件", lhs, prefix="input")
                for entry in rule.outputEntries:
                    check(entry.id, "输出表达式", entry.text)
        if problems:
            first = problems[0]
            raise DefinitionInvalid(first["message"], first["element"], problems)

    def _processes(self, parser, root, filename) -> ParseResult:
        result = ParseResult(kind="bpmn")
        process_ids = parser.get_process_ids()
        if not process_ids:
            raise DefinitionInvalid(
                f"{filename} 中没有可执行的流程：请把流程的 isExecutable 设为 true。"
            )
        problems: list[dict[str, str]] = []
        for process_id in process_ids:
            try:
                spec = parser.get_spec(process_id)
                subprocess_specs = parser.get_subprocess_specs(process_id)
            except ValidationException as exc:
                problems.append(_validation_message(exc))
                continue
            except (SpiffWorkflowException, KeyError, ValueError, TypeError, AttributeError) as exc:
                problems.append({"element": process_id, "message": f"流程 {process_id} 无法解析: {exc}",
                                 "source": "spiffworkflow"})
                continue
            if not spec.task_specs or len(spec.task_specs) <= 3:
                problems.append({"element": process_id, "message": f"流程 {process_id} 是空的（没有开始事件或任务）。",
                                 "source": "check"})
                continue
            specs = [spec, *subprocess_specs.values()]
            start_problems: list[dict[str, Any]] = []
            start_form = self._start_form(spec, start_problems)
            process_problems, user_tasks = self._check(specs, self._sample_data(start_form if not start_problems else None))
            problems.extend(process_problems)
            problems.extend(start_problems)
            result.processes.append(ParsedProcess(
                process_id=process_id, name=spec.description or process_id, spec=spec,
                subprocess_specs=subprocess_specs, requirement_ids=sorted(self._cited(specs)),
                user_tasks=user_tasks, start_form=start_form,
            ))
        result.problems = problems
        return result

    def _start_form(self, spec, problems: list[dict[str, Any]]) -> str | None:
        """The form named by the process's own start events (not a subprocess's): one at most."""
        named = {}
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, StartEvent):
                form = ((getattr(task_spec, "extensions", None) or {}).get("properties") or {}).get("form")
                if form:
                    named[task_spec.bpmn_id] = form
                    if self.form_exists is not None and not self.form_exists(form):
                        problems.append({"element": task_spec.bpmn_id, "source": "check",
                                         "message": f"元素 {_describe(task_spec)}: 发起表单 forms/{form}.json 不存在。"})
                    elif self.form_schema is not None and self.form_schema(form).get("x-signature") is not None:
                        problems.append({"element": task_spec.bpmn_id, "source": "check",
                                         "message": f"元素 {_describe(task_spec)}: 表单 {form} 要求服务对象签名（x-signature），"
                                                    "不能作发起表单：发起时还没有可上传签名的任务；请在办理步骤的表单里要求签名。"})
        if len(set(named.values())) > 1:
            first = sorted(named)[0]
            problems.append({"element": first, "source": "check",
                             "message": f"流程 {spec.name} 的开始事件指定了不同的发起表单（{'、'.join(sorted(set(named.values())))}）："
                                        "一个流程只能有一个发起表单。"})
        return named[min(named)] if named else None

    def _sample_data(self, start_form: str | None) -> dict[str, Any]:
        """The case data timer expressions are tried on: what every start has, and a value for each field of
        the process's start form (its first choice, else an empty value of its type), which a start's data
        always carries once the form is checked (a problem report's urgency picks its deadline, R-6.4.2)."""
        data = dict(SAMPLE_CASE_DATA)
        if start_form and self.form_schema is not None:
            empty = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}
            for name, prop in (self.form_schema(start_form).get("properties") or {}).items():
                if not isinstance(prop, dict):
                    continue
                choices = [c.get("const") for c in prop.get("oneOf") or [] if isinstance(c, dict) and "const" in c]
                choices += list(prop.get("enum") or [])
                data.setdefault(name, prop["default"] if "default" in prop else
                                choices[0] if choices else empty.get(prop.get("type"), ""))
        return data

    @staticmethod
    def _cited(specs) -> set[str]:
        found: set[str] = set()
        for process_spec in specs:
            for task_spec in process_spec.task_specs.values():
                found |= cited(getattr(task_spec, "documentation", None) or "")
        return found

    def _check(self, specs, sample: dict[str, Any] | None = None) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
        problems: list[dict[str, str]] = []
        user_tasks: list[dict[str, Any]] = []

        def problem(task_spec, message: str) -> None:
            problems.append({"element": task_spec.bpmn_id, "message": f"元素 {_describe(task_spec)}: {message}",
                             "source": "check"})

        def expression_ok(task_spec, what: str, expression: str | None) -> bool:
            if expression is None or not str(expression).strip():
                problem(task_spec, f"{what}为空。")
                return False
            try:
                check_expression(str(expression))
            except ScriptError as exc:
                problem(task_spec, f"{what} `{expression}` 不被允许: {exc.message}")
                return False
            except SyntaxError as exc:
                problem(task_spec, f"{what} `{expression}` 有语法错误: {exc.msg}")
                return False
            return True

        for process_spec in specs:
            for task_spec in process_spec.task_specs.values():
                if getattr(task_spec, "bpmn_id", None) is None:
                    continue
                documentation = getattr(task_spec, "documentation", None) or ""
                if self.requirements is not None:
                    for rid in self.requirements.unknown(documentation):
                        problem(task_spec, f"引用的需求编号 {rid} 在 REQUIREMENTS.md 中不存在。")
                if isinstance(task_spec, UserTask):
                    user_tasks.append(self._check_user_task(task_spec, problem, expression_ok))
                elif isinstance(task_spec, ServiceTask):
                    if task_spec.operation_name not in SERVICE_OPERATIONS:
                        problem(task_spec, f"未知的服务操作 {task_spec.operation_name!r}（可用: {'、'.join(SERVICE_OPERATIONS)}）。")
                    for name, param in task_spec.operation_params.items():
                        expression_ok(task_spec, f"参数 {name}", param.get("value"))
                for hook, label in (("prescript", "前置脚本"), ("postscript", "后置脚本")):
                    code = getattr(task_spec, hook, None)
                    if code:
                        try:
                            check_script(code)
                        except ScriptError as exc:
                            problem(task_spec, f"{label}不被允许: {exc.message}")
                        except SyntaxError as exc:
                            problem(task_spec, f"{label}第 {exc.lineno} 行有语法错误: {exc.msg}")
                if isinstance(task_spec, ScriptTask):
                    try:
                        check_script(task_spec.script or "")
                    except ScriptError as exc:
                        problem(task_spec, f"脚本不被允许: {exc.message}")
                    except SyntaxError as exc:
                        problem(task_spec, f"脚本第 {exc.lineno} 行有语法错误: {exc.msg}")
                if isinstance(task_spec, (ExclusiveChoice, MultiChoice)):
                    for condition, _target in getattr(task_spec, "cond_task_specs", []):
                        if condition is not None:
                            expression_ok(task_spec, "条件", getattr(condition, "args", [condition])[0])
                if isinstance(task_spec, CatchingEvent) and isinstance(task_spec.event_definition, TimerEventDefinition):
                    self._check_timer(task_spec, problem, expression_ok, sample or SAMPLE_CASE_DATA)
        return problems, user_tasks

    def _check_user_task(self, task_spec, problem, expression_ok) -> dict[str, Any]:
        props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
        role = role_of_lane(task_spec.lane)
        if task_spec.lane is None:
            problem(task_spec, "用户任务必须放在一个代表角色的泳道里。")
        elif role is None:
            problem(task_spec, f"泳道 “{task_spec.lane}” 不是已知的角色（咨询中心工作人员、帮办员、代办员、首席服务专员、政务服务中心办公室）。")
        form = props.get("form")
        if not form:
            problem(task_spec, "用户任务没有指定表单（属性 form）。")
        elif self.form_exists is not None and not self.form_exists(form):
            problem(task_spec, f"表单 forms/{form}.json 不存在。")
        for key, what in (("unit", "单位表达式"), ("dueDate", "期限表达式"), ("assignee", "办理人表达式")):
            if key in props:
                expression_ok(task_spec, what, props[key])
        return {"name": task_spec.bpmn_id, "title": task_spec.bpmn_name, "role": role, "form": form}

    def _check_timer(self, task_spec, problem, expression_ok, sample: dict[str, Any]) -> None:
        definition = task_spec.event_definition
        expression = definition.expression
        if not expression_ok(task_spec, "计时器表达式", expression):
            return
        ctx = self.ctx_factory()
        env = RestrictedEnvironment(ctx)
        try:
            value = env.evaluate(expression, dict(sample))
        except NameError as exc:
            hint = "；ISO 8601 时长要加引号，例如 \"PT30M\"" if re.fullmatch(r"\s*P[0-9TYMWDHS.]+\s*", expression or "") else ""
            problem(task_spec, f"计时器表达式 `{expression}` 无法求值: {exc}{hint}")
            return
        except Exception as exc:  # any failure of a diagram's expression is the diagram's problem
            problem(task_spec, f"计时器表达式 `{expression}` 无法求值: {exc}")
            return
        if not isinstance(value, str):
            problem(task_spec, f"计时器表达式 `{expression}` 的结果 {value!r} 不是 ISO 8601 字符串。")
            return
        try:
            if isinstance(definition, TimeDateEventDefinition):
                TimerEventDefinition.parse_time_or_duration(value)
                if value.upper().startswith("P"):
                    raise ValueError("这是时长，不是时间点；请改用 timeDuration 或 add_duration(now(), ...)")
            elif isinstance(definition, DurationTimerEventDefinition):
                TimerEventDefinition.parse_iso_duration(value)
            elif isinstance(definition, CycleTimerEventDefinition):
                cycles, _start, _duration = TimerEventDefinition.parse_iso_recurring_interval(value)
                if cycles < 0:
                    raise ValueError("循环计时器必须限定次数（R3/PT1H 这样的形式）")
        except Exception as exc:
            problem(task_spec, f"计时器表达式 `{expression}` 的结果 {value!r} 不是有效的 ISO 8601 时间: {exc}")




__all__ = ["DiagramParser", "ParseResult", "ParsedProcess"]
