"""Wires the pieces together once per process: settings, clock, database, engine, forms."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from .clock import Clock
from .config import Settings
from .db.models import Case, Evaluation, OrgUnit, ProcessDefinition, Staff
from .db.unit_of_work import Database
from .engine.parser import DiagramParser
from .engine.runner import Runner
from .engine.scripting import RunContext
from .engine.serializer import Serializer
from .engine.cache import WorkflowCache
from .forms import FormRegistry
from .phrases import PhraseBook
from .requirements import Requirements
from .workdays import WorkingCalendar

# Other worker processes see a change to the org tree within this long (logins are read from the
# database on every request, so an account's change holds at once everywhere).
ORG_TTL_SECONDS = 30.0


@dataclass
class OrgDirectory:
    """The org tree in memory: units change rarely and every request needs them."""

    by_code: dict[str, OrgUnit] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    # code -> (level, parent code): what the routing decision's functions walk (engine/scripting.py).
    tree: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def subtree(self, code: str | None) -> set[str]:
        if not code or code not in self.by_code:
            return set()
        prefix = self.by_code[code].path
        return {c for c, u in self.by_code.items() if u.path.startswith(prefix)}

    def name(self, code: str | None) -> str | None:
        unit = self.by_code.get(code or "")
        return unit.name if unit else None


class System:
    """Everything a service needs; built once by ``create_system`` and shared by web and CLI."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.db = Database(settings.database_url, settings.db_busy_seconds)
        self.serializer = Serializer()
        self.runner = Runner(timeout_seconds=settings.script_timeout_ms / 1000, memory_mb=settings.script_memory_mb)
        self.workflows = WorkflowCache(settings.workflow_cache_size)
        self.calendar = WorkingCalendar.load(
            settings.timezone, settings.workday_end, settings.instance_dir / "calendar_overrides.json"
        )
        # forms/*.json overridden by the newest version saved in the forms editor (cached, see forms.py).
        # The forbidden phrases: the 25 of 6.3.2 and those added in the registry (see phrases.py).
        self.phrases = PhraseBook(self.db)
        self.forms = FormRegistry(settings.forms_dir, db=self.db, phrases=self.phrases)
        self.requirements = Requirements.from_file(settings.requirements_file)
        self._specs: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._org: OrgDirectory | None = None
        self._org_loaded = 0.0
        self.verified_tokens: dict[str, tuple[Any, Any, float]] = {}  # services/identity.py
        # services/workload.py: a chief officer's peak alerts, per directing unit; any write here drops them.
        self.inbox_notices: dict[tuple[str, str | None], tuple[float, Any]] = {}
        self.db.after_write.append(self.inbox_notices.clear)

    # --- org directory -------------------------------------------------------------------------
    def org(self, session) -> OrgDirectory:
        """The org tree, cached; this process drops it on a change, other worker processes within
        ORG_TTL_SECONDS."""
        directory = self._org
        if directory is None or time.monotonic() - self._org_loaded > ORG_TTL_SECONDS:
            units = session.scalars(select(OrgUnit)).all()
            for unit in units:
                session.expunge(unit)
            codes = {u.id: u.code for u in units}
            directory = OrgDirectory(
                by_code={u.code: u for u in units},
                kinds={u.kind: u.code for u in sorted(units, key=lambda u: len(u.path))},
                tree={u.code: (u.level, codes.get(u.parent_id)) for u in units},
            )
            self._org, self._org_loaded = directory, time.monotonic()
        return directory

    def org_changed(self) -> None:
        self._org = None

    # --- engine ----------------------------------------------------------------------------------
    def run_context(self, session) -> RunContext:
        org = self.org(session)
        return RunContext(
            clock=self.clock, calendar=self.calendar, sla=self.settings.sla_values(),
            units_by_kind=dict(org.kinds), unit_tree=org.tree, directory=_Directory(self, session),
        )

    def parser(self, session=None, check_requirements: bool = False) -> DiagramParser:
        kinds = dict(self.org(session).kinds) if session is not None else {}

        def ctx() -> RunContext:
            # Deploy-time checks evaluate timers against every unit kind a diagram may name.
            sample = {k: k for k in ("county_centre", "consultation_centre", "approval_bureau")}
            sample.update(kinds)
            return RunContext(clock=self.clock, calendar=self.calendar, sla=self.settings.sla_values(), units_by_kind=sample)

        return DiagramParser(
            ctx_factory=ctx, form_exists=self.forms.exists, form_schema=lambda name: self.forms.get(name).schema,
            requirements=self.requirements if check_requirements else None,
            max_bytes=self.settings.max_upload_bytes,
        )

    def spec_for(self, session, definition_id: int) -> tuple[Any, dict[str, Any]]:
        """The deserialized spec of a deployed version, cached: versions never change."""
        cached = self._specs.get(definition_id)
        if cached is None:
            with self._lock:
                cached = self._specs.get(definition_id)
                if cached is None:
                    spec_json = session.scalar(select(ProcessDefinition.spec_json).where(ProcessDefinition.id == definition_id))
                    cached = self.serializer.load_spec(spec_json)
                    self._specs[definition_id] = cached
        return cached


def create_system(settings: Settings | None = None, clock: Clock | None = None) -> System:
    return System(settings or Settings.from_env(), clock)


class _Directory:
    """What a diagram's directing_unit / case_unit / staff_unit / staff_role / unit_has_staff /
    rating_of_record ask, answered from the database of the engine run's own transaction (once per question,
    but the rating, which a step of the run may record)."""

    def __init__(self, system: "System", session) -> None:
        self.system, self.session, self.asked = system, session, {}

    def _once(self, key, compute):
        if key not in self.asked:
            self.asked[key] = compute()
        return self.asked[key]

    def directing_unit(self, code: str) -> str | None:
        from .services.access import directing_unit  # services build on this module
        return self._once(("directs", code), lambda: directing_unit(self.system, self.session, code))

    def case_unit(self, number: str) -> str | None:
        from .db.models import Case
        return self._once(("case", number), lambda: self.session.scalar(
            select(Case.unit_code).where(Case.number == number[:32])))

    def unit_staffed(self, code: str, role: str) -> bool:
        from .db.models import Staff
        return self._once(("staffed", code, role), lambda: self.session.scalar(
            select(Staff.id).join(OrgUnit, Staff.unit_id == OrgUnit.id)
            .where(OrgUnit.code == code, OrgUnit.active, Staff.active, Staff.role == role).limit(1)) is not None)

    def rating_channel(self, number: str) -> str | None:
        """Asked afresh each time: a step of this very run may have just recorded the rating."""
        from .db.models import Case, Evaluation
        return self.session.scalar(select(Evaluation.source).join(Case, Case.id == Evaluation.case_id)
                                   .where(Case.number == number[:32], Evaluation.of_record))

    def staff(self, username: str) -> tuple[str | None, str | None]:
        from .db.models import Staff
        def look() -> tuple[str | None, str | None]:
            row = self.session.execute(select(OrgUnit.code, Staff.role).outerjoin(OrgUnit, Staff.unit_id == OrgUnit.id)
                                       .where(Staff.username == username[:64])).first()
            return (row.code, row.role) if row is not None else (None, None)
        return self._once(("staff", username), look)
