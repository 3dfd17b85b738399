"""Pages given what no person would type, but a crawler or a mistyped link might: an id beyond any row,
a date centuries away. Each is answered like any other input the page cannot use, never with a 500."""

from __future__ import annotations

HUGE = "1921374522104543182848"  # beyond 64 bits: the database driver would overflow


def test_an_id_beyond_any_row_is_answered_like_any_missing_row(client, login):
    login("zhangwei")
    for path in ("/cases/{}", "/cases/{}/diagram", "/cases/{}/diagram.json", "/attachments/{}", "/cases/{}/entrustment"):
        huge, missing = client.get(path.format(HUGE)), client.get(path.format(123456789))
        assert huge.status_code == missing.status_code, path
        assert huge.status_code in (302, 404), path
        if huge.status_code == 302:  # back to a page that says so, not to the login
            assert "/login" not in huge.headers["Location"], path


def test_a_date_centuries_away_is_dropped_like_a_date_the_page_cannot_read(client, login):
    login("zhangwei")
    for path in ("/quality?start=0001-01-01&end=0001-01-01", "/supervise/cases?start=0001-01-01&end=9999-12-31"):
        response = client.get(path)
        assert response.status_code == 200, path
    # The heatmap says what is wrong with the period, on the page and in the JSON its script reads.
    for path in ("/supervise/heatmap?process=assist&from=0001-01-01", "/supervise/heatmap.json?process=assist&from=0001-01-01"):
        heatmap = client.get(path)
        assert heatmap.status_code in (200, 422) and "2000-01-01 至 2099-12-31" in heatmap.get_data(as_text=True), path


def test_a_nul_character_in_a_form_is_refused_with_a_page_that_says_so(client, csrf):
    response = client.post("/login", data={"csrf_token": csrf(client, "/login"), "username": "gao\x00hongxia",
                                           "password": "demo1234"})
    assert response.status_code == 400 and "空字符" in response.get_data(as_text=True)
    assert "<!doctype html>" in response.get_data(as_text=True).lower()
