"""Diagrams drawn by other tools (the BPMN MIWG reference suite): deployed, or refused clearly;
never a 500, never a half-saved definition (bpmn-corpus/README.md)."""

from __future__ import annotations

import pytest
from webhelpers import API, upload

from bdd_workflow.config import PROJECT_ROOT

MIWG = PROJECT_ROOT.parent / "shared" / "bpmn-corpus" / "miwg"  # the same folder as the shared_dir fixture
FILES = sorted(p.name for p in MIWG.glob("*.bpmn")) if MIWG.is_dir() else ["(corpus absent)"]


def versions(client, auth) -> list[tuple[str, int, int]]:
    response = client.get(f"{API}/processes?versions=all", headers=auth("chenguodong"))
    assert response.status_code == 200
    return sorted((p["process"], p["version"], p["id"]) for p in response.get_json())


@pytest.mark.parametrize("name", FILES)
def test_miwg_diagram_is_deployed_or_refused_with_a_reason(client, auth, shared_dir, name):
    folder = shared_dir / "bpmn-corpus" / "miwg"
    if not folder.is_dir():
        pytest.skip(f"the MIWG corpus is not at {folder} (it lives in ../shared, outside the project)")
    path = folder / name
    before = versions(client, auth)
    response = client.post(f"{API}/processes", data=upload(path.read_bytes(), name), headers=auth("chenguodong"),
                           content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code in (201, 422), text
    assert response.mimetype == "application/json"
    assert "Traceback" not in text
    body = response.get_json()
    if response.status_code == 201:
        assert body["processes"], body
        listed = {p["process"] for p in client.get(f"{API}/processes", headers=auth("chenguodong")).get_json()}
        assert {p["process"] for p in body["processes"]} <= listed
    else:
        assert body["message"].strip(), body
        # the message names an element or says why: more than the file name alone
        assert len(body["message"].replace(name, "").strip(" :：")) > 5, body
        assert versions(client, auth) == before
