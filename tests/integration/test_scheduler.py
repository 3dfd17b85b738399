"""Deadlines that fire on time (R-9.1.1.2, R-9.3.2.2, R-10.2, R-4.c): the scheduler, restarts, and
several schedulers at once. The pending-timer table is the truth; the scheduler only wakes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import func, select, update

from bdd_workflow.config import PROJECT_ROOT
from bdd_workflow.db.models import AuditEvent, Breach, HumanTask, PendingTimer
from bdd_workflow.scheduler import TimerScheduler
from bdd_workflow.services.timers import fire_due_timers

WORK_ORDER = {"dispatch_unit": "CA-MZ", "work_order_summary": "咨询低保政策细节"}


def dispatched_work_order(desk) -> dict:
    """A consultation whose work order waits for the assistant's 30-minute contact (R-9.1.1.2)."""
    case = desk.start("consultation", by="zhaolina", matter_code="GR-002")
    desk.do(case["id"], "record_consultation", {"question": "低保怎么办？", "answerable": False})
    desk.do(case["id"], "dispatch_work_order", WORK_ORDER)
    return case


def count(system, model, *where) -> int:
    with system.db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


# The 30-minute contact timer; the further escalations guarding the same task stay a working day out.
FIRST = PendingTimer.name == "contact_overdue"


def overdue_everything(system, minutes: int = 5) -> None:
    """Move every pending contact timer into the past, as if the scheduler had been down meanwhile."""
    with system.db.unit_of_work() as session:
        session.execute(update(PendingTimer).where(FIRST)
                        .values(due_at=datetime.now(timezone.utc) - timedelta(minutes=minutes)))


def test_r_9_1_1_2_the_real_scheduler_fires_a_short_contact_deadline_within_a_second(desk, system):
    """A 2-second contact limit, the real APScheduler running, no time travel: it fires on time."""
    system.settings.contact_sla = "PT2S"
    case = dispatched_work_order(desk)
    due = desk.case(case["id"])["timers"][0]["due_at"]
    scheduler = TimerScheduler(system, poll_seconds=0.5)
    scheduler.start()
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and "escalate_contact_breach" not in desk.ready_names(case["id"]):
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert desk.ready_names(case["id"]) == ["contact_applicant", "escalate_contact_breach"]
    fired = [h for h in desk.case(case["id"])["history"] if h["action"] == "timer_fired"]
    assert len(fired) == 1
    lag = (fired[0]["at"] - due).total_seconds()
    assert 0 <= lag < 1.0, f"fired {lag:.3f} s after its due time"


def test_a_scheduler_that_was_down_fires_every_missed_timer_once_in_due_order(desk, system):
    """Nothing lost: timers that fell due while no scheduler ran all fire on its first tick, oldest
    first; a timer whose case was completed meanwhile does nothing."""
    cases = [dispatched_work_order(desk) for _ in range(4)]
    # The third case's assistant made contact in time and the work order was resolved: no escalation.
    desk.do(cases[2]["id"], "contact_applicant", {"contacted": True, "contact_method": "phone", "contact_note": "已联系"})
    desk.do(cases[2]["id"], "resolve_work_order", {"reply_to_applicant": "您好，已答复。", "work_order_result": "已解答"})
    with system.db.unit_of_work() as session:
        for offset, case in zip((9, 3, 1, 6), cases):  # due 9, 3, 1, 6 minutes ago
            session.execute(update(PendingTimer).where(PendingTimer.case_id == case["id"], FIRST)
                            .values(due_at=datetime.now(timezone.utc) - timedelta(minutes=offset)))
    scheduler = TimerScheduler(system, poll_seconds=0.5)
    scheduler.tick()  # what the first run of the poll job does on start
    assert scheduler.fired == 3
    with system.db.unit_of_work(write=False) as session:
        order = session.scalars(select(AuditEvent.case_id).where(AuditEvent.action == "timer_fired")
                                .order_by(AuditEvent.id)).all()
    assert order == [cases[0]["id"], cases[3]["id"], cases[1]["id"]]
    assert "escalate_contact_breach" not in desk.ready_names(cases[2]["id"])
    scheduler.tick()
    assert scheduler.fired == 3  # nothing fires twice
    assert count(system, Breach) == 3


def test_two_schedulers_at_once_never_fire_a_timer_twice(desk, system):
    """Two processes' worth of schedulers on the same due timers: each fires once in effect."""
    cases = [dispatched_work_order(desk) for _ in range(12)]
    overdue_everything(system)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(fire_due_timers(system))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(results) == 12
    assert count(system, Breach) == 12
    assert count(system, PendingTimer, FIRST) == 0
    escalations = count(system, HumanTask, HumanTask.name == "escalate_contact_breach")
    assert escalations == 12
    for case in cases:
        assert desk.case(case["id"])["breaches"] == 1


def test_a_scheduler_killed_with_sigkill_loses_nothing_when_it_comes_back(desk, system, tmp_path):
    """`bdd scheduler` killed with SIGKILL mid-way; started again, it fires the rest, each once."""
    cases = [dispatched_work_order(desk) for _ in range(60)]
    overdue_everything(system)
    env = dict(os.environ, BDD_DATABASE_URL=system.settings.database_url, BDD_INSTANCE_DIR=str(tmp_path),
               BDD_SECRET_KEY="test-secret", BDD_PROCESSES_DIR=str(PROJECT_ROOT / "processes"),
               BDD_FORMS_DIR=str(PROJECT_ROOT / "forms"))
    command = [sys.executable, "-m", "bdd_workflow.cli", "scheduler", "--poll", "0.2"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and count(system, Breach) < 5:
            time.sleep(0.02)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    fired_before_restart = count(system, Breach)
    assert fired_before_restart >= 5
    second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and count(system, PendingTimer, FIRST) > 0:
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    assert count(system, PendingTimer, FIRST) == 0
    assert count(system, Breach) == 60
    with system.db.unit_of_work(write=False) as session:
        per_case = session.execute(select(Breach.case_id, func.count()).group_by(Breach.case_id)).all()
    assert sorted(n for _, n in per_case) == [1] * 60
    assert {case_id for case_id, _ in per_case} == {c["id"] for c in cases}


def test_r_9_3_2_2_a_deadline_past_the_known_calendar_is_provisional(desk, system):
    """Promised deadlines reaching into a year the holiday package does not know yet count weekends
    only and are marked provisional on the case and in the inbox; the case still starts."""
    last = system.calendar.last_known_year()
    with time_machine.travel(datetime(last, 12, 24, 2, 0, tzinfo=timezone.utc), tick=False):
        case = desk.start("onsite", by="gaohongxia", matter_code="GR-007", address="成安镇北关村 3 号")
        desk.do(case["id"], "visit_applicant", {"visit_date": f"{last}-12-24", "visit_note": "上门核验",
                                                "materials_complete": False, "fixable_on_site": False})
        desk.do(case["id"], "accept_with_deficiencies", {
            "accepted_with_deficiencies": True, "review_note": "主要材料齐全",
            "materials_to_supply": ["高龄津贴申请表"], "deficiency_notice": "您好，请在承诺期限内补交申请表。"})
    task = desk.task(case["id"], "complete_within_deadline")
    assert task.provisional is True
    assert task.due_at.astimezone(system.calendar.tz).year == last + 1
    assert desk.case(case["id"])["provisional"] is True
    # An earlier task whose deadline stays inside the known year is not provisional.
    assert not [t for t in desk.case(case["id"])["completed_tasks"] if t["provisional"]]


def test_supervisors_see_the_calendar_status_staff_do_not(system):
    """Administrators and supervisors are warned about provisional deadlines; assistants get 403."""
    from bdd_workflow.app import create_app
    from bdd_workflow.services.identity import authenticate, issue_token

    client = create_app(system=system).test_client()

    def get(username):
        token = issue_token(system, authenticate(system, username, "demo1234"))
        return client.get("/api/v1/calendar", headers={"Authorization": f"Bearer {token}"})

    body = get("wangxiuying").get_json()
    assert body["last_known_year"] == system.calendar.last_known_year()
    assert set(body) >= {"next_year_known", "provisional_cases", "provisional_tasks"}
    assert get("gaohongxia").status_code == 403
