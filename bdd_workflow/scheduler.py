"""APScheduler wiring only. The database says what is due; the scheduler only wakes the service.

A poll job runs every ``poll_seconds`` (one indexed query when nothing is due) and fires what is
due; when the next timer falls due before the next poll, a one-shot job is set for exactly its
due time. So a timer fires within a fraction of a second of its due time, a restart loses nothing
(the rows are still there; the first tick fires every missed timer, oldest first), and two
schedulers never fire one timer twice in effect (services/timers.py locks each case).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .services.timers import fire_due_timers, next_due_at
from .system import System

log = logging.getLogger(__name__)


class TimerScheduler:
    """Fires due timers on time; embedded in ``bdd serve`` or run alone by ``bdd scheduler``."""

    def __init__(self, system: System, poll_seconds: float = 1.0, blocking: bool = False) -> None:
        self.system = system
        self.poll_seconds = poll_seconds
        defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        cls = BlockingScheduler if blocking else BackgroundScheduler
        self.scheduler = cls(timezone=timezone.utc, job_defaults=defaults)
        self._lock = threading.Lock()  # one firing pass at a time in this process
        self.fired = 0

    def start(self) -> None:
        self.scheduler.add_job(self.tick, "interval", seconds=self.poll_seconds, id="bdd-poll",
                               next_run_time=self.system.clock.now())
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def tick(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a pass is running; it fires whatever this one would have
        try:
            count = fire_due_timers(self.system)
            self.fired += count
            if count:
                log.info("fired %d timer(s)", count)
            self._plan_next()
        except Exception:  # keep the scheduler alive; the rows stay pending and the next tick retries
            log.exception("firing due timers failed")
        finally:
            self._lock.release()

    def _plan_next(self) -> None:
        upcoming = next_due_at(self.system)
        if upcoming is None:
            return
        now = self.system.clock.now()
        if upcoming - now < timedelta(seconds=self.poll_seconds):
            self.scheduler.add_job(self.tick, "date", run_date=max(upcoming, now), id="bdd-next",
                                   replace_existing=True)
