"""The forms editor (administrators): list forms, read a form with its history, preview a draft with the
same renderer as the task page, save a checked new version (or restore an old one), audited.

A form's versions: 0 is the shipped file forms/<name>.json, 1, 2, ... are saved here (table
form_definition); the newest one is what task pages render and completions are validated against
(FormRegistry in bdd_workflow/forms.py)."""

from __future__ import annotations

import json
import re
from json.decoder import scanstring
from typing import Any

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from .. import formrender, safejson
from ..db.models import FormDefinition, Matter
from ..engine.xmlsafe import parse_xml
from ..errors import Conflict, DomainError, FormInvalid, NotFound
from ..forms import (FORM_NAME, UNBOUND, Form, FormRegistry, Problem, bind, check_definition, json_path, matter_materials,
                     validate_form)
from ..roles import ADMINISTRATOR
from ..system import System
from .audit import audit
from .definitions import latest_definitions
from .identity import Actor, require_role
from .inbox import active_matters, form_refs, staff_directory  # the very reference lists the task page offers
from .org import matter_view, ref_exists

MAX_TEXT = 200_000  # characters of one code area
NEW_FORM_SCHEMA = {"type": "object", "properties": {
    "note": {"type": "string", "title": "办理意见", "maxLength": 1000}}, "required": ["note"], "additionalProperties": False}
NEW_FORM_UI = {"ui:order": ["note"], "note": {"ui:widget": "textarea"}}
PARTS = {"title": "标题", "schema": "JSON Schema", "ui": "UI schema"}


class FormDefinitionInvalid(DomainError):
    """A form that cannot be saved: ``problems`` says where (part, JSON path, line, column) and why."""

    status = 422
    code = "form_definition_invalid"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("表单定义有误，没有保存：" + "；".join(p["text"] for p in problems[:3]), problems=problems)
        self.problems = problems


class ConfirmationRequired(Conflict):
    """The new version drops fields a deployed diagram reads; nothing is saved until the administrator confirms."""

    code = "confirmation_required"

    def __init__(self, warnings: list[dict[str, Any]]) -> None:
        fields = sorted({w["field"] for w in warnings})
        super().__init__(f"新版本删去了已部署流程读取的字段 {'、'.join(fields)}，请确认后再保存。", warnings=warnings)
        self.warnings = warnings


# --- reading what the administrator typed -------------------------------------------------------------

_JSON_REASONS = [
    ("Expecting ',' delimiter", "缺少逗号 “,”"),
    ("Expecting ':' delimiter", "缺少冒号 “:”"),
    ("Expecting property name enclosed in double quotes", "这里应是用英文双引号括起的字段名（最后一项后面不能有逗号）"),
    ("Expecting value", "这里缺少一个值（或多了一个逗号）"),
    ("Unterminated string", "字符串缺少结束的双引号"),
    ("Invalid control character", "字符串中不能直接换行或使用制表符（换行写作 \\n）"),
    ("Extra data", "JSON 在此之前已经结束，后面多出了内容"),
    ("Invalid \\escape", "无效的转义符（反斜杠后只能是 \" \\ / b f n r t u）"),
]
_WIDE_PUNCTUATION = "“”‘’：，｛｝［］"


def _problem(part: str, message: str, path: list[Any] | None = None, line: int | None = None,
             column: int | None = None) -> dict[str, Any]:
    where = json_path(path) if path else None
    place = f"第 {line} 行第 {column} 列" if line else ""
    text = f"{PARTS.get(part, part)} {' '.join(x for x in (place, where or '') if x)}：{message}".replace("  ", " ")
    return {"part": part, "path": where, "line": line, "column": column, "message": message, "text": text}


def parse_json(text: str | None, part: str, empty: Any = None) -> Any:
    """The JSON an administrator typed, or FormDefinitionInvalid naming line, column and reason."""
    if text is None or not text.strip():
        if empty is not None:
            return empty
        raise FormDefinitionInvalid([_problem(part, "不能为空。")])
    if len(text) > MAX_TEXT:
        raise FormDefinitionInvalid([_problem(part, f"内容太长（最多 {MAX_TEXT} 个字符）。")])
    try:
        return safejson.loads(text)
    except safejson.JSONTooDeep as exc:
        raise FormDefinitionInvalid([_problem(part, exc.message)]) from None
    except json.JSONDecodeError as exc:
        reason = next((zh for en, zh in _JSON_REASONS if exc.msg.startswith(en)), f"JSON 格式错误（{exc.msg}）")
        if exc.pos < len(text) and text[exc.pos] in _WIDE_PUNCTUATION:
            reason += f"；“{text[exc.pos]}”是中文标点，JSON 的引号、冒号、逗号和括号须用英文半角"
        raise FormDefinitionInvalid([_problem(part, reason + "。", line=exc.lineno, column=exc.colno)]) from None


_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


def _offsets(text: str) -> dict[tuple, int]:
    """Where each JSON path starts in (valid) JSON text: member paths at their key, items at their value."""
    found: dict[tuple, int] = {}

    def ws(i: int) -> int:
        return _WS.match(text, i).end()

    def value(i: int, path: tuple) -> int:
        i = ws(i)
        found.setdefault(path, i)
        if text[i] == "{":
            i = ws(i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                i = ws(i)
                key, after = scanstring(text, i + 1)
                found[path + (key,)] = i
                i = value(ws(after) + 1, path + (key,))
                i = ws(i)
                if text[i] == ",":
                    i += 1
                    continue
                return i + 1
        if text[i] == "[":
            i = ws(i + 1)
            if text[i] == "]":
                return i + 1
            index = 0
            while True:
                i = value(i, path + (index,))
                i = ws(i)
                index += 1
                if text[i] == ",":
                    i += 1
                    continue
                return i + 1
        if text[i] == '"':
            return scanstring(text, i + 1)[1]
        return _SCALAR.match(text, i).end()

    try:
        value(0, ())
    except (IndexError, AttributeError, ValueError):  # only called on valid JSON; never fail on a locator
        pass
    return found


def _located(problems: list[Problem], texts: dict[str, str | None]) -> list[dict[str, Any]]:
    """Problems with the line and column of their JSON path in the text typed (the nearest existing parent)."""
    offsets = {part: _offsets(text) for part, text in texts.items() if text}
    out = []
    for p in problems:
        line = column = None
        table = offsets.get(p.part, {})
        path = tuple(p.path)
        while path not in table and path:
            path = path[:-1]
        if p.part in offsets and path in table:
            text, pos = texts[p.part], table[path]
            line = text.count("\n", 0, pos) + 1
            column = pos - text.rfind("\n", 0, pos)
        out.append(_problem(p.part, p.message, p.path, line, column))
    return out


def read_definition(title: Any, schema_text: str | None, ui_text: str | None) -> tuple[str, dict, dict]:
    """Title, schema and UI schema from the editor's text, checked as a saved form is; or FormDefinitionInvalid."""
    problems: list[dict[str, Any]] = []
    parsed: dict[str, Any] = {}
    for part, text, empty in (("schema", schema_text, None), ("ui", ui_text, {})):
        try:
            parsed[part] = parse_json(text, part, empty)
        except FormDefinitionInvalid as exc:
            problems.extend(exc.problems)
    title = title.strip() if isinstance(title, str) else title
    if problems:
        if not title:
            problems.insert(0, _problem("title", "表单标题不能为空（任务页和台账显示它）。"))
        raise FormDefinitionInvalid(problems)
    found = check_definition(title, parsed["schema"], parsed["ui"])
    if found:
        raise FormDefinitionInvalid(_located(found, {"schema": schema_text, "ui": ui_text}))
    return title, parsed["schema"], parsed["ui"]


def pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


# --- reading ---------------------------------------------------------------------------------------------

RESERVED_NAMES = {"new", "preview"}  # paths of the editor's own pages


def _check_name(name: str) -> None:
    if not FORM_NAME.match(name or "") or name in RESERVED_NAMES:
        raise NotFound(f"表单名 {name!r} 无效：只能用小写英文字母、数字和下划线，以字母开头（例如 assist_guide_materials），"
                       "且不能是 new 或 preview。")


def _used_by(session) -> dict[str, list[dict[str, Any]]]:
    """Form name -> the user tasks (and start events) of the deployed (newest) diagrams that name it."""
    used: dict[str, list[dict[str, Any]]] = {}
    for d in latest_definitions(session):
        if d.start_form:
            used.setdefault(d.start_form, []).append(
                {"process": d.process_id, "process_name": d.name, "version": d.version, "task": None,
                 "task_title": "发起申请时填写（开始事件）", "start": True})
        for task in d.user_tasks or []:
            if task.get("form"):
                used.setdefault(task["form"], []).append(
                    {"process": d.process_id, "process_name": d.name, "version": d.version,
                     "task": task["name"], "task_title": task.get("title") or task["name"]})
    return used


def _file_form(system: System, name: str) -> Form | None:
    return system.forms.files.get(name)


def list_forms(system: System, actor: Actor | None = None) -> list[dict[str, Any]]:
    """Every form (files and saved ones): title, current version, who saved it when, which tasks use it."""
    if actor is not None:
        require_role(actor, ADMINISTRATOR)
    forms = system.forms.forms
    with system.db.unit_of_work(write=False) as session:
        used = _used_by(session)
        counts = dict(session.execute(select(FormDefinition.name, func.count()).group_by(FormDefinition.name)).all())
    names = sorted(set(forms) | set(system.forms.problems) | set(counts))
    rows = []
    for name in names:
        form = forms.get(name)
        rows.append({
            "name": name, "title": form.title if form else name, "version": form.version if form else None,
            "source": form.source if form else None, "saved_by": form.saved_by if form else None,
            "saved_at": form.saved_at if form else None, "versions": counts.get(name, 0) + (name in system.forms.files),
            "has_file": name in system.forms.files or name in system.forms.problems,
            "problem": system.forms.saved_problems.get(name) or system.forms.problems.get(name),
            "used_by": used.get(name, []),
        })
    return rows


def _versions(session, system: System, name: str) -> list[dict[str, Any]]:
    rows = session.execute(select(FormDefinition.version, FormDefinition.title, FormDefinition.saved_by,
                                  FormDefinition.saved_at).where(FormDefinition.name == name)
                           .order_by(FormDefinition.version.desc())).all()
    versions = [{"version": r.version, "title": r.title, "saved_by": r.saved_by, "saved_at": r.saved_at} for r in rows]
    shipped = _file_form(system, name)
    if shipped is not None:
        versions.append({"version": 0, "title": shipped.title, "saved_by": None, "saved_at": None})
    return versions


def _version(session, system: System, name: str, version: int) -> dict[str, Any]:
    if version == 0:
        shipped = _file_form(system, name)
        if shipped is None:
            raise NotFound(f"表单 {name} 没有随系统提供的文件版本（forms/{name}.json）。")
        return {"version": 0, "title": shipped.title, "schema": shipped.schema, "ui": shipped.ui,
                "saved_by": None, "saved_at": None}
    row = session.scalars(select(FormDefinition).where(FormDefinition.name == name,
                                                       FormDefinition.version == version)).first()
    if row is None:
        raise NotFound(f"表单 {name} 没有第 {version} 版。")
    return {"version": row.version, "title": row.title, "schema": row.schema, "ui": row.ui,
            "saved_by": row.saved_by, "saved_at": row.saved_at}


def get_form(system: System, actor: Actor | None, name: str, version: int | None = None) -> dict[str, Any]:
    """A form as it is now (or one old version), with its history and the tasks that use it.
    A name no form has yet gives a new form's starting point (``exists`` false)."""
    if actor is not None:
        require_role(actor, ADMINISTRATOR)
    _check_name(name)
    current = system.forms.forms.get(name)
    with system.db.unit_of_work(write=False) as session:
        versions = _versions(session, system, name)
        used = _used_by(session).get(name, [])
        latest = max((v["version"] for v in versions), default=None)
        if version is not None:
            shown = _version(session, system, name, version)
        elif latest is not None:  # the newest stored version (even one that no longer loads: to be fixed)
            shown = _version(session, system, name, latest)
        else:
            shown = {"version": None, "title": "", "schema": NEW_FORM_SCHEMA, "ui": NEW_FORM_UI,
                     "saved_by": None, "saved_at": None}
    if actor is None and version is None and current is None:
        raise NotFound(f"表单 {name} 不存在。")
    return shown | {"name": name, "exists": bool(versions), "current_version": current.version if current else None,
                    "latest_version": latest, "versions": versions, "used_by": used,
                    "problem": system.forms.saved_problems.get(name) or system.forms.problems.get(name)}


def public_form(system: System, name: str) -> dict[str, Any]:
    """GET /api/v1/forms/<name>: the form in use now (any signed-in staff member may read it)."""
    _check_name(name)
    form = system.forms.forms.get(name)
    if form is None:
        raise NotFound(f"表单 {name} 不存在。")
    detail = get_form(system, None, name)
    return {"name": name, "title": form.title, "version": form.version, "source": form.source,
            "saved_by": form.saved_by, "saved_at": form.saved_at, "schema": form.schema, "ui": form.ui,
            "used_by": detail["used_by"], "versions": detail["versions"]}


# --- preview (the task page's renderer) ------------------------------------------------------------------

def preview(system: System, actor: Actor, schema_text: str | None, ui_text: str | None,
            values: list[tuple[str, str]] | None = None, check: bool = False) -> dict[str, Any]:
    """A draft rendered as the task page renders it; with ``check``, the filled-in values are validated as a
    completion is (each field's error under it). FormDefinitionInvalid when the draft itself is broken."""
    require_role(actor, ADMINISTRATOR)
    _title, schema, ui = read_definition("预览", schema_text, ui_text)
    form = FormRegistry.load("preview", {"title": "预览", "schema": schema, "ui": ui})
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    with system.db.unit_of_work(write=False) as session:
        # A form that takes choices from the case's matter (x-options-from, x-matter-notice) is shown as for
        # a case of the first matter of the catalog that lists materials.
        sample = _sample_matter(session) if form.needs_matter else None
        if values is not None:
            data = formrender.parse(schema, MultiDict(values))
        if check:
            try:
                validate_form(form, data, lambda kind, value: ref_exists(session, kind, value),
                              sample if form.needs_matter else UNBOUND, find_phrase=system.phrases.find)
            except FormInvalid as exc:
                errors = exc.errors
        refs = form_refs(system, session, formrender.ref_kinds(schema), staff_directory(session, system), active_matters(session))
    return {"form": formrender.render(bind(form, sample), ui, data, errors, refs),
            "signature_rule": formrender.signature_rule(schema), "sample_matter": sample["name"] if sample else None,
            "options_fields": form.options_fields,
            "notice_fields": [str(schema["properties"][n].get("title") or n) for n in form.notice_fields],
            "checked": check, "valid": check and not errors, "data": data, "errors": errors}


def _sample_matter(session) -> dict[str, Any] | None:
    for matter in session.scalars(select(Matter).where(Matter.active).order_by(Matter.code)):
        if matter_materials(matter_view(matter)):
            return matter_view(matter)
    return None


# --- saving ------------------------------------------------------------------------------------------------

_EXPRESSIONS = ("conditionExpression", "script", "preScript", "postScript", "timeDuration", "timeDate", "timeCycle")


def _reads(system: System, session, form_name: str, fields: set[str]) -> list[dict[str, Any]]:
    """Where the deployed diagrams that use this form read any of ``fields``: gateway conditions, scripts,
    timers and task properties (unit, dueDate)."""
    if not fields:
        return []
    pattern = re.compile(r"(?<![\w.])(" + "|".join(re.escape(f) for f in sorted(fields)) + r")(?!\w)")
    found = []
    for d in latest_definitions(session):
        if d.start_form != form_name and not any(t.get("form") == form_name for t in d.user_tasks or []):
            continue
        root = parse_xml(d.bpmn_xml.encode("utf-8"), d.filename, max(system.settings.max_upload_bytes, len(d.bpmn_xml) * 4))
        nodes = [(n, n.text or "") for n in root.iter() if isinstance(n.tag, str)
                 and n.tag.rsplit("}", 1)[-1] in _EXPRESSIONS]
        nodes += [(n, n.get("value") or "") for n in root.iter() if isinstance(n.tag, str)
                  and n.tag.rsplit("}", 1)[-1] == "property"]
        for node, text in nodes:
            for field in sorted(set(pattern.findall(text))):
                owner = node
                while owner is not None and (owner.get("id") is None or owner.tag.rsplit("}", 1)[-1] in _EXPRESSIONS):
                    owner = owner.getparent()
                kind = node.tag.rsplit("}", 1)[-1]
                found.append({"field": field, "process": d.process_id, "process_name": d.name, "version": d.version,
                              "element": owner.get("id") if owner is not None else None,
                              "element_name": owner.get("name") if owner is not None else None,
                              "kind": {"conditionExpression": "网关条件", "property": "任务属性"}.get(
                                  kind, "计时器" if kind.startswith("time") else "脚本"),
                              "expression": text.strip()[:200]})
    return found


def save_form(system: System, actor: Actor, name: str, title: Any, schema_text: str | None, ui_text: str | None,
              base_version: int | None, confirm: bool = False, restored_from: int | None = None) -> dict[str, Any]:
    """Check and store a new version (administrators; audited ``form_saved``); refuse with the reasons and
    store nothing. ``base_version`` is the version the editor was opened on: if someone saved meanwhile, a
    conflict. Dropping a field a deployed diagram reads needs ``confirm``."""
    require_role(actor, ADMINISTRATOR)
    _check_name(name)
    title, schema, ui = read_definition(title, schema_text, ui_text)
    FormRegistry.load(name, {"title": title, "schema": schema, "ui": ui})  # exactly what the registry will accept
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        latest = session.scalar(select(func.max(FormDefinition.version)).where(FormDefinition.name == name))
        current_version = latest if latest is not None else (0 if name in system.forms.files else None)
        if base_version != current_version:
            who = session.scalar(select(FormDefinition.saved_by).where(FormDefinition.name == name,
                                                                       FormDefinition.version == latest)) if latest else None
            raise Conflict(f"表单 {name} 刚刚被{who or '他人'}保存为第 {current_version} 版；请重新打开编辑器，"
                           "在新版本上修改（您这次的改动没有保存）。" if current_version is not None else
                           f"表单 {name} 已被删除或改名，请刷新后再试。")
        if schema.get("x-signature") is not None:
            starts = sorted(d.process_id for d in latest_definitions(session) if d.start_form == name)
            if starts:
                raise FormDefinitionInvalid(_located([Problem(
                    "schema", ["x-signature"], f"这张表单是 {'、'.join(starts)} 的发起表单：发起时还没有可上传签名的任务，"
                                               "不能要求签名（x-signature）；请在办理步骤的表单里要求签名。")],
                    {"schema": schema_text}))
        previous = _version(session, system, name, current_version) if current_version is not None else None
        if previous and (previous["title"], previous["schema"], previous["ui"]) == (title, schema, ui):
            return {"name": name, "version": current_version, "unchanged": True, "warnings": []}
        dropped = sorted(set((previous or {}).get("schema", {}).get("properties", {})) - set(schema["properties"]))
        warnings = _reads(system, session, name, set(dropped))
        if warnings and not confirm:
            raise ConfirmationRequired(warnings)
        version = (latest or 0) + 1
        session.add(FormDefinition(name=name, version=version, title=title, schema=schema, ui=ui,
                                   saved_by=actor.username, saved_at=now))
        session.flush()
        audit(session, now, actor.username, "form_saved", detail={
            "form": name, "version": version, "title": title, "previous_version": current_version,
            "restored_from": restored_from, "dropped_fields": dropped,
            "confirmed_warnings": [f"{w['process']}:{w['element']}:{w['field']}" for w in warnings]})
    system.forms.invalidate()  # this process serves the new version from the next lookup on
    return {"name": name, "version": version, "unchanged": False, "warnings": warnings, "dropped_fields": dropped}


def restore_version(system: System, actor: Actor, name: str, version: int, base_version: int | None,
                    confirm: bool = False) -> dict[str, Any]:
    """Save an old version (0: the shipped file) again as the newest one."""
    require_role(actor, ADMINISTRATOR)
    _check_name(name)
    with system.db.unit_of_work(write=False) as session:
        old = _version(session, system, name, version)
    return save_form(system, actor, name, old["title"], pretty(old["schema"]), pretty(old["ui"]), base_version,
                     confirm=confirm, restored_from=version)

