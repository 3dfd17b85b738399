"""Issue 16 item 9: the applicant's signature completes a step (x-signature), so it is attached only by someone
who may work that open step of that case; seeing the case is not enough. A refusal stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bdd_workflow.db.models import Attachment
from bdd_workflow.errors import Forbidden, FormInvalid
from bdd_workflow.services import attachments

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000200ff9a5d6d0a0000000049454e44ae426082")


def stored(system) -> int:
    with system.db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(Attachment))


def test_a_signature_is_attached_only_by_who_may_work_the_step(desk, system):
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
    step = desk.task(case["id"], "record_entrustment")
    before = stored(system)
    for onlooker in ("zhangwei", "gaohongxia"):  # the county chief officer and 民政局's assistant see the case
        with pytest.raises(Forbidden):
            attachments.add(system, desk.actor(onlooker), case["id"], "signature", PNG, "签名.png", "image/png",
                            task_id=step.id)
    with pytest.raises(FormInvalid):  # no step named: a signature for nothing
        attachments.add(system, desk.actor("xuzhiqiang"), case["id"], "signature", PNG, "签名.png", "image/png")
    assert stored(system) == before
    attachments.add(system, desk.actor("xuzhiqiang"), case["id"], "signature", PNG, "签名.png", "image/png",
                    task_id=step.id)
    assert stored(system) == before + 1


def test_a_signature_for_another_cases_step_is_refused(desk, system):
    first = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
    second = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
    step = desk.task(second["id"], "record_entrustment")
    with pytest.raises(FormInvalid):
        attachments.add(system, desk.actor("xuzhiqiang"), first["id"], "signature", PNG, "签名.png", "image/png",
                        task_id=step.id)
