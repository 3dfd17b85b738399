"""The one clock. Nothing else in the code base reads the wall clock."""

from __future__ import annotations

from datetime import datetime, timezone


class Clock:
    """The system clock; tests travel in time with time-machine, which moves it for everyone."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        return datetime.now(timezone.utc)


class FixedClock(Clock):
    """A clock that stands still until told to move; for engine-level tests without a database."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**delta)
