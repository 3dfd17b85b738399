"""R-4.e 台账完整 for online applications (R-9.1.2): the opening entry of a case the applicant started on the
public page names the unit the routing decision handed it to, 网上申请 as the channel and the applicant, in
Chinese, as who registered it; so every entry of an online case is complete.

Counted by hand, December 2025 (Cheng'an time), nothing else in the month:
  O1  帮办 GR-002 (民政局) applied online Mon 1 Dec 09:00, its four steps done by 民政局 the same day
      -> 5 entries (受理登记 by the applicant, 4 steps by gaohongxia), all at CA-MZ, all complete
  O2  上门办 GR-007 (高龄津贴, 民政局) applied online Tue 2 Dec 10:00, not yet worked
      -> 1 entry (受理登记), at CA-MZ, complete
So R-4.e is 6 of 6, and 民政局's ledger rate 6 of 6 (before the fix, the two 受理登记 had no unit: 4 of 6,
and two entries with no unit at all).
"""

from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
import time_machine
from lxml import html
from openpyxl import load_workbook
from sqlalchemy import select

from bdd_workflow.app import create_app
from bdd_workflow.db.models import LedgerEntry, Staff
from bdd_workflow.errors import FormInvalid
from bdd_workflow.services import metrics, public, registry, supervision
from bdd_workflow.services.identity import actor_by_id, actor_of, issue_token
from bdd_workflow.views.web_common import new_session_values

APPLICANT = {"applicant_name": "李桂兰", "applicant_phone": "13812345678", "applicant_type": "personal"}
ONLINE = "网上申请（服务对象本人）"


def at(day: int, hour: int) -> datetime:
    return datetime(2025, 12, day, hour - 8, tzinfo=timezone.utc)


@pytest.fixture
def december(desk, form, system):
    with time_machine.travel(at(1, 9), tick=False):
        o1 = public.apply_online(system, "assist", {**APPLICANT, "matter_code": "GR-002"})
    with system.db.unit_of_work(write=False) as session:
        o1_id = session.scalar(select(LedgerEntry.case_id).where(LedgerEntry.case_number == o1["number"]))
    with time_machine.travel(at(1, 15), tick=False):
        desk.do(o1_id, "guide_materials", form("guide_materials", materials_complete=True))
        desk.do(o1_id, "accompany_submission", form("accompany_submission"))
        desk.do(o1_id, "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"))
        desk.do(o1_id, "hand_over_results", form("hand_over_results"))
    with time_machine.travel(at(2, 10), tick=False):
        o2 = public.apply_online(system, "onsite", {**APPLICANT, "matter_code": "GR-007", "address": "成安镇北关村 3 号"})
    return {"O1": o1["number"], "O2": o2["number"]}


def entries(system, number: str) -> list[LedgerEntry]:
    with system.db.unit_of_work(write=False) as session:
        return list(session.scalars(select(LedgerEntry).where(LedgerEntry.case_number == number).order_by(LedgerEntry.id)))


def test_r_4_e_an_online_application_opens_a_complete_ledger_entry_at_its_handling_unit(system, december):
    """R-4.e, R-9.1.2: unit after routing, 网上申请 as the channel, the applicant as who registered it."""
    for number in december.values():
        opened = entries(system, number)[0]
        assert (opened.step, opened.unit_code, opened.actor, opened.data["channel"]) == ("opened", "CA-MZ", "applicant", "online")
        assert opened.applicant_name == "李桂兰" and opened.matter_code
        assert all(supervision.missing_fields(e) == [] for e in entries(system, number))
    assert [(e.step, e.unit_code) for e in entries(system, december["O1"])] == [
        ("opened", "CA-MZ"), ("guide_materials", "CA-MZ"), ("accompany_submission", "CA-MZ"),
        ("track_approval", "CA-MZ"), ("hand_over_results", "CA-MZ")]


def test_r_4_e_counts_online_applications_complete_as_counted_by_hand(desk, december):
    """R-4.e: 6 of 6 in December, all at 民政局 (the module docstring)."""
    start, end = metrics.local_period(desk.system, date(2025, 12, 1), date(2025, 12, 31))
    with time_machine.travel(at(20, 12), tick=False):
        report = metrics.quality(desk.system, desk.actor("wangxiuying"), start, end, None, trend="week")
    found = {f["key"]: f for f in report["figures"]}
    assert (found["R-4.e"]["numerator"], found["R-4.e"]["denominator"]) == (6, 6)
    by_unit = {u["unit"]: u for u in report["by_unit"] if u["entries"]}
    assert list(by_unit) == ["CA-MZ"] and by_unit["CA-MZ"]["entries"] == 6 and by_unit["CA-MZ"]["ledger_rate"] == 1.0


def _client(system, username: str):
    app = create_app(system=system)
    app.config.update(TESTING=False)
    client = app.test_client()
    with system.db.unit_of_work(write=False) as session:
        staff_id = session.scalar(select(Staff.id).where(Staff.username == username))
    with client.session_transaction() as session_data:
        session_data.update(new_session_values(system, actor_by_id(system, staff_id)))
    return client


def test_r_4_e_the_ledger_page_and_export_show_the_unit_channel_and_applicant(system, december):
    """What a supervisor reads: 民政局, 网上申请, the applicant in Chinese, nothing missing; the Excel alike."""
    client = _client(system, "wangxiuying")
    doc = html.fromstring(client.get("/ledger", query_string={"case_number": december["O2"]}).get_data(as_text=True))
    [row] = doc.xpath('//table[contains(@class, "ledger")]/tbody/tr')
    cells = [" ".join(td.text_content().split()) for td in row.xpath("./td")]
    assert cells[3] == "成安县民政局" and ONLINE in cells[6] and "网上申请" in cells[7] and "applicant" not in " ".join(cells)

    checked = html.fromstring(client.get("/supervise/ledger", query_string={"start": "2025-12-01", "end": "2025-12-31"})
                              .get_data(as_text=True)).text_content()
    assert ONLINE in checked and "applicant" not in checked

    sheet = load_workbook(io.BytesIO(client.get("/supervise/ledger.xlsx", query_string={
        "start": "2025-12-01", "end": "2025-12-31"}).data)).active
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2) if r[1].value in december.values()]
    header = [c.value for c in sheet[1]]
    unit, person, missing = header.index("单位"), header.index("办理人"), header.index("缺少字段")
    assert len(rows) == 6 and all(r[unit] == "成安县民政局" and not r[missing] for r in rows)
    assert sorted(r[person] for r in rows if r[person] != "高红霞") == [ONLINE, ONLINE]


def test_r_4_e_the_ledger_api_names_the_unit_and_the_applicant(system, december):
    with system.db.unit_of_work(write=False) as session:
        token = issue_token(system, actor_of(session.scalars(select(Staff).where(Staff.username == "wangxiuying")).one()))
    client = create_app(system=system).test_client()
    body = client.get("/api/v1/ledger", query_string={"case_number": december["O1"]},
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    opened = [e for e in body["items"] if e["step"] == "opened"]
    assert [(e["unit"], e["actor"], e["actor_name"], e["actor_role"], e["data"]["channel"]) for e in opened] == [
        ("CA-MZ", "applicant", ONLINE, None, "online")]
    assert {e["actor_name"] for e in body["items"]} == {ONLINE, "高红霞"}


@pytest.mark.parametrize("username", ["applicant", "System"])
def test_r_4_e_the_ledger_names_of_the_applicant_and_the_system_cannot_be_staff_accounts(desk, username):
    """Otherwise an account registered as 'applicant' would be shown as the person of every online application."""
    with pytest.raises(FormInvalid) as refused:
        registry.register_staff(desk.system, desk.actor("wangxiuying"), {
            "username": username, "name": "冒名", "role": "assistant", "unit": "CA-MZ", "phone": "", "duties": "",
            "password": "initial-pass-1", "password2": "initial-pass-1"})
    assert "由系统保留" in refused.value.errors["username"][0]
