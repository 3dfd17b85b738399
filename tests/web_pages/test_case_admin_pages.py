"""The supervisors' case view page: the diagram viewer, its JSON, and the chief officer's actions."""

from __future__ import annotations

import re

from sqlalchemy import select

from bdd_workflow.db.models import AuditEvent, Case
from bdd_workflow.views.public import NODE_MODULES, VENDOR_FILES, VIEWER


def start_proxy(desk):
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")  # 民政局 CA-MZ
    desk.do(case["id"], "record_entrustment", {"entrustment_signed": True, "entrustment_number": "WT-2025-001",
                                               "entrustment_signed_date": "2025-10-09"})
    return case


def test_chief_officer_sees_the_diagram_page_and_its_json(client, login, desk):
    case = start_proxy(desk)
    login("zhangwei")
    page = client.get(f"/cases/{case['id']}/diagram")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-case-diagram-url="/cases/{case["id"]}/diagram.json"' in html
    assert 'id="case-diagram"' in html and "case-diagram.js" in html and "case-diagram.css" in html
    assert f'action="/cases/{case["id"]}/suspend"' in html and f'action="/cases/{case["id"]}/cancel"' in html
    assert f'href="/cases/{case["id"]}"' in html  # back to the case page
    assert "<script>" not in html  # CSP: no inline scripts

    state = client.get(f"/cases/{case['id']}/diagram.json").get_json()
    assert "record_entrustment" in state["completed"]
    assert state["active"] == ["submit_on_behalf"]
    assert state["xml"].lstrip().startswith("<?xml") or "<bpmn:definitions" in state["xml"]
    assert state["elements"]["record_entrustment"]["runs"][0]["actor"] == "xuzhiqiang"

    if (NODE_MODULES / VENDOR_FILES[VIEWER]).is_file():  # npm ci in web/ has run
        for name in ("bpmn-js/bpmn-navigated-viewer.production.min.js", "bpmn-js/diagram-js.css", "bpmn-js/bpmn-js.css"):
            assert f'"/vendor/{name}"' in html
            assert client.get(f"/vendor/{name}").status_code == 200


def test_a_foreign_units_assistant_gets_404(client, login, desk):
    case = start_proxy(desk)
    login("lijianhua")  # 行政审批局
    assert client.get(f"/cases/{case['id']}/diagram").status_code == 404
    assert client.get(f"/cases/{case['id']}/diagram.json").status_code == 404


def test_the_units_assistant_sees_the_page_without_actions(client, login, desk):
    case = start_proxy(desk)
    login("gaohongxia")  # 民政局
    html = client.get(f"/cases/{case['id']}/diagram").get_data(as_text=True)
    assert "督办操作" not in html and "/suspend" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    assert client.post(f"/cases/{case['id']}/suspend", data={"csrf_token": token, "reason": "想要暂停"}).status_code == 403  # she sees the case but does not direct it


def test_chief_officer_suspends_resumes_and_cancels_with_csrf(client, login, csrf, desk, system):
    case = start_proxy(desk)
    login("zhangwei")
    url = f"/cases/{case['id']}/diagram"
    # Without the token: refused, nothing changes.
    assert client.post(f"/cases/{case['id']}/suspend", data={"reason": "服务对象申请暂缓"}).status_code == 400
    short = client.post(f"/cases/{case['id']}/suspend", data={"csrf_token": csrf(client, url), "reason": "暂缓"},
                        follow_redirects=True)
    assert "至少 4 个字" in short.get_data(as_text=True)
    done = client.post(f"/cases/{case['id']}/suspend", data={"csrf_token": csrf(client, url), "reason": "服务对象申请暂缓"})
    assert done.status_code == 302 and done.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "办件已暂停" in page and f'action="/cases/{case["id"]}/resume"' in page
    client.post(f"/cases/{case['id']}/resume", data={"csrf_token": csrf(client, url)})
    client.post(f"/cases/{case['id']}/cancel", data={"csrf_token": csrf(client, url), "reason": "服务对象撤回申请"})
    with system.db.unit_of_work(write=False) as session:
        assert session.get(Case, case["id"]).status == "cancelled"
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case["id"]))]
    assert actions[-3:] == ["case_suspended", "case_resumed", "case_cancelled"]


def _history_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table class="history">(.*?)</table>', html, re.S).group(1)
    return [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S) if "<td" in row]


def test_the_case_page_and_the_diagram_page_tell_the_same_history(client, login, csrf, desk):
    """One audit trail, one way of telling it: staff names, step titles, the chief officer's reasons."""
    case = start_proxy(desk)
    login("zhangwei")
    client.post(f"/cases/{case['id']}/suspend", data={"csrf_token": csrf(client, f"/cases/{case['id']}/diagram"),
                                                     "reason": "服务对象申请暂缓"})
    on_case_page = _history_rows(client.get(f"/cases/{case['id']}").get_data(as_text=True))
    on_diagram = _history_rows(client.get(f"/cases/{case['id']}/diagram").get_data(as_text=True))
    assert on_case_page == on_diagram
    assert [row[1:] for row in on_case_page] == [
        ["受理登记", "徐志强", "代办"],
        ["上传附件", "徐志强", "签名：签名.png"],
        ["办理", "徐志强", "签订代办服务委托书"],
        ["暂停办件", "张伟", "原因：服务对象申请暂缓"],
    ]
