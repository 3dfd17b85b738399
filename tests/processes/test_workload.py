"""Work that piles up or is stranded in the units a chief officer directs: the to-reassign list (待改派,
R-9.1.1.2, R-6.4.1, R-6.1), peak alerts (R-7.1.1 高峰应急) and moving several tasks at once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from bdd_workflow.db.models import AuditEvent
from bdd_workflow.errors import Forbidden, FormInvalid
from bdd_workflow.services import registry, tasks, workload

T0 = datetime(2025, 11, 3, 2, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Cheng'an


def unit_data(code: str, name: str, **peaks: str) -> dict[str, str]:
    return {"code": code, "name": name, "phone": "", "address": "", "kind": "", **peaks}


def staff_data(username: str, name: str, role: str, unit: str, reason: str = "调动") -> dict[str, str]:
    return {"username": username, "name": name, "role": role, "unit": unit, "phone": "", "duties": "",
            "reason": reason, "password": "", "password2": ""}


def notices(desk, username: str) -> dict:
    with desk.system.db.unit_of_work(write=False) as session:
        return workload.inbox_notices(desk.system, session, desk.actor(username))


def work_order_to(desk, form, unit: str = "CA-MZ") -> dict:
    """A hotline question the consultant cannot answer, dispatched to ``unit``: its assistant must call
    back within 30 minutes (contact_applicant)."""
    case = desk.start("consultation", by="zhaolina", channel="phone", question="低保怎么申请？")
    desk.do(case["id"], "record_consultation", form("record_consultation", answerable=False))
    desk.do(case["id"], "dispatch_work_order", form("dispatch_work_order", dispatch_unit=unit))
    return case


# --- 待改派: leavers' and movers' tasks reach someone (R-9.1.1.2, R-6.4.1) -----------------------------------

def test_r_9_1_1_2_a_leavers_task_is_on_the_to_reassign_list_and_reassigned_across_units(desk, system):
    """东关社区's only assistant claims a task and leaves: her township chief officer finds it on his list
    (counted in his inbox), hands it to 成安镇's assistant, and the task moves to 成安镇."""
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    task = desk.task(case["id"], "guide_materials")
    tasks.claim_task(system, desk.actor("luxuemei"), task.id)
    chief = desk.actor("wangjianjun")
    assert workload.to_reassign(system, chief)["items"] == []
    registry.set_staff_active(system, desk.actor("chenguodong"), "luxuemei", False, "调离")

    listed = workload.to_reassign(system, chief)
    assert [(t["id"], t["assignee"], t["assignee_state"]) for t in listed["items"]] == [(task.id, "luxuemei", "已停用")]
    assert listed["items"][0]["reason"] == "原办理人已停用"
    candidates = [c["username"] for c in listed["items"][0]["candidates"]]
    assert candidates == ["lina"]  # the only assistant left in the units 成安镇 directs
    assert notices(desk, "wangjianjun")["to_reassign"] == 1
    assert notices(desk, "zhangwei")["to_reassign"] == 1  # the county directs 成安镇 too
    assert workload.to_reassign(system, desk.actor("liuhongtao"))["items"] == []  # another township's chief
    assert notices(desk, "liuhongtao")["to_reassign"] == 0

    moved = tasks.reassign_task(system, chief, task.id, "lina")
    assert (moved["assignee"], moved["unit"]) == ("lina", "CA-T01")
    assert workload.to_reassign(system, chief)["items"] == []
    assert notices(desk, "wangjianjun")["to_reassign"] == 0
    desk.do(case["id"], "guide_materials", {"guidance": "您好，请按告知单准备材料。", "materials_complete": True}, by="lina")


def test_r_6_4_1_an_unclaimed_task_in_a_unit_left_without_its_role_is_on_the_list(desk, system):
    """Nobody claimed it, but the village's only assistant moved to the township: nobody of the role can
    take it where it is, so it is listed, with the reason, until it is moved."""
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    task = desk.task(case["id"], "guide_materials")
    registry.update_staff(system, desk.actor("chenguodong"), "luxuemei",
                          staff_data("luxuemei", "路雪梅", "assistant", "CA-T01"))
    items = workload.to_reassign(system, desk.actor("wangjianjun"))["items"]
    assert [(t["id"], t["assignee"]) for t in items] == [(task.id, None)]
    assert items[0]["reason"] == "东关社区综合服务站没有可办理的在岗帮办员"
    assert {c["username"] for c in items[0]["candidates"]} == {"lina", "luxuemei"}
    tasks.reassign_task(system, desk.actor("wangjianjun"), task.id, "luxuemei")  # she takes it along
    assert workload.to_reassign(system, desk.actor("wangjianjun"))["items"] == []


def test_r_6_1_a_role_change_strands_the_claimed_task_until_reassigned(desk, system):
    """An assistant who becomes a proxy agent keeps no assistant task: it is listed as 已调岗."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    task = desk.task(case["id"], "guide_materials")
    tasks.claim_task(system, desk.actor("gaohongxia"), task.id)
    registry.update_staff(system, desk.actor("chenguodong"), "gaohongxia",
                          staff_data("gaohongxia", "高红霞", "proxy_agent", "CA-MZ", reason="岗位调整"))
    items = workload.to_reassign(system, desk.actor("zhangwei"))["items"]
    assert [(t["id"], t["assignee_state"]) for t in items] == [(task.id, "已调岗")]
    assert "gaohongxia" not in [c["username"] for c in items[0]["candidates"]]


# --- 高峰预警 (R-7.1.1) -----------------------------------------------------------------------------------------

def test_r_7_1_1_an_overdue_pile_up_alerts_the_chief_officer_and_clears_by_itself(desk, form, system):
    """民政局 is alerted at 2 overdue tasks (its own threshold): two work orders not called back within
    30 minutes raise the alert for the county chief officer; one call back clears it."""
    registry.update_unit(system, desk.actor("chenguodong"), "CA-MZ", unit_data("CA-MZ", "成安县民政局", peak_overdue="2"))
    with time_machine.travel(T0, tick=False):
        first, second = work_order_to(desk, form), work_order_to(desk, form)
        assert notices(desk, "zhangwei")["alerts"] == []
    with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
        alerts = notices(desk, "zhangwei")["alerts"]
        assert [(a["unit"], a["open"], a["overdue"], a["active_staff"], a["threshold_overdue"]) for a in alerts] \
            == [("CA-MZ", 2, 2, 2, 2)]
        assert alerts[0]["overdue_alert"] and not alerts[0]["overloaded"]
        assert alerts[0]["reasons"] == ["超时待办 2 项，达到预警值 2 项"]
        assert [a["unit"] for a in workload.peak_alerts(system, desk.actor("wangxiuying"))["items"]] == ["CA-MZ"]
        assert notices(desk, "wangjianjun")["alerts"] == []  # 民政局 is not 成安镇's
        desk.do(first["id"], "contact_applicant", form("contact_applicant"))
        assert notices(desk, "zhangwei")["alerts"] == []
    assert desk.task(second["id"], "contact_applicant").unit_code == "CA-MZ"


def test_r_7_1_1_too_many_open_tasks_per_staff_member_alert_until_moved(desk, system):
    """At the default of 10 open tasks per active staff member: 东关社区 (two active staff) is alerted at
    20 open tasks; the chief officer moves some to 成安镇 and the alert clears."""
    system.settings.peak_load = 10
    started = [desk.start("assist", by="luxuemei", matter_code="GR-007") for _ in range(20)]
    alerts = notices(desk, "wangjianjun")["alerts"]
    assert [(a["unit"], a["open"], a["active_staff"], a["load"], a["threshold_load"]) for a in alerts] \
        == [("CA-T01-V01", 20, 2, 10.0, 10)]
    assert alerts[0]["reasons"] == ["人均待办 10.0 项，达到预警值 10 项"]
    ids = [desk.task(c["id"], "guide_materials").id for c in started[:3]]
    result = tasks.reassign_tasks(system, desk.actor("wangjianjun"), ids, "lina")
    assert result["count"] == 3 and {t["unit"] for t in result["tasks"]} == {"CA-T01"}
    assert notices(desk, "wangjianjun")["alerts"] == []


def test_r_7_1_1_a_unit_s_own_threshold_overrides_the_default(desk, system):
    desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.start("assist", by="gaohongxia", matter_code="GR-002")
    assert workload.peak_alerts(system, desk.actor("zhangwei"))["items"] == []
    registry.update_unit(system, desk.actor("chenguodong"), "CA-MZ", unit_data("CA-MZ", "成安县民政局", peak_load="1"))
    alerts = workload.peak_alerts(system, desk.actor("zhangwei"))["items"]
    assert [(a["unit"], a["load"], a["threshold_load"]) for a in alerts] == [("CA-MZ", 1.0, 1)]
    with pytest.raises(FormInvalid) as caught:
        registry.update_unit(system, desk.actor("chenguodong"), "CA-MZ", unit_data("CA-MZ", "成安县民政局", peak_load="0"))
    assert "peak_load" in caught.value.errors
    registry.update_unit(system, desk.actor("chenguodong"), "CA-MZ", unit_data("CA-MZ", "成安县民政局", peak_load=""))
    assert workload.peak_alerts(system, desk.actor("zhangwei"))["items"] == []  # back to the default of 10
    with pytest.raises(Forbidden):
        workload.peak_alerts(system, desk.actor("gaohongxia"))


# --- moving several tasks at once: all or nothing (R-7.1.1) ---------------------------------------------------

def _actions(system, action: str) -> int:
    with system.db.unit_of_work(write=False) as session:
        return len(session.scalars(select(AuditEvent.id).where(AuditEvent.action == action)).all())


def test_r_7_1_1_bulk_move_is_all_or_nothing(desk, system):
    """Two assistant tasks and a proxy agent's task to one assistant: refused, naming the proxy task, and
    nothing moved; the two assistant tasks alone move together, each audited."""
    a1 = desk.task(desk.start("assist", by="gaohongxia", matter_code="GR-002")["id"], "guide_materials")
    a2 = desk.task(desk.start("assist", by="gaohongxia", matter_code="GR-002")["id"], "guide_materials")
    proxy = desk.ready(desk.start("proxy", by="xuzhiqiang", matter_code="GR-003")["id"])[0]
    chief = desk.actor("zhangwei")
    with pytest.raises(FormInvalid) as caught:
        tasks.reassign_tasks(system, chief, [a1.id, a2.id, proxy.id], "songli")
    assert caught.value.errors["task_ids"] == [f"“{proxy.title}”须由代办员办理，宋丽是帮办员。"]
    assert caught.value.message == "未改派任何任务：1 项不能改派给宋丽。"
    assert [(t.unit_code, t.assignee) for t in (desk.task(a1.case_id, a1.name), desk.task(a2.case_id, a2.name))] \
        == [("CA-MZ", None), ("CA-MZ", None)]
    assert _actions(system, "task_reassigned") == 0

    with pytest.raises(FormInvalid) as caught:  # 成安镇's chief officer does not direct 民政局
        tasks.reassign_tasks(system, desk.actor("wangjianjun"), [a1.id], "lina")
    assert "不属于您督办的单位" in caught.value.errors["task_ids"][0]
    with pytest.raises(Forbidden):
        tasks.reassign_tasks(system, desk.actor("gaohongxia"), [a1.id], "songli")
    with pytest.raises(FormInvalid) as caught:
        tasks.reassign_tasks(system, chief, [], "songli")
    assert "task_ids" in caught.value.errors

    moved = tasks.reassign_tasks(system, chief, [a1.id, a2.id], "songli")
    assert moved["count"] == 2 and moved["assignee_name"]
    for task in (a1, a2):
        row = desk.task(task.case_id, task.name)
        assert (row.unit_code, row.assignee) == ("CA-RS", "songli")
    assert _actions(system, "task_reassigned") == 2
    # songli now works them; a task already done cannot be moved again with the rest
    desk.do(a1.case_id, "guide_materials", {"guidance": "您好，请按告知单准备材料。", "materials_complete": True},
            by="songli")
    with pytest.raises(FormInvalid) as caught:
        tasks.reassign_tasks(system, chief, [a1.id, a2.id], "gaohongxia")
    assert "已经不是待办状态" in caught.value.errors["task_ids"][0]
    assert desk.task(a2.case_id, a2.name).assignee == "songli"


def test_r_7_1_1_bulk_move_to_someone_outside_the_directed_units_is_refused(desk, system):
    a1 = desk.task(desk.start("assist", by="luxuemei", matter_code="GR-007")["id"], "guide_materials")
    with pytest.raises(FormInvalid) as caught:
        tasks.reassign_tasks(system, desk.actor("wangjianjun"), [a1.id], "zhaomin")  # 商城镇
    assert "不在您督办的单位" in caught.value.errors["assignee"][0]
    with pytest.raises(FormInvalid):
        tasks.reassign_tasks(system, desk.actor("wangjianjun"), [a1.id], "nobody")
    assert desk.task(a1.case_id, a1.name).unit_code == "CA-T01-V01"

