"""The working-day calendar: promised deadlines (承诺期限, R-9.3.2.2) and SLAs counted in working days."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bdd_workflow.workdays import PACKAGE_LAST_YEAR, WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def close_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(17, 30), SHANGHAI)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar.load("Asia/Shanghai", "17:30")


def test_national_day_holidays_are_skipped(cal):
    """1–8 Oct 2025 were holidays: 30 Sep + 2 working days is the close of Friday 10 Oct."""
    due, provisional = cal.add_working_days(local(2025, 9, 30, 10, 0), 2)
    assert due == close_of("2025-10-10")
    assert due.isoformat() == "2025-10-10T17:30:00+08:00"
    assert provisional is False


def test_make_up_sunday_before_national_day_is_a_working_day(cal):
    """Sat 27 Sep 2025 + 1: Sunday 28 Sep was a make-up working day (调休)."""
    assert date(2025, 9, 27).weekday() == 5
    due, _ = cal.add_working_days(local(2025, 9, 27, 10, 0), 1)
    assert due == close_of("2025-09-28")


def test_make_up_saturday_after_national_day_is_a_working_day(cal):
    """Fri 10 Oct 2025 + 1: Saturday 11 Oct was a make-up working day."""
    due, _ = cal.add_working_days(local(2025, 10, 10, 9, 0), 1)
    assert due == close_of("2025-10-11")


def test_is_workday_knows_holidays_and_make_up_days(cal):
    assert not cal.is_workday(date(2025, 10, 1))
    assert not cal.is_workday(date(2025, 10, 8))
    assert cal.is_workday(date(2025, 9, 28))
    assert cal.is_workday(date(2025, 10, 11))
    assert not cal.is_workday(date(2025, 10, 12))


def test_ordinary_week_monday_plus_one_is_tuesday_close(cal):
    due, provisional = cal.add_working_days(local(2025, 3, 3, 9, 0), 1)  # Monday
    assert due == close_of("2025-03-04")
    assert provisional is False


def test_friday_plus_one_is_monday(cal):
    due, _ = cal.add_working_days(local(2025, 3, 7, 9, 0), 1)
    assert due == close_of("2025-03-10")


def test_start_counts_by_local_date_not_utc_date(cal):
    """2025-03-03T20:00Z is Tuesday 04:00 in Cheng'an: one working day later is Wednesday's close."""
    start = datetime(2025, 3, 3, 20, 0, tzinfo=timezone.utc)
    assert start.astimezone(SHANGHAI).date() == date(2025, 3, 4)
    due, _ = cal.add_working_days(start, 1)
    assert due == close_of("2025-03-05")
    assert due.utcoffset() == timedelta(hours=8)


def test_workday_end_is_configurable():
    cal = WorkingCalendar.load("Asia/Shanghai", "18:00")
    due, _ = cal.add_working_days(local(2025, 3, 3, 9, 0), 1)
    assert due == local(2025, 3, 4, 18, 0)


def test_deadline_past_the_package_years_is_provisional(cal):
    """Past the last announced year only weekends count as days off, and the deadline says so."""
    start = local(PACKAGE_LAST_YEAR, 12, 30, 9, 0)
    due, provisional = cal.add_working_days(start, 5)
    assert due.year == PACKAGE_LAST_YEAR + 1
    assert provisional is True
    assert cal.is_known(date(PACKAGE_LAST_YEAR, 12, 31))
    assert not cal.is_known(date(PACKAGE_LAST_YEAR + 1, 1, 4))


def test_deadline_inside_known_years_is_not_provisional(cal):
    due, provisional = cal.add_working_days(local(PACKAGE_LAST_YEAR, 3, 2, 9, 0), 3)
    assert due.year == PACKAGE_LAST_YEAR and provisional is False


needs_2027_unknown = pytest.mark.skipif(PACKAGE_LAST_YEAR >= 2027, reason="chinesecalendar now knows 2027")


@needs_2027_unknown
def test_unknown_year_counts_weekdays_only():
    cal = WorkingCalendar.load("Asia/Shanghai", "17:30")
    # 2027-01-01 is a Friday; without a schedule it counts as a working day.
    due, provisional = cal.add_working_days(local(2026, 12, 31, 9, 0), 1)
    assert due == close_of("2027-01-01") and provisional is True
    due, provisional = cal.add_working_days(local(2027, 1, 8, 9, 0), 1)  # Friday -> Monday
    assert due == close_of("2027-01-11") and provisional is True


@pytest.fixture
def county_2027(tmp_path):
    path = tmp_path / "calendar_overrides.json"
    path.write_text(json.dumps({
        "years": [2027],
        "holidays": ["2027-01-01", "2027-02-08", "2027-02-09"],
        "workdays": ["2027-02-07"],
    }), encoding="utf-8")
    return WorkingCalendar.load("Asia/Shanghai", "17:30", path)


@needs_2027_unknown
def test_override_file_makes_a_new_year_known(county_2027):
    assert county_2027.is_known(date(2027, 6, 1))
    assert county_2027.last_known_year() == 2027
    _, provisional = county_2027.add_working_days(local(2027, 3, 1, 9, 0), 3)
    assert provisional is False
    _, provisional = county_2027.add_working_days(local(2027, 12, 30, 9, 0), 3)
    assert provisional is True, "2028 is still unknown"


@needs_2027_unknown
def test_override_holidays_are_days_off(county_2027):
    """Thu 31 Dec 2026 + 1: 1 Jan 2027 is a listed holiday, then a weekend: Monday 4 Jan."""
    due, provisional = county_2027.add_working_days(local(2026, 12, 31, 9, 0), 1)
    assert due == close_of("2027-01-04")
    assert provisional is False


def test_override_workdays_are_working_days(county_2027):
    """Fri 5 Feb 2027 + 1: Sunday 7 Feb is a listed make-up day. + 2: Mon/Tue 8–9 Feb are holidays -> Wed 10."""
    assert county_2027.add_working_days(local(2027, 2, 5, 9, 0), 1) == (close_of("2027-02-07"), False)
    assert county_2027.add_working_days(local(2027, 2, 5, 9, 0), 2) == (close_of("2027-02-10"), False)


def test_override_holiday_inside_package_years_is_respected(tmp_path):
    """A county closure in a year the package knows (holidays apply whatever the year)."""
    path = tmp_path / "overrides.json"
    path.write_text(json.dumps({"holidays": ["2025-03-04"]}), encoding="utf-8")
    cal = WorkingCalendar.load("Asia/Shanghai", "17:30", path)
    due, _ = cal.add_working_days(local(2025, 3, 3, 9, 0), 1)
    assert due == close_of("2025-03-05")


def test_missing_override_file_is_ignored(tmp_path):
    cal = WorkingCalendar.load("Asia/Shanghai", "17:30", tmp_path / "absent.json")
    assert cal.holidays == set() and cal.override_years == set()


def test_zero_days_on_a_working_day_is_that_days_close(cal):
    """Docstring: zero days means the close of the start day if it is a working day."""
    assert cal.add_working_days(local(2025, 3, 3, 9, 0), 0) == (close_of("2025-03-03"), False)


def test_zero_days_on_a_day_off_is_the_next_working_days_close(cal):
    """... else the close of the next working day (Sat 4 Oct 2025, in the holiday, -> Thu 9 Oct)."""
    assert cal.add_working_days(local(2025, 10, 4, 9, 0), 0) == (close_of("2025-10-09"), False)
    assert cal.add_working_days(local(2025, 3, 8, 9, 0), 0) == (close_of("2025-03-10"), False)


def test_negative_days_raise(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(local(2025, 3, 3, 9, 0), -1)
