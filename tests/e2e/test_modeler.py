"""The process administrator's modeler in the browser (issue 5, items 6 and 10): open a deployed diagram,
add a user task and a timer with the modeler's own tools, set their form, role, deadline, instructions,
timer expression and requirement ID in the properties panel, validate (the server's checks and bpmnlint),
see the problems marked on the elements, fix them, deploy a new version; a case started before keeps its
version while a new case runs on the new one. And every diagram of the BPMN MIWG reference suite, drawn
by other tools, opens in the modeler.

This module runs its own server (module scope): it deploys a new version of `assist`, which the other
end-to-end tests must not see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bdd_workflow.config import PROJECT_ROOT

from e2e_support import SCREENSHOTS, Person, api, readme_picture, running_server

MIWG = PROJECT_ROOT.parent / "shared" / "bpmn-corpus" / "miwg"  # the folder of the shared_dir fixture
MIWG_FILES = sorted(p.name for p in MIWG.glob("*.bpmn")) if MIWG.is_dir() else ["(corpus absent)"]
ISO_8859_1 = {"A.1.0.bpmn", "A.2.0.bpmn", "A.3.0.bpmn", "A.4.0.bpmn", "B.1.0.bpmn", "B.2.0.bpmn"}
BUNDLE = PROJECT_ROOT / "web" / "static" / "dist" / "modeler.js"


@pytest.fixture(scope="module")
def modeler_server(tmp_path_factory, chromium_path) -> Iterator[str]:
    """`bdd serve` on a free port with the demo county, for this module alone (it deploys versions)."""
    if not BUNDLE.exists():
        pytest.skip("the modeler bundle is not built: run `npm ci && npm run build` in web/ (scripts/test does)")
    with running_server(tmp_path_factory, "e2e-modeler-instance", env={"BDD_SECRET_KEY": "e2e-modeler-secret"}) as url:
        yield url


@pytest.fixture
def administrator(browser, modeler_server, album):
    person = Person(browser, modeler_server, "chenguodong", album)
    person.errors = []  # uncaught script errors: the CSP (script-src 'self', no eval) must not break the bundle
    person.page.on("pageerror", lambda error: person.errors.append(str(error)))
    person.login("chenguodong")
    yield person
    person.close()
    assert not person.errors, person.errors


def start_assist_case(server: str, token: str, name: str) -> dict:
    return api(server, "/api/v1/cases", {"process": "assist", "data": {
        "applicant_name": name, "applicant_phone": "13812345678", "applicant_type": "personal",
        "matter_code": "GR-002", "channel": "walk_in"}}, token)


# --- driving bpmn-js the way a person does: palette, context pad, mouse ------------------------------------

def to_screen(page, x: float, y: float) -> tuple[float, float]:
    """Diagram coordinates -> page coordinates (the canvas is zoomed to fit)."""
    return tuple(page.evaluate("""([x, y]) => {
        const canvas = bddModeler.get('canvas'), box = canvas.viewbox();
        const rect = canvas.getContainer().getBoundingClientRect();
        return [rect.left + (x - box.x) * box.scale, rect.top + (y - box.y) * box.scale];
    }""", [x, y]))


def shape(page, element_id: str) -> dict:
    return page.evaluate("""(id) => { const e = bddModeler.get('elementRegistry').get(id);
        return { id: e.id, type: e.type, x: e.x, y: e.y, width: e.width, height: e.height,
                 incoming: e.incoming.map(c => c.source.id), outgoing: e.outgoing.map(c => c.target.id) }; }""", element_id)


def click_on(page, element_id: str) -> None:
    """Click an element where it is drawn: a shape in its middle, a flow in the middle of its first segment."""
    x, y = page.evaluate("""(id) => { const e = bddModeler.get('elementRegistry').get(id);
        if (e.waypoints) { const [a, b] = e.waypoints; return [(a.x + b.x) / 2, (a.y + b.y) / 2]; }
        return [e.x + e.width / 2, e.y + e.height / 2]; }""", element_id)
    page.mouse.click(*to_screen(page, x, y))
    assert selected(page)["id"] in (element_id, element_id + "_label")  # a label stands for its element


def selected(page) -> dict:
    element_id = page.evaluate("bddModeler.get('selection').get().map(e => e.id)[0]")
    return shape(page, element_id)


def palette_drop(page, entry: str, x: float, y: float, name: str | None = None) -> dict:
    """Take a shape from the palette and drop it at diagram point (x, y); type its name into the label
    editor that opens (or leave it empty); returns the new, selected shape."""
    page.click(f".djs-palette .entry.{entry}")
    sx, sy = to_screen(page, x, y)
    page.mouse.move(sx - 40, sy + 40, steps=3)
    page.mouse.move(sx, sy, steps=8)
    page.mouse.click(sx, sy)
    editor = page.locator(".djs-direct-editing-parent .djs-direct-editing-content")
    if editor.is_visible():
        if name:
            page.keyboard.type(name)
        page.keyboard.press("Enter")
    expect(editor).to_be_hidden()
    return selected(page)


def make_space(page, x: float, y: float, width: float) -> None:
    """The space tool: push everything right of diagram x further right by ``width``."""
    page.click(".djs-palette .entry.bpmn-icon-space-tool")
    sx, sy = to_screen(page, x, y)
    ex, _ = to_screen(page, x + width, y)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 20, sy, steps=4)
    page.mouse.move(ex, sy, steps=12)
    page.mouse.up()


def scroll_to(page, element_id: str) -> None:
    """Bring an element and the room right of it on screen: the diagrams are wider than the window, and a drop
    or a click off screen lands nowhere."""
    page.evaluate("""(id) => bddModeler.get('canvas').scrollToElement(bddModeler.get('elementRegistry').get(id),
        { top: 100, right: 400, bottom: 100, left: 100 })""", element_id)


def change_type(page, element_id: str, replace_id: str) -> dict:
    """Select the element, open 更改类型 (the wrench) in its context pad and choose ``replace_id``."""
    page.click(f".djs-element[data-element-id='{element_id}']")
    page.click(".djs-context-pad [data-action='replace']")
    page.click(f".djs-popup [data-id='{replace_id}']")
    return selected(page)


def panel(page, entry: str):
    """A field of the properties panel by its entry id (bio-properties-panel-<entry>)."""
    return page.locator(f"#bio-properties-panel-{entry}")


def set_text(page, entry: str, value: str) -> None:
    field = panel(page, entry)
    field.fill(value)
    field.press("Tab")
    page.wait_for_timeout(400)  # the panel writes after its input debounce


def validate(page) -> None:
    page.evaluate("delete document.querySelector('[data-bdd-modeler]').dataset.validated")
    page.click("[data-action=validate]")
    page.wait_for_selector("[data-bdd-modeler][data-validated]")


def problems_of(page, element_id: str) -> list[str]:
    return page.locator(f"[data-role=problems] li[data-element='{element_id}'] .problem-message").all_inner_texts()


# --- the scenario ------------------------------------------------------------------------------------------

def test_administrator_adds_a_task_and_a_timer_validates_fixes_and_deploys_a_new_version(modeler_server, administrator):
    """Issue 5 item 6: edit assist in the modeler, problems marked on the elements, deploy version 2; running
    cases keep their version (R-6.3 traceability: a deployed definition is never changed)."""
    server = modeler_server
    token = api(server, "/api/v1/auth/token", {"username": "gaohongxia", "password": "demo1234"})["token"]
    before = start_assist_case(server, token, "版本一的申请人")
    assert api(server, f"/api/v1/cases/{before['id']}", token=token)["version"] == 1

    page = administrator.page
    page.on("dialog", lambda dialog: dialog.accept())  # 部署为新版本？
    page.goto("/admin/processes")
    administrator.snap("versions-list")
    page.goto("/admin/processes/assist/modeler")
    page.wait_for_selector(".modeler-ready")
    expect(page.locator("[data-role=status]")).to_contain_text("已打开")
    expect(page.locator("[data-role=not-built]")).to_be_hidden()
    administrator.snap("assist-opened")

    # Room between 启动回访 and 帮办办结, then a task dropped onto the flow between them.
    callback = shape(page, "start_callback")
    gap_x = callback["x"] + callback["width"] + 25
    mid_y = callback["y"] + callback["height"] / 2
    make_space(page, gap_x, callback["y"] - 30, 280)
    assert shape(page, "assist_completed")["x"] >= callback["x"] + callback["width"] + 300
    scroll_to(page, "start_callback")
    task = palette_drop(page, "bpmn-icon-task", callback["x"] + callback["width"] + 100, mid_y)
    assert task["incoming"] == ["start_callback"] and task["outgoing"] == ["assist_completed"], task
    task = change_type(page, task["id"], "replace-with-user-task")
    assert task["type"] == "bpmn:UserTask"
    new_task = task["id"]

    # And a timer on the flow after it: an intermediate event turned into a timer.
    # Dropped half-way between the new task and the end event, as read from the canvas now (the replace above
    # may have redrawn it): on the flow after the task, whatever the canvas did meanwhile.
    scroll_to(page, new_task)
    placed, end = shape(page, new_task), shape(page, "assist_completed")
    event = palette_drop(page, "bpmn-icon-intermediate-event-none", (placed["x"] + placed["width"] + end["x"]) / 2,
                         mid_y)
    assert event["incoming"] == [new_task] and event["outgoing"] == ["assist_completed"], event
    timer = change_type(page, event["id"], "replace-with-timer-intermediate-catch")
    timer_id = timer["id"]
    expect(panel(page, "bdd-timer-type")).to_be_visible()
    page.click("[data-action=fit]")  # 适应窗口: the whole, now wider, diagram in view

    # Validate: the new task has no name, no form, no requirement ID; marked on it in red and listed.
    validate(page)
    assert page.locator("[data-bdd-modeler]").get_attribute("data-validated") == "errors"
    overlay = page.locator(f".bdd-problem-overlay[data-element='{new_task}']")
    expect(overlay).to_be_visible()
    expect(overlay).to_have_class(r"bdd-problem-overlay bdd-problem-error")
    messages = " ".join(problems_of(page, new_task))
    assert "表单" in messages, messages
    assert "需求编号" in messages, messages
    expect(page.locator(f".bdd-problem-overlay[data-element='{timer_id}']")).to_be_visible()
    # A click on the problem selects the element, and the panel shows its properties.
    page.click("[data-action=validate]")  # keep focus off the canvas
    page.locator(f"[data-role=problems] li[data-element='{new_task}']").first.click()
    assert selected(page)["id"] == new_task
    expect(panel(page, "bdd-form")).to_be_visible()
    administrator.snap("problems-marked")
    # For the README: closer in on the new steps (as with Ctrl + mouse wheel), then the whole diagram again.
    page.evaluate("""(id) => { const e = bddModeler.get('elementRegistry').get(id), canvas = bddModeler.get('canvas');
        const { outer } = canvas.viewbox(), scale = 0.95, w = outer.width / scale, h = outer.height / scale;
        canvas.viewbox({ x: e.x + e.width / 2 - w * 0.55, y: e.y + e.height / 2 - h * 0.4, width: w, height: h }); }""",
                  new_task)
    page.evaluate("window.scrollTo(0, 0)")
    readme_picture(page, "modeler", full_page=True)
    page.click("[data-action=fit]")

    # Fix it in the properties panel, without touching XML.
    set_text(page, "name", "归档帮办资料")
    panel(page, "bdd-form").select_option("assist_hand_over_results")
    panel(page, "bdd-requirement").select_option("R-9.1.5")
    # A role whose lane this diagram has not got: the panel says so and moves nothing.
    y_before = shape(page, new_task)["y"]
    panel(page, "bdd-lane").select_option("proxy_agent")
    expect(page.locator("[data-entry-id=bdd-lane] .bio-properties-panel-error")).to_contain_text("没有“代办员”泳道")
    assert shape(page, new_task)["y"] == y_before
    panel(page, "bdd-lane").select_option("assistant")
    set_text(page, "bdd-due-date", "add_working_days(now(), 2)")
    set_text(page, "bdd-instructions", "请把帮办过程中形成的资料整理归档。")
    administrator.snap("user-task-properties")

    page.locator(f"[data-role=problems] li[data-element='{timer_id}']").first.click()  # the timer's problem
    assert selected(page)["id"] == timer_id
    set_text(page, "name", "次日启动回访")
    panel(page, "bdd-timer-type").select_option("timeDate")
    set_text(page, "bdd-timer-expression", "add_working_days(now(), 1)")
    panel(page, "bdd-requirement").select_option("R-10.1")
    administrator.snap("timer-properties")

    xml = page.evaluate("bddModeler.saveXML().then(r => r.xml)")
    assert '<spiffworkflow:property name="form" value="assist_hand_over_results"' in xml
    assert '<spiffworkflow:property name="dueDate" value="add_working_days(now(), 2)"' in xml
    assert "<spiffworkflow:instructionsForEndUser>请把帮办过程中形成的资料整理归档。" in xml
    assert "add_working_days(now(), 1)</bpmn:timeDate>" in xml
    assert "<bpmn:documentation>R-9.1.5</bpmn:documentation>" in xml

    validate(page)
    errors = page.locator("[data-role=problems] li[data-severity=error]").all_inner_texts()
    assert page.locator("[data-bdd-modeler]").get_attribute("data-validated") == "clean", errors
    expect(page.locator(f".bdd-problem-overlay[data-element='{new_task}']")).to_have_count(0)
    expect(page.locator("[data-role=status]")).to_contain_text("校验通过")
    administrator.snap("validated-clean")

    # Save it as a draft first (not deployed), and download the .bpmn file as it stands.
    page.click("[data-action=save-draft]")
    expect(page.locator("[data-role=status]")).to_contain_text("草稿已保存")
    expect(page.locator("[data-role=dirty]")).to_be_hidden()
    with page.expect_download() as download:
        page.click("[data-action=download]")
    assert download.value.suggested_filename == "assist.bpmn"
    assert new_task in Path(download.value.path()).read_text(encoding="utf-8")

    page.click("[data-action=deploy]")
    expect(page.locator("[data-role=status]")).to_contain_text("assist 第 2 版")
    expect(page.locator("[data-role=dirty]")).to_be_hidden()
    administrator.snap("deployed-version-2")

    after = start_assist_case(server, token, "版本二的申请人")
    assert api(server, f"/api/v1/cases/{after['id']}", token=token)["version"] == 2
    assert api(server, f"/api/v1/cases/{before['id']}", token=token)["version"] == 1

    # The deployed version 2 holds the task as drawn, and opens again in the modeler (打开版本).
    page.click("[data-action=open-version]")
    page.click("[data-role=versions] a[data-process=assist][data-version='2']")
    page.wait_for_url("**/admin/processes/assist/modeler?version=2")
    page.wait_for_selector(".modeler-ready")
    expect(page.get_by_role("heading", name="帮办服务（第 2 版）")).to_be_visible()
    assert shape(page, new_task)["outgoing"] == [timer_id]
    page.click(f".djs-element[data-element-id='{new_task}']")
    expect(panel(page, "bdd-form")).to_have_value("assist_hand_over_results")


def test_leaving_with_unsaved_changes_asks_first(modeler_server, administrator):
    """Unsaved changes: the page asks before it is left (beforeunload); after 保存草稿 (Ctrl+S) it does not."""
    page = administrator.page
    page.goto("/admin/processes/proxy/modeler")
    page.wait_for_selector(".modeler-ready")
    assert page.evaluate("bddModelerPage.dirty") is False
    click_on(page, "record_entrustment")
    set_text(page, "name", "签订委托书")
    expect(page.locator("[data-role=dirty]")).to_be_visible()
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.click(".crumbs a", no_wait_after=True)  # 流程与版本
    page.wait_for_timeout(800)
    assert asked == ["beforeunload"]
    assert "/modeler" in page.url  # stayed: the person chose to stay

    page.keyboard.press("Control+s")
    expect(page.locator("[data-role=status]")).to_contain_text("草稿已保存")
    expect(page.locator("[data-role=dirty]")).to_be_hidden()
    page.click(".crumbs a")
    page.wait_for_url("**/admin/processes")
    assert asked == ["beforeunload"]  # not asked again
    expect(page.locator("#process-proxy")).to_contain_text("草稿")
    administrator.snap("draft-listed")


@pytest.mark.parametrize("name", MIWG_FILES)
def test_a_diagram_drawn_elsewhere_opens_in_the_modeler(modeler_server, administrator, shared_dir, name):
    """Issue 5 item 10: every MIWG reference diagram imports through 导入 .bpmn 文件 without an error
    (warnings, e.g. the ISO-8859-1 encoding of some, are listed, not fatal) and is drawn."""
    folder = shared_dir / "bpmn-corpus" / "miwg"
    if not folder.is_dir():
        pytest.skip(f"the MIWG corpus is not at {folder} (it lives in ../shared, outside the project)")
    page = administrator.page
    page.goto("/admin/processes/new/modeler")
    page.wait_for_selector(".modeler-ready")
    page.evaluate("delete document.querySelector('[data-bdd-modeler]').dataset.imported")  # the empty new diagram's
    page.set_input_files("[data-role=file]", str(folder / name))
    page.wait_for_selector("[data-bdd-modeler][data-imported=ok], [data-bdd-modeler][data-imported=error]")
    status = page.locator("[data-role=status]").inner_text()
    assert page.locator("[data-bdd-modeler]").get_attribute("data-imported") == "ok", status
    assert f"文件 {name}" in status
    assert page.locator(".djs-element.djs-shape").count() > 1
    if name in ISO_8859_1:  # bpmn-corpus/README.md: an encoding warning, listed, not an error
        expect(page.locator("[data-role=problems] li[data-severity=warning]").first).to_contain_text("encoding")
    expect(page.locator("[data-role=problems] li[data-severity=error]")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / f"modeler-miwg-{Path(name).stem}.png"))


def test_the_panel_shows_what_our_diagrams_say(modeler_server, administrator):
    """The properties panel reads the spiffworkflow extensions of the deployed diagrams (processes/README.md):
    a flow's condition, a boundary timer's expression and kind, a user task's form, unit, script and role
    (its lane: choosing another role moves it there), a service task's operator and parameters; nothing is
    lost when the diagram is saved again."""
    page = administrator.page
    page.goto("/admin/processes/consultation/modeler")
    page.wait_for_selector(".modeler-ready")
    original = page.evaluate("fetch(document.querySelector('[data-bdd-modeler]').dataset.xmlUrl).then(r => r.text())")
    click_on(page, "Flow_answerable_yes")
    expect(panel(page, "bdd-condition")).to_have_value("answerable == True")
    expect(panel(page, "bdd-default-flow")).not_to_be_checked()
    click_on(page, "contact_overdue")
    expect(panel(page, "bdd-timer-type")).to_have_value("timeDate")
    expect(panel(page, "bdd-timer-expression")).to_have_value('add_duration(now(), sla("contact"))')
    expect(panel(page, "bdd-interrupting")).not_to_be_checked()
    page.click(".djs-element[data-element-id='record_consultation']")
    expect(panel(page, "bdd-form")).to_have_value("consultation_record")
    expect(panel(page, "bdd-unit")).to_have_value('unit_of_kind("consultation_centre")')
    expect(panel(page, "bdd-pre-script")).to_have_value("related_matter = matter_code")
    expect(panel(page, "bdd-requirement")).to_have_value(re.compile(r"^R-"))
    administrator.snap("consultation-user-task")
    saved = page.evaluate("bddModeler.saveXML().then(r => r.xml)")
    assert saved.count("<spiffworkflow:") == original.count("<spiffworkflow:")

    # 角色（泳道）: another role's lane takes the task there; a role with no lane in this diagram is refused.
    click_on(page, "give_one_time_notice")
    expect(panel(page, "bdd-lane")).to_have_value("consultant")
    panel(page, "bdd-lane").select_option("chief_officer")
    page.wait_for_timeout(300)
    lane = page.evaluate("""() => bddModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane')
        .find(l => l.businessObject.flowNodeRef.some(n => n.id === 'give_one_time_notice')).businessObject.name""")
    assert lane == "首席服务专员"
    task, chief = shape(page, "give_one_time_notice"), shape(page, "Lane_chief_officer")
    assert chief["y"] <= task["y"] and task["y"] + task["height"] <= chief["y"] + chief["height"]
    panel(page, "bdd-lane").select_option("proxy_agent")
    expect(page.locator("[data-entry-id=bdd-lane] .bio-properties-panel-error")).to_contain_text("没有“代办员”泳道")
    assert shape(page, "give_one_time_notice")["y"] == task["y"]
    administrator.snap("role-moved-to-lane")

    page.on("dialog", lambda dialog: dialog.accept())  # leave the changed consultation diagram
    page.goto("/admin/processes/assist/modeler")
    page.wait_for_selector(".modeler-ready")
    click_on(page, "start_callback")
    expect(panel(page, "bdd-operator")).to_have_value("start_case")
    expect(panel(page, "bdd-result-variable")).to_have_value("callback_request")
    expect(panel(page, "bdd-parameters")).to_have_value("process = 'callback'\nrelation = 'callback'")


def test_a_start_event_names_its_start_form_in_the_panel(modeler_server, administrator):
    """R-9.3.1: the onsite start asks for the address through the start form its start event names; the
    panel shows it and offers the forms of forms/, and clearing it leaves the start asking for nothing more."""
    page = administrator.page
    page.goto("/admin/processes/onsite/modeler")
    page.wait_for_selector(".modeler-ready")
    click_on(page, "onsite_applied")
    expect(panel(page, "bdd-start-form")).to_have_value("onsite_apply")
    assert "上门办申请（onsite_apply）" in panel(page, "bdd-start-form").locator("option").all_inner_texts()
    administrator.snap("onsite-start-form")
    panel(page, "bdd-start-form").select_option("")
    saved = page.evaluate("bddModeler.saveXML().then(r => r.xml)")
    assert 'value="onsite_apply"' not in saved and 'id="onsite_applied"' in saved
