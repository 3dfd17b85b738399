"""The registry in a real browser: the centre's office adds a matter with its one-time notice typed as
fields (a material row added by staff.js), is told the promised deadline is too long, fixes it; registers
a staff member, transfers them with a reason and sees the history (R-5.3, R-5.4, R-6.1). Only new rows
are created: the demo units, staff and matters other tests use stay as they are."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_office_keeps_the_catalog_and_the_staff_registry(person):
    office = person("政务服务中心办公室")
    office.login("wangxiuying")
    page = office.page
    page.goto("/admin/registry/matters")
    expect(page.locator('tr[data-matter="GR-002"]')).to_be_visible()
    office.snap("matters")

    page.get_by_role("link", name="＋ 新增事项").click()
    page.fill("input[name=code]", "GR-990")
    page.fill("input[name=name]", "残疾人两项补贴申请")
    page.select_option("select[name=kind]", "personal")
    page.check("input[name=levels][value=township]")
    page.select_option("select[name=responsible_unit]", "CA-CL")
    page.check("input[name=service_types][value=onsite]")
    page.fill("input[name=promised_days]", "25")
    page.fill("input[name=legal_days]", "20")
    page.fill('input[name="materials.0.name"]', "残疾人证")
    page.fill('input[name="materials.0.copies"]', "原件及复印件1份")
    page.fill('input[name="materials.0.how_to_obtain"]', "申请人自备")
    page.fill('input[name="materials.1.name"]', "户口簿")
    page.fill('input[name="materials.1.how_to_obtain"]', "申请人自备")
    page.get_by_role("button", name="＋ 添加一项材料").click()  # a third row, from the row template
    page.fill('input[name="materials.2.name"]', "银行卡")
    page.fill('input[name="materials.2.how_to_obtain"]', "本人社保卡金融账户")
    page.fill("textarea[name=conditions]", "持有第二代残疾人证\n家庭困难或重度残疾")
    page.fill("textarea[name=steps]", "申请\n乡镇初审\n县残联审核\n发放")
    page.fill("textarea[name=cautions]", "补贴按月发放")
    page.get_by_role("button", name="新增事项").click()
    error = page.locator('[data-field="promised_days"] .field-error')
    expect(error).to_contain_text("不能长于法定时限")
    expect(page.locator('input[name="materials.2.name"]')).to_have_value("银行卡")  # the input is kept
    office.snap("matter-error")

    page.fill("input[name=promised_days]", "15")
    page.get_by_role("button", name="新增事项").click()
    expect(page.locator(".flash-success")).to_contain_text("已新增事项“残疾人两项补贴申请”")
    page.goto("/admin/registry/matters?q=GR-990")
    expect(page.locator('tr[data-matter="GR-990"]')).to_contain_text("完整")

    page.goto("/admin/registry/staff/new")
    page.fill("input[name=username]", "e2e_zhoujie")
    page.fill("input[name=name]", "周杰")
    page.select_option("select[name=role]", "assistant")
    page.select_option("select[name=unit]", "CA-T03")
    page.fill("input[name=password]", "initial-pass-1")
    page.fill("input[name=password2]", "initial-pass-1")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("h1")).to_contain_text("周杰")
    form = page.locator('form[data-form="edit"]')
    form.locator("select[name=unit]").select_option("CA-T03-V01")
    form.locator("input[name=reason]").fill("充实村级帮办力量")
    form.get_by_role("button", name="保存修改").click()
    history = page.locator("ol[data-history] > li")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("单位：漳河店镇行政综合服务中心 → 漳河店村综合服务站")
    expect(history.first).to_contain_text("原因：充实村级帮办力量")
    office.snap("staff-history")

    page.goto("/admin/registry/staff")
    expect(page.locator('tr[data-stability="CA-T03-V01"] .changes')).to_have_text("1")
    office.snap("staff-list")
    page.goto("/admin/registry/units")
    expect(page.locator('tr[data-unit="CA-T03-V01"]')).to_contain_text("漳河店村综合服务站")
    office.snap("units")


def test_an_administrator_adds_a_village_station_and_retires_it(person):
    """R-3.3: a new village station below a township (its level follows), then retired: it stays in the
    tree marked 已撤销; the county's 民政局 cannot be retired while it has staff and matters."""
    admin = person("系统管理员")
    admin.login("chenguodong")
    page = admin.page
    page.goto("/admin/registry/units")
    page.locator('tr[data-unit="CA-T09"]').get_by_role("link", name="＋ 下级单位").click()
    expect(page.locator('input[name=kind][value=village_station]')).to_be_checked()
    page.fill("input[name=code]", "CA-T09-V91")
    page.fill("input[name=name]", "东槐村综合服务站（e2e）")
    page.fill("input[name=address]", "长巷乡东槐村村委会")
    page.get_by_role("button", name="新建单位").click()
    row = page.locator('tr[data-unit="CA-T09-V91"]')
    expect(row).to_contain_text("村（社区）级")
    page.locator('tr[data-unit="CA-MZ"]').get_by_role("button", name="撤销").click()
    expect(page.locator(".flash-error")).to_contain_text("名在岗工作人员")
    page.locator('tr[data-unit="CA-T09-V91"]').get_by_role("button", name="撤销").click()
    expect(page.locator('tr[data-unit="CA-T09-V91"]')).to_contain_text("已撤销")
    admin.snap("units-admin", part=page.locator("main"))
