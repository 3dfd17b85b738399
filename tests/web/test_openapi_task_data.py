"""The OpenAPI document describes each form's task data (TaskData.<form name>), so that a client can
check or generate what it submits to POST /tasks/{task_id}/complete, and each start form
(StartData.<form name>, per process) for POST /cases; the descriptions follow forms saved in the
forms editor and diagrams deployed at run time."""

from __future__ import annotations

import copy
import json

from jsonschema import Draft7Validator
from webhelpers import API, VALID_DATA, complete, ready_task, start

from bdd_workflow.services import forms_admin
from bdd_workflow.views.openapi import task_data_schema

from test_forms_api import administrator


def components(client) -> dict:
    return client.get(f"{API}/openapi.json").get_json()["components"]["schemas"]


START_FORMS = {"onsite": "onsite_apply", "consultation": "consultation_start", "complaint": "complaint_start",
               "problem_report": "problem_report_start"}


def component_of(schemas: dict, form: str) -> dict:
    return schemas[f"StartData.{form}"] if form in START_FORMS.values() else schemas[f"TaskData.{form}"]


def validator(schemas: dict, form: str) -> Draft7Validator:
    """The component as a JSON Schema validator (OpenAPI 3.0's Schema Object is a JSON Schema dialect;
    nullable and the x- keys are annotations to it)."""
    return Draft7Validator(component_of(schemas, form))


def test_every_form_is_a_component_and_the_completion_takes_any_of_them(client, system):
    schemas = components(client)
    forms = system.forms.forms
    assert len(forms) == 42  # 38 task forms and 4 start forms (onsite, consultation, complaint, problem_report)
    for name, form in forms.items():
        component = component_of(schemas, name)
        assert component["title"] == f"{form.title}（{name}）" and component["x-form"] == {"name": name, "version": 0}
        assert component["properties"].keys() == form.schema["properties"].keys()
        assert "const" not in json.dumps(component)  # not a keyword of OpenAPI 3.0
    task_forms = set(forms) - set(START_FORMS.values())
    data = schemas["CompleteTaskRequest"]["properties"]["data"]
    assert {ref["$ref"] for ref in data["anyOf"]} == {f"#/components/schemas/TaskData.{name}" for name in task_forms}
    assert "form_name" in data["description"]
    # R-9.3.1: a start's own fields are described per process, from the form its start event names
    start = schemas["StartCaseRequest"]["properties"]["data"]
    assert start["x-start-forms"] == {p: f"#/components/schemas/StartData.{f}" for p, f in START_FORMS.items()}
    assert not {f"TaskData.{f}" for f in START_FORMS.values()} & set(schemas)


def test_what_the_document_accepts_for_each_form_is_what_the_server_validates(client, auth):
    """Each form's valid submission holds against its component; without a required field, or with a
    choice the form does not offer, it does not: as the server's own validation answers."""
    schemas = components(client)
    assert set(VALID_DATA) == {name.split(".", 1)[1] for name in schemas if name.startswith(("TaskData.", "StartData."))}
    for form, data in VALID_DATA.items():
        described = validator(schemas, form)
        assert not list(described.iter_errors(data)), form
        required = component_of(schemas, form).get("required", [])
        if required:
            assert list(described.iter_errors({k: v for k, v in data.items() if k != required[0]})), form
        assert list(described.iter_errors({**data, "not_a_field_of_the_form": 1})), form  # additionalProperties
    rating = validator(schemas, "callback_make_callback")
    assert list(rating.iter_errors({**VALID_DATA["callback_make_callback"], "satisfaction": "so-so"}))

    # And the server agrees, on a real task.
    case = start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    task = ready_task(case, "guide_materials")
    detail = client.get(f"{API}/tasks/{task['id']}", headers=auth("gaohongxia")).get_json()
    assert detail["form_name"] == "assist_guide_materials"
    refused = complete(client, auth, task, {"guidance": "请携带身份证。"}, user="gaohongxia")
    assert refused.status_code == 422 and "materials_complete" in refused.get_json()["errors"]
    assert list(validator(schemas, detail["form_name"]).iter_errors({"guidance": "请携带身份证。"}))
    assert complete(client, auth, task, VALID_DATA["assist_guide_materials"], user="gaohongxia").status_code == 200


def test_a_form_saved_in_the_forms_editor_is_described_at_once(client, auth, system):
    form = client.get(f"{API}/forms/assist_guide_materials", headers=auth("gaohongxia")).get_json()
    schema = copy.deepcopy(form["schema"])
    schema["properties"]["visit_count"] = {"type": "integer", "title": "接待次数", "minimum": 1}
    schema["required"].append("visit_count")
    forms_admin.save_form(system, administrator(system), "assist_guide_materials", "指导准备申报材料",
                          json.dumps(schema), json.dumps(form["ui"]), base_version=0)

    component = components(client)["TaskData.assist_guide_materials"]
    assert component["x-form"]["version"] == 1
    assert component["properties"]["visit_count"] == {"type": "integer", "title": "接待次数", "minimum": 1}
    assert "visit_count" in component["required"]


def test_json_schema_keywords_become_their_openapi_3_0_equivalents():
    converted = task_data_schema({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "const": {"type": ["string", "null"], "const": "x"},  # a field named like a keyword stays a field
            "count": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
            "either": {"type": ["integer", "string"]},
            "items": {"type": "array", "items": {"oneOf": [{"const": 1, "title": "一"}, {"const": 2, "title": "二"}]}},
            "note": {"type": "string", "examples": ["示例"], "x-applicant-text": True},
        },
        "if": {"properties": {"count": {"const": 1}}}, "then": {"required": ["note"]},
        "additionalProperties": False,
    })
    assert "$schema" not in converted
    fields = converted["properties"]
    assert fields["const"] == {"type": "string", "nullable": True, "enum": ["x"]}
    assert fields["count"] == {"type": "integer", "minimum": 0, "exclusiveMinimum": True,
                               "maximum": 10, "exclusiveMaximum": True}
    assert fields["either"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert fields["items"]["items"]["oneOf"] == [{"enum": [1], "title": "一"}, {"enum": [2], "title": "二"}]
    assert fields["note"] == {"type": "string", "example": "示例", "x-applicant-text": True}
    # What 3.0 cannot say is kept, under an extension, not dropped.
    assert converted["x-json-schema"] == {"if": {"properties": {"count": {"const": 1}}}, "then": {"required": ["note"]}}
    assert converted["additionalProperties"] is False


def test_a_deploy_changes_which_start_forms_are_described(client, system):
    """The start forms described are those the newest deployed diagrams name: onsite deployed without its
    start form leaves onsite_apply a plain form (TaskData), and the start request no longer points at it."""
    from bdd_workflow.config import PROJECT_ROOT
    from bdd_workflow.services import definitions
    from bdd_workflow.services.identity import SYSTEM

    assert "onsite" in components(client)["StartCaseRequest"]["properties"]["data"]["x-start-forms"]
    xml = (PROJECT_ROOT / "processes" / "onsite.bpmn").read_text(encoding="utf-8")
    definitions.deploy(system, SYSTEM, xml.replace('<spiffworkflow:property name="form" value="onsite_apply"/>', "")
                       .encode("utf-8"), "onsite.bpmn")
    schemas = components(client)
    assert "onsite" not in schemas["StartCaseRequest"]["properties"]["data"]["x-start-forms"]
    assert "StartData.onsite_apply" not in schemas and "TaskData.onsite_apply" in schemas
