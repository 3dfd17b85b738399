"""What a chief officer sees and does in the browser when work piles up or is stranded: the peak alerts in
the inbox and on the quality page (R-7.1.1), the to-reassign list linked from the inbox (R-9.1.1.2,
R-6.4.1), moving several tasks at once from the group inbox, and a unit's own thresholds in the registry."""

from __future__ import annotations

from lxml import html as lxml_html

from bdd_workflow.services import registry, tasks


def page(response):
    assert response.status_code == 200, response.status_code
    return lxml_html.fromstring(response.get_data(as_text=True))


def flashes(response) -> str:
    return " ".join(" ".join(e.text_content().split()) for e in page(response).xpath('//*[contains(@class, "flash")]'))


def post(client, csrf, url: str, data: dict, form_url: str = "/", **kwargs):
    return client.post(url, data={"csrf_token": csrf(client, form_url), **data}, **kwargs)


def alert_rows(doc) -> dict[str, dict[str, str]]:
    return {tr.get("data-alert-unit"): {td.get("data-figure"): td.text.strip() for td in tr.xpath("./td[@data-figure]")}
            for tr in doc.xpath('//*[@data-peak-alerts]//tr[@data-alert-unit]')}


def _pile_up_in_the_village(desk, system, n: int = 4) -> list[str]:
    """东关社区 (two active staff) with its own threshold of 2 open tasks per person, and ``n`` open tasks."""
    registry.update_unit(system, desk.actor("chenguodong"), "CA-T01-V01",
                         {"name": "东关社区综合服务站", "phone": "", "address": "", "peak_load": "2", "peak_overdue": ""})
    return [desk.task(desk.start("assist", by="luxuemei", matter_code="GR-007")["id"], "guide_materials").id
            for _ in range(n)]


def test_r_7_1_1_the_chief_officer_s_inbox_shows_the_alert_until_the_pile_is_moved(client, login, csrf, desk, system):
    ids = _pile_up_in_the_village(desk, system)
    login("wangjianjun")
    doc = page(client.get("/"))
    assert alert_rows(doc) == {"CA-T01-V01": {"open": "4", "active_staff": "2", "load": "2.0", "overdue": "0"}}
    assert "人均待办 2.0 项，达到预警值 2 项" in " ".join(doc.xpath('//*[@data-peak-alerts]')[0].text_content().split())
    assert doc.xpath('//*[@data-peak-alerts]//a/@href') == ["/?scope=group&unit=CA-T01-V01"]
    quality = page(client.get("/quality"))
    assert list(alert_rows(quality)) == ["CA-T01-V01"]  # the supervisors' dashboard shows it too

    group = page(client.get("/", query_string={"scope": "group"}))
    # the group tab counts every open task of the units he directs (the alerts' figures say the same)
    assert group.xpath('//nav[contains(@class, "tabs")]/a[2]/span[@class="count"]/text()') == ["4"]
    assert len(group.xpath('//tr[@data-task-row]')) == 4
    boxes = group.xpath('//input[@type="checkbox"][@name="task_ids"][@form="bulk-reassign"]/@value')
    assert set(ids) <= set(boxes)
    options = group.xpath('//form[@id="bulk-reassign"]//option/@value')
    assert "lina" in options and "zhaomin" not in options  # 商城镇 is not his
    response = post(client, csrf, "/tasks/reassign", {"task_ids": ids[:2], "username": "lina", "next": "/"},
                    follow_redirects=True)
    assert "已将 2 项任务改派给李娜" in flashes(response)
    assert alert_rows(page(response)) == {}  # 2 open tasks for 2 people: below the threshold, cleared
    login("lina")
    mine = page(client.get("/", query_string={"scope": "mine"}))
    assert {a.get("href").rsplit("/", 1)[1] for a in mine.xpath('//tr[@data-task-row]/td[1]/a')} == set(ids[:2])


def test_r_7_1_1_a_bulk_move_with_one_task_of_another_role_moves_nothing(client, login, csrf, desk, system):
    assist = desk.task(desk.start("assist", by="luxuemei", matter_code="GR-007")["id"], "guide_materials")
    proxy = desk.ready(desk.start("proxy", by="zhaoyanling", matter_code="GR-007")["id"])[0]
    login("wangjianjun")
    response = post(client, csrf, "/tasks/reassign", {"task_ids": [assist.id, proxy.id], "username": "lina",
                                                      "next": "/?scope=group"}, follow_redirects=True)
    message = flashes(response)
    assert "未改派任何任务" in message and "须由代办员办理" in message
    assert desk.task(assist.case_id, assist.name).assignee is None
    assert desk.task(proxy.case_id, proxy.name).assignee is None


def test_r_7_1_1_only_chief_officers_get_alerts_and_the_bulk_move(client, login, csrf, desk, system):
    ids = _pile_up_in_the_village(desk, system)
    login("luxuemei")
    doc = page(client.get("/", query_string={"scope": "group"}))
    assert not doc.xpath('//*[@data-peak-alerts]') and not doc.xpath('//form[@id="bulk-reassign"]')
    response = post(client, csrf, "/tasks/reassign", {"task_ids": ids[:1], "username": "lina"})
    assert response.status_code == 403
    login("liuhongtao")  # 商城镇's chief officer does not direct 成安镇's villages
    assert not page(client.get("/")).xpath('//*[@data-peak-alerts]')


def test_r_9_1_1_2_a_leaver_s_task_is_counted_in_the_inbox_and_reassigned_from_the_linked_list(client, login, csrf,
                                                                                                desk, system):
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    task = desk.task(case["id"], "guide_materials")
    tasks.claim_task(system, desk.actor("luxuemei"), task.id)
    registry.set_staff_active(system, desk.actor("chenguodong"), "luxuemei", False, "调离")
    login("wangjianjun")
    notice = page(client.get("/")).xpath('//*[@data-to-reassign]')
    assert notice and notice[0].get("data-to-reassign") == "1"
    assert notice[0].xpath(".//a/@href") == ["/admin/registry/handover"]
    handover = page(client.get("/admin/registry/handover"))
    row = handover.xpath(f'//tr[@data-task="{task.id}"]')[0]
    assert "已停用" in row.xpath('./td[@data-reason]')[0].text_content()
    assert row.xpath('.//option/@value') == ["lina"]
    response = post(client, csrf, f"/tasks/{task.id}/reassign", {"username": "lina", "next": "/admin/registry/handover"},
                    form_url="/admin/registry/handover", follow_redirects=True)
    assert "改派给" in flashes(response)
    assert not page(response).xpath(f'//tr[@data-task="{task.id}"]')
    assert not page(client.get("/")).xpath('//*[@data-to-reassign]')


def test_r_7_1_1_an_administrator_sets_a_unit_s_own_thresholds(client, login, csrf, system):
    login("chenguodong")
    url = "/admin/registry/units/CA-MZ"
    doc = page(client.get(url))
    assert doc.xpath('//*[@data-peak-thresholds]//input[@name="peak_load"]/@value') == [""]
    assert "默认值（人均待办 10 项、超时待办 5 项）" in doc.xpath('//*[@data-peak-thresholds]')[0].text_content()
    bad = post(client, csrf, url, {"name": "成安县民政局", "phone": "", "address": "", "peak_load": "0", "peak_overdue": "x"},
               form_url=url)
    assert bad.status_code == 422
    errors = lxml_html.fromstring(bad.get_data(as_text=True))
    assert errors.xpath('//*[@data-field="peak_load"]//*[contains(@class, "field-error")]')
    assert errors.xpath('//*[@data-field="peak_overdue"]//*[contains(@class, "field-error")]')
    saved = post(client, csrf, url, {"name": "成安县民政局", "phone": "", "address": "", "peak_load": "3", "peak_overdue": "2"},
                 form_url=url)
    assert saved.status_code == 302
    doc = page(client.get(url))
    assert doc.xpath('//input[@name="peak_load"]/@value') == ["3"]
    assert doc.xpath('//input[@name="peak_overdue"]/@value') == ["2"]
