"""互动接力 over the API (R-6.4.3): ask, list, accept, send back; each refusal a clear answer that changes nothing."""

from __future__ import annotations

from webhelpers import API, get_case, start


def test_r_6_4_3_a_relay_through_the_api(client, auth):
    case = start(client, auth, "luxuemei", "assist", matter_code="GR-007")
    bad = client.post(f"{API}/cases/{case['id']}/relays", json={"to_unit": "CA-T01-V01", "reason": "x"},
                      headers=auth("luxuemei"))
    assert bad.status_code == 422 and "不能接力给本单位" in bad.get_json()["errors"]["to_unit"][0]
    missing = client.post(f"{API}/cases/{case['id']}/relays", json={"to_unit": "CA-T01"}, headers=auth("luxuemei"))
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]
    asked = client.post(f"{API}/cases/{case['id']}/relays", json={"to_unit": "CA-T01", "reason": "需镇里办理",
                                                                   "materials": "身份证复印件"}, headers=auth("luxuemei"))
    assert asked.status_code == 201, asked.get_json()
    relay = asked.get_json()
    assert (relay["from_unit"], relay["to_unit"], relay["status"], relay["direction"]) == ("CA-T01-V01", "CA-T01", "pending", "up")
    pending = client.get(f"{API}/relays", headers=auth("lina")).get_json()
    assert [r["id"] for r in pending] == [relay["id"]]
    accepted = client.post(f"{API}/relays/{relay['id']}/accept", json={"note": "收到"}, headers=auth("lina"))
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    again = client.post(f"{API}/relays/{relay['id']}/return", json={"note": "不要了"}, headers=auth("lina"))
    assert again.status_code == 409
    view = get_case(client, auth, case["id"], user="lina")
    assert view["unit"] == "CA-T01" and view["tasks"][0]["unit"] == "CA-T01"
    assert [r["status"] for r in view["relays"]] == ["accepted"]


def test_r_6_4_3_an_unknown_relay_or_case_is_a_404(client, auth):
    assert client.post(f"{API}/relays/999/accept", json={}, headers=auth("lina")).status_code == 404
    assert client.post(f"{API}/cases/999/relays", json={"to_unit": "CA-T01", "reason": "x"},
                       headers=auth("lina")).status_code == 404
    assert client.post(f"{API}/cases/1/relays", json={"to_unit": "CA-T01", "reason": "x", "extra": 1},
                       headers=auth("lina")).status_code == 422
