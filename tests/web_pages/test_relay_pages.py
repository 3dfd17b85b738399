"""互动接力 on the staff pages (R-6.4.3): the holder sends it from the task page, the receiver answers in the
inbox, the case page lists every hop."""

from __future__ import annotations

from lxml import html as lxml_html


def page(response):
    return lxml_html.fromstring(response.get_data(as_text=True))


def post(client, csrf, url: str, data: dict, **kwargs):
    return client.post(url, data={"csrf_token": csrf(client, "/"), **data}, **kwargs)


def flashes(response) -> str:
    return " ".join(" ".join(f.text_content().split()) for f in page(response).xpath('//*[contains(@class, "flash")]'))


def test_r_6_4_3_relay_from_the_task_page_and_accept_in_the_inbox(client, login, csrf, desk):
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    task = desk.task(case["id"], "guide_materials")
    login("luxuemei")
    doc = page(client.get(f"/tasks/{task.id}"))
    options = doc.xpath('//section[@id="relay"]//select[@name="to_unit"]/option')
    labels = [o.text_content() for o in options if o.get("value")]
    assert labels[0] == "向上接力 · [乡镇] 成安镇行政综合服务中心"  # the nearest level first
    assert "CA-T01-V01" not in [o.get("value") for o in options]  # never the unit holding it
    refused = post(client, csrf, f"/cases/{case['id']}/relays", {"to_unit": "CA-T01", "reason": "",
                                                                  "next": f"/tasks/{task.id}"}, follow_redirects=True)
    assert "请写明接力原因" in flashes(refused)
    sent = post(client, csrf, f"/cases/{case['id']}/relays", {"to_unit": "CA-T01", "reason": "申请人在镇里上班",
                                                               "materials": "身份证复印件", "next": f"/tasks/{task.id}"},
                follow_redirects=True)
    assert "已发出互动接力" in flashes(sent)
    waiting = page(client.get(f"/tasks/{task.id}")).xpath('//section[@id="relay"]')[0].text_content()
    assert "等待对方接收" in waiting

    login("lina")
    inbox = page(client.get("/"))
    (item,) = inbox.xpath('//section[@id="relays"]//li[@data-relay]')
    text = " ".join(item.text_content().split())
    assert "东关社区综合服务站 → 成安镇行政综合服务中心" in text and "申请人在镇里上班" in text and "身份证复印件" in text
    returned = post(client, csrf, f"/relays/{item.get('data-relay')}/return", {"note": ""}, follow_redirects=True)
    assert "退回时请写明原因" in flashes(returned)
    accepted = post(client, csrf, f"/relays/{item.get('data-relay')}/accept", {"note": ""}, follow_redirects=True)
    assert "已接收互动接力" in flashes(accepted)
    hops = " ".join(page(accepted).xpath('//section[@id="relays"]')[0].text_content().split())
    assert "向上接力 东关社区综合服务站 → 成安镇行政综合服务中心 已接收" in hops
    history = " ".join(page(accepted).xpath('//table[contains(@class, "history")]')[0].text_content().split())
    assert "发出互动接力" in history and "接收互动接力" in history
    assert desk.task(case["id"], "guide_materials").unit_code == "CA-T01"
    assert page(client.get("/")).xpath('//section[@id="relays"]') == []


def test_r_6_4_3_no_relay_panel_for_a_consultation_or_someone_who_cannot_work_the_step(client, login, desk):
    consultation = desk.start("consultation", by="zhaolina", channel="phone", matter_code="GR-002")
    login("zhaolina")
    task = desk.task(consultation["id"], "record_consultation")
    assert page(client.get(f"/tasks/{task.id}")).xpath('//section[@id="relay"]') == []
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    login("zhaoyanling")  # the station's proxy agent sees the case, not the assistant's step
    task = desk.task(case["id"], "guide_materials")
    assert page(client.get(f"/tasks/{task.id}")).xpath('//section[@id="relay"]') == []
