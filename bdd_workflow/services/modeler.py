"""The modeler's use cases: validate a diagram without storing it, keep drafts, deploy from the
browser, and the versions of every process with the cases that run on each (issue 5, items 6, 7, 10)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree
from sqlalchemy import delete, func, select

from ..db.models import Case, DecisionDefinition, OrgUnit, ProcessDefinition, ProcessDraft, Staff
from ..engine.parser import ParseResult
from ..engine.xmlsafe import BPMN_NS, kind_of, parse_xml
from ..errors import DefinitionInvalid, DomainError, NotFound, ProcessNotFound
from ..requirements import cited, expand
from ..roles import ADMINISTRATOR, CHIEF_OFFICER, ROLE_TITLES, SUPERVISOR, TASK_ROLES, role_of_lane
from ..system import System
from . import definitions
from .audit import audit
from .identity import SYSTEM_ACTOR, Actor, require_role

# Administrators do everything; these may read the versions list (and download deployed diagrams).
VIEW_ROLES = (ADMINISTRATOR, CHIEF_OFFICER, SUPERVISOR)
OPEN_STATUSES = ("running", "waiting", "suspended")
PROCESS_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# Elements that processes/README.md asks to cite a requirement in their documentation.
FLOW_NODES = frozenset({
    "task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "manualTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway",
})
RESERVED_IDS = ("Start", "End")


# --- validation ---------------------------------------------------------------------------------------

def _problem(element: str | None, message: str, source: str = "check", severity: str = "error") -> dict[str, Any]:
    return {"element": element, "message": message, "source": source, "severity": severity}


def _describe(element) -> str:
    name = (element.get("name") or "").strip()
    return f"{element.get('id')}（{name}）" if name else str(element.get("id"))


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _documentation(element) -> str:
    return " ".join(d.text or "" for d in element.findall(f"{{{BPMN_NS}}}documentation"))


def _lanes(process) -> dict[str, str]:
    """flow node id -> the name of the innermost lane holding it."""
    lanes: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):  # outer lanes come first; inner ones overwrite
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or ""
    return lanes


def _spiff_property(element, name: str) -> str | None:
    for prop in element.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name") == name:
            return prop.get("value")
    return None


def _xml_checks(system: System, root, parsed: set[str]) -> list[dict[str, Any]]:
    """What `bdd check` and processes/README.md ask that the parser's spec checks cannot see, plus the
    same checks for processes SpiffWorkflow could not parse (so one parse error does not hide the rest)."""
    problems: list[dict[str, Any]] = []
    requirements = system.requirements
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        process_id = process.get("id")
        executable = (process.get("isExecutable") or "").strip().lower() == "true"
        if not executable:
            problems.append(_problem(process_id, f"流程 {process_id} 没有设为可执行（isExecutable=\"true\"），部署时会被忽略。",
                                     severity="warning"))
            continue
        if requirements is not None:  # the process's own documentation: the parser reads only its elements'
            for rid in requirements.unknown(_documentation(process)):
                problems.append(_problem(process_id, f"流程 {process_id}: 引用的需求编号 {rid} 在 REQUIREMENTS.md 中不存在。"))
        lanes = _lanes(process)
        for element in process.iter():
            kind = _local(element)
            element_id = element.get("id")
            if element_id in RESERVED_IDS and kind in FLOW_NODES:
                problems.append(_problem(element_id, f"元素 {_describe(element)}: id 不能是 Start 或 End"
                                                     "（与 SpiffWorkflow 内部名称冲突，流程会被解析成空的）；请改名。"))
            if kind not in FLOW_NODES:
                continue
            documentation = _documentation(element)
            if not cited(documentation):
                problems.append(_problem(element_id, f"元素 {_describe(element)}: 说明（documentation）中没有引用需求编号，"
                                                     "例如 R-9.1.1.2（processes/README.md）。", severity="warning"))
            if process_id in parsed:
                continue  # the parser's spec checks covered the rest of this process
            if requirements is not None:
                for rid in requirements.unknown(documentation):
                    problems.append(_problem(element_id, f"元素 {_describe(element)}: 引用的需求编号 {rid} 在 REQUIREMENTS.md 中不存在。"))
            if kind == "startEvent" and element.getparent() is process:
                form = _spiff_property(element, "form")
                if form and not system.forms.exists(form):
                    problems.append(_problem(element_id, f"元素 {_describe(element)}: 发起表单 forms/{form}.json 不存在。"))
            if kind == "userTask":
                lane = lanes.get(element_id or "")
                if lane is None:
                    problems.append(_problem(element_id, f"元素 {_describe(element)}: 用户任务必须放在一个代表角色的泳道里。"))
                elif role_of_lane(lane) is None:
                    problems.append(_problem(element_id, f"元素 {_describe(element)}: 泳道 “{lane}” 不是已知的角色"
                                                         "（咨询中心工作人员、帮办员、代办员、首席服务专员、政务服务中心办公室）。"))
                form = _spiff_property(element, "form")
                if not form:
                    problems.append(_problem(element_id, f"元素 {_describe(element)}: 用户任务没有指定表单（属性 form）。"))
                elif not system.forms.exists(form):
                    problems.append(_problem(element_id, f"元素 {_describe(element)}: 表单 forms/{form}.json 不存在。"))
    return problems


# SpiffWorkflow's refusals, said in Chinese with what to do; the original follows in brackets.
SPIFF_HINTS = (
    (re.compile(r"Data Store with name (?P<name>.+) has no implementation", re.S),
     "数据存储 “{name}” 在本系统中没有实现：请删除它，改用流程变量（表单数据）。"),
    (re.compile(r"A Service Task must have an operator"),
     "服务任务必须指定操作（spiffworkflow:serviceTaskOperator），本系统提供 start_case。"),
    (re.compile(r"Exactly one start event is required in a SubWorkflow Task; found (?P<n>\d+)"),
     "子流程必须恰好有一个开始事件（现有 {n} 个）。"),
    (re.compile(r"Cannot resolve data(?P<dir>Input|Output)Association"),
     "数据关联无法解析：它指向的数据对象不在同一流程里；请删除这条数据关联。"),
    (re.compile(r"Time Specification Error\.\s*Unknown Time Specification"),
     "计时器没有类型或表达式：请在属性面板的“计时器”中选择 日期（timeDate）、时长（timeDuration）或 循环（timeCycle），"
     "并填写表达式，例如 add_working_days(now(), promised_days)。"),
    (re.compile(r"A multiinstance task must specify"),
     "多实例任务必须指定次数（cardinality）或输入集合（loop input data reference）。"),
)


def _explain(problem: dict[str, Any], root) -> dict[str, Any]:
    """A SpiffWorkflow refusal in Chinese, and the element it concerns when it only gave a name."""
    message = " ".join(problem["message"].split())
    message = re.sub(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>", r"\1", message)  # lxml's repr: just the tag
    where, sep, text = message.partition(": ")
    if not sep:
        where, text = "", message
    for pattern, hint in SPIFF_HINTS:
        match = pattern.search(text)
        if match:
            groups = {k: " ".join(v.split()) for k, v in match.groupdict().items() if v}
            element = problem["element"]
            if element is None and "name" in groups:
                named = [e for e in root.iter() if _local(e) in ("dataStoreReference", "dataStore")
                         and " ".join((e.get("name") or "").split()) == groups["name"]]
                element = named[0].get("id") if named else None
                where = f"元素 {element}" if element else where
            return {**problem, "element": element,
                    "message": f"{where + ': ' if where else ''}{hint.format(**groups)}（SpiffWorkflow: {text}）"}
    return {**problem, "message": message}


def _latest_decision_xml(session) -> list[bytes]:
    return [d.dmn_xml.encode("utf-8") for d in definitions._latest_decisions(session)]


def _collect(system: System, session, xml: bytes, filename: str) -> list[dict[str, Any]]:
    """Every problem deploy would refuse on, plus `bdd check`'s, each naming its element; stores nothing."""
    return check_file(system, xml, filename, lambda: _latest_decision_xml(session), session)[0]


def check_file(system: System, xml: bytes, filename: str, decisions: Callable[[], list[bytes]],
               session=None) -> tuple[list[dict[str, Any]], ParseResult | None]:
    """The rules of validate and deploy for one file: its problems, errors first, and what parsed
    (None when the XML could not be read). ``decisions`` gives the DMN files a diagram may call.
    Without a session (``bdd check`` before ``bdd init``) the unit kinds are samples."""
    try:
        root = parse_xml(xml, filename, system.settings.max_upload_bytes)
        kind = kind_of(root)
    except DefinitionInvalid as exc:
        return [_problem(exc.element, exc.message)], None
    parser = system.parser(session, check_requirements=system.requirements is not None)
    result = parser.check(xml, filename, decisions() if kind == "bpmn" else [])
    problems = [_explain(_problem(p.get("element"), p["message"], p.get("source", "check")), root)
                for p in result.problems]
    if not result.processes and kind == "bpmn":
        # "no executable process": name the processes that are there (their warnings say why).
        present = [p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")]
        problems = [{**p, "element": present[0]} if p["element"] is None and "isExecutable" in p["message"] and present
                    else p for p in problems]
    if kind == "bpmn":
        problems.extend(_xml_checks(system, root, {p.process_id for p in result.processes}))
    seen: set[tuple[Any, str]] = set()
    unique = []
    for problem in sorted(problems, key=lambda p: p["severity"] != "error"):  # stable: errors first
        key = (problem["element"], problem["message"])
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique, result


def validate(system: System, actor: Actor, xml: bytes, filename: str = "diagram.bpmn") -> dict[str, Any]:
    """{"problems": [...], "valid": no errors}. Administrators (they are the ones who deploy)."""
    require_role(actor, ADMINISTRATOR)
    with system.db.unit_of_work(write=False) as session:
        problems = _collect(system, session, xml, filename)
    return {"problems": problems, "valid": not any(p["severity"] == "error" for p in problems)}


def refusal(problems: list[dict[str, Any]]) -> DefinitionInvalid:
    errors = [p for p in problems if p["severity"] == "error"]
    first = errors[0]
    message = first["message"] if len(errors) == 1 else f"{first['message']}（另有 {len(errors) - 1} 个问题）"
    return DefinitionInvalid(message, first["element"], problems)


def _default_filename(xml: bytes) -> str:
    """<first process id>.bpmn for a diagram that came without a file name (drawn in the modeler)."""
    found = re.search(rb'<(?:\w+:)?process\b[^>]*?\bid="([A-Za-z_][A-Za-z0-9_.-]{0,99})"', xml[:200_000])
    return f"{found.group(1).decode()}.bpmn" if found else "diagram.bpmn"


def deploy(system: System, actor: Actor, xml: bytes, filename: str, remove_drafts: bool = True) -> dict[str, Any]:
    """Deploy a BPMN or DMN file: refused with every problem validate finds; a new immutable version
    (running cases stay on theirs). From the modeler, the deployed processes' drafts are removed in
    the same transaction; the API (``remove_drafts=False``) leaves them to their authors. Both entry
    points apply the same rules, so a diagram refused in the browser is refused through the API too."""
    require_role(actor, ADMINISTRATOR)
    filename = (filename or "").strip()[:200] or _default_filename(xml)
    with system.db.unit_of_work(write=False) as session:
        problems = _collect(system, session, xml, filename)
    if any(p["severity"] == "error" for p in problems):
        raise refusal(problems)

    def drop_drafts(session, result: dict[str, Any]) -> None:
        ids = [p["process"] for p in result.get("processes", [])]
        drafts = session.scalars(select(ProcessDraft).where(ProcessDraft.process_id.in_(ids))).all() if ids else []
        for draft in drafts:
            session.delete(draft)
            audit(session, system.clock.now(), actor.username, "draft_deleted",
                  detail={"process": draft.process_id, "reason": "deployed"})

    try:
        result = definitions.deploy(system, actor, xml, filename, after=drop_drafts if remove_drafts else None)
    except DefinitionInvalid as exc:  # e.g. a decision changed between validating and deploying
        raise refusal([_problem(p.get("element"), p["message"], p.get("source", "check")) for p in exc.problems]) from None
    result["warnings"] = [p for p in problems if p["severity"] == "warning"]
    return result


# --- drafts -------------------------------------------------------------------------------------------

def check_process_id(process_id: str | None) -> str:
    if not process_id or not PROCESS_ID.fullmatch(process_id):
        raise NotFound(f"流程编号 {process_id!r} 无效。")
    return process_id


def _names(session, usernames) -> dict[str, str]:
    wanted = {u for u in usernames if u}
    names = {SYSTEM_ACTOR: "系统"}
    if wanted:
        names.update(dict(session.execute(select(Staff.username, Staff.name).where(Staff.username.in_(wanted))).all()))
    return names


def save_draft(system: System, actor: Actor, process_id: str, xml: str, base_version: int | None = None) -> dict[str, Any]:
    """Keep the diagram being edited without deploying it (one draft per process id). The XML must parse
    safely, be BPMN and define this process; it replaces the process's earlier draft. Audited."""
    require_role(actor, ADMINISTRATOR)
    check_process_id(process_id)
    if not isinstance(xml, str) or not xml.strip():
        raise DomainError("草稿内容为空：请提交 {\"xml\": \"<bpmn:definitions ...>\"}。")
    data = xml_bytes(xml)
    root = parse_xml(data, f"{process_id}.bpmn", system.settings.max_upload_bytes)
    if kind_of(root) != "bpmn":
        raise DefinitionInvalid("草稿必须是 BPMN 2.0 流程图（bpmn:definitions）。")
    process = next((p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == process_id), None)
    if process is None:
        found = [p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")]
        raise DefinitionInvalid(f"图中没有编号为 {process_id} 的流程（图中的流程: {', '.join(filter(None, found)) or '无'}）；"
                                "请在属性面板中把流程编号改为它，或从“新建流程”另存。")
    stored = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True).decode("utf-8")
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        if base_version is None:
            base_version = session.scalar(select(func.max(ProcessDefinition.version))
                                          .where(ProcessDefinition.process_id == process_id))
        draft = session.scalars(select(ProcessDraft).where(ProcessDraft.process_id == process_id)).first()
        if draft is None:
            draft = ProcessDraft(process_id=process_id)
            session.add(draft)
        draft.name = ((process.get("name") or "").strip() or process_id)[:200]
        draft.bpmn_xml = stored
        draft.base_version = base_version
        draft.saved_by = actor.username
        draft.saved_at = now
        audit(session, now, actor.username, "draft_saved",
              detail={"process": process_id, "base_version": base_version, "bytes": len(stored.encode("utf-8"))})
    return {"process": process_id, "saved_at": now, "saved_by": actor.name, "saved_by_username": actor.username,
            "base_version": base_version}


def draft_xml(system: System, actor: Actor, process_id: str) -> str:
    require_role(actor, ADMINISTRATOR)
    check_process_id(process_id)
    with system.db.unit_of_work(write=False) as session:
        xml = session.scalar(select(ProcessDraft.bpmn_xml).where(ProcessDraft.process_id == process_id))
    if xml is None:
        raise NotFound(f"流程 {process_id} 没有草稿。")
    return xml


def delete_draft(system: System, actor: Actor, process_id: str) -> None:
    require_role(actor, ADMINISTRATOR)
    check_process_id(process_id)
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        removed = session.execute(delete(ProcessDraft).where(ProcessDraft.process_id == process_id)).rowcount
        if not removed:
            raise NotFound(f"流程 {process_id} 没有草稿。")
        audit(session, now, actor.username, "draft_deleted", detail={"process": process_id, "reason": "deleted"})


# --- versions -----------------------------------------------------------------------------------------

def version_xml(system: System, actor: Actor, process_id: str, version: int) -> tuple[str, str]:
    """A deployed version's diagram as it was stored, and a file name to download it as."""
    require_role(actor, *VIEW_ROLES)
    check_process_id(process_id)
    with system.db.unit_of_work(write=False) as session:
        xml = session.scalar(select(ProcessDefinition.bpmn_xml).where(
            ProcessDefinition.process_id == process_id, ProcessDefinition.version == version))
    if xml is None:
        raise ProcessNotFound(f"流程 {process_id} 没有第 {version} 版。")
    return xml, f"{process_id}.v{version}.bpmn"


def _case_counts(session) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(select(Case.definition_id, Case.status, func.count()).group_by(Case.definition_id, Case.status))
    for definition_id, status, n in rows:
        entry = counts.setdefault(definition_id, {"open_cases": 0, "completed_cases": 0})
        if status in OPEN_STATUSES:
            entry["open_cases"] += n
        elif status == "completed":
            entry["completed_cases"] += n
    return counts


def _version_view(d: ProcessDefinition, counts: dict[int, dict[str, int]], names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": d.id, "process": d.process_id, "version": d.version, "name": d.name, "filename": d.filename,
        "deployed_by": d.deployed_by, "deployed_by_name": names.get(d.deployed_by, d.deployed_by),
        "deployed_at": d.deployed_at, "checksum": d.checksum, "checksum_short": d.checksum[:12],
        **counts.get(d.id, {"open_cases": 0, "completed_cases": 0}),
    }


def _draft_view(draft: ProcessDraft, names: dict[str, str]) -> dict[str, Any]:
    return {"process": draft.process_id, "name": draft.name, "base_version": draft.base_version,
            "saved_by": draft.saved_by, "saved_by_name": names.get(draft.saved_by, draft.saved_by),
            "saved_at": draft.saved_at}


def overview(system: System, actor: Actor) -> dict[str, Any]:
    """Every process with its versions (newest first), who deployed each and when, the cases open and
    completed on each, its draft if any; and the decision versions."""
    require_role(actor, *VIEW_ROLES)
    with system.db.unit_of_work(write=False) as session:
        rows = session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.process_id,
                                                                  ProcessDefinition.version.desc())).all()
        drafts = {d.process_id: d for d in session.scalars(select(ProcessDraft))}
        decisions = session.scalars(select(DecisionDefinition).order_by(DecisionDefinition.decision_id,
                                                                        DecisionDefinition.version.desc())).all()
        counts = _case_counts(session)
        names = _names(session, [r.deployed_by for r in rows] + [d.saved_by for d in drafts.values()]
                       + [d.deployed_by for d in decisions])
    processes: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = processes.setdefault(row.process_id, {"process": row.process_id, "name": row.name,
                                                      "latest": row.version, "versions": [], "draft": None})
        entry["versions"].append(_version_view(row, counts, names))
    for process_id, draft in drafts.items():
        entry = processes.setdefault(process_id, {"process": process_id, "name": draft.name, "latest": None,
                                                  "versions": [], "draft": None})
        entry["draft"] = _draft_view(draft, names)
    decision_list: dict[str, dict[str, Any]] = {}
    for d in decisions:
        decision_list.setdefault(d.decision_id, {"decision": d.decision_id, "name": d.name, "versions": []})["versions"].append({
            "version": d.version, "name": d.name, "filename": d.filename, "deployed_by": d.deployed_by,
            "deployed_by_name": names.get(d.deployed_by, d.deployed_by), "deployed_at": d.deployed_at,
            "checksum_short": d.checksum[:12]})
    return {"processes": sorted(processes.values(), key=lambda p: p["process"]),
            "decisions": list(decision_list.values())}


def process_versions(system: System, actor: Actor, process_id: str) -> list[dict[str, Any]]:
    """The versions of one process, newest first (the API)."""
    require_role(actor, *VIEW_ROLES)
    check_process_id(process_id)
    with system.db.unit_of_work(write=False) as session:
        rows = session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
                               .order_by(ProcessDefinition.version.desc())).all()
        if not rows:
            raise ProcessNotFound(f"流程 {process_id} 不存在或尚未部署。")
        counts = _case_counts(session)
        names = _names(session, [r.deployed_by for r in rows])
    return [_version_view(r, counts, names) for r in rows]


def modeler_source(system: System, actor: Actor, process_id: str | None, version: str | None) -> dict[str, Any]:
    """What the modeler page opens: a version (default the newest), the draft, or nothing (new)."""
    require_role(actor, ADMINISTRATOR)
    if process_id is None:
        return {"process": None, "source": "new", "version": None, "title": "新建流程", "draft": None}
    check_process_id(process_id)
    with system.db.unit_of_work(write=False) as session:
        latest = session.execute(select(ProcessDefinition.version, ProcessDefinition.name)
                                 .where(ProcessDefinition.process_id == process_id)
                                 .order_by(ProcessDefinition.version.desc()).limit(1)).first()
        draft = session.scalars(select(ProcessDraft).where(ProcessDraft.process_id == process_id)).first()
        names = _names(session, [draft.saved_by] if draft else [])
        wanted = (version or "").strip()
        if wanted == "draft":
            if draft is None:
                raise NotFound(f"流程 {process_id} 没有草稿。")
            return {"process": process_id, "source": "draft", "version": None, "latest": latest[0] if latest else None,
                    "title": f"{draft.name}（草稿）", "draft": _draft_view(draft, names)}
        if latest is None:
            if draft is not None:
                return {"process": process_id, "source": "draft", "version": None, "latest": None,
                        "title": f"{draft.name}（草稿）", "draft": _draft_view(draft, names)}
            raise ProcessNotFound(f"流程 {process_id} 不存在或尚未部署。")
        number = latest[0]
        if wanted:
            if not wanted.isdigit():
                raise NotFound(f"版本 {wanted!r} 无效：应为版本号或 draft。")
            number = int(wanted)
        name = session.scalar(select(ProcessDefinition.name).where(ProcessDefinition.process_id == process_id,
                                                                   ProcessDefinition.version == number))
        if name is None:
            raise ProcessNotFound(f"流程 {process_id} 没有第 {number} 版。")
    return {"process": process_id, "source": "version", "version": number, "latest": latest[0],
            "title": f"{name}（第 {number} 版）", "draft": _draft_view(draft, names) if draft else None}


# --- what the properties panel offers ------------------------------------------------------------------

def _requirement_titles(system: System) -> list[dict[str, str]]:
    path = system.settings.requirements_file
    if not path.exists():
        return []
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*(R-[^|]+?)\s*\|\s*([^|]*?)\s*\|", line)
        if match:
            for rid in expand(match.group(1)):
                found.setdefault(rid, match.group(2))
    return [{"id": rid, "title": title} for rid, title in found.items()]


def options(system: System, actor: Actor) -> dict[str, Any]:
    """Forms, lanes (roles), requirement IDs and units a diagram may name."""
    require_role(actor, ADMINISTRATOR)
    with system.db.unit_of_work(write=False) as session:
        units = session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.active).order_by(OrgUnit.path)).all()
    return {
        "forms": [{"name": name, "title": form.title} for name, form in sorted(system.forms.forms.items())],
        "roles": [{"role": role, "lane": ROLE_TITLES[role]} for role in TASK_ROLES],
        "requirements": _requirement_titles(system),
        "units": [{"code": code, "name": name} for code, name in units],
    }


_DECLARED_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")


def xml_bytes(text: str) -> bytes:
    """A diagram that arrived as text (JSON): UTF-8 bytes whose declaration says so, whatever the
    file it came from declared (the MIWG files declare ISO-8859-1)."""
    if not isinstance(text, str):
        raise DomainError("请求体应为 JSON {\"xml\": \"...\"}，xml 为 BPMN 文本。")
    return _DECLARED_ENCODING.sub(r'\1"UTF-8"', text, count=1).encode("utf-8")
