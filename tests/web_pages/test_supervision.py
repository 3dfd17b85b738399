"""督办 pages: the case search with its filters and Excel export, and the ledger completeness check
(R-4.e), for the supervising roles only and within their units (R-6.2, R-6.4.1)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
import time_machine
from lxml import html as lxml_html
from openpyxl import load_workbook

from bdd_workflow.db.models import LedgerEntry
from bdd_workflow.services import supervision
from bdd_workflow.services.timers import fire_due_timers

T0 = datetime(2025, 10, 13, 1, 0, tzinfo=timezone.utc)  # Monday 2025-10-13, 09:00 in Cheng'an


def numbers(client, url: str = "/supervise/cases", **params) -> set[str]:
    response = client.get(url, query_string=params)
    assert response.status_code == 200, response.status_code
    doc = lxml_html.fromstring(response.get_data(as_text=True))
    return {tr.get("data-case") for tr in doc.xpath('//table[contains(@class, "supervise-cases")]/tbody/tr[@data-case]')}


@pytest.fixture
def county(desk, system):
    """Four cases on three days: 民政局 (started there), 行政审批局 (enterprise), one started in the
    township CA-T02, and a work order dispatched to the village CA-T02-V01 whose 30-minute deadline passed."""
    with time_machine.travel(T0, tick=False) as traveller:
        mz = desk.start("assist", by="gaohongxia", matter_code="GR-002", applicant_phone="13812345678")
        traveller.shift(timedelta(days=1))
        spj = desk.start("assist", by="lijianhua", matter_code="QY-001", applicant_type="enterprise",
                         applicant_name="成安县恒达商贸有限公司", applicant_phone="13900001111")
        traveller.shift(timedelta(days=1))
        town = desk.start("assist", by="zhaomin", matter_code="GR-007", applicant_name="李强",
                          applicant_phone="13700005678")
        order = desk.start("consultation", by="zhaolina", channel="phone", matter_code="GR-002",
                           applicant_name="赵刚", applicant_phone="13600009999")
        desk.do(order["id"], "record_consultation", {"question": "低保怎么申请？", "answerable": False})
        desk.do(order["id"], "dispatch_work_order", {"dispatch_unit": "CA-T02-V01", "work_order_summary": "咨询低保政策"})
        traveller.shift(timedelta(minutes=35))
        fire_due_timers(system)
    cases = {"mz": mz, "spj": spj, "town": town, "order": order}
    return {key: desk.case(c["id"]) for key, c in cases.items()}


def test_filters_return_exactly_the_matching_cases(client, login, county):
    n = {key: c["number"] for key, c in county.items()}
    assert county["order"]["unit"] == "CA-T02-V01" and county["order"]["breaches"] == 1
    login("wangxiuying")
    assert numbers(client) == set(n.values())
    assert numbers(client, process="consultation") == {n["order"]}
    assert numbers(client, process="assist", matter="GR-002") == {n["mz"]}
    # CA-T02 with its villages: the case its assistant registered and the work order of its village.
    assert numbers(client, unit="CA-T02") == {n["town"], n["order"]}
    assert numbers(client, unit="CA-T02-V01") == {n["order"]}
    assert numbers(client, phone="5678") == {n["mz"], n["town"]}
    assert numbers(client, phone="13812345678") == {n["mz"]}
    assert numbers(client, phone="123") == set(n.values())  # too short to mean anything: ignored
    assert numbers(client, late="breached") == {n["order"]}
    assert numbers(client, applicant_type="enterprise") == {n["spj"]}
    assert numbers(client, name="恒达") == {n["spj"]}
    assert numbers(client, start="2025-10-14", end="2025-10-14") == {n["spj"]}
    assert numbers(client, start="2025-10-14") == {n["spj"], n["town"], n["order"]}
    assert numbers(client, end="2025-10-13") == {n["mz"]}
    assert numbers(client, status="completed") == set()


def test_paging_and_total(client, login, county):
    login("zhangwei")
    response = client.get("/supervise/cases", query_string={"page": 1})
    assert "共 4 条" in response.get_data(as_text=True)
    result = supervision.search_cases(client.application.extensions["bdd"], _actor(client, "zhangwei"), {}, page=2,
                                      per_page=3)
    assert result["total"] == 4 and len(result["items"]) == 1 and result["pages"] == 2
    assert result["items"][0]["number"] == county["mz"]["number"]  # newest first: the oldest is last


def _actor(client, username):
    from bdd_workflow.services.identity import actor_of
    from bdd_workflow.db.models import Staff
    from sqlalchemy import select

    system = client.application.extensions["bdd"]
    with system.db.unit_of_work(write=False) as session:
        return actor_of(session.scalars(select(Staff).where(Staff.username == username)).one())


@pytest.mark.parametrize("url", ["/supervise/cases", "/supervise/cases.xlsx", "/supervise/ledger", "/supervise/ledger.xlsx"])
def test_an_assistant_is_refused(client, login, url):
    login("gaohongxia")
    response = client.get(url)
    assert response.status_code == 403
    assert "无权" in response.get_data(as_text=True)


def test_township_chief_officer_sees_only_the_township(client, login, county):
    n = {key: c["number"] for key, c in county.items()}
    login("liuhongtao")
    assert numbers(client) == {n["town"], n["order"]}
    assert numbers(client, unit="CA") == {n["town"], n["order"]}
    login("zhangwei")
    assert numbers(client) == set(n.values())


def test_export_has_chinese_headers_and_the_filtered_rows(client, login, county):
    login("zhangwei")
    response = client.get("/supervise/cases.xlsx", query_string={"phone": "5678"})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "办件清单" in unquote(disposition)
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("办件编号", "流程", "状态", "单位", "事项", "服务对象", "类型", "联系电话", "受理时间", "办结时间", "超时次数")
    assert {r[0] for r in rows[1:]} == {county["mz"]["number"], county["town"]["number"]}
    mz = next(r for r in rows[1:] if r[0] == county["mz"]["number"])
    assert mz[1] == "帮办" and mz[3].endswith("民政局")
    assert mz[7] == "13812345678" and mz[8] == "2025-10-13 09:00" and mz[10] == 0


def test_ledger_entry_missing_a_field_is_flagged(client, login, county, system):
    mz = county["mz"]
    with system.db.unit_of_work() as session:
        session.add(LedgerEntry(case_id=mz["id"], case_number=mz["number"], process_id="assist", unit_code="CA-MZ",
                                matter_code="", applicant_name="王芳", step="guide_materials", title="告知材料",
                                actor="gaohongxia", actor_role="assistant", at=T0 + timedelta(hours=1), data={}))
        session.flush()
        bad_id = session.query(LedgerEntry.id).filter(LedgerEntry.matter_code == "").scalar()
    login("wangxiuying")
    response = client.get("/supervise/ledger", query_string={"unit": "CA-MZ", "staff": "gaohongxia"})
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.get_data(as_text=True))
    rows = doc.xpath('//table[contains(@class, "supervise-ledger")]/tbody/tr[@data-entry]')
    flagged = {tr.get("data-entry"): " ".join(tr.xpath('.//td[@class="missing"]')[0].text_content().split()) for tr in rows}
    assert flagged[str(bad_id)] == "缺事项"
    assert all(text == "完整" for key, text in flagged.items() if key != str(bad_id))
    assert "其中 1 条不完整" in " ".join(doc.text_content().split())
    only = client.get("/supervise/ledger", query_string={"incomplete": "1"}).get_data(as_text=True)
    assert f'data-entry="{bad_id}"' in only and only.count("data-entry=") == 1

    export = client.get("/supervise/ledger.xlsx", query_string={"unit": "CA-MZ"})
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.data)).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("时间", "办件编号", "流程", "单位", "事项", "服务对象", "环节", "办理人", "缺少字段")
    assert [r[8] for r in rows[1:] if r[8]] == ["事项"]

    # A township's chief officer does not see the 民政局's ledger.
    login("liuhongtao")
    assert f'data-entry="{bad_id}"' not in client.get("/supervise/ledger").get_data(as_text=True)
