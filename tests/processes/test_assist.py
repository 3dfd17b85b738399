"""帮办 (R-9.1): every branch of the assist procedure, through the services and a real database."""

from __future__ import annotations

from sqlalchemy import select

from bdd_workflow.db.models import LedgerEntry


def start_assist(desk, matter="GR-002"):
    return desk.start("assist", by="gaohongxia", matter_code=matter)


def test_r_1_personal_matter_is_routed_to_its_responsible_unit(desk):
    """R-1: a personal matter is handled by its responsible unit (民政局 for 低保)."""
    case = start_assist(desk)
    assert case["unit"] == "CA-MZ"
    assert [t["name"] for t in case["tasks"]] == ["guide_materials"]
    assert case["tasks"][0]["role"] == "assistant" and case["tasks"][0]["unit"] == "CA-MZ"


def test_r_1_enterprise_matter_is_routed_to_the_approval_bureau(desk):
    """R-1: enterprise matters are handled end to end by the 行政审批局."""
    case = desk.start("assist", by="lijianhua", matter_code="QY-001", applicant_type="enterprise")
    assert case["unit"] == "CA-SPJ"
    assert case["tasks"][0]["unit"] == "CA-SPJ"


def test_r_9_1_3_2_complete_materials_accompanied_to_completion_and_callback(desk, form):
    """R-9.1.3.1–2, R-9.1.3.4–5, R-9.1.5, R-10.1: complete materials -> accompany -> track -> hand over -> callback."""
    case = start_assist(desk)
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    assert desk.ready_names(case["id"]) == ["accompany_submission"]
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予许可"))
    result = desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    assert result["case"]["status"] == "completed"
    callback = desk.linked(case["id"], "callback")
    assert callback["process"] == "callback"
    assert [(t["name"], t["role"], t["unit"]) for t in callback["tasks"]] == [("make_callback", "consultant", "CA-ZX")]


def test_r_9_1_3_5_every_step_of_an_assist_case_is_in_the_ledger(desk, form, system):
    """R-9.1.3.5: the ledger has the case's opening and every step, with who and when."""
    case = start_assist(desk)
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    with system.db.unit_of_work(write=False) as session:
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.case_id == case["id"]).order_by(LedgerEntry.id)).all()
    assert [e.step for e in entries] == ["opened", "guide_materials", "accompany_submission"]
    assert all(e.actor and e.at for e in entries)
    assert entries[1].actor == "gaohongxia" and entries[1].unit_code == "CA-MZ"
    assert entries[2].data["approval_department"] == "成安县民政局"


def test_r_9_1_3_3_missing_materials_listed_then_supplied_loops_back_to_guidance(desk, form):
    """R-9.1.3.3: missing materials are listed at once; once supplied, guidance resumes."""
    case = start_assist(desk)
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=False))
    assert desk.ready_names(case["id"]) == ["list_missing_materials"]
    desk.do(case["id"], "list_missing_materials", form("list_missing_materials", convert_to_proxy=False))
    assert desk.ready_names(case["id"]) == ["materials_await"]  # the applicant supplies them (R-4.a: or not)
    desk.do(case["id"], "materials_await", form("materials_await"))
    assert desk.ready_names(case["id"]) == ["guide_materials"]
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    assert desk.ready_names(case["id"]) == ["accompany_submission"]


def test_r_9_1_3_3_too_hard_converts_to_a_linked_proxy_case(desk, form):
    """R-9.1.3.3: when the applicant finds it too hard, the case converts to proxy (a new linked case)."""
    case = start_assist(desk)
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=False))
    result = desk.do(case["id"], "list_missing_materials", form(
        "list_missing_materials", convert_to_proxy=True, difficulty_reason="服务对象年老行动不便"))
    assert result["case"]["status"] == "completed"
    proxy = desk.linked(case["id"], "converted_to_proxy")
    assert proxy["process"] == "proxy"
    assert proxy["applicant_name"] == "王芳" and proxy["matter_code"] == "GR-002"
    # the proxy case begins with the entrustment, before any work on the applicant's behalf.
    assert [t["name"] for t in proxy["tasks"]] == ["record_entrustment"]
    back = [c for c in proxy["linked_cases"] if c["direction"] == "from"]
    assert back == [{"id": case["id"], "number": case["number"], "process": "assist",
                     "relation": "converted_to_proxy", "direction": "from", "status": "completed"}]
    # A converted case is not finished service: no callback until the proxy case closes.
    assert not [c for c in desk.case(case["id"])["linked_cases"] if c["relation"] == "callback"]


def test_r_9_4_the_hand_over_keeps_the_archive_note_in_the_ledger(desk, form, system):
    """R-9.4: at the end of a case staff note what audio/video and write-up they keep; it stays in the
    ledger with who and when (the files themselves are attached on the case page)."""
    case = start_assist(desk)
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"))
    desk.do(case["id"], "hand_over_results", form("hand_over_results", archive_note="留存办理过程录音一段，拟写美篇一篇"))
    with system.db.unit_of_work(write=False) as session:
        entry = session.scalars(select(LedgerEntry).where(LedgerEntry.case_id == case["id"],
                                                          LedgerEntry.step == "hand_over_results")).one()
    assert entry.data["archive_note"] == "留存办理过程录音一段，拟写美篇一篇"
    assert entry.actor == "gaohongxia"
