"""forms/*.json -> validation and rendering data. One file describes what a user task asks for.

A form edited in the forms editor is stored as a new version in the ``form_definition`` table; the
newest saved version of a name overrides ``forms/<name>.json`` (the file stays the shipped default,
version 0). ``FormRegistry`` merges both: the files are read once, the saved versions are cached per
process, re-read at once when this process saves and within ``CACHE_SECONDS`` when another does.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from .db.models import FormDefinition
from .errors import DomainError, FormInvalid
from .formrender import options_fields
from .phrases import BUILTIN_BOOK, Hit
from .roles import ROLE_TITLES, TASK_ROLES

log = logging.getLogger(__name__)
RefCheck = Callable[[str, str], bool]

# How long another worker process may keep serving a form after it was saved elsewhere: each process
# asks the database at most this often whether anything was saved (one indexed aggregate query).
CACHE_SECONDS = 5.0
REF_KINDS = {"unit": "单位", "matter": "事项", "staff": "工作人员", "case": "办件"}
EXTENSIONS = {"x-applicant-text", "x-ref", "x-signature", "x-enumNames", "x-messages", "x-staffed-by", "x-options-from",
              "x-matter-notice", "x-not-past"}
# x-options-from: where a check list's choices come from, for the case at hand (R-5.4, R-9.1.3.3).
OPTION_SOURCES = {"matter_materials": "本办件事项的一次性告知材料"}

# The checks whose message a field may word itself (x-messages), e.g. "上门办需要填写上门地址。" for required.
MESSAGE_KEYWORDS = ("required", "minLength", "maxLength", "pattern", "format", "enum", "minimum", "maximum",
                    "minItems", "maxItems", "const", "type")
WIDGETS = ("textarea", "radio", "checkbox", "checkboxes", "date", "file", "password", "email", "tel", "url")
UI_KEYS = ("ui:order", "ui:widget", "ui:help", "ui:placeholder")
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FORM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
TYPE_TITLES = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否", "array": "列表",
               "object": "对象", "null": "空值"}


@dataclass
class Form:
    name: str
    title: str
    schema: dict[str, Any]
    ui: dict[str, Any]
    validator: Draft202012Validator
    version: int = 0  # 0: the shipped file forms/<name>.json; 1, 2, ...: saved in the forms editor
    saved_by: str | None = None
    saved_at: datetime | None = None

    @property
    def source(self) -> str:
        return "database" if self.version else "file"

    @cached_property
    def options_fields(self) -> list[str]:
        """Check lists whose choices are the case's matter's materials (x-options-from)."""
        return options_fields(self.schema)

    @cached_property
    def notice_fields(self) -> list[str]:
        """Free text the matter's one-time notice replaces when the case names a matter (x-matter-notice)."""
        return [n for n, p in self.schema["properties"].items() if isinstance(p, Mapping) and p.get("x-matter-notice") is True]

    @property
    def needs_matter(self) -> bool:
        return bool(self.options_fields or self.notice_fields)


@dataclass
class Problem:
    """Why a form definition cannot be used: which part ("title", "schema", "ui"), where (a JSON path
    as a list of keys and indexes) and the reason in Chinese."""

    part: str
    path: list[Any]
    message: str

    @property
    def where(self) -> str:
        return json_path(self.path)

    def text(self) -> str:
        label = {"title": "标题", "schema": "JSON Schema", "ui": "UI schema"}.get(self.part, self.part)
        return f"{label} {self.where}：{self.message}" if self.path else f"{label}：{self.message}"


def json_path(path: list[Any]) -> str:
    """["properties", "guidance", 0] -> $.properties.guidance[0]"""
    out = "$"
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else f".{key}" if FIELD_NAME.match(str(key)) else f"[{json.dumps(key, ensure_ascii=False)}]"
    return out


# --- checking a definition (files at load, the forms editor before saving) -----------------------------

def _meta_message(error) -> str:
    """A Chinese reason for one error of the JSON Schema meta-schema (Draft 2020-12)."""
    v, value, instance = error.validator, error.validator_value, error.instance
    key = error.absolute_path[-1] if error.absolute_path else None
    if key == "type" and v in ("anyOf", "enum", "type"):
        return (f"type 的值 {json.dumps(instance, ensure_ascii=False)} 无效，只能是 "
                + "、".join(TYPE_TITLES) + " 之一（或它们的列表）。")
    if v == "type":
        wanted = value if isinstance(value, list) else [value]
        return f"{json.dumps(instance, ensure_ascii=False)[:60]} 应为" + "或".join(TYPE_TITLES.get(t, t) for t in wanted) + "。"
    if v == "minimum":
        return f"不能小于 {value}。"
    if v == "minItems":
        return f"至少要有 {value} 项。"
    if v == "uniqueItems":
        return "列表中有重复的项。"
    if v == "format" and value == "regex":
        return f"正则表达式 {instance!r} 无效。"
    return f"不是有效的 JSON Schema（Draft 2020-12）：{error.message}"


def _schema_type(prop: Mapping[str, Any]) -> str | None:
    kind = prop.get("type")
    return kind if isinstance(kind, str) else None


def _check_properties(schema: Mapping[str, Any], path: list[Any], problems: list[Problem]) -> None:
    """Our rules for an object schema and everything inside it: field names, required, extensions."""
    properties = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if name not in properties:
            problems.append(Problem("schema", [*path, "required"], f"必填字段 {name} 在 properties 中没有定义。"))
    for name, prop in properties.items():
        where = [*path, "properties", name]
        if not FIELD_NAME.match(name):
            problems.append(Problem("schema", where, f"字段名 {name!r} 只能用英文字母、数字和下划线，且不以数字开头"
                                                     "（网关条件按字段名读取数据）。"))
        if isinstance(prop, Mapping):
            _check_field(prop, where, problems)
        else:  # true/false are schemas too, but a form field needs a type and a title
            problems.append(Problem("schema", where, f"字段 {name} 的定义应为一个对象，例如 {{\"type\": \"string\", \"title\": \"…\"}}。"))


def _check_field(prop: Mapping[str, Any], path: list[Any], problems: list[Problem]) -> None:
    kind = _schema_type(prop)
    for key in prop:
        if key.startswith("x-") and key not in EXTENSIONS:
            problems.append(Problem("schema", [*path, key], f"不认识的扩展 {key}（可用：x-applicant-text、x-ref、"
                                                            "x-messages、x-signature、x-staffed-by、x-options-from、"
                                                            "x-matter-notice、x-not-past）。"))
    if "x-not-past" in prop and (prop.get("format") != "date-time" or not isinstance(prop["x-not-past"], bool)):
        problems.append(Problem("schema", [*path, "x-not-past"], "x-not-past 只能用于 format 为 date-time 的字段，值为 true 或 false。"))
    if "x-signature" in prop:
        problems.append(Problem("schema", [*path, "x-signature"],
                                "x-signature 只能写在 schema 顶层（整张表单需要服务对象签名），不能写在字段上。"))
    if "x-ref" in prop:
        ref = prop["x-ref"]
        if ref not in REF_KINDS:
            problems.append(Problem("schema", [*path, "x-ref"], f"x-ref 的值 {json.dumps(ref, ensure_ascii=False)} "
                                                                "无效，只能是 unit（单位）、matter（事项）、staff（工作人员）或 case（办件编号）。"))
        elif kind != "string":
            problems.append(Problem("schema", [*path, "x-ref"], "x-ref 只能用于 type 为 string 的字段（值是编码或用户名）。"))
    if "x-staffed-by" in prop:
        # R-9.1.1.2 / R-6.4.3: a unit field a task is sent to names the role that must be on duty there.
        if prop.get("x-ref") != "unit":
            problems.append(Problem("schema", [*path, "x-staffed-by"], "x-staffed-by 只能用于 x-ref 为 unit 的字段。"))
        elif prop["x-staffed-by"] not in TASK_ROLES:
            problems.append(Problem("schema", [*path, "x-staffed-by"], "x-staffed-by 的值应为一个角色："
                                    + "、".join(f"{r}（{ROLE_TITLES[r]}）" for r in TASK_ROLES) + "。"))
    for key in ("x-options-from", "x-matter-notice"):
        if key in prop and len(path) != 2:
            problems.append(Problem("schema", [*path, key], f"{key} 只能用于表单顶层的字段。"))
    if "x-options-from" in prop:
        items = prop.get("items")
        if prop["x-options-from"] not in OPTION_SOURCES:
            problems.append(Problem("schema", [*path, "x-options-from"], "x-options-from 的值只能是 "
                                    + "、".join(f"{k}（{v}）" for k, v in OPTION_SOURCES.items()) + "。"))
        elif kind != "array" or not isinstance(items, Mapping) or _schema_type(items) != "string" or any(
                k in items for k in ("enum", "oneOf", "anyOf", "const")):
            problems.append(Problem("schema", [*path, "x-options-from"], "x-options-from 只能用于文本列表字段："
                                    "{\"type\": \"array\", \"items\": {\"type\": \"string\"}}（选项由办件的事项提供，"
                                    "不要自己写 enum）。"))
    if "x-matter-notice" in prop:
        if not isinstance(prop["x-matter-notice"], bool):
            problems.append(Problem("schema", [*path, "x-matter-notice"], "x-matter-notice 的值应为 true 或 false。"))
        elif kind != "string":
            problems.append(Problem("schema", [*path, "x-matter-notice"], "x-matter-notice 只能用于 type 为 string 的字段。"))
    if "x-messages" in prop:
        messages = prop["x-messages"]
        if not isinstance(messages, Mapping) or not messages or not all(
                isinstance(v, str) and v.strip() and len(v) <= 200 for v in messages.values()):
            problems.append(Problem("schema", [*path, "x-messages"], "x-messages 应为一个对象，把校验项对应到一句话"
                                                                     "（200 字以内），例如 {\"required\": \"请填写上门地址。\"}。"))
        else:
            for keyword in messages:
                if keyword not in MESSAGE_KEYWORDS:
                    problems.append(Problem("schema", [*path, "x-messages", keyword],
                                            f"x-messages 不认识校验项 {keyword}（可用：{'、'.join(MESSAGE_KEYWORDS)}）。"))
    if "x-applicant-text" in prop:
        if not isinstance(prop["x-applicant-text"], bool):
            problems.append(Problem("schema", [*path, "x-applicant-text"], "x-applicant-text 的值应为 true 或 false。"))
        elif prop["x-applicant-text"] and kind != "string":
            problems.append(Problem("schema", [*path, "x-applicant-text"], "x-applicant-text 只能用于 type 为 string 的字段。"))
    if kind == "object":
        _check_properties(prop, path, problems)
    items = prop.get("items")
    if kind == "array" and isinstance(items, Mapping):
        _check_field(items, [*path, "items"], problems)
    elif kind == "array" and items is not None:
        problems.append(Problem("schema", [*path, "items"], "列表的 items 应为一个对象（每一项的定义）。"))


def _check_ui(ui: Any, schema: Mapping[str, Any], path: list[Any], problems: list[Problem]) -> None:
    """Every key of a UI schema names a field the schema has (or is a ui: option we know)."""
    if not isinstance(ui, Mapping):
        problems.append(Problem("ui", path, "应为一个对象（JSON object）。"))
        return
    properties = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
    kind = _schema_type(schema)
    for key, value in ui.items():
        where = [*path, key]
        if key == "ui:order":
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                problems.append(Problem("ui", where, "ui:order 应为字段名的列表。"))
                continue
            for index, name in enumerate(value):
                if name != "*" and name not in properties:
                    problems.append(Problem("ui", [*where, index], f"ui:order 中的 {name} 在 JSON Schema 中没有这个字段。"))
            if len(set(value)) != len(value):
                problems.append(Problem("ui", where, "ui:order 中有重复的字段名。"))
        elif key == "ui:widget":
            if value not in WIDGETS:
                problems.append(Problem("ui", where, f"不认识的控件 {json.dumps(value, ensure_ascii=False)}（可用："
                                                     + "、".join(WIDGETS) + "）。"))
        elif key in ("ui:help", "ui:placeholder"):
            if not isinstance(value, str):
                problems.append(Problem("ui", where, f"{key} 应为文本。"))
        elif key.startswith("ui:"):
            problems.append(Problem("ui", where, f"不认识的选项 {key}（可用：" + "、".join(UI_KEYS) + "）。"))
        elif key == "items" and kind == "array":
            items = schema.get("items")
            _check_ui(value, items if isinstance(items, Mapping) else {}, where, problems)
        elif key not in properties:
            problems.append(Problem("ui", where, f"JSON Schema 中没有字段 {key}（UI schema 只能描述已有的字段）。"))
        elif isinstance(properties[key], Mapping):
            _check_ui(value, properties[key], where, problems)


def check_definition(title: Any, schema: Any, ui: Any) -> list[Problem]:
    """Everything that makes a form unusable, each with where and why; [] when it may be saved or loaded."""
    problems: list[Problem] = []
    if not isinstance(title, str) or not title.strip():
        problems.append(Problem("title", [], "表单标题不能为空（任务页和台账显示它）。"))
    elif len(title) > 200:
        problems.append(Problem("title", [], "表单标题最多 200 个字。"))
    if not isinstance(schema, Mapping):
        problems.append(Problem("schema", [], "JSON Schema 应为一个对象（JSON object）。"))
        return problems
    try:  # the meta-schema's most relevant error (jsonschema's best_match), regular expressions checked too
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        problems.append(Problem("schema", list(exc.absolute_path), _meta_message(exc)))
        return problems
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), Mapping) or not schema["properties"]:
        problems.append(Problem("schema", [], "表单的 JSON Schema 应为 \"type\": \"object\"，并在 properties 中列出字段。"))
        return problems
    if schema.get("additionalProperties") is not False:
        problems.append(Problem("schema", ["additionalProperties"], "表单须写 \"additionalProperties\": false"
                                                                    "（表单没有的字段一律拒收）。"))
    rule = schema.get("x-signature")
    if rule is not None:
        when = rule.get("when") if isinstance(rule, Mapping) else None
        if not isinstance(rule, Mapping) or set(rule) - {"required", "when"} or not rule or (
                "required" in rule and not isinstance(rule["required"], bool)):
            problems.append(Problem("schema", ["x-signature"], "x-signature 应为 {\"required\": true} 或 "
                                                               "{\"when\": \"<是/否字段名>\"}。"))
        elif "when" in rule:
            target = schema["properties"].get(when) if isinstance(when, str) else None
            if not isinstance(target, Mapping):
                problems.append(Problem("schema", ["x-signature", "when"], f"x-signature 的 when 指向的字段 {when} 不存在。"))
            elif _schema_type(target) != "boolean":
                problems.append(Problem("schema", ["x-signature", "when"],
                                        f"x-signature 的 when 应指向一个是/否（boolean）字段，{when} 不是。"))
    _check_properties(schema, [], problems)
    _check_ui(ui if ui is not None else {}, schema, [], problems)
    return problems


# --- validating a submission -------------------------------------------------------------------------

def _message(error) -> str:
    """A Chinese message for one jsonschema error: the field's own wording (x-messages) if it has one."""
    own = _own_message(error)
    if own:
        return own
    v = error.validator
    value = error.validator_value
    if v == "required":
        return "此项为必填项。"
    if v == "type":
        names = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否", "array": "列表", "object": "对象"}
        wanted = value if isinstance(value, list) else [value]
        return "应为" + "或".join(names.get(t, t) for t in wanted) + "。"
    if v == "enum" or v == "oneOf":
        return "请从给定的选项中选择。"
    if v == "const":
        return "必须确认此项后才能提交。" if value is True else f"此项必须为 {value!r}。"
    if v == "minLength":
        return "此项不能为空。" if value == 1 else f"至少 {value} 个字。"
    if v == "maxLength":
        return f"最多 {value} 个字。"
    if v == "minimum":
        return f"不能小于 {value}。"
    if v == "maximum":
        return f"不能大于 {value}。"
    if v == "pattern":
        return "格式不正确。"
    if v == "format":
        return {"date": "请输入日期（YYYY-MM-DD）。", "date-time": "请输入日期和时间。"}.get(value, "格式不正确。")
    if v == "minItems":
        return f"至少选择 {value} 项。"
    if v == "uniqueItems":
        return "有重复的项。"
    if v == "maxItems":
        return f"最多 {value} 项。"
    if v == "additionalProperties":
        return "表单中没有这个字段。"
    return "内容不符合要求。"


def _own_message(error) -> str | None:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "required":  # reported on the object: the field's schema is one level down
        missing = error.message.split("'")[1] if "'" in error.message else ""
        schema = (schema.get("properties") or {}).get(missing) or {}
    messages = schema.get("x-messages") if isinstance(schema, Mapping) else None
    return messages.get(error.validator) if isinstance(messages, Mapping) else None


def _field_of(error) -> str:
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path = list(error.absolute_path)
        return ".".join(str(p) for p in [*path, missing]) or "_form"
    if error.validator == "additionalProperties":
        extras = [e for e in error.instance if e not in error.schema.get("properties", {})] if isinstance(error.instance, dict) else []
        return ".".join(str(p) for p in [*error.absolute_path, *(extras[:1])]) or "_form"
    return ".".join(str(p) for p in error.absolute_path) or "_form"


def _walk(schema: dict[str, Any], value: Any, path: str = ""):
    """(field path, property schema, value) for every value the data has, into objects and arrays."""
    if isinstance(value, dict):
        for name, prop in schema.get("properties", {}).items():
            if name in value:
                child = f"{path}.{name}" if path else name
                yield child, prop, value[name]
                yield from _walk(prop, value[name], child)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            child = f"{path}.{index}"
            yield child, schema["items"], item
            yield from _walk(schema["items"], item, child)


# --- the case's matter: check lists of its materials, its notice instead of free text (R-5.4) -----------

UNBOUND: Any = object()  # validate without a case (the forms editor's preview, start forms): no matter checks


def matter_materials(matter: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The materials of a matter's one-time notice (each named once, in the catalog's order)."""
    seen: set[str] = set()
    out = []
    for m in ((matter or {}).get("notice") or {}).get("materials") or []:
        if isinstance(m, Mapping) and isinstance(m.get("name"), str) and m["name"] and m["name"] not in seen:
            seen.add(m["name"])
            out.append(dict(m))
    return out


def bind(form: Form, matter: Mapping[str, Any] | None, options: bool = True) -> dict[str, Any]:
    """The form's schema for one case: each x-options-from check list offers the matter's materials (``oneOf`` of
    name, titled by name, described by how to obtain it); each x-matter-notice field is left out when the
    matter has a notice to give instead. The schema itself when the form has neither."""
    if not form.needs_matter:
        return form.schema
    materials = matter_materials(matter)
    properties = dict(form.schema["properties"])
    required = list(form.schema.get("required") or [])
    for name in form.options_fields:
        if options and materials:
            prop = properties[name]
            properties[name] = {**prop, "items": {**prop["items"], "oneOf": [
                {"const": m["name"], "title": m["name"], "description": str(m.get("how_to_obtain") or "")}
                for m in materials]}}
    if materials:
        for name in form.notice_fields:
            properties.pop(name, None)
            required = [r for r in required if r != name]
    bound = {**form.schema, "properties": properties}
    if "required" in form.schema:
        bound["required"] = required
    return bound


def notice_given(form: Form, data: Mapping[str, Any], matter: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The one-time notice a completion gave, as it is recorded with the step (``formrender.NOTICE_KEY``): the materials
    ticked in its check lists (or, for an x-matter-notice form, all of them), each with how to obtain it, and
    the matter's conditions, steps, time limit, fee, window and cautions as the catalog has them now."""
    materials = matter_materials(matter)
    if matter is None or not materials:
        return None
    if form.notice_fields:
        chosen, scope = materials, "full"
    else:
        ticked = {v for name in form.options_fields for v in (data.get(name) or []) if isinstance(v, str)}
        chosen, scope = [m for m in materials if m["name"] in ticked], "missing"
        if not chosen:
            return None
    notice = matter.get("notice") or {}
    promised, legal = matter.get("promised_days"), matter.get("legal_days")
    limit = notice.get("time_limit") or (f"承诺{promised}个工作日" + (f"（法定{legal}个工作日）" if legal else "")
                                         if promised else "")
    return {"scope": scope, "matter_code": matter.get("code"), "matter_name": matter.get("name"),
            "department": matter.get("department"),
            "materials": [{k: m.get(k) for k in ("name", "copies", "how_to_obtain", "fixable_on_site", "required")}
                          for m in chosen],
            "conditions": list(notice.get("conditions") or []), "steps": list(notice.get("steps") or []),
            "time_limit": limit, "cautions": list(notice.get("cautions") or []), "basis": list(notice.get("basis") or []),
            "fee": matter.get("fee") or "", "window": matter.get("window") or "",
            "promised_days": promised, "legal_days": legal}


def _matter_errors(form: Form, data: Mapping[str, Any], matter: Mapping[str, Any] | None,
                   errors: dict[str, list[str]]) -> None:
    """A ticked material the case's matter does not list is refused on its check list (R-9.1.3.3)."""
    offered = {m["name"] for m in matter_materials(matter)}
    for name in form.options_fields:
        value = data.get(name)
        if not offered:  # nothing to tick: say why rather than "required"
            if value or name in errors:
                errors[name] = ["本办件的事项在事项清单中没有列出申请材料，无法勾选：请联系政务服务中心办公室补全该事项的一次性告知。"]
            continue
        if name in errors or any(k.startswith(name + ".") for k in errors) or not isinstance(value, list) or not value:
            continue  # already refused (not a list, an item not text ...): one message is enough
        unknown = [v for v in value if v not in offered]
        if unknown:
            listed = "、".join(f"“{v}”" for v in unknown[:5]) + ("等" if len(unknown) > 5 else "")
            errors[name] = [f"{listed}不在本事项一次性告知的材料清单中，请从清单中勾选。"]


def validate_form(form: Form, data: Any, ref_exists: RefCheck, matter: Any = UNBOUND,
                  find_phrase: Callable[[str], Hit | None] = BUILTIN_BOOK.find) -> dict[str, Any]:
    """The submission if it is valid; otherwise FormInvalid with each field's messages. ``matter`` (the case's
    matter as org.matter_view gives it, or None) binds the x-options-from and x-matter-notice fields;
    ``find_phrase``: the forbidden phrases (R-6.3.2) text to applicants is checked against (the system's
    PhraseBook)."""
    if not isinstance(data, dict):
        raise FormInvalid({"_form": ["提交的数据应为一个对象（JSON object）。"]})
    errors: dict[str, list[str]] = {}
    validator = form.validator
    if matter is not UNBOUND and form.notice_fields and matter_materials(matter):
        validator = Draft202012Validator(bind(form, matter, options=False),
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in validator.iter_errors(data):
        # oneOf/anyOf report on the parent; keep the most specific message per field.
        errors.setdefault(_field_of(error), []).append(_message(error))
    for path, prop, value in _walk(form.schema, data):
        if value in (None, "") or path in errors:
            continue
        if prop.get("x-applicant-text") and isinstance(value, str):
            hit = find_phrase(value)
            if hit:
                errors.setdefault(path, []).append(hit.message())
        ref = prop.get("x-ref")
        if ref and isinstance(value, str) and not ref_exists(ref, value):
            label = REF_KINDS.get(ref, ref)
            errors.setdefault(path, []).append(f"没有编号为 {value} 的办件，请核对办件编号。" if ref == "case"
                                               else f"{label}编码 {value} 不存在。")
        elif ref == "unit" and prop.get("x-staffed-by") in ROLE_TITLES and isinstance(value, str) \
                and not ref_exists(f"unit:{prop['x-staffed-by']}", value):
            title = ROLE_TITLES[prop["x-staffed-by"]]
            errors.setdefault(path, []).append(f"单位 {value} 没有在岗的{title}，交过去没有人能接收：请选择有{title}的单位。")
    if matter is not UNBOUND:
        _matter_errors(form, data, matter, errors)
    if errors:
        raise FormInvalid(errors)
    return data


# --- the registry: files plus the versions saved in the forms editor ---------------------------------

class FormRegistry:
    """Every form by name: forms/*.json loaded and checked once, overridden by the newest version saved
    in the forms editor (when a database is attached). Lookups are dictionary reads; the database is
    asked at most every ``cache_seconds`` whether anything was saved, with one aggregate query."""

    def __init__(self, forms_dir: Path, db=None, cache_seconds: float = CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic, phrases=BUILTIN_BOOK) -> None:
        self.forms_dir = forms_dir
        self.phrases = phrases  # the forbidden phrases (R-6.3.2), with those added in the registry
        self.files: dict[str, Form] = {}
        self.problems: dict[str, str] = {}  # forms/ files that do not load (what `bdd check` reports)
        self.saved: dict[str, Form] = {}  # the newest saved version of each name
        self.saved_problems: dict[str, str] = {}  # saved versions that no longer load (the file is used)
        self.db = db
        self.cache_seconds = cache_seconds
        self.monotonic = monotonic  # a cache's age, not business time (that is System.clock)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._next_check = 0.0
        self._merged: dict[str, Form] = {}
        self.reload()

    def reload(self) -> None:
        """Read forms/ again (and the saved versions at the next lookup)."""
        files: dict[str, Form] = {}
        self.problems.clear()
        if self.forms_dir.exists():
            for path in sorted(self.forms_dir.glob("*.json")):
                try:
                    files[path.stem] = self.load(path.stem, json.loads(path.read_text(encoding="utf-8")))
                except (ValueError, DomainError) as exc:
                    self.problems[path.stem] = getattr(exc, "message", str(exc))
        self.files = files
        self._merged = dict(files) | self.saved
        self.invalidate()

    @staticmethod
    def load(name: str, raw: dict[str, Any], version: int = 0, saved_by: str | None = None,
             saved_at: datetime | None = None) -> Form:
        if not isinstance(raw, dict):
            raise DomainError(f"表单 {name} 应为一个 JSON 对象。")
        schema = raw.get("schema")
        if not isinstance(schema, dict):
            raise DomainError(f"表单 {name} 缺少 schema。")
        title = raw.get("title", name)
        problems = check_definition(title, schema, raw.get("ui", {}))
        if problems:
            raise DomainError(f"表单 {name} 无效: {problems[0].text()}")
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return Form(name, title, schema, raw.get("ui", {}), validator, version, saved_by, saved_at)

    # --- the saved versions ----------------------------------------------------------------------
    def invalidate(self) -> None:
        """Look in the database at the next lookup (this process has just saved a form)."""
        self._next_check = 0.0

    def _fresh(self) -> None:
        if self.db is None or self.monotonic() < self._next_check:
            return
        with self._lock:
            if self.monotonic() < self._next_check:
                return
            try:
                self._refresh()
            except SQLAlchemyError as exc:
                # No database yet (bdd check before bdd init): the files. A database that was there and
                # failed for a moment: keep what was read last and ask again after cache_seconds.
                if self._stamp is not None:
                    log.warning("edited forms could not be re-read, keeping the last ones: %s", exc)
            self._next_check = self.monotonic() + self.cache_seconds

    def _refresh(self) -> None:
        table = FormDefinition.__table__
        with self.db.engine.connect() as conn:
            count, last = conn.execute(select(func.count(table.c.id), func.max(table.c.id))).one()
            stamp = (count or 0, last or 0)
            if stamp == self._stamp:
                return
            newest = select(table.c.name, func.max(table.c.version).label("v")).group_by(table.c.name).subquery()
            rows = conn.execute(select(table).join(newest, (table.c.name == newest.c.name)
                                                   & (table.c.version == newest.c.v))).all()
        saved, problems = {}, {}
        for row in rows:
            try:
                saved[row.name] = self.load(row.name, {"title": row.title, "schema": row.schema, "ui": row.ui},
                                            row.version, row.saved_by, row.saved_at)
            except DomainError as exc:  # saved when it was valid; a later rule refuses it: say so, use the file
                problems[row.name] = exc.message
        self.saved, self.saved_problems, self._stamp = saved, problems, stamp
        self._merged = dict(self.files) | saved

    # --- lookups -----------------------------------------------------------------------------------
    @property
    def forms(self) -> dict[str, Form]:
        """Every usable form by name, the newest saved version first."""
        self._fresh()
        return self._merged

    def exists(self, name: str) -> bool:
        return name in self.forms

    def get(self, name: str) -> Form:
        form = self.forms.get(name)
        if form is None:
            raise DomainError(f"表单 {name} 不存在或无效: {self.problems.get(name, '没有 forms/' + name + '.json')}")
        return form

    def validate(self, name: str, data: Any, ref_exists: RefCheck, matter: Any = UNBOUND) -> dict[str, Any]:
        """The submission if it is valid; otherwise FormInvalid with each field's messages."""
        return validate_form(self.get(name), data, ref_exists, matter, find_phrase=self.phrases.find)
