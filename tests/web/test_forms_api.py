"""GET /api/v1/forms and /api/v1/forms/<name>: the forms in use now (the newest version saved in the forms
editor, else the shipped file), for any signed-in staff member; documented in the OpenAPI document."""

from __future__ import annotations

import copy
import json

from webhelpers import API

from bdd_workflow.services import forms_admin
from bdd_workflow.services.identity import Actor


def administrator(system) -> Actor:
    from sqlalchemy import select

    from bdd_workflow.db.models import Staff
    from bdd_workflow.services.identity import actor_of

    with system.db.unit_of_work(write=False) as session:
        return actor_of(session.scalars(select(Staff).where(Staff.username == "chenguodong")).one())


def test_the_list_has_every_form_with_its_version_and_tasks(client, auth):
    response = client.get(f"{API}/forms", headers=auth("gaohongxia"))
    assert response.status_code == 200
    forms = {f["name"]: f for f in response.get_json()}
    assert len(forms) == 42  # with the problem report's four and the waits on the applicant's two and the deadline escalation (issue 15)
    guide = forms["assist_guide_materials"]
    assert guide["title"] == "指导准备申报材料" and guide["version"] == 0 and guide["source"] == "file"
    assert {"process": "assist", "task": "guide_materials"}.items() <= guide["used_by"][0].items()


def test_one_form_with_schema_ui_and_history_follows_a_saved_version(client, auth, system):
    before = client.get(f"{API}/forms/assist_guide_materials", headers=auth("zhaolina")).get_json()
    assert before["version"] == 0 and "materials_complete" in before["schema"]["properties"]
    assert before["ui"]["ui:order"] == ["guidance", "materials_complete"]
    assert [v["version"] for v in before["versions"]] == [0]

    schema = copy.deepcopy(before["schema"])
    schema["properties"]["visit_count"] = {"type": "integer", "title": "接待次数", "minimum": 1}
    saved = forms_admin.save_form(system, administrator(system), "assist_guide_materials", "指导准备申报材料",
                                  json.dumps(schema), json.dumps(before["ui"]), base_version=0)
    assert saved["version"] == 1

    after = client.get(f"{API}/forms/assist_guide_materials", headers=auth("zhaolina")).get_json()
    assert after["version"] == 1 and after["source"] == "database" and after["saved_by"] == "chenguodong"
    assert after["saved_at"].endswith("+08:00")
    assert "visit_count" in after["schema"]["properties"]
    assert [v["version"] for v in after["versions"]] == [1, 0]
    listed = {f["name"]: f for f in client.get(f"{API}/forms", headers=auth("zhaolina")).get_json()}
    assert listed["assist_guide_materials"]["version"] == 1


def test_unknown_form_is_404_and_no_token_is_401(client, auth):
    response = client.get(f"{API}/forms/no_such_form", headers=auth("gaohongxia"))
    assert response.status_code == 404 and "不存在" in response.get_json()["message"]
    assert client.get(f"{API}/forms/Bad-Name", headers=auth("gaohongxia")).status_code == 404
    assert client.get(f"{API}/forms").status_code == 401


def test_the_forms_endpoints_are_in_the_openapi_document(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    assert set(paths["/forms"]) == {"get"} and set(paths["/forms/{name}"]) == {"get"}
    assert paths["/forms/{name}"]["get"]["parameters"][0]["name"] == "name"
    assert "404" in paths["/forms/{name}"]["get"]["responses"]
