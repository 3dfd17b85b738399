"""Deploying diagrams: parse, check, store an immutable new version; or refuse and store nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lxml import etree
from sqlalchemy import bindparam, func, select
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from ..db.fast import Prepared
from ..db.models import DecisionDefinition, ProcessDefinition
from ..engine.xmlsafe import kind_of, parse_xml
from ..errors import ProcessNotFound
from ..roles import ADMINISTRATOR, CHIEF_OFFICER, role_of_lane
from ..system import System
from .audit import audit
from .identity import Actor, require_role


def _latest_decisions(session) -> list[DecisionDefinition]:
    newest = (select(DecisionDefinition.decision_id, func.max(DecisionDefinition.version).label("v"))
              .group_by(DecisionDefinition.decision_id).subquery())
    return list(session.scalars(select(DecisionDefinition).join(
        newest, (DecisionDefinition.decision_id == newest.c.decision_id) & (DecisionDefinition.version == newest.c.v))))


def latest_definitions(session) -> list[ProcessDefinition]:
    newest = (select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("v"))
              .group_by(ProcessDefinition.process_id).subquery())
    return list(session.scalars(select(ProcessDefinition).join(
        newest, (ProcessDefinition.process_id == newest.c.process_id) & (ProcessDefinition.version == newest.c.v))
        .order_by(ProcessDefinition.process_id)))


_LATEST = Prepared(select(ProcessDefinition.id, ProcessDefinition.process_id, ProcessDefinition.version,
                           ProcessDefinition.name, ProcessDefinition.starter_roles, ProcessDefinition.start_form)
                    .where(ProcessDefinition.process_id == bindparam("process_id"))
                    .order_by(ProcessDefinition.version.desc()).limit(1))


def latest_definition(session, process_id: str):
    """The newest version's id, process, version, name, starter roles and start form (a light row, every start
    needs it)."""
    definition = _LATEST.first(session, {"process_id": process_id})
    if definition is None:
        raise ProcessNotFound(f"流程 {process_id} 不存在或尚未部署。")
    return SimpleNamespace(**definition)


def _starter_roles(spec) -> list[str]:
    """Who may start a case: the role of the start event's lane, plus those who direct every case."""
    roles = {CHIEF_OFFICER, ADMINISTRATOR}
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent):
            role = role_of_lane(task_spec.lane)
            if role:
                roles.add(role)
    return sorted(roles)


def _store_processes(system: System, session, actor: Actor, xml: bytes, filename: str, now,
                     keep_others: bool = False) -> list[dict[str, Any]]:
    decisions = [d.dmn_xml.encode("utf-8") for d in _latest_decisions(session)]
    result = system.parser(session).parse(xml, filename, decisions)
    checksum = hashlib.sha256(xml + b"".join(decisions)).hexdigest()
    deployed = []
    for parsed in result.processes:
        previous = session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == parsed.process_id)
                                   .order_by(ProcessDefinition.version.desc()).limit(1)).first()
        if previous is not None and previous.checksum == checksum:
            deployed.append(definition_view(previous) | {"unchanged": True})
            continue
        if keep_others and previous is not None and previous.deployed_by != actor.username:
            # An administrator deployed the newest version (the modeler, the API): a folder deploy on start-up
            # does not put the file back over it.
            deployed.append(definition_view(previous) | {"unchanged": True, "kept": True})
            continue
        definition = ProcessDefinition(
            process_id=parsed.process_id, version=(previous.version + 1) if previous else 1, name=parsed.name,
            filename=filename, checksum=checksum, bpmn_xml=xml.decode("utf-8"),
            spec_json=system.serializer.dump_spec(parsed.spec, parsed.subprocess_specs),
            starter_roles=_starter_roles(parsed.spec), requirement_ids=parsed.requirement_ids,
            user_tasks=parsed.user_tasks, start_form=parsed.start_form, deployed_by=actor.username, deployed_at=now,
        )
        session.add(definition)
        session.flush()
        audit(session, now, actor.username, "process_deployed", detail={
            "process": definition.process_id, "version": definition.version, "filename": filename})
        deployed.append(definition_view(definition) | {"unchanged": False})
    return deployed


def deploy(system: System, actor: Actor, xml: bytes, filename: str,
           after: Callable[[Any, dict[str, Any]], None] | None = None, keep_others: bool = False) -> dict[str, Any]:
    """Deploy one BPMN or DMN file. Administrators only; audited; all or nothing.

    ``after(session, result)`` runs in the same unit of work (the modeler removes the deployed drafts).
    ``keep_others``: a process whose newest version someone else deployed keeps it (``kept`` in the result)."""
    require_role(actor, ADMINISTRATOR)
    now = system.clock.now()
    root = parse_xml(xml, filename, system.settings.max_upload_bytes)
    kind = kind_of(root)
    # Stored as UTF-8 whatever the file's declared encoding (the MIWG files are ISO-8859-1).
    xml = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True)
    with system.db.unit_of_work() as session:
        if kind == "bpmn":
            result = {"kind": "bpmn", "processes": _store_processes(system, session, actor, xml, filename, now, keep_others)}
        else:
            result = _store_decision(system, session, actor, xml, filename, now, keep_others)
        if after is not None:
            after(session, result)
        return result


def _store_decision(system: System, session, actor: Actor, xml: bytes, filename: str, now,
                    keep_others: bool = False) -> dict[str, Any]:
    result = system.parser(session).parse(xml, filename)
    checksum = hashlib.sha256(xml).hexdigest()
    stored = []
    for parsed in result.decisions:
        previous = session.scalars(select(DecisionDefinition).where(DecisionDefinition.decision_id == parsed.decision_id)
                                   .order_by(DecisionDefinition.version.desc()).limit(1)).first()
        if previous is not None and previous.checksum == checksum:
            stored.append({"decision": parsed.decision_id, "version": previous.version, "unchanged": True})
            continue
        if keep_others and previous is not None and previous.deployed_by != actor.username:
            stored.append({"decision": parsed.decision_id, "version": previous.version, "unchanged": True,
                           "kept": True, "deployed_by": previous.deployed_by})
            continue
        decision = DecisionDefinition(
            decision_id=parsed.decision_id, version=(previous.version + 1) if previous else 1, name=parsed.name,
            filename=filename, checksum=checksum, dmn_xml=xml.decode("utf-8"), deployed_by=actor.username, deployed_at=now)
        session.add(decision)
        session.flush()
        audit(session, now, actor.username, "decision_deployed", detail={"decision": decision.decision_id, "version": decision.version})
        stored.append({"decision": decision.decision_id, "version": decision.version, "unchanged": False})
    # A process embeds the decision it calls; redeploy the callers so new cases use the new rule.
    redeployed = []
    changed = {s["decision"] for s in stored if not s["unchanged"]}
    for definition in latest_definitions(session):
        if changed & _called_decisions(system, definition.bpmn_xml):
            redeployed.extend(_store_processes(system, session, actor, definition.bpmn_xml.encode("utf-8"), definition.filename, now))
    return {"kind": "dmn", "decisions": stored, "processes": redeployed}


def _called_decisions(system: System, xml: str) -> set[str]:
    """The decisions a diagram's business rule tasks call (spiffworkflow:calledDecisionId)."""
    root = parse_xml(xml.encode("utf-8"), "diagram", system.settings.max_upload_bytes)
    return {text.strip() for text in root.xpath("//*[local-name()='calledDecisionId']/text()")}


def deploy_directory(system: System, actor: Actor, directory: Path) -> list[dict[str, Any]]:
    """Deploy every DMN, then every BPMN file of a folder (decisions first: processes call them): what
    changed since this actor last deployed it. A process whose newest version an administrator deployed
    (in the modeler, through the API) keeps it: the file in the folder is not put back over their work."""
    results = []
    for path in sorted(directory.glob("*.dmn")) + sorted(directory.glob("*.bpmn")):
        results.append({"file": path.name, **deploy(system, actor, path.read_bytes(), path.name, keep_others=True)})
    return results


def definition_view(d: ProcessDefinition) -> dict[str, Any]:
    return {
        "id": d.id, "process": d.process_id, "version": d.version, "name": d.name, "filename": d.filename,
        "deployed_by": d.deployed_by, "deployed_at": d.deployed_at, "starter_roles": d.starter_roles,
        "requirement_ids": d.requirement_ids, "user_tasks": d.user_tasks, "start_form": d.start_form,
    }


def forms_in_use(system: System) -> tuple[dict[str, str], frozenset[str]]:
    """(process -> the start form its newest version names, the forms the newest versions' user tasks name):
    what the API document describes as start data and as task data."""
    with system.db.unit_of_work(write=False) as session:
        rows = latest_definitions(session)
        starts = {d.process_id: d.start_form for d in rows if d.start_form}
        tasks = frozenset(t["form"] for d in rows for t in (d.user_tasks or []) if t.get("form"))
    return starts, tasks


def list_definitions(system: System, all_versions: bool = False) -> list[dict[str, Any]]:
    with system.db.unit_of_work(write=False) as session:
        if all_versions:
            rows = session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.process_id, ProcessDefinition.version))
        else:
            rows = latest_definitions(session)
        return [definition_view(d) for d in rows]
