"""R-6.2, R-6.4.1, R-3.3: one access rule (services/access.py) asked by every resource. The matrix walks
role x unit level x resource and fails on any disagreement between two resources for one person."""

from __future__ import annotations

import pytest
from webhelpers import API, start

# Three cases in three places of the demo county (routing: 就近办).
CASES = {
    "village_T01": ("luxuemei", "GR-007"),    # registered and handled in 东关社区 CA-T01-V01
    "county_MZ": ("gaohongxia", "GR-002"),    # registered and handled in 民政局 CA-MZ
    "village_T02": ("houjinfeng", "GR-007"),  # registered and handled in 商城村 CA-T02-V01
}

# Who sees which: directing roles their subtree, staff their own unit.
SEES = {
    "zhangwei": {"village_T01", "county_MZ", "village_T02"},  # county chief officer: the county
    "wangxiuying": {"village_T01", "county_MZ", "village_T02"},  # the centre office: the county
    "chenguodong": {"village_T01", "county_MZ", "village_T02"},  # administrator
    "wangjianjun": {"village_T01"},   # 成安镇 chief officer: the township and its villages
    "lina": set(),                     # 成安镇 assistant: her own unit's cases only
    "luxuemei": {"village_T01"},       # 东关社区 assistant
    "gaohongxia": {"county_MZ"},       # 民政局 assistant
    "zhaolina": set(),                 # consultation centre
}


@pytest.fixture
def cases(client, auth) -> dict[str, dict]:
    made = {}
    for key, (user, matter) in CASES.items():
        made[key] = start(client, auth, user, "assist", matter_code=matter)
    assert made["village_T01"]["unit"] == "CA-T01-V01" and made["village_T02"]["unit"] == "CA-T02-V01"
    return made


def _api_case(client, auth, user, case) -> bool:
    status = client.get(f"{API}/cases/{case['id']}", headers=auth(user)).status_code
    assert status in (200, 404), status  # not yours answers as absent does
    return status == 200


def _api_list(client, auth, user, case) -> bool:
    response = client.get(f"{API}/cases?per_page=200", headers=auth(user))
    assert response.status_code == 200
    return case["id"] in {c["id"] for c in response.get_json()["items"]}


def _attachments(client, auth, user, case) -> bool:
    status = client.get(f"{API}/cases/{case['id']}/attachments", headers=auth(user)).status_code
    assert status in (200, 404), status  # not yours answers as absent does
    return status == 200


def _group_tasks(client, auth, user, case) -> bool | None:
    """The case's first task in the actor's inbox, when their role could hold it at all."""
    task = case["tasks"][0]
    response = client.get(f"{API}/tasks?scope=group&per_page=200", headers=auth(user))
    if response.status_code != 200:
        return None
    return task["id"] in {t["id"] for t in response.get_json()["items"]}


RESOURCES = {"case": _api_case, "list": _api_list, "attachments": _attachments}


@pytest.mark.parametrize("user", sorted(SEES))
@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_r_6_2_every_resource_answers_the_one_access_rule(client, auth, cases, user, resource):
    seen = {key for key, case in cases.items() if RESOURCES[resource](client, auth, user, case)}
    assert seen == SEES[user]


@pytest.mark.parametrize("user", ["zhangwei", "wangjianjun", "luxuemei", "lina", "gaohongxia", "houjinfeng"])
def test_r_6_4_1_the_inbox_offers_exactly_the_tasks_the_person_may_work(client, auth, cases, user):
    """An assistant's group inbox holds their unit's assist tasks; a chief officer's (role chief_officer) none
    of these assistant tasks; the rule that lists a task is the rule that lets it be completed."""
    listed = {key for key, case in cases.items() if _group_tasks(client, auth, user, case)}
    expected = {"luxuemei": {"village_T01"}, "gaohongxia": {"county_MZ"}, "houjinfeng": {"village_T02"}}.get(user, set())
    assert listed == expected


def test_r_6_2_a_township_chief_officer_is_kept_to_the_township(client, auth, cases):
    """The case API, the quality figures and the heatmap agree: 成安镇's chief officer reads 成安镇 only."""
    response = client.get(f"{API}/cases/{cases['county_MZ']['id']}", headers=auth("wangjianjun"))
    assert response.status_code == 404
    period = "start=2026-01-01&end=2026-12-31"
    quality = client.get(f"{API}/quality?{period}&unit=CA-MZ", headers=auth("wangjianjun"))
    assert quality.status_code == 403, quality.get_json()
    assert client.get(f"{API}/quality?{period}&unit=CA-T01", headers=auth("wangjianjun")).status_code == 200


# --- the pages a person opens in the browser ask the same rule ------------------------------------------------

def _browser(app, system, username: str):
    """A test client signed in as ``username`` with a server-side session, as the login form starts one."""
    from sqlalchemy import select

    from bdd_workflow.db.models import Staff
    from bdd_workflow.services.identity import actor_of
    from bdd_workflow.views.web_common import new_session_values

    with system.db.unit_of_work(write=False) as session:
        actor = actor_of(session.scalars(select(Staff).where(Staff.username == username)).one())
    client = app.test_client()
    with client.session_transaction() as data:
        data.update(new_session_values(system, actor))
    return client


def _page_opens(client, url: str) -> bool:
    status = client.get(url).status_code
    assert status in (200, 403, 404), (url, status)
    return status == 200


@pytest.mark.parametrize("user", sorted(SEES))
def test_r_6_2_the_case_page_its_diagram_and_its_papers_answer_the_same_rule(app, system, cases, user):
    browser = _browser(app, system, user)
    for url in ("/cases/{id}", "/documents/cases/{id}/notice"):
        seen = {key for key, case in cases.items() if _page_opens(browser, url.format(id=case["id"]))}
        assert seen == SEES[user], url


def test_r_6_2_a_township_chief_officers_export_and_heatmap_stay_in_the_township(app, system, client, auth, cases):
    import io

    from openpyxl import load_workbook

    browser = _browser(app, system, "wangjianjun")
    export = browser.get("/supervise/cases.xlsx")
    assert export.status_code == 200
    numbers = {cell.value for row in load_workbook(io.BytesIO(export.data)).active.iter_rows() for cell in row}
    assert cases["village_T01"]["number"] in numbers
    assert cases["county_MZ"]["number"] not in numbers and cases["village_T02"]["number"] not in numbers
    heat = client.get(f"{API}/processes/assist/heatmap?unit=CA-MZ", headers=auth("wangjianjun"))
    assert heat.status_code == 403
    assert client.get(f"{API}/processes/assist/heatmap?unit=CA-T01", headers=auth("wangjianjun")).status_code == 200
