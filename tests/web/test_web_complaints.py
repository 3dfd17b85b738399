"""A complaint through the API names the case and staff member it is about, checked (R-4.c, R-5.2)."""

from __future__ import annotations

from webhelpers import API, complete, get_case, ready_task, start, start_body


def test_r_4_c_an_unknown_case_number_is_a_422_on_the_field(client, auth):
    response = client.post(f"{API}/cases", json=start_body("complaint", complaint_text="态度差",
                                                            about_case_number="BB20990101999999", about_staff="nobody"),
                           headers=auth("zhaolina"))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors["about_case_number"] == ["没有编号为 BB20990101999999 的办件，请核对办件编号。"]
    assert list(errors) == ["about_case_number", "about_staff"]
    listed = client.get(f"{API}/cases?process=complaint", headers=auth("zhaolina")).get_json()
    assert listed["total"] == 0


def test_r_4_c_a_complaint_about_a_case_reaches_the_chief_officer_directing_its_unit(client, auth):
    """R-4.c R-6.4.1: a complaint about a 民政局 case is handled by the county chief officer, who directs it."""
    served = start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    case = start(client, auth, "zhaolina", "complaint", channel="phone", complaint_text="窗口人员态度不好",
                 about_case_number=served["number"])
    assert complete(client, auth, ready_task(case, "record_complaint")).status_code == 200
    handle = ready_task(get_case(client, auth, case["id"]), "handle_complaint")
    assert (handle["role"], handle["unit"]) == ("chief_officer", "CA")
    assert complete(client, auth, handle, user="liuhongtao").status_code == 404  # 商城镇 does not direct 民政局: not even theirs to see
    assert complete(client, auth, handle, user="zhangwei").status_code == 200
