"""The applicant-facing pages (apply online, status, 好差评, 五公开) and the staff papers (委托书, 办结单,
一次性告知单, signatures, the window's rating device, archive and publicity), through the Flask test client.
R-9.1.2, R-9.2.1, R-9.2.3, R-9.3.1, R-5.4, R-7.1.2 b, R-7.2.1, R-9.4, R-10.1, R-6.2."""

from __future__ import annotations

import base64
import io
import re

import pytest
from lxml import html
from sqlalchemy import select

from bdd_workflow.app import create_app
from bdd_workflow.db.models import Attachment, Evaluation, Publicity, Staff
from bdd_workflow.services.identity import actor_by_id
from bdd_workflow.views import public as public_views
from bdd_workflow.views.documents import documents
from bdd_workflow.views.web_common import new_session_values

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NUMBER = re.compile(r'class="case-number"[^>]*>([A-Z]{2}\d+)<')
PHONE = "13812345678"
SEVEN = ("assist", "callback", "complaint", "consultation", "onsite", "proxy", "rectification")
# Valid submissions for the proxy steps (forms/proxy_*.json).
PROXY_STEPS = [
    ("record_entrustment", {"entrustment_signed": True, "entrustment_number": "WT-2025-001",
                            "entrustment_signed_date": "2025-10-09", "entrusted_items": "代为申领高龄津贴"}),
    ("submit_on_behalf", {"submitted": True, "approval_department": "成安县民政局", "submission_date": "2025-10-10"}),
    ("track_approval", {"tracking_notes": "已与审批科室沟通，材料在审核中。", "needs_correction": False}),
    ("hand_over_results", {"handed_over_documents": ["高龄津贴审批表", "全部申请材料原件"], "all_handed_over": True}),
    ("sign_completion_receipt", {"receipt_signed": True, "receipt_number": "BJ-2025-001"}),
]


@pytest.fixture
def web(system):
    app = create_app(system=system)
    app.config.update(TESTING=False)  # errors go through the app's own handlers, as in production
    if "documents" not in app.blueprints:  # until app.py registers it
        app.register_blueprint(documents)
    return app


@pytest.fixture
def anon(web):
    return web.test_client()


@pytest.fixture
def staff_client(web, system):
    """``staff_client("zhangwei")``: a browser session logged in as that demo user."""

    def make(username: str):
        with system.db.unit_of_work(write=False) as session:
            staff_id = session.scalar(select(Staff.id).where(Staff.username == username))
        client = web.test_client()
        with client.session_transaction() as session_data:
            session_data.update(new_session_values(system, actor_by_id(system, staff_id)))
        return client

    return make


def csrf(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return CSRF.search(page.get_data(as_text=True)).group(1)


def text(response) -> str:
    return response.get_data(as_text=True)


def proxy_case(desk, until: str | None = None) -> dict:
    """A proxy case of 高龄津贴申领 (GR-007) started at the 民政局 window, walked up to (not through) ``until``."""
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-007")
    for name, data in PROXY_STEPS:
        if name == until:
            break
        desk.do(case["id"], name, data)
    return desk.case(case["id"])


def apply(client, **fields):
    form = {"csrf_token": csrf(client, "/public/apply"), "applicant_name": "李桂兰", "applicant_phone": PHONE,
            "applicant_type": "personal", "service": "assist", "matter_code": "GR-007", "address": ""}
    form.update(fields)
    return client.post("/public/apply", data=form)


# --- apply online, look up, rate ------------------------------------------------------------------

def test_r_9_3_1_onsite_application_without_address_shows_the_error_next_to_the_field(anon):
    response = apply(anon, service="onsite", address="  ")
    assert response.status_code == 422
    doc = html.fromstring(text(response))
    # the onsite diagram's start form asks for the address; its error sits in that field, described by it
    field = doc.xpath('//fieldset[@data-start-form="onsite"]//input[@name="address"]/..')[0]
    error = field.xpath('.//*[@role="alert"]')[0]
    assert error.text_content().strip() == "上门办需要填写上门地址。"
    assert error.get("id") in field.xpath('.//input[@name="address"]/@aria-describedby')[0].split()
    assert doc.xpath('//input[@name="applicant_name"]/@value') == ["李桂兰"]  # what was typed stays
    # a wrong phone and no address: both said in one answer
    response = apply(anon, service="onsite", address="", applicant_phone="123")
    doc = html.fromstring(text(response))
    assert doc.xpath('//input[@name="address"]/..//*[@role="alert"]')[0].text_content().strip() == "上门办需要填写上门地址。"
    assert doc.xpath('//input[@name="applicant_phone"]/..//*[@role="alert"]')


def test_apply_refuses_a_matter_without_the_chosen_service_and_a_filled_honeypot(anon):
    response = apply(anon, service="onsite", matter_code="GR-006", address="成安镇东关社区")  # 户口迁移: no onsite
    assert response.status_code == 422
    assert "不提供上门办服务" in text(response)
    assert apply(anon, website="http://spam.example").status_code == 400
    assert anon.post("/public/apply", data={"applicant_name": "x"}).status_code == 400  # no CSRF token


def test_r_9_1_2_online_application_gives_a_number_that_looks_up_only_with_its_phone(anon):
    response = apply(anon)
    assert response.status_code == 200
    page = text(response)
    number = NUMBER.search(page).group(1)
    assert number.startswith("BB")
    assert 'src="data:image/svg+xml' in page and f"/public/cases/{number}" in page  # QR to the status page

    token = csrf(anon, "/public/status")
    found = anon.post("/public/status", data={"csrf_token": token, "number": number.lower(), "phone": PHONE})
    assert found.status_code == 200
    shown = text(found)
    assert number in shown and "办理中" in shown and "成安县民政局" in shown and "当前环节" in shown

    wrong_phone = anon.post("/public/status", data={"csrf_token": token, "number": number, "phone": "13900000000"})
    wrong_number = anon.post("/public/status", data={"csrf_token": token, "number": "BB20990101999999", "phone": PHONE})
    assert wrong_phone.status_code == wrong_number.status_code == 404
    message = "没有找到这个办件：请核对办件编号和手机号。"
    assert message in text(wrong_phone) and message in text(wrong_number)
    assert "当前环节" not in text(wrong_phone)

    permalink = anon.get(f"/public/cases/{number}")
    assert permalink.status_code == 200 and "当前环节" not in text(permalink) and "手机号" in text(permalink)
    token = CSRF.search(text(permalink)).group(1)
    assert anon.post(f"/public/cases/{number}", data={"csrf_token": token, "phone": "13900000000"}).status_code == 404
    opened = anon.post(f"/public/cases/{number}", data={"csrf_token": token, "phone": PHONE})
    assert opened.status_code == 200 and "当前环节" in text(opened)


def test_r_10_1_online_rating_of_a_completed_case_once_and_a_second_time_refused(anon, desk, system):
    case = proxy_case(desk)
    assert case["status"] == "completed"
    token = csrf(anon, "/public/status")
    status = anon.post("/public/status", data={"csrf_token": token, "number": case["number"], "phone": PHONE})
    page = text(status)
    assert "已办结" in page and "签字确认办结单" in page
    for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert label in page
    token = CSRF.search(page).group(1)
    rating = {"csrf_token": token, "number": case["number"], "phone": PHONE, "satisfaction": "satisfied",
              "comment": "代办员很耐心"}
    first = anon.post("/public/rate", data=rating)
    assert first.status_code == 200 and "已收到" in text(first)
    again = anon.post("/public/rate", data={**rating, "satisfaction": "very_dissatisfied"})
    assert again.status_code == 409 and "通过网上评价评价为“满意”" in text(again) and "本次评价未记录" in text(again)
    with system.db.unit_of_work(write=False) as session:
        rows = session.scalars(select(Evaluation).where(Evaluation.case_id == case["id"], Evaluation.source == "online")).all()
    assert [(r.satisfaction, r.comment) for r in rows] == [("satisfied", "代办员很耐心")]


def test_rating_a_case_still_running_is_refused_politely(anon, desk):
    case = proxy_case(desk, until="submit_on_behalf")
    token = csrf(anon, "/public/status")
    refused = anon.post("/public/rate", data={"csrf_token": token, "number": case["number"], "phone": PHONE,
                                             "satisfaction": "satisfied"})
    assert refused.status_code == 409 and "办结后才能评价" in text(refused)


# --- 五公开 ---------------------------------------------------------------------------------------

def test_r_7_1_2_b_disclosure_lists_staff_duties_matters_with_notices_procedures_and_phone(anon):
    response = anon.get("/public/")
    assert response.status_code == 200
    page = text(response)
    staff = page[page.index('id="staff"'):page.index('id="duties"')]
    for name in ("张伟", "高红霞", "徐志强", "李建华"):
        assert name in staff
    assert "赵丽娜" not in staff  # consultants are not among the five disclosures' staff
    assert "首席服务专员" in staff and "成安县民政局" in staff
    assert "负责对帮办代办上门办事项进行全程指导、协调、督办。" in page
    assert "负责委托代办服务" in page
    assert "高龄津贴申领" in page and "企业设立登记" in page and "个人事项" in page and "涉企事项" in page
    assert "一次性告知：高龄津贴申领" in page and "公司章程" in page  # a notice, expandable
    for process in SEVEN:
        assert f'data-bpmn-url="/public/processes/{process}.bpmn"' in page
    assert "0310-7212345" in page[page.index('id="supervision"'):]


def test_the_diagram_route_returns_the_deployed_bpmn(anon):
    response = anon.get("/public/processes/proxy.bpmn")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    body = text(response)
    assert "definitions" in body and 'id="proxy"' in body and "record_entrustment" in body
    assert anon.get("/public/processes/nope.bpmn").status_code != 200


def test_the_viewer_is_served_from_node_modules_allowlisted_or_the_page_says_it_is_missing(anon, monkeypatch, tmp_path):
    viewer = public_views.NODE_MODULES / public_views.VENDOR_FILES[public_views.VIEWER]
    if viewer.is_file():
        served = anon.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")
        assert served.status_code == 200 and b"bpmn-js" in served.data[:200]
        served.close()
        assert '/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js' in text(anon.get("/public/"))
    assert anon.get("/vendor/bpmn-js/package.json").status_code == 404
    assert anon.get("/vendor/../pyproject.toml").status_code == 404
    monkeypatch.setattr(public_views, "NODE_MODULES", tmp_path)
    page = text(anon.get("/public/"))
    assert "流程图查看器未安装" in page and "bpmn-navigated-viewer" not in page
    assert 'data-bpmn-url="/public/processes/proxy.bpmn"' in page  # the diagrams can still be downloaded


# --- the papers ------------------------------------------------------------------------------------

def test_r_9_2_1_entrustment_shows_the_applicant_and_a_qr_code_and_requires_login(anon, staff_client, desk, system):
    case = proxy_case(desk, until="record_entrustment")
    url = f"/documents/cases/{case['id']}/entrustment"
    anonymous = anon.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    page = staff_client("xuzhiqiang").get(url)
    assert page.status_code == 200
    body = text(page)
    assert "代办服务委托书" in body and "王芳" in body and case["number"] in body and "高龄津贴申领" in body
    assert "徐志强" in body and "成安县民政局" in body
    assert re.search(r'<img class="qr" src="data:image/svg\+xml', body)
    # absolute, from BDD_PUBLIC_URL (here its development default), never from the Host header
    assert f"{system.settings.public_url}/public/cases/{case['number']}" in body
    assert "服务对象尚未签名" in body

    assert staff_client("lijianhua").get(url).status_code == 404  # another unit's staff (R-6.2)
    assert staff_client("zhangwei").get(url).status_code == 200  # the chief officer sees every case


def test_r_9_2_3_receipt_and_r_5_4_notice_are_filled_from_the_case(staff_client, desk):
    case = proxy_case(desk)
    client = staff_client("xuzhiqiang")
    receipt = text(client.get(f"/documents/cases/{case['id']}/completion-receipt"))
    assert "办结单" in receipt and "高龄津贴审批表" in receipt and "BJ-2025-001" in receipt and "WT-2025-001" in receipt
    assert "服务对象签名已存档" in receipt  # the desk signed the receipt before completing the step
    notice = text(client.get(f"/documents/cases/{case['id']}/notice"))
    assert "一次性告知单" in notice and "申请材料" in notice and "办理依据" in notice and "王芳" in notice
    assert 'class="qr"' in notice
    assist = desk.start("assist", by="gaohongxia", matter_code="GR-007")
    assert staff_client("gaohongxia").get(f"/documents/cases/{assist['id']}/entrustment").status_code == 404


def test_a_drawn_signature_is_stored_for_the_entrustment_step_and_shown_on_the_paper(staff_client, desk, system):
    case = proxy_case(desk, until="record_entrustment")
    client = staff_client("xuzhiqiang")
    url = f"/documents/cases/{case['id']}/entrustment"
    data_url = "data:image/png;base64," + base64.b64encode(desk.SIGNATURE_PNG).decode()
    saved = client.post(f"{url}/signature", data={"csrf_token": csrf(client, url), "signature_data": data_url})
    assert saved.status_code == 303

    task = desk.task(case["id"], "record_entrustment")
    with system.db.unit_of_work(write=False) as session:
        row = session.scalars(select(Attachment).where(Attachment.case_id == case["id"], Attachment.kind == "signature")).one()
    assert row.task_id == task.id and row.content_type == "image/png"

    body = text(client.get(url))
    assert "服务对象签名已存档" in body
    assert f'<img class="signature-image" src="/documents/attachments/{row.id}"' in body
    image = client.get(f"/documents/attachments/{row.id}")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == desk.SIGNATURE_PNG
    assert staff_client("lijianhua").get(f"/documents/attachments/{row.id}").status_code == 404

    desk.do(case["id"], "record_entrustment", PROXY_STEPS[0][1], sign=False)  # the signature on file suffices
    assert desk.ready_names(case["id"]) == ["submit_on_behalf"]

    bad = client.post(f"{url}/signature", data={"csrf_token": csrf(client, url), "signature_data": "data:text/html,<b>"})
    assert bad.status_code == 422 and "格式不正确" in text(bad)


# --- the window's rating device ---------------------------------------------------------------------

def test_r_7_2_1_the_counter_records_one_window_rating_per_case(anon, staff_client, desk, system):
    case = proxy_case(desk)
    client = staff_client("xuzhiqiang")
    waiting = text(client.get("/documents/counter"))
    assert case["number"] in waiting  # among my recently completed cases
    token = CSRF.search(waiting).group(1)
    tablet = client.post("/documents/counter", data={"csrf_token": token, "number": case["number"]})
    assert tablet.status_code == 200
    buttons = re.findall(r'name="satisfaction" value="(\w+)"', text(tablet))
    assert buttons == ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]

    thanks = client.post("/documents/counter/rate", data={"csrf_token": token, "number": case["number"],
                                                          "satisfaction": "very_satisfied"})
    assert thanks.status_code == 200 and "感谢" in text(thanks) and 'data-return-url="/documents/counter"' in text(thanks)
    with system.db.unit_of_work(write=False) as session:
        rows = session.scalars(select(Evaluation).where(Evaluation.case_id == case["id"])).all()
    window = [r for r in rows if r.source == "window"]
    assert [(r.satisfaction, r.recorded_by) for r in window] == [("very_satisfied", "xuzhiqiang")]

    again = client.post("/documents/counter/rate", data={"csrf_token": token, "number": case["number"],
                                                         "satisfaction": "dissatisfied"})
    assert again.status_code == 409
    refused = client.post("/documents/counter", data={"csrf_token": token, "number": case["number"]},
                          follow_redirects=True)
    assert "通过窗口评价器评价为“非常满意”" in text(refused)
    assert anon.get("/documents/counter").status_code == 302  # staff only
    other_unit = staff_client("lijianhua")  # 行政审批局: not this case's unit (R-6.2)
    token = csrf(other_unit, "/documents/counter")
    assert other_unit.post("/documents/counter/rate", data={"csrf_token": token, "number": case["number"],
                                                            "satisfaction": "satisfied"}).status_code == 404


# --- archive and publicity (留档宣传) --------------------------------------------------------------------

def test_r_9_4_a_chief_officer_publishes_a_write_up_and_an_assistant_cannot(anon, staff_client, desk, system):
    case = proxy_case(desk)
    archive = f"/documents/cases/{case['id']}/archive"
    assistant = staff_client("gaohongxia")
    token = csrf(assistant, archive)
    photo = {"csrf_token": token, "kind": "photo", "note": "上门核验",
             "file": (io.BytesIO(desk.SIGNATURE_PNG), "现场.png", "image/png")}
    assert assistant.post(f"{archive}/media", data=photo, content_type="multipart/form-data").status_code == 303

    rude = assistant.post(f"{archive}/writeups", data={"csrf_token": token, "title": "代办高龄津贴", "body": "别废话"})
    assert rude.status_code == 422 and "服务禁忌用语" in text(rude)
    drafted = assistant.post(f"{archive}/writeups", data={
        "csrf_token": token, "title": "民政局代办员上门代办高龄津贴",
        "body": "九旬老人行动不便，代办员全程代办，十个工作日内办结。"})
    assert drafted.status_code == 303
    with system.db.unit_of_work(write=False) as session:
        writeup = session.scalars(select(Publicity).where(Publicity.case_id == case["id"])).one()
    assert writeup.status == "draft" and writeup.author == "gaohongxia"
    assert "民政局代办员上门代办高龄津贴" not in text(anon.get("/public/"))

    page = text(assistant.get(archive))
    assert "上门核验" in page and "草稿" in page and ">审核发布</button>" not in page
    assert assistant.post(f"/documents/writeups/{writeup.id}/publish", data={"csrf_token": token}).status_code == 403

    chief = staff_client("zhangwei")
    chief_token = csrf(chief, archive)
    assert chief.post(f"/documents/writeups/{writeup.id}/publish", data={"csrf_token": chief_token}).status_code == 303
    public_page = text(anon.get("/public/"))
    assert "民政局代办员上门代办高龄津贴" in public_page and "九旬老人行动不便" in public_page
    assert "民政局代办员上门代办高龄津贴" in text(anon.get("/public/stories"))
    assert "王芳" not in text(anon.get("/public/stories"))

    assert chief.post(f"/documents/writeups/{writeup.id}/withdraw", data={"csrf_token": chief_token}).status_code == 303
    assert "民政局代办员上门代办高龄津贴" not in text(anon.get("/public/"))


def test_a_write_up_waits_for_the_case_to_be_completed(staff_client, desk):
    case = proxy_case(desk, until="hand_over_results")
    client = staff_client("xuzhiqiang")
    archive = f"/documents/cases/{case['id']}/archive"
    token = csrf(client, archive)
    early = client.post(f"{archive}/writeups", data={"csrf_token": token, "title": "标题", "body": "正文"})
    assert early.status_code == 409


def test_archive_accepts_a_video_larger_than_the_default_request_limit(staff_client, desk, system):
    """R-9.4: audio and video are larger than the app-wide request limit; the archive upload raises it for itself."""
    case = proxy_case(desk)
    client = staff_client("xuzhiqiang")
    archive = f"/documents/cases/{case['id']}/archive"
    big = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (system.settings.max_upload_bytes + 512 * 1024)
    upload = {"csrf_token": csrf(client, archive), "kind": "video", "file": (io.BytesIO(big), "回访.mp4", "video/mp4")}
    assert client.post(f"{archive}/media", data=upload, content_type="multipart/form-data").status_code == 303
    assert "回访.mp4" in text(client.get(archive))
    assert client.post("/public/apply", data={"x": "y" * (system.settings.max_upload_bytes + 128 * 1024)}).status_code == 413


def test_r_6_2_a_start_form_on_the_public_page_offers_no_staff(anon, desk):
    """The public application page renders each service's start form for anyone: a field referring to staff
    (x-ref staff) lists nobody there."""
    desk.add_field("onsite_apply", "known_staff", {"type": "string", "title": "联系过的工作人员", "x-ref": "staff"})
    doc = html.fromstring(text(anon.get("/public/apply")))
    field = doc.xpath('//fieldset[@data-start-form="onsite"]//*[@name="known_staff"]')[0]
    assert [o for o in field.xpath(".//option/@value") if o] == []
    assert "高红霞" not in text(anon.get("/public/apply"))
    # and sending one anyway tells nothing of who exists: the same answer for a real username and a made-up one
    answers = []
    for username in ("gaohongxia", "no_such_person"):
        response = apply(anon, service="onsite", address="成安镇北关村 3 号", known_staff=username)
        assert response.status_code == 422
        field = html.fromstring(text(response)).xpath('//*[@name="known_staff"]/..')[0]
        answers.append(field.xpath('.//*[@role="alert"]')[0].text_content().strip())
    assert answers == ["网上申请不填写工作人员，请留空。"] * 2
