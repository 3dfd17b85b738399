"""The heatmap (R-4 supervision, issue 5 item 4): per element of a process version, how many cases passed
it in a period and the median time they spent there, with what waits there now; scoped by unit."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine

from bdd_workflow.errors import Forbidden, FormInvalid, NotFound, ProcessNotFound
from bdd_workflow.services.heatmap import heatmap, human_duration

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)  # a Tuesday, 09:00 in Cheng'an
DAY = date(2026, 3, 3)


def by_id(result):
    return {e["id"]: e for e in result["elements"]}


def guided_after(desk, form, hours: float, by: str = "gaohongxia", start=T0):
    """An assist case whose materials guidance took ``hours``; it then waits at accompany_submission."""
    with time_machine.travel(start, tick=False):
        case = desk.start("assist", by=by, matter_code="GR-002")
    with time_machine.travel(start + timedelta(hours=hours), tick=False):
        desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    return case


def test_counts_median_and_p90_match_cases_driven_by_hand(desk, form, system):
    """R-9.1.3: three cases guided in 1, 2 and 4 hours: 3 passages, median 2 hours, p90 4 hours; each now
    waits at accompany_submission; the start event and gateway are passed in no time."""
    for hours in (1, 2, 4):
        guided_after(desk, form, hours)
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        result = heatmap(system, desk.actor("zhangwei"), "assist", None, DAY, DAY)
    elements = by_id(result)
    guide = elements["guide_materials"]
    assert (guide["count"], guide["cases"]) == (3, 3)
    assert guide["median_seconds"] == 2 * 3600
    assert guide["p90_seconds"] == 4 * 3600 and guide["max_seconds"] == 4 * 3600
    assert guide["title"] == "指导准备申报材料"
    assert elements["materials_gateway"]["count"] == 3 and elements["materials_gateway"]["median_seconds"] == 0
    assert elements["assist_applied"]["count"] == 3
    # Not yet passed, but waiting there now.
    accompany = elements["accompany_submission"]
    assert accompany["count"] == 0 and accompany["median_seconds"] is None
    assert accompany["active_now"] == {"tasks": 3, "timers": 0}
    assert guide["active_now"] == {"tasks": 0, "timers": 0}
    assert result["max_count"] == 3 and result["passages"] >= 9
    assert result["version"] == 1 and result["versions"] == [1]
    assert result["period"] == {"start": "2026-03-03", "end": "2026-03-03"}


def test_an_even_count_takes_the_mean_of_the_middle_two(desk, form, system):
    for hours in (1, 2, 3, 10):
        guided_after(desk, form, hours)
    result = heatmap(system, desk.actor("wangxiuying"), "assist", 1, DAY, DAY)
    assert by_id(result)["guide_materials"]["median_seconds"] == 2.5 * 3600
    assert by_id(result)["guide_materials"]["p90_seconds"] == 10 * 3600  # nearest rank: ceil(0.9 * 4) = 4th


def test_the_period_is_in_local_days(desk, form, system):
    """A passage left at 23:30 local time on 3 March belongs to 3 March, not to the UTC date."""
    late = datetime(2026, 3, 3, 14, 0, tzinfo=timezone.utc)  # 22:00 in Cheng'an
    guided_after(desk, form, 1.5, start=late)  # left 23:30 local, 15:30 UTC
    guided_after(desk, form, 3, start=late)  # left 01:00 local on 4 March
    actor = desk.actor("zhangwei")
    assert by_id(heatmap(system, actor, "assist", None, DAY, DAY))["guide_materials"]["count"] == 1
    assert by_id(heatmap(system, actor, "assist", None, DAY + timedelta(days=1), DAY + timedelta(days=1)))[
        "guide_materials"]["count"] == 1
    assert by_id(heatmap(system, actor, "assist", None, DAY - timedelta(days=5), DAY - timedelta(days=1)))[
        "guide_materials"]["count"] == 0


def test_r_6_2_a_township_chief_officer_sees_his_units_cases_only(desk, form, system):
    """R-6.2, R-6.4.1: the township's chief officer counts the cases of his township; the county's all."""
    guided_after(desk, form, 1, by="gaohongxia")  # 民政局
    guided_after(desk, form, 3, by="zhaomin")  # 成安县第二个乡镇 CA-T02
    township = by_id(heatmap(system, desk.actor("liuhongtao"), "assist", None, DAY, DAY))["guide_materials"]
    county = by_id(heatmap(system, desk.actor("zhangwei"), "assist", None, DAY, DAY))["guide_materials"]
    assert (township["count"], township["median_seconds"]) == (1, 3 * 3600)
    assert county["count"] == 2
    # The unit filter narrows the county's view to one unit and the units below it.
    # (a unit's cases: those it handles and those its staff registered, as in the case search).
    narrowed = heatmap(system, desk.actor("zhangwei"), "assist", None, DAY, DAY, unit="CA-T02")
    assert by_id(narrowed)["guide_materials"]["count"] == 1 and narrowed["unit_name"]
    assert by_id(narrowed)["guide_materials"]["median_seconds"] == 3 * 3600
    with pytest.raises(Forbidden):
        heatmap(system, desk.actor("liuhongtao"), "assist", None, DAY, DAY, unit="CA-MZ")


def test_only_supervising_roles(desk, system):
    with pytest.raises(Forbidden):
        heatmap(system, desk.actor("gaohongxia"), "assist", None, DAY, DAY)


@pytest.mark.parametrize("args, error, field", [
    (("nosuch", None, DAY, DAY), ProcessNotFound, None),
    (("assist", 7, DAY, DAY), NotFound, None),
    (("assist", "x", DAY, DAY), FormInvalid, "version"),
    (("assist", None, "2026-13-01", DAY), FormInvalid, "from"),
    (("assist", None, DAY, DAY - timedelta(days=1)), FormInvalid, "to"),
    (("assist", None, DAY - timedelta(days=400), DAY), FormInvalid, "from"),
    (("", None, DAY, DAY), FormInvalid, "process"),
])
def test_bad_parameters_get_clear_errors(desk, system, args, error, field):
    with pytest.raises(error) as raised:
        heatmap(system, desk.actor("zhangwei"), *args)
    assert raised.value.message
    if field:
        assert field in raised.value.errors and raised.value.errors[field][0]


def test_an_unknown_unit_is_a_clear_error(desk, system):
    with pytest.raises(FormInvalid) as raised:
        heatmap(system, desk.actor("zhangwei"), "assist", None, DAY, DAY, unit="CA-NOPE")
    assert "CA-NOPE" in raised.value.errors["unit"][0]


def test_durations_read_at_a_glance():
    assert human_duration(2.5 * 3600) == "2.5 小时"
    assert human_duration(2 * 3600) == "2 小时"
    assert human_duration(35 * 60) == "35 分钟"
    assert human_duration(12) == "12 秒"
    assert human_duration(3 * 86400) == "3 天"
    assert human_duration(None) == "—"
