"""Staff sign in and out in a real browser; a forbidden page says so (R-6.2)."""

from __future__ import annotations


def test_staff_log_in_see_their_inbox_and_log_out(person):
    staff = person("帮办员")
    staff.page.goto("/")
    assert "/login" in staff.page.url  # not signed in: to the login page
    staff.shot("01-login")
    staff.page.fill("input[name=username]", "gaohongxia")
    staff.page.fill("input[name=password]", "wrong-password")
    staff.page.click("button[type=submit]")
    assert "用户名或密码错误" in staff.page.content()
    staff.login("gaohongxia")
    assert "待办" in staff.page.title()
    assert "高红霞" in staff.page.content() or "gaohongxia" in staff.page.content() or "帮办员" in staff.page.content()
    staff.shot("02-inbox")
    staff.page.click("text=退出")
    staff.page.wait_for_url("**/login")
