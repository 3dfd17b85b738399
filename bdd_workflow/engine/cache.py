"""Recently used workflows, kept in memory between requests so the next step of a case skips
deserialization.

The database stays the truth: an entry is used only when the case row read in the same
transaction still has the lock version the entry was saved at (every write of a case bumps it,
in any process), and it is taken out while a request works on it, so a failed run never leaves a
half-changed workflow behind. Each worker process has its own cache; a miss just deserializes.

A finished workflow is not kept: it has no next step, and in a full cache it would push out a case
that has one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from SpiffWorkflow.bpmn import BpmnWorkflow


class WorkflowCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[int, tuple[int, int, BpmnWorkflow]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def take(self, case_id: int, lock_version: int, definition_id: int) -> BpmnWorkflow | None:
        """The workflow saved at exactly this lock version of the case, removed from the cache."""
        if not self.size:
            return None
        with self._lock:
            entry = self._entries.pop(case_id, None)
        if entry is not None and entry[0] == lock_version and entry[1] == definition_id:
            self.hits += 1
            return entry[2]
        self.misses += 1
        return None

    def put(self, case_id: int, lock_version: int, definition_id: int, workflow: BpmnWorkflow) -> None:
        """Keep a workflow whose state was committed at ``lock_version``, unless it has finished (and
        then drop any older entry of its case)."""
        if not self.size:
            return
        if workflow.completed:
            with self._lock:
                self._entries.pop(case_id, None)
            return
        workflow.script_engine = None  # holds the finished run's context (and its session) otherwise
        with self._lock:
            self._entries[case_id] = (lock_version, definition_id, workflow)
            self._entries.move_to_end(case_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __contains__(self, case_id: int) -> bool:
        with self._lock:
            return case_id in self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
