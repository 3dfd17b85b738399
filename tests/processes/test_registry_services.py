"""The catalog and staff registry through its services: matters with their one-time notices (R-5.3,
R-5.4), the three-level organisation (R-3.3), staff with every change recorded (R-6.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from bdd_workflow.db.models import AuditEvent, Matter, OrgUnit, Staff, StaffChange
from bdd_workflow.errors import AuthenticationRequired, Forbidden, FormInvalid
from bdd_workflow.services import identity, org, registry, tasks
from bdd_workflow.services.metrics import notice_complete

PASSWORD = "demo1234"


def matter_form(**overrides) -> MultiDict:
    """A complete new matter, as the page posts it."""
    data = {
        "code": "GR-901", "name": "临时救助申请", "kind": "personal", "department": "", "responsible_unit": "CA-MZ",
        "promised_days": "5", "legal_days": "10", "fee": "不收费", "window": "社会救助窗口",
        "materials.0.name": "临时救助申请书", "materials.0.copies": "原件1份", "materials.0.how_to_obtain": "窗口领取",
        "materials.0.required": "1", "materials.0.fixable_on_site": "1",
        "materials.1.name": "", "materials.1.copies": "", "materials.1.how_to_obtain": "", "materials.1.required": "1",
        "conditions": "因意外事件导致基本生活暂时出现严重困难\n", "steps": "申请\n受理\n审核\n发放",
        "cautions": "如实申报家庭情况", "basis": "《社会救助暂行办法》", "time_limit": "",
    }
    data.update(overrides)
    form = MultiDict(data)
    form.setlist("service_types", ["assist", "proxy"])
    if "levels" not in overrides:
        form.setlist("levels", ["township", "county"])
    return form


def save(system, actor, form, code=None):
    return registry.save_matter(system, actor, registry.matter_input(form), code)


def matter(system, code):
    with system.db.unit_of_work(write=False) as session:
        return session.scalars(select(Matter).where(Matter.code == code)).first()


def test_r_5_3_a_new_matter_is_in_the_catalog_with_its_notice(system, desk):
    """R-5.3, R-5.4: the matter is saved with its department, level, kind, service types and promised
    deadline; blank material rows are dropped; the time limit is written from the days; it is audited."""
    admin = desk.actor("chenguodong")
    saved = save(system, admin, matter_form())
    assert saved == {"code": "GR-901", "name": "临时救助申请", "changed": sorted(registry.MATTER_FIELDS),
                     "notice_complete": True, "created": True}
    stored = matter(system, "GR-901")
    assert stored.department == "成安县民政局"  # blank: the responsible unit's name
    assert stored.service_types == ["assist", "proxy"] and (stored.promised_days, stored.legal_days) == (5, 10)
    assert stored.levels == ["county", "township"]  # in the order of the three levels
    assert [m["name"] for m in stored.notice["materials"]] == ["临时救助申请书"]
    assert stored.notice["materials"][0]["fixable_on_site"] is True
    assert stored.notice["time_limit"] == "承诺5个工作日（法定10个工作日）"
    assert stored.notice["steps"] == ["申请", "受理", "审核", "发放"] and notice_complete(stored.notice)
    assert "GR-901" in {m["code"] for m in org.list_matters(system)}
    with system.db.unit_of_work(write=False) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "matter_created")).one()
    assert event.actor == "chenguodong" and event.case_id is None and event.detail["matter"] == "GR-901"


@pytest.mark.parametrize("overrides, field, words", [
    ({"code": "gr 9"}, "code", "大写字母"),
    ({"code": "GR-002"}, "code", "已被使用"),
    ({"code": ""}, "code", "请填写"),
    ({"promised_days": "12"}, "promised_days", "不能长于法定时限"),
    ({"promised_days": "0"}, "promised_days", "1 到 365"),
    ({"promised_days": "三"}, "promised_days", "整数"),
    ({"responsible_unit": "CA-XX"}, "responsible_unit", "不存在"),
    ({"kind": "other"}, "kind", "类别"),
    ({"name": "最低生活保障申请"}, "name", "GR-002"),
    ({"materials.0.name": ""}, "materials.0.name", "材料名称"),
])
def test_r_5_3_bad_matter_input_is_refused_field_by_field_and_nothing_is_saved(system, desk, overrides, field, words):
    """R-5.3: each mistake is named on its own field; the catalog is unchanged."""
    admin = desk.actor("chenguodong")
    with system.db.unit_of_work(write=False) as session:
        before = session.scalars(select(Matter.code)).all()
    with pytest.raises(FormInvalid) as caught:
        save(system, admin, matter_form(**overrides))
    assert any(words in m for m in caught.value.errors[field]), caught.value.errors
    with system.db.unit_of_work(write=False) as session:
        assert session.scalars(select(Matter.code)).all() == before


def test_r_5_3_service_types_must_be_a_subset(system, desk):
    admin = desk.actor("chenguodong")
    form = matter_form()
    form.setlist("service_types", ["assist", "teleport"])
    with pytest.raises(FormInvalid) as caught:
        save(system, admin, form)
    assert "service_types" in caught.value.errors
    form.setlist("service_types", [])
    with pytest.raises(FormInvalid) as caught:
        save(system, admin, form)
    assert "至少选择一种" in caught.value.errors["service_types"][0]


def test_r_3_3_a_matter_names_the_levels_that_handle_it(system, desk):
    """R-3.3, R-5.3: at least one level, only county, township or village; nothing saved otherwise."""
    admin = desk.actor("chenguodong")
    form = matter_form()
    form.setlist("levels", [])
    with pytest.raises(FormInvalid) as caught:
        save(system, admin, form)
    assert "至少选择一个办理层级" in caught.value.errors["levels"][0]
    form.setlist("levels", ["county", "province"])
    with pytest.raises(FormInvalid) as caught:
        save(system, admin, form)
    assert "只能是县级、乡（镇）级、村（社区）级" in caught.value.errors["levels"][0]
    assert matter(system, "GR-901") is None
    form.setlist("levels", ["village", "county", "village"])
    save(system, admin, form)
    assert matter(system, "GR-901").levels == ["county", "village"]


def test_r_5_4_an_incomplete_notice_needs_an_explicit_confirmation(system, desk):
    """R-5.4: no cautions and a material without how to obtain it: refused with each gap named, then
    saved when the keeper confirms; the quality figure R-4.b then counts it as incomplete."""
    admin = desk.actor("wangxiuying")  # the centre's office keeps the catalog too (5.3, 6.1)
    form = matter_form(**{"cautions": "", "materials.0.how_to_obtain": ""})
    with pytest.raises(FormInvalid) as caught:
        save(system, admin, form)
    errors = caught.value.errors
    assert "注意事项" in errors["cautions"][0] and "获取途径" in errors["materials.0.how_to_obtain"][0]
    assert "确认" in errors["confirm_incomplete"][0]
    assert matter(system, "GR-901") is None
    form["confirm_incomplete"] = "1"
    assert save(system, admin, form)["notice_complete"] is False
    assert not notice_complete(matter(system, "GR-901").notice)


def test_r_5_3_running_cases_keep_the_matter_they_started_with(system, desk):
    """R-5.3: editing a matter's unit and promised days changes new cases only."""
    before = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    assert desk.case(before["id"])["unit"] == "CA-MZ"
    values = registry.matter_data(matter(system, "GR-002"))
    values.update(responsible_unit="CA-RS", promised_days="15", department="")
    registry.save_matter(system, desk.actor("chenguodong"), values, "GR-002")
    desk.do(before["id"], "guide_materials", {"guidance": "您好，请按告知单准备材料。", "materials_complete": True})
    assert {t.unit_code for t in desk.ready(before["id"])} == {"CA-MZ"}
    after = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    assert desk.case(after["id"])["unit"] == "CA-RS"


def test_r_5_4_the_notice_s_time_limit_follows_the_promised_days(system, desk):
    """R-5.4: GR-002's generated "承诺20个工作日（法定30个工作日）" follows a change to 15 days; a
    hand-written text that does not name the promised days needs a confirmation."""
    admin = desk.actor("chenguodong")
    values = registry.matter_data(matter(system, "GR-002"))
    assert values["notice"]["time_limit"] == "承诺20个工作日（法定30个工作日）"
    registry.save_matter(system, admin, {**values, "promised_days": "15"}, "GR-002")
    assert matter(system, "GR-002").notice["time_limit"] == "承诺15个工作日（法定30个工作日）"
    values = registry.matter_data(matter(system, "GR-002"))
    values["notice"]["time_limit"] = "即来即办"
    with pytest.raises(FormInvalid) as caught:
        registry.save_matter(system, admin, values, "GR-002")
    assert "15 个工作日" in caught.value.errors["time_limit"][0]


def test_r_10_1_a_retired_matter_s_running_cases_go_on_to_their_callback_and_rectification(system, desk, form):
    """R-5.3, R-10.1, R-10.2: retiring a matter stops new cases, not the running ones: the page is told
    how many go on, and a running case still ends with its callback, and a bad rating with its
    rectification, on the retired matter."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    done = registry.set_matter_active(system, desk.actor("chenguodong"), "GR-002", False)
    assert done["active"] is False and done["continuing"] == 1
    assert matter(system, "GR-002").active is False
    with pytest.raises(FormInvalid):
        desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"))
    desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    callback = desk.linked(case["id"], "callback")
    assert callback["matter_code"] == "GR-002" and callback["status"] == "running"
    desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="dissatisfied"))
    rectification = desk.linked(case["id"], "rectification")
    assert rectification["matter_code"] == "GR-002" and rectification["tasks"]


def test_retiring_a_matter_nobody_uses_reports_no_continuing_cases(system, desk):
    assert registry.set_matter_active(system, desk.actor("chenguodong"), "GR-002", False)["continuing"] == 0


def test_r_5_3_a_retired_matter_leaves_the_catalog_and_cannot_start_cases(system, desk):
    admin = desk.actor("chenguodong")
    registry.set_matter_active(system, admin, "GR-002", False)
    assert "GR-002" not in {m["code"] for m in org.list_matters(system)}
    with pytest.raises(FormInvalid):
        desk.start("assist", by="gaohongxia", matter_code="GR-002")
    registry.set_matter_active(system, admin, "GR-002", True)
    assert "GR-002" in {m["code"] for m in org.list_matters(system)}


def unit_form(**overrides):
    return {"code": "CA-T01-V09", "name": "西关村综合服务站", "kind": "village_station", "phone": "0310-1234567",
            "address": "成安镇西关村村委会", **overrides}


def test_r_3_3_a_unit_takes_its_level_from_its_parent(system, desk):
    """R-3.3: township centre -> village station; a department or a village has no units below it."""
    admin = desk.actor("chenguodong")
    registry.create_unit(system, admin, "CA-T01", unit_form())
    tree = org.unit_tree(system)
    township = next(u for u in tree[0]["children"] if u["code"] == "CA-T01")
    village = next(u for u in township["children"] if u["code"] == "CA-T01-V09")
    assert village["level"] == "village" and village["kind"] == "village_station"
    with pytest.raises(FormInvalid) as caught:
        registry.create_unit(system, admin, "CA-T01", unit_form(kind="department"))
    assert "code" in caught.value.errors and "kind" in caught.value.errors  # taken code, wrong kind
    with pytest.raises(FormInvalid) as caught:
        registry.create_unit(system, admin, "CA-T01-V01", unit_form(code="CA-T01-V01-X"))
    assert "不设下级单位" in caught.value.errors["parent"][0]
    with pytest.raises(FormInvalid) as caught:
        registry.create_unit(system, admin, "CA-T01", unit_form(code="CA-T02-V09"))
    assert "CA-T01-" in caught.value.errors["code"][0]
    with pytest.raises(Forbidden):
        registry.create_unit(system, desk.actor("wangxiuying"), "CA-T01", unit_form(code="CA-T01-V08"))


def test_r_3_3_a_unit_in_use_cannot_be_retired_and_the_numbers_are_named(system, desk):
    """R-3.3: CA-MZ has staff, matters and (after this) an open case and task: each count is named."""
    desk.start("assist", by="gaohongxia", matter_code="GR-002")
    with pytest.raises(FormInvalid) as caught:
        registry.set_unit_active(system, desk.actor("chenguodong"), "CA-MZ", False)
    message = caught.value.message
    assert "在岗工作人员" in message and "待办任务" in message and "未办结的办件" in message and "在用事项" in message
    with pytest.raises(FormInvalid) as caught:
        registry.set_unit_active(system, desk.actor("chenguodong"), "CA-SPJ", False)
    assert "承办单位规则" in caught.value.message
    with system.db.unit_of_work(write=False) as session:
        assert session.scalars(select(OrgUnit.active).where(OrgUnit.code == "CA-MZ")).one() is True


def test_r_3_3_a_retired_unit_leaves_the_pickers_but_not_old_records(system, desk):
    """R-3.3: a retired unit is no dispatch target (forms' x-ref) and not in the API tree; reactivated, it is back."""
    admin = desk.actor("chenguodong")
    registry.create_unit(system, admin, "CA-T01", unit_form())
    registry.set_unit_active(system, admin, "CA-T01-V09", False)
    with system.db.unit_of_work(write=False) as session:
        assert org.ref_exists(session, "unit", "CA-T01-V09") is False
        assert org.ref_exists(session, "unit", "CA-T01-V01") is True
    codes = lambda nodes: {n["code"] for n in nodes} | {c for n in nodes for c in codes(n["children"])}  # noqa: E731
    assert "CA-T01-V09" not in codes(org.unit_tree(system))
    assert "CA-T01-V09" in codes(org.unit_tree(system, include_retired=True))
    order = desk.start("consultation", by="zhaolina", channel="phone", matter_code="GR-002")
    desk.do(order["id"], "record_consultation", {"question": "临时救助怎么申请？", "answerable": False})
    with pytest.raises(FormInvalid) as caught:
        desk.do(order["id"], "dispatch_work_order", {"dispatch_unit": "CA-T01-V09", "work_order_summary": "咨询"})
    assert "CA-T01-V09" in caught.value.errors["dispatch_unit"][0]
    registry.set_unit_active(system, admin, "CA-T01-V09", True)
    with pytest.raises(FormInvalid) as caught:  # back, but nobody works there yet (R-9.1.1.2)
        desk.do(order["id"], "dispatch_work_order", {"dispatch_unit": "CA-T01-V09", "work_order_summary": "咨询"})
    assert "没有在岗的帮办员" in caught.value.errors["dispatch_unit"][0]
    registry.register_staff(system, admin, new_staff(unit="CA-T01-V09"))
    desk.do(order["id"], "dispatch_work_order", {"dispatch_unit": "CA-T01-V09", "work_order_summary": "咨询"})
    assert desk.case(order["id"])["unit"] == "CA-T01-V09"


def new_staff(**overrides):
    return {"username": "liming", "name": "李明", "role": "assistant", "unit": "CA-MZ", "phone": "13900000001",
            "duties": "帮办", "reason": "", "password": "secret-123", "password2": "secret-123", **overrides}


def history(system, username):
    with system.db.unit_of_work(write=False) as session:
        staff_id = session.scalars(select(Staff.id).where(Staff.username == username)).one()
        return [c.change for c in session.scalars(select(StaffChange).where(StaffChange.staff_id == staff_id)
                                                   .order_by(StaffChange.id))]


def test_r_6_1_staff_are_registered_and_every_change_is_recorded(system, desk):
    """R-6.1: registration with a typed password, a transfer with its reason, deactivation: each a
    StaffChange with before/after and who, shown on the person's page; the person can log in, then not."""
    office = desk.actor("wangxiuying")
    registry.register_staff(system, office, new_staff())
    assert identity.authenticate(system, "liming", "secret-123").unit_code == "CA-MZ"
    with pytest.raises(FormInvalid) as caught:
        registry.update_staff(system, office, "liming", new_staff(unit="CA-RS"))
    assert "原因" in caught.value.errors["reason"][0]  # a stable team: a transfer needs a reason
    registry.update_staff(system, office, "liming", new_staff(unit="CA-RS", role="proxy_agent", reason="工作需要调整"))
    registry.set_staff_active(system, office, "liming", False, "调离")
    with pytest.raises(AuthenticationRequired):
        identity.authenticate(system, "liming", "secret-123")
    changes = history(system, "liming")
    assert [c["action"] for c in changes] == ["registered", "updated", "deactivated"]
    assert changes[1]["before"] == {"role": "assistant", "unit": "CA-MZ"}
    assert changes[1]["after"] == {"role": "proxy_agent", "unit": "CA-RS"} and changes[1]["reason"] == "工作需要调整"
    page = registry.staff_page(system, office, "liming")
    assert [h["actor_name"] for h in page["history"]] == ["王秀英"] * 3
    assert "角色：帮办员 → 代办员" in page["history"][1]["lines"]
    assert "单位：成安县民政局 → 成安县人力资源和社会保障局" in page["history"][1]["lines"]
    registry.set_staff_active(system, office, "liming", True, "返岗")
    assert identity.authenticate(system, "liming", "secret-123").role == "proxy_agent"


@pytest.mark.parametrize("overrides, field", [
    ({"username": "zhangwei"}, "username"), ({"username": "李明"}, "username"),
    ({"password": "short", "password2": "short"}, "password"), ({"password2": "other-123"}, "password2"),
    ({"unit": ""}, "unit"), ({"role": "boss"}, "role"), ({"name": ""}, "name"),
])
def test_r_6_1_bad_registrations_are_refused(system, desk, overrides, field):
    with pytest.raises(FormInvalid) as caught:
        registry.register_staff(system, desk.actor("chenguodong"), new_staff(**overrides))
    assert field in caught.value.errors
    with system.db.unit_of_work(write=False) as session:
        assert session.scalars(select(Staff).where(Staff.username == "liming")).first() is None


def test_r_6_1_no_one_locks_themself_out_and_only_administrators_touch_administrators(system, desk):
    admin, office = desk.actor("chenguodong"), desk.actor("wangxiuying")
    with pytest.raises(FormInvalid):
        registry.set_staff_active(system, admin, "chenguodong", False, "测试")
    with pytest.raises(FormInvalid) as caught:
        registry.update_staff(system, admin, "chenguodong", new_staff(username="chenguodong", name="陈国栋",
                                                                      role="supervisor", unit="", reason="x"))
    assert "自己的角色" in caught.value.errors["role"][0]
    with pytest.raises(Forbidden):
        registry.register_staff(system, office, new_staff(role="administrator", unit=""))
    with pytest.raises(Forbidden):
        registry.reset_password(system, office, "chenguodong", "new-pass-1", "new-pass-1")
    with pytest.raises(Forbidden):
        registry.list_staff(system, desk.actor("zhangwei"))  # a chief officer does not keep the registry


def test_r_6_1_a_deactivated_person_s_tasks_are_listed_for_the_chief_officer(system, desk):
    """R-6.1, R-6.4.1: gaohongxia claims a task and leaves; the chief officer sees it and hands it on."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    row = desk.ready(case["id"])[0]
    assert registry.orphaned_tasks(system, desk.actor("zhangwei"))["items"] == []
    registry.register_staff(system, desk.actor("wangxiuying"), new_staff())  # a second assistant at CA-MZ
    tasks.claim_task(system, desk.actor("gaohongxia"), row.id)
    left = registry.set_staff_active(system, desk.actor("chenguodong"), "gaohongxia", False, "调离")
    assert [t["id"] for t in left["held_tasks"]] == [row.id]
    chief = desk.actor("zhangwei")
    orphans = registry.orphaned_tasks(system, chief)["items"]
    assert [(t["id"], t["assignee"]) for t in orphans] == [(row.id, "gaohongxia")]
    candidates = [c["username"] for c in orphans[0]["candidates"]]
    # the county chief officer directs every unit: its own unit's assistant first, then every other one
    assert candidates[0] == "liming" and "lina" in candidates and "yangfan" not in candidates
    tasks.reassign_task(system, chief, row.id, candidates[0])
    assert registry.orphaned_tasks(system, chief)["items"] == []


def test_r_6_1_a_transferred_person_s_claimed_task_is_listed_too(system, desk):
    """R-6.1: moved to another unit, gaohongxia can no longer work her CA-MZ task: it is listed to reassign."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    row = desk.ready(case["id"])[0]
    tasks.claim_task(system, desk.actor("gaohongxia"), row.id)
    chief = desk.actor("zhangwei")
    assert registry.orphaned_tasks(system, chief)["items"] == []
    moved = registry.update_staff(system, desk.actor("chenguodong"), "gaohongxia", new_staff(
        username="gaohongxia", name="高红霞", unit="CA-RS", reason="调动"))
    assert [t["id"] for t in moved["held_tasks"]] == [row.id]
    items = registry.orphaned_tasks(system, chief)["items"]
    assert [(t["id"], t["assignee_state"]) for t in items] == [(row.id, "已调岗")]
    township_chief = desk.actor("liuhongtao")  # CA-T02: not his units
    assert registry.orphaned_tasks(system, township_chief)["items"] == []


def test_r_6_1_password_reset_and_unlock(system, desk):
    admin = desk.actor("chenguodong")
    for _ in range(identity.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationRequired):
            identity.authenticate(system, "gaohongxia", "wrong-password")
    with pytest.raises(AuthenticationRequired):
        identity.authenticate(system, "gaohongxia", PASSWORD)  # locked
    assert registry.unlock_staff(system, admin, "gaohongxia")["was_locked"] is True
    identity.authenticate(system, "gaohongxia", PASSWORD)
    with pytest.raises(FormInvalid) as caught:
        registry.reset_password(system, admin, "gaohongxia", "new-pass-1", "new-pass-2")
    assert "password2" in caught.value.errors
    registry.reset_password(system, admin, "gaohongxia", "new-pass-1", "new-pass-1")
    identity.authenticate(system, "gaohongxia", "new-pass-1")
    actions = [c["action"] for c in history(system, "gaohongxia")]
    assert actions[-2:] == ["unlocked", "password_reset"]
    assert all("password" not in str(c.get("after", "")) for c in history(system, "gaohongxia"))


def test_r_6_1_the_stability_figure_counts_role_and_unit_changes_and_departures(system, desk):
    """R-6.1: a transfer counts for both units, a role change and a departure for the unit; a phone
    change does not count; changes older than 12 months drop out."""
    office = desk.actor("wangxiuying")
    registry.register_staff(system, office, new_staff())
    registry.update_staff(system, office, "liming", new_staff(phone="13900000002"))
    registry.update_staff(system, office, "liming", new_staff(phone="13900000002", unit="CA-RS", reason="调动"))
    registry.update_staff(system, office, "xuzhiqiang", {**new_staff(), "username": "xuzhiqiang", "name": "徐志强",
                                                          "role": "assistant", "unit": "CA-MZ", "reason": "转岗"})
    registry.set_staff_active(system, office, "liming", False, "辞职")
    with system.db.unit_of_work(write=False) as session:
        now = system.clock.now()
        figures = registry.stability(session, now)
        assert figures["CA-MZ"]["changes"] == 2 and figures["CA-RS"]["changes"] == 2
        assert figures.get("CA-SPJ", {"changes": 0})["changes"] == 0
        assert registry.stability(session, now + timedelta(days=400)).get("CA-MZ", {}).get("changes") == 0
