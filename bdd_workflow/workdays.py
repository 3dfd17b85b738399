"""The Chinese working-day calendar: weekends and statutory holidays off, make-up days (调休) on.

The State Council publishes each year's schedule late in the year before; ``chinesecalendar``
carries the years announced so far. A county adds its own closures, or a new year's schedule
before the package knows it, in an override file (JSON)::

    {"years": [2027], "holidays": ["2027-01-01"], "workdays": ["2027-02-07"]}

``years`` lists years the file fully describes, so their deadlines are no longer provisional.
Past the last known year, only weekends count as days off and the deadline is *provisional*.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as _cc_constants

PACKAGE_LAST_YEAR = max(d.year for d in _cc_constants.holidays)
# The dates a filter or a report may ask about. Far outside, converting a local day to UTC overflows
# (0001-01-01 at +08:00 is before year 1), so such a date is refused or dropped, never computed.
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)
DAY_RANGE_MESSAGE = f"日期应在 {EARLIEST_DAY} 至 {LATEST_DAY} 之间。"


def in_day_range(day: date | None) -> bool:
    return day is not None and EARLIEST_DAY <= day <= LATEST_DAY


def day_or_none(value) -> date | None:
    """A date (or YYYY-MM-DD text) a filter can use, else None: the page drops what it cannot count."""
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value or "").strip())
        except ValueError:
            return None
    return value if in_day_range(value) else None


@dataclass
class WorkingCalendar:
    """Answers "is this a working day" and counts working days, with a county's overrides."""

    tz: ZoneInfo
    workday_end: time
    holidays: set[date] = field(default_factory=set)
    workdays: set[date] = field(default_factory=set)
    override_years: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, tz_name: str, workday_end: str, override_file: Path | None = None) -> "WorkingCalendar":
        hour, minute = (int(part) for part in workday_end.split(":"))
        cal = cls(tz=ZoneInfo(tz_name), workday_end=time(hour, minute))
        if override_file is not None and override_file.exists():
            raw = json.loads(override_file.read_text(encoding="utf-8"))
            cal.holidays = {date.fromisoformat(d) for d in raw.get("holidays", [])}
            cal.workdays = {date.fromisoformat(d) for d in raw.get("workdays", [])}
            cal.override_years = {int(y) for y in raw.get("years", [])}
        return cal

    def last_known_year(self) -> int:
        """The last year whose schedule is fully known (package or override)."""
        year = PACKAGE_LAST_YEAR
        while year + 1 in self.override_years:
            year += 1
        return year

    def is_known(self, day: date) -> bool:
        return day.year <= PACKAGE_LAST_YEAR or day.year in self.override_years

    def is_workday(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        if day.year <= PACKAGE_LAST_YEAR:
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def add_working_days(self, start: datetime, days: int) -> tuple[datetime, bool]:
        """End of the ``days``-th working day after ``start``'s local date; and whether provisional.

        The start day itself never counts, so a case accepted at 09:00 on a Monday with one
        working day is due at the close of Tuesday. Zero days means the close of the start day
        if it is a working day, else of the next working day.
        """
        if days < 0:
            raise ValueError("working days must not be negative")
        day = start.astimezone(self.tz).date()
        provisional = not self.is_known(day)
        if days == 0:
            while not self.is_workday(day):
                day += timedelta(days=1)
                provisional = provisional or not self.is_known(day)
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            provisional = provisional or not self.is_known(day)
            if self.is_workday(day):
                counted += 1
        return datetime.combine(day, self.workday_end, self.tz), provisional
