"""问题上报: staff report a problem met on a task to the chief officer who directs their unit (R-6.4.2, R-6.4.3:
帮办员、代办员遇到问题及时向首席服务专员汇报; R-6.4.1: the chief officer directs the cases of their units).

The procedure itself is the diagram processes/problem_report.bpmn: who answers, by when (by urgency), the
escalation when the answer is late, the answer going back to the reporter and into the source case's
history. This module only starts it from the task being worked, after checking the reporter may work it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..db.models import HumanTask
from ..errors import Conflict, Forbidden, FormInvalid, NotFound, TaskNotReady
from ..roles import ROLE_TITLES
from ..system import System
from . import access
from .cases import APPLICANT_FIELDS, TASK_STARTED_PROCESSES, _start, _start_form_errors, load_case
from .definitions import latest_definition
from .identity import Actor

PROCESS = "problem_report"
RELATION = "problem_report"


def may_report_on(actor: Actor, process_id: str | None) -> bool:
    """Does the task page offer the report? Service staff report (directing roles direct), on the tasks of
    every procedure but a report itself (its reader reports again on the source case's task)."""
    return actor.role not in access.DIRECTING_ROLES and process_id not in TASK_STARTED_PROCESSES


def report_problem(system: System, actor: Actor, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Start a problem report about the ready task ``task_id``, linked to its case; all or nothing."""
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        row = session.get(HumanTask, task_id) if task_id and len(task_id) <= 64 else None
        if row is None:
            raise NotFound(f"任务 {task_id} 不存在。")
        if actor.role in access.DIRECTING_ROLES:
            raise Forbidden(f"{ROLE_TITLES.get(actor.role, actor.role)}直接督办本单位的办件，问题上报由帮办员、代办员和"
                            "咨询中心工作人员向首席服务专员提出（R-6.4.2）。")
        if not access.may_work(system, session, actor, row.role, row.unit_code):
            raise Forbidden("您不能办理这个任务，也不能就它上报问题：请在您自己办理的任务上报告问题（R-6.2）。")
        if row.assignee and row.assignee != actor.username:
            raise Forbidden(f"这个任务已由 {row.assignee} 认领，只有认领人可以就它上报问题。")
        if row.process_id in TASK_STARTED_PROCESSES:
            raise Conflict("问题上报的任务上不能再上报问题：请在原办件正在办理的任务上报告。")
        if row.status != "ready":
            raise TaskNotReady("这个任务已经办理完毕（或已取消），不能再就它上报问题；如仍有问题，请在办件的当前任务上报告。")
        source = load_case(session, row.case_id)
        if source is None or source.status in ("completed", "cancelled"):
            raise TaskNotReady("这个办件已经结束，不能再就它上报问题。")
        definition = latest_definition(session, PROCESS)
        declared = set(system.forms.get(definition.start_form).schema.get("properties", {})) \
            if definition.start_form and system.forms.exists(definition.start_form) else set()
        errors: dict[str, list[str]] = {key: ["问题上报不收这个字段。"] for key in data if key not in declared}
        for key, messages in _start_form_errors(system, session, definition,
                                                {k: v for k, v in data.items() if k in declared}).items():
            errors.setdefault(key, []).extend(messages)
        if errors:
            raise FormInvalid(errors)
        chief_unit = access.directing_unit(system, session, actor.unit_code)
        if chief_unit is None:
            raise Conflict("您的单位及其上级单位都没有在岗的首席服务专员，问题无人接收：请联系政务服务中心办公室。")
        context = {
            **{key: getattr(source, key, None) for key in APPLICANT_FIELDS if hasattr(source, key)},
            "matter_code": source.matter_code,
            "source_case_id": source.number, "source_process": source.process_id, "source_unit": source.unit_code,
            "source_task": row.id, "source_task_title": row.title,
            "reported_by": actor.username, "reported_by_name": actor.name, "reporter_role": actor.role,
            "reporter_unit": actor.unit_code, "chief_unit": chief_unit,
            "needs": "",  # optional on the form; the diagram's note reads it either way
            "started_unit": actor.unit_code, "handling_unit": actor.unit_code,
        }
        case = _start(system, session, actor, definition, data, now, source=source, relation=RELATION, context=context)
        answer = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "ready")
                                 .order_by(HumanTask.created_at)).first()
        org = system.org(session)
        outcome = {
            "id": case.id, "number": case.number, "process": case.process_id, "relation": RELATION,
            "source_case": {"id": source.id, "number": source.number}, "source_task": row.id,
            "chief_unit": chief_unit, "chief_unit_name": org.name(chief_unit),
            "due_at": answer.due_at if answer is not None else None,
        }
    system.workflows.put(case.id, case.lock_version, case.definition_id, case.workflow)
    return outcome
