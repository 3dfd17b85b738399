"""Start, complete and fire: one engine run, and a plain description of what it left behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from ..errors import ScriptError, TaskNotReady
from ..roles import role_of_lane
from .scripting import RestrictedScriptEngine, RunContext


# Rounds of engine steps a run takes for timers found due along the way (each round may find more);
# bounded so that a task SpiffWorkflow leaves READY cannot keep a request spinning.
TIMER_ROUNDS = 10


@dataclass
class ReadyTask:
    id: str
    name: str
    title: str
    role: str | None
    unit: str | None
    form: str | None
    due_at: datetime | None
    instructions: str | None
    documentation: str | None
    provisional: bool = False
    # The staff member the diagram names for it (the `assignee` property): the reporter reads the answer.
    assignee: str | None = None


@dataclass
class WaitingTimer:
    id: str
    name: str
    title: str
    due_at: datetime | None
    attached_to: str | None
    # A reminder (property breach="false": a wait on the applicant) fires without being a breach of a deadline.
    breach: bool = True


@dataclass
class CompletedStep:
    """A user task finished in this run, for the audit trail and the ledger."""

    id: str
    name: str
    title: str
    role: str | None
    data: dict[str, Any]


@dataclass
class Visit:
    """An element the case passed in this run; entered_at None means it was entered in this run too."""

    element: str
    entered_at: datetime | None


@dataclass
class RunResult:
    workflow: BpmnWorkflow
    ready: list[ReadyTask]
    timers: list[WaitingTimer]
    completed: bool
    data: dict[str, Any]
    service_calls: list[dict[str, Any]] = field(default_factory=list)
    provisional: bool = False
    fired: list[WaitingTimer] = field(default_factory=list)
    # What was ready / waiting before this run: exactly the inbox and timer rows already stored.
    previously_ready: set[str] = field(default_factory=set)
    previously_waiting: set[str] = field(default_factory=set)
    visits: list[Visit] = field(default_factory=list)


def _props(task_spec) -> dict[str, str]:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def _element_error(exc: Exception) -> ScriptError:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None)
    element = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    title = getattr(spec, "bpmn_name", None)
    cause = getattr(exc, "error_line", None)
    text = str(exc.args[0]) if exc.args else exc.__class__.__name__
    where = f"元素 {element}" + (f"（{title}）" if title else "") if element else "流程"
    detail = f"；出错的代码: {cause}" if cause else ""
    return ScriptError(f"{where} 的表达式或脚本执行失败: {text}{detail}", element=element)


class Runner:
    """Runs workflows with the restricted script engine; knows nothing of storage."""

    def __init__(self, timeout_seconds: float = 1.0, memory_mb: int = 64) -> None:
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb

    def _attach(self, workflow: BpmnWorkflow, ctx: RunContext) -> None:
        workflow.script_engine = RestrictedScriptEngine(ctx, self.timeout_seconds, self.memory_mb)

    def start(self, spec, subprocess_specs, data: dict[str, Any], ctx: RunContext) -> RunResult:
        workflow = BpmnWorkflow(spec, subprocess_specs)
        self._attach(workflow, ctx)
        workflow.task_tree.data.update(data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        return self._advance(workflow, ctx)

    def complete(self, workflow: BpmnWorkflow, task_id: str, data: dict[str, Any], ctx: RunContext,
                 completed_by: str | None = None) -> tuple[RunResult, CompletedStep]:
        """Complete a user task with the submitted ``data``; ``completed_by`` (the username) joins the case data
        as ``completed_by``, so a postScript may keep who did a step (the rectification's writer, R-10.2)."""
        self._attach(workflow, ctx)
        task = workflow.get_task_from_id(UUID(task_id))
        if task is None or not isinstance(task.task_spec, UserTask) or task.state != TaskState.READY:
            raise TaskNotReady("这个任务已经不是待办状态（可能已被他人办理），请刷新后再试。")
        before = self._before(workflow)
        # Timers found due while the task itself runs (SpiffWorkflow refreshes waiting events as it completes
        # a task) are fired in this run too: take their views now, or they would fire unreported (no breach).
        waiting = self._waiting_views(workflow)
        task.task_spec.add_data_from_form(task, data) if hasattr(task.task_spec, "add_data_from_form") else task.data.update(data)
        step = CompletedStep(str(task.id), task.task_spec.bpmn_id, task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                             role_of_lane(task.task_spec.lane), dict(data))
        task.data["completed_by"] = completed_by
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise _element_error(exc) from None
        return self._advance(workflow, ctx, before, waiting), step

    def fire(self, workflow: BpmnWorkflow, timer_ids: list[str], ctx: RunContext) -> RunResult:
        """Fire the given waiting timers (the caller decided they are due by the one clock)."""
        self._attach(workflow, ctx)
        before = self._before(workflow)
        for timer_id in timer_ids:
            task = workflow.get_task_from_id(UUID(timer_id))
            if task is None or task.state != TaskState.WAITING:
                continue  # completed or cancelled meanwhile: nothing to do
            task._set_internal_data(event_fired=True)
        return self._advance(workflow, ctx, before)

    def relay(self, workflow: BpmnWorkflow, from_unit: str, to_unit: str, role: str | None, ctx: RunContext) -> RunResult:
        """Hand the case to another unit (互动接力, R-6.4.3): ``handling_unit`` becomes ``to_unit`` in the data
        every open task carries forward, and the open steps of ``role`` held at ``from_unit`` move there."""
        self._attach(workflow, ctx)
        workflow.data["handling_unit"] = to_unit
        for task in self._all_tasks(workflow):
            if task.state not in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
                continue
            task.data["handling_unit"] = to_unit
            task.data["relay_from_unit"] = from_unit
            if (task.state == TaskState.READY and task.task_spec.manual and role_of_lane(task.task_spec.lane) == role
                    and task._get_internal_data("bdd_unit") == from_unit):
                task._set_internal_data(bdd_unit=to_unit)
        return self._describe(workflow, ctx)

    def view(self, workflow: BpmnWorkflow, ctx: RunContext) -> RunResult:
        """Describe a workflow without running it."""
        self._attach(workflow, ctx)
        return self._describe(workflow, ctx)

    def _before(self, workflow: BpmnWorkflow) -> tuple[set[str], set[str], set[UUID]]:
        ready, waiting, done = set(), set(), set()
        for task in self._all_tasks(workflow):
            if task.state == TaskState.COMPLETED:
                done.add(task.id)
            elif task.state == TaskState.READY and task.task_spec.manual:
                ready.add(str(task.id))
            elif self._is_waiting_timer(task):
                waiting.add(str(task.id))
        return ready, waiting, done

    def _visits(self, workflow: BpmnWorkflow, ctx: RunContext, done: set[UUID]) -> list[Visit]:
        """The elements completed in this run (the heatmap's passages), and the moment each open one
        was entered, kept with its task for when it completes in a later run."""
        visits = []
        for task in self._all_tasks(workflow):
            bpmn_id = task.task_spec.bpmn_id
            if bpmn_id is None:
                continue  # SpiffWorkflow's own bookkeeping tasks
            state = task.state
            if state == TaskState.COMPLETED:
                if task.id not in done:
                    entered = task._get_internal_data("bdd_entered")
                    visits.append(Visit(bpmn_id, datetime.fromisoformat(entered) if entered else None))
            elif state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED) and \
                    task._get_internal_data("bdd_entered") is None:
                task._set_internal_data(bdd_entered=ctx.now().isoformat())
        return visits

    def _waiting_views(self, workflow: BpmnWorkflow) -> dict:
        return {task.id: self._timer_view(task) for task in self._waiting_timers(workflow)}

    def _advance(self, workflow: BpmnWorkflow, ctx: RunContext, before: tuple[set[str], set[str], set[UUID]] | None = None,
                 waiting: dict | None = None) -> RunResult:
        waiting = {**(waiting or {}), **self._waiting_views(workflow)}
        try:
            # do_engine_steps ends by refreshing the timers; one found due is READY now and needs
            # another round. Asked of the flat task maps: the tree walk of a round costs far more.
            workflow.do_engine_steps()
            for _ in range(TIMER_ROUNDS):
                if not self._engine_step_ready(workflow):
                    break
                workflow.do_engine_steps()
        except SpiffWorkflowException as exc:
            raise _element_error(exc) from None
        result = self._describe(workflow, ctx)
        # Whatever fired in this run, asked for or found due on the way, is reported once.
        result.fired = [view for task_id, view in waiting.items()
                        if (task := workflow.get_task_from_id(task_id)) is not None and task.state == TaskState.COMPLETED]
        if before is not None:
            result.previously_ready, result.previously_waiting, done = before
        else:
            done = set()
        result.visits = self._visits(workflow, ctx, done)
        return result

    @staticmethod
    def _all_tasks(workflow: BpmnWorkflow):
        # The flat task maps, not a tree walk: cheaper, and subprocesses included.
        yield from workflow.tasks.values()
        for subprocess in workflow.subprocesses.values():
            yield from subprocess.tasks.values()

    @classmethod
    def _engine_step_ready(cls, workflow: BpmnWorkflow) -> bool:
        """Whether an engine task (not a user task) is READY: what ``do_engine_steps`` would run."""
        return any(task.state == TaskState.READY and not task.task_spec.manual for task in cls._all_tasks(workflow))

    @staticmethod
    def _is_waiting_timer(task) -> bool:
        return (task.state == TaskState.WAITING and isinstance(task.task_spec, CatchingEvent)
                and isinstance(task.task_spec.event_definition, TimerEventDefinition))

    @classmethod
    def _waiting_timers(cls, workflow: BpmnWorkflow):
        return [task for task in cls._all_tasks(workflow) if cls._is_waiting_timer(task)]

    def _describe(self, workflow: BpmnWorkflow, ctx: RunContext) -> RunResult:
        ready = [self._ready_view(task) for task in self._all_tasks(workflow)
                 if task.state == TaskState.READY and task.task_spec.manual]
        timers = [self._timer_view(task) for task in self._waiting_timers(workflow)]
        # The data of the step run last, in the process or in an embedded subprocess (the service diagrams'
        # handling with its deadline, R-4.a): the top level's last task stays the one before the subprocess.
        candidates = [t for t in (workflow.last_task, *(s.last_task for s in workflow.subprocesses.values())) if t is not None]
        last = max(candidates, key=lambda t: t.last_state_change) if candidates else None
        data = dict(workflow.data)
        if last is not None:
            data.update(last.data)
        return RunResult(
            workflow=workflow, ready=ready, timers=timers, completed=workflow.is_completed(),
            data=data, service_calls=list(ctx.service_calls), provisional=ctx.provisional,
        )

    def _ready_view(self, task) -> ReadyTask:
        spec = task.task_spec
        props = _props(spec)
        engine = task.workflow.script_engine
        # Unit and due time are decided once, when the task becomes ready, and kept with it.
        if task._get_internal_data("bdd_evaluated") is None:
            ctx = engine.ctx
            provisional_before, ctx.provisional = ctx.provisional, False
            try:
                unit = engine.evaluate(task, props.get("unit", "handling_unit")) if (
                    "unit" in props or "handling_unit" in task.data) else None
                due = engine.evaluate(task, props["dueDate"]) if props.get("dueDate") else None
                assignee = engine.evaluate(task, props["assignee"]) if props.get("assignee") else None
            except SpiffWorkflowException as exc:
                raise _element_error(exc) from None
            task._set_internal_data(bdd_evaluated=True, bdd_unit=unit, bdd_due=due, bdd_provisional=ctx.provisional,
                                    bdd_assignee=str(assignee) if assignee else None)
            ctx.provisional = ctx.provisional or provisional_before
        due_raw = task._get_internal_data("bdd_due")
        extensions = getattr(spec, "extensions", None) or {}
        return ReadyTask(
            id=str(task.id), name=spec.bpmn_id, title=spec.bpmn_name or spec.bpmn_id,
            role=role_of_lane(spec.lane), unit=task._get_internal_data("bdd_unit"), form=props.get("form"),
            due_at=datetime.fromisoformat(due_raw) if due_raw else None,
            instructions=extensions.get("instructionsForEndUser"), documentation=spec.documentation,
            provisional=bool(task._get_internal_data("bdd_provisional")),
            assignee=task._get_internal_data("bdd_assignee"),
        )

    @staticmethod
    def _timer_view(task) -> WaitingTimer:
        spec = task.task_spec
        value = task._get_internal_data("event_value")
        due = None
        if isinstance(value, str):
            try:
                due = TimerEventDefinition.get_datetime(value)
            except ValueError:
                due = None
        attached = None
        parent = task.parent
        if parent is not None and parent.task_spec.__class__.__name__ == "BoundaryEventSplit":
            for sibling in parent.children:  # the guarded activity, not another boundary event beside this one
                if sibling is not task and getattr(sibling.task_spec, "bpmn_id", None) and \
                        not isinstance(sibling.task_spec, BoundaryEvent):
                    attached = sibling.task_spec.bpmn_id
        return WaitingTimer(id=str(task.id), name=spec.bpmn_id, title=spec.bpmn_name or spec.bpmn_id,
                            due_at=due, attached_to=attached, breach=_props(spec).get("breach") != "false")
