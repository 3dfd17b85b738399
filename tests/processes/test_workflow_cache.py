"""The in-memory workflow cache never stands in for the database: a case changed by another worker
process (or by an administrator) is read again, and a failed step leaves nothing half-changed behind."""

from __future__ import annotations

import pytest

from bdd_workflow.errors import FormInvalid
from bdd_workflow.services import case_admin
from bdd_workflow.system import System




def test_r_9_1_3_a_second_worker_process_sees_the_steps_the_first_did(desk, form, system):
    """R-9.1.3: two worker processes on one database take turns on one assist case; each step
    continues from the state the other committed, not from its own cached copy."""
    other = type(desk)(System(system.settings))  # the Desk helper of tests/conftest.py, on a second System
    try:
        case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
        desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
        assert system.workflows.hits == 1  # the first step after the start: kept in memory by start_case
        other.do(case["id"], "accompany_submission", form("accompany_submission"))
        # This process cached the workflow after guide_materials; the row has moved on since.
        desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予许可"))
        assert system.workflows.hits == 1 and system.workflows.misses == 1
        result = desk.do(case["id"], "hand_over_results", form("hand_over_results"))
        assert system.workflows.hits == 2  # its own previous step: taken from memory
        assert result["case"]["status"] == "completed"
        assert desk.linked(case["id"], "callback")["process"] == "callback"
    finally:
        other.system.db.dispose()


def test_r_9_1_3_a_refused_step_leaves_no_half_changed_workflow_in_memory(desk, form, system):
    """R-9.1.3: a step refused by its form changes nothing, in the database or in memory."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=False))
    with pytest.raises(FormInvalid):
        desk.do(case["id"], "list_missing_materials", {"convert_to_proxy": False})
    desk.do(case["id"], "list_missing_materials", form("list_missing_materials", convert_to_proxy=False))
    assert desk.ready_names(case["id"]) == ["materials_await"]


def test_r_6_4_1_a_suspended_and_resumed_case_continues_from_the_database(desk, form, system):
    """R-6.4.1: suspending and resuming (the chief officer's actions) write the case; the next step
    reads it again instead of trusting the copy kept in memory."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    chief = desk.actor("zhangwei")
    case_admin.suspend_case(system, chief, case["id"], "核实材料")
    case_admin.resume_case(system, chief, case["id"], "核实完毕")
    misses = system.workflows.misses
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    assert system.workflows.misses == misses + 1
    assert desk.ready_names(case["id"]) == ["track_approval"]


def test_r_10_1_a_finished_case_leaves_memory_for_cases_with_a_next_step(desk, form, system):
    """R-10.1: the step that completes an assist case starts its callback; the finished workflow has
    no next step, so it is not kept in memory, where it would push out a case that has one."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予许可"))
    assert case["id"] in system.workflows
    result = desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    assert result["case"]["status"] == "completed"
    assert case["id"] not in system.workflows
    assert desk.linked(case["id"], "callback")["status"] == "running"
