"""The heatmap's rows (R-4 supervision): every element a case passes, with the time spent there."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import select

from bdd_workflow.db.models import ElementVisit

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)  # a Tuesday, 09:00 in Cheng'an


def visits(system, case_id):
    with system.db.unit_of_work(write=False) as session:
        return session.scalars(select(ElementVisit).where(ElementVisit.case_id == case_id)
                               .order_by(ElementVisit.id)).all()


def test_r_9_1_3_each_element_passed_is_recorded_with_the_time_spent_there(desk, form, system):
    """R-9.1.3: a user task's visit lasts from the moment it became ready until it was done;
    events and gateways passed in one run take no time."""
    with time_machine.travel(T0, tick=False):
        case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    started = [v.element for v in visits(system, case["id"])]
    assert started == ["assist_applied", "route_matter", "accept_case", "handle_started"]
    assert "guide_materials" not in started  # ready, not yet passed

    with time_machine.travel(T0 + timedelta(minutes=42), tick=False):
        desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    rows = {v.element: v for v in visits(system, case["id"])}
    guide = rows["guide_materials"]
    assert guide.entered_at == T0 and guide.left_at == T0 + timedelta(minutes=42)
    assert guide.seconds == 42 * 60
    assert rows["materials_gateway"].seconds == 0
    assert "accompany_submission" not in rows
    assert {v.version for v in rows.values()} == {case["version"]}


def test_r_9_1_3_3_a_loop_counts_each_passage(desk, form, system):
    """R-9.1.3.3: materials missing, supplied, guided again: the guidance step is passed twice."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=False))
    desk.do(case["id"], "list_missing_materials", form("list_missing_materials", convert_to_proxy=False))
    desk.do(case["id"], "materials_await", form("materials_await"))
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    elements = [v.element for v in visits(system, case["id"])]
    assert elements.count("guide_materials") == 2
    assert elements.count("materials_gateway") == 2
    assert elements.count("list_missing_materials") == 1
