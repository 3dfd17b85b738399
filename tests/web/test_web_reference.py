"""The API's own description and the reference data: OpenAPI document, org units, matter catalog, ledger."""

from __future__ import annotations

import re
from typing import Any

from webhelpers import API, CATALOG, complete, get_case, ready_task, start

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _refs(node: Any):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(doc: dict, ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert re.fullmatch(r"3\.\d+\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    assert {"/cases", "/cases/{case_id}", "/tasks", "/tasks/{task_id}", "/tasks/{task_id}/complete",
            "/processes", "/auth/token", "/units", "/matters", "/ledger"} <= set(doc["paths"])
    schemas = doc["components"]["schemas"]
    for name in ("Case", "Task", "TaskDetail", "StartCaseRequest", "CompleteTaskRequest", "ErrorResponse", "Matter"):
        assert name in schemas or f"{name}Schema" in schemas, name
    case_schema = schemas.get("Case") or schemas["CaseSchema"]
    assert {"id", "number", "process", "version", "status", "tasks", "timers", "history", "linked_cases"} <= set(
        case_schema["properties"])
    security = doc["components"]["securitySchemes"]

    for path, item in doc["paths"].items():
        assert path.startswith("/")
        for method, operation in item.items():
            assert method in METHODS, (path, method)
            assert operation["responses"], (path, method)
            for status, resp in operation["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d|default", status), (path, status)
                assert resp["description"], (path, status)
            declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)
            for parameter in operation.get("parameters", []):
                assert parameter["in"] in {"path", "query", "header", "cookie"} and parameter["name"]
                assert "schema" in parameter or "content" in parameter
                if parameter["in"] == "path":
                    assert parameter["required"] is True
            for requirement in operation.get("security", []):
                assert set(requirement) <= set(security)
    for ref in set(_refs(doc)):
        assert isinstance(_resolve(doc, ref), dict), ref

    complete_op = doc["paths"]["/tasks/{task_id}/complete"]["post"]
    assert {"200", "409", "422"} <= set(complete_op["responses"])
    assert "/api/v1" in [s["url"] for s in doc["servers"]]


def test_every_documented_operation_exists_and_every_route_is_documented(app, client):
    doc = client.get(f"{API}/openapi.json").get_json()
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API) or rule.rule.endswith("openapi.json"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(API):])
        served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served


def test_every_status_an_operation_can_answer_is_documented(client, auth):
    """Found by schemathesis: a body that is not JSON answers 400, and the document did not say so.
    Every operation that reads a body or a query documents 400; every integer id says its range."""
    doc = client.get(f"{API}/openapi.json").get_json()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            reads_input = "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", []))
            assert ("400" in operation["responses"]) == reads_input, (method, path)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"]["type"] == "integer":
                    assert parameter["schema"]["maximum"] == 2**31 - 1, (method, path)
    not_json = client.post(f"{API}/cases", data="null", content_type="application/json", headers=auth("gaohongxia"))
    assert not_json.status_code == 400 and not_json.get_json()["message"]


def test_units_are_the_county_tree_with_codes(client, auth):
    response = client.get(f"{API}/units", headers=auth("lijianhua"))
    assert response.status_code == 200
    roots = response.get_json()
    assert [u["code"] for u in roots] == ["CA"]
    county = roots[0]
    assert county["level"] == "county" and county["name"]
    children = {u["code"]: u for u in county["children"]}
    assert {"CA-ZX", "CA-SPJ", "CA-MZ", "CA-T01", "CA-T09"} <= set(children)
    assert children["CA-T01"]["level"] == "township"
    villages = {v["code"]: v for v in children["CA-T01"]["children"]}
    assert set(villages) == {"CA-T01-V01", "CA-T01-V02", "CA-T01-V03"}
    assert all(v["level"] == "village" for v in villages.values())

    def codes(nodes):
        for node in nodes:
            yield node["code"]
            yield from codes(node["children"])

    assert sorted(codes(roots)) == sorted(u["code"] for u in CATALOG["units"])


def test_matters_are_listed_with_their_one_time_notice(client, auth):
    """R-5.3, R-5.4: each matter with its unit, services, promised days and complete notice."""
    response = client.get(f"{API}/matters", headers=auth("zhaolina"))
    assert response.status_code == 200
    matters = response.get_json()
    assert len(matters) >= 12
    for matter in matters:
        assert re.fullmatch(r"(QY|GR)-\d{3}", matter["code"]) and matter["name"]
        assert matter["kind"] in ("enterprise", "personal")
        assert matter["service_types"] and set(matter["service_types"]) <= {"assist", "proxy", "onsite"}
        assert matter["promised_days"] >= 0
        assert matter["notice"]["materials"], matter["code"]
    by_code = {m["code"]: m for m in matters}
    assert by_code["GR-002"]["responsible_unit"] == "CA-MZ"
    assert "proxy" not in by_code["GR-008"]["service_types"]


def test_reference_data_needs_a_login(client):
    for path in ("/units", "/matters", "/ledger", "/processes", "/tasks", "/cases"):
        assert client.get(f"{API}{path}").status_code == 401, path


def ledger(client, auth, user: str, **params: str) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(f"{API}/ledger?{query}", headers=auth(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_ledger_records_each_step_of_an_assist_case_with_actor_and_time(client, auth):
    """R-9.1.3.4–5: every step of an assist case is written to the ledger (台账)."""
    case = start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    for name in ("guide_materials", "accompany_submission"):
        task = ready_task(get_case(client, auth, case["id"]), name)
        assert complete(client, auth, task, user="gaohongxia").status_code == 200
    page = ledger(client, auth, "zhangwei", case_number=case["number"])
    entries = sorted(page["items"], key=lambda e: e["id"])
    assert [e["step"] for e in entries] == ["opened", "guide_materials", "accompany_submission"]
    assert page["total"] == 3
    for entry in entries:
        assert entry["actor"] == "gaohongxia" and entry["actor_role"] == "assistant"
        assert entry["at"].endswith("+08:00")
        assert entry["case_id"] == case["id"] and entry["unit"] == "CA-MZ" and entry["matter_code"] == "GR-002"
        assert entry["title"]
    assert entries[1]["data"]["materials_complete"] is True
    # the assistant of the unit sees the same entries
    assert ledger(client, auth, "gaohongxia", case_number=case["number"])["total"] == 3


def test_an_assistant_sees_only_their_units_ledger(client, auth):
    """R-6.2: the ledger of the 民政局 is not the 行政审批局's to read."""
    mz = start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    spj = start(client, auth, "lijianhua", "assist", matter_code="QY-001", applicant_type="enterprise")
    assert complete(client, auth, ready_task(mz, "guide_materials"), user="gaohongxia").status_code == 200
    assert complete(client, auth, ready_task(spj, "guide_materials"), user="lijianhua").status_code == 200

    seen = ledger(client, auth, "lijianhua")["items"]
    assert seen and {e["unit"] for e in seen} == {"CA-SPJ"}
    assert mz["number"] not in {e["case_number"] for e in seen}
    assert ledger(client, auth, "lijianhua", case_number=mz["number"])["total"] == 0
    # asking for another unit by name does not widen what they see
    assert ledger(client, auth, "lijianhua", unit="CA-MZ")["total"] == 0
    assert {e["case_number"] for e in ledger(client, auth, "zhangwei")["items"]} == {mz["number"], spj["number"]}


def test_consultations_are_not_ledger_entries(client, auth):
    start(client, auth, "zhaolina", "consultation", question="问一下")
    assert ledger(client, auth, "zhangwei")["total"] == 0
