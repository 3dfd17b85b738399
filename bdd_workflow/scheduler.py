"""APScheduler wiring only. The database says what is due; the scheduler only wakes the service.

A poll job runs every ``poll_seconds`` (one indexed query when nothing is due) and fires what is
due; while the next timer falls due before the next poll, the same run waits for exactly that
moment and fires again. So a timer fires within milliseconds of its due time, a restart loses
nothing (the rows are still there; the first run fires every missed timer, oldest first), and two
schedulers never fire one timer twice in effect (services/timers.py locks each case).
"""

from __future__ import annotations

import logging
import threading
from datetime import timezone

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
        self._lock = threading.Lock()  # one firing run at a time in this process
        self._stopping = threading.Event()
        self.fired = 0

    def start(self) -> None:
        # Two instances may overlap: the second finds the lock taken and returns at once (no
        # "maximum instances reached" warnings while a run waits for a dense stream of timers).
        self.scheduler.add_job(self.tick, "interval", seconds=self.poll_seconds, id="bdd-poll",
                               next_run_time=self.system.clock.now(), max_instances=2)
        self.scheduler.start()

    def shutdown(self) -> None:
        self._stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def tick(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a run is going on; it fires whatever this one would have
        try:
            while not self._stopping.is_set():
                count = fire_due_timers(self.system)
                self.fired += count
                if count:
                    log.info("fired %d timer(s)", count)
                wait = self._until_next()
                if wait is None or wait >= self.poll_seconds:
                    return  # the poll job comes back before then
                if wait > 0 and self._stopping.wait(wait):
                    return
        except Exception:  # keep the scheduler alive; the rows stay pending and the next run retries
            log.exception("firing due timers failed")
        finally:
            self._lock.release()

    def _until_next(self) -> float | None:
        upcoming = next_due_at(self.system)
        if upcoming is None:
            return None
        return (upcoming - self.system.clock.now()).total_seconds()
