"""A task's form (forms/*.json: JSON Schema + UI schema) -> field descriptors for the HTML page, and a
submitted HTML form -> typed JSON for validation. Pure Python: no Flask, no database.

HTML names are the field paths the validator reports errors under: ``guidance``,
``missing_materials.0.how_to_obtain``, ``handed_over_documents.2``; so an error lands next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# How many rows a repeatable list shows without JavaScript (more with the "add row" button).
MIN_ROWS = 3
MAX_ROWS = 200  # parsing stops here whatever is posted; the schema's maxItems says the real limit
ROW_PLACEHOLDER = "__i__"
LEVEL_TITLES = {"county": "县", "township": "乡镇", "village": "村"}
REF_TITLES = {"unit": "单位", "staff": "工作人员", "matter": "事项"}
_MISSING = object()
# Where a completion keeps the one-time notice it gave, in its step data (services/tasks.complete_task, R-5.4).
NOTICE_KEY = "one_time_notice"
# Material rows as the check-list forms had them before their choices came from the catalog (R-9.1.3.3).
LEGACY_MATERIAL_ROW = {"properties": {"name": {"title": "材料名称"}, "copies": {"title": "份数"},
                                      "how_to_obtain": {"title": "补齐途径和方法"}, "fixed_on_site": {"title": "已当场补正"}}}
_TRUE = {"true", "on", "1", "yes", "是"}
_FALSE = {"false", "off", "0", "no", "否"}


@dataclass
class Option:
    value: str
    label: str
    selected: bool = False
    group: str | None = None
    data: dict[str, str] = field(default_factory=dict)


@dataclass
class Field:
    """One thing the page shows: an input, a choice, a check list or a repeatable group."""

    name: str  # HTML name and error path
    label: str
    widget: str  # text textarea number date select radio yesno checkbox confirm checkboxes textlist group object
    required: bool = False
    help: str | None = None
    placeholder: str | None = None
    value: Any = None
    errors: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    rows: list[list[Field]] = field(default_factory=list)  # group: one list of fields per row
    items: list[Field] = field(default_factory=list)  # textlist: one text input per row
    template: list[Field] = field(default_factory=list)  # a blank row for JavaScript to copy
    children: list[Field] = field(default_factory=list)  # object: its fields
    applicant_text: bool = False  # checked against the forbidden phrases
    ref: str | None = None

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    @property
    def option_groups(self) -> list[tuple[str | None, list[Option]]]:
        """Options in their order, grouped where consecutive options share a group (for <optgroup>)."""
        groups: list[tuple[str | None, list[Option]]] = []
        for option in self.options:
            if groups and groups[-1][0] == option.group:
                groups[-1][1].append(option)
            else:
                groups.append((option.group, [option]))
        return groups

    @property
    def has_errors(self) -> bool:
        """Errors of this field or anything inside it."""
        return bool(self.errors) or any(f.has_errors for row in self.rows for f in row) or any(
            f.has_errors for f in self.items) or any(f.has_errors for f in self.children)


@dataclass
class RenderedForm:
    fields: list[Field]
    unplaced_errors: dict[str, list[str]]  # errors no field took: "_form", "signature", ...


@dataclass
class Refs:
    """What ``x-ref`` selects offer: units as a tree (in path order), staff, matters."""

    units: list[dict[str, Any]] = field(default_factory=list)  # code, name, level, depth
    staff: list[dict[str, Any]] = field(default_factory=list)  # username, name, role_title, unit, unit_name
    matters: list[dict[str, Any]] = field(default_factory=list)  # code, name


# --- rendering ----------------------------------------------------------------------------------------

def ref_kinds(schema: Mapping[str, Any]) -> set[str]:
    """Which reference lists (unit / staff / matter) a form needs."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if isinstance(node.get("x-ref"), str):
                found.add(node["x-ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def _ordered(properties: Mapping[str, Any], ui: Mapping[str, Any]) -> list[str]:
    order = ui.get("ui:order") if isinstance(ui, Mapping) else None
    names = list(properties)
    if not order:
        return names
    if "*" in order:
        star = order.index("*")
        head = [n for n in order[:star] if n in properties]
        tail = [n for n in order[star + 1:] if n in properties]
        middle = [n for n in names if n not in head and n not in tail]
        return head + middle + tail
    listed = [n for n in order if n in properties]
    return listed + [n for n in names if n not in listed]


def _choices(prop: Mapping[str, Any]) -> list[tuple[Any, str]] | None:
    if isinstance(prop.get("oneOf"), list) and all(isinstance(o, Mapping) and "const" in o for o in prop["oneOf"]):
        return [(o["const"], str(o.get("title", o["const"]))) for o in prop["oneOf"]]
    if isinstance(prop.get("anyOf"), list) and all(isinstance(o, Mapping) and "const" in o for o in prop["anyOf"]):
        return [(o["const"], str(o.get("title", o["const"]))) for o in prop["anyOf"]]
    if isinstance(prop.get("enum"), list):
        names = prop.get("x-enumNames") or prop.get("enumNames") or []
        return [(v, str(names[i]) if i < len(names) else str(v)) for i, v in enumerate(prop["enum"])]
    return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _ref_options(kind: str, refs: Refs, selected: str) -> list[Option]:
    if kind == "unit":
        return [Option(u["code"], "\u3000" * u.get("depth", 0) + f"[{LEVEL_TITLES.get(u['level'], u['level'])}] {u['name']}",
                       u["code"] == selected) for u in refs.units]
    if kind == "staff":
        return [Option(s["username"], f"{s['name']}（{s.get('role_title') or s.get('role', '')}）",
                       s["username"] == selected, group=s.get("unit_name") or "未分配单位") for s in refs.staff]
    if kind == "matter":
        return [Option(m["code"], f"{m['name']}（{m['code']}）", m["code"] == selected) for m in refs.matters]
    return []


def _row_count(prop: Mapping[str, Any], values: list[Any]) -> int:
    """Rows shown: what was entered plus one blank, at least MIN_ROWS (enough without JavaScript)."""
    count = max(MIN_ROWS, len(values) + 1)
    if prop.get("maxItems"):
        count = min(count, max(int(prop["maxItems"]), len(values)))
    return count


def _field(name: str, prop: Mapping[str, Any], ui: Mapping[str, Any], required: bool, value: Any,
           errors: Mapping[str, list[str]], used: set[str], refs: Refs) -> Field:
    ui = ui if isinstance(ui, Mapping) else {}
    widget_hint = ui.get("ui:widget")
    kind = prop.get("type")
    label = str(prop.get("title") or name)
    out = Field(name=name, label=label, widget="text", required=required, help=ui.get("ui:help") or prop.get("description"),
                placeholder=ui.get("ui:placeholder"), applicant_text=bool(prop.get("x-applicant-text")))
    if name in errors:
        out.errors = list(errors[name])
        used.add(name)
    choices = _choices(prop)

    if kind == "boolean":
        if prop.get("const") is True:
            out.widget, out.required = "confirm", True
        elif widget_hint in ("checkbox",) or (widget_hint is None and not required):
            out.widget = "checkbox"
        else:
            out.widget = "yesno"
            out.options = [Option("true", "是", value is True), Option("false", "否", value is False)]
        out.value = value
        return out

    if kind == "array":
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        item_choices = _choices(items)
        values = value if isinstance(value, list) else []
        if item_choices is not None or prop.get("x-options-from"):
            out.widget = "checkboxes"
            chosen = {_as_text(v) for v in values}
            notes = {o["const"]: str(o.get("description") or "") for o in items.get("oneOf") or []
                     if isinstance(o, Mapping) and "const" in o}
            out.options = [Option(_as_text(v), t, _as_text(v) in chosen, data={"description": notes.get(v, "")})
                           for v, t in item_choices or []]
            offered = {o.value for o in out.options}
            # A ticked value the list no longer offers stays visible, ticked, next to its error.
            out.options += [Option(v, v, True) for v in values if isinstance(v, str) and v not in offered]
            if prop.get("x-options-from") and not item_choices:
                out.attrs["no_options"] = True  # the case's matter lists no materials (or no case: a preview)
            return out
        if items.get("type") == "object":
            out.widget = "group"
            count = _row_count(prop, values)
            item_ui = ui.get("items", {}) if isinstance(ui.get("items"), Mapping) else {}
            for index in range(count):
                row_value = values[index] if index < len(values) and isinstance(values[index], Mapping) else {}
                row_name = f"{name}.{index}"
                if row_name in errors:  # a whole row refused (e.g. an unknown field): show it on the group
                    out.errors.extend(errors[row_name])
                    used.add(row_name)
                out.rows.append(_object_fields(row_name, items, item_ui, row_value, errors, used, refs))
            out.template = _object_fields(f"{name}.{ROW_PLACEHOLDER}", items, item_ui, {}, {}, set(), refs)
            out.attrs["max_items"] = prop.get("maxItems")
            return out
        out.widget = "textlist"
        for index in range(_row_count(prop, values)):
            out.items.append(_field(f"{name}.{index}", items, {}, False, values[index] if index < len(values) else None,
                                    errors, used, refs))
        out.template = [_field(f"{name}.{ROW_PLACEHOLDER}", items, {}, False, None, {}, set(), refs)]
        out.attrs["max_items"] = prop.get("maxItems")
        return out

    if kind == "object":
        out.widget = "object"
        out.children = _object_fields(name, prop, ui, value if isinstance(value, Mapping) else {}, errors, used, refs)
        return out

    if isinstance(prop.get("x-ref"), str) and prop["x-ref"] != "case":  # a case number is typed, never listed
        out.widget, out.ref = "select", prop["x-ref"]
        out.value = "" if value is None else str(value)
        out.options = _ref_options(prop["x-ref"], refs, out.value)
        if out.value and not any(o.selected for o in out.options):  # keep a code the list does not know
            out.options.insert(0, Option(out.value, out.value, True))
        return out

    if choices is not None:
        out.widget = "radio" if widget_hint == "radio" else "select"
        text = _as_text(value)
        out.options = [Option(_as_text(v), t, value is not None and _as_text(v) == text) for v, t in choices]
        out.value = value
        return out

    if kind in ("integer", "number"):
        out.widget = "number"
        out.value = "" if value is None else value
        out.attrs["step"] = "1" if kind == "integer" else "any"
        for key in ("minimum", "maximum"):
            if key in prop:
                out.attrs["min" if key == "minimum" else "max"] = prop[key]
        return out

    out.value = "" if value is None else value
    if prop.get("format") == "date" or widget_hint == "date":
        out.widget = "date"
    elif prop.get("format") == "date-time":  # a local date and time (onsite_apply's appointment)
        out.widget, out.attrs["type"] = "text", "datetime-local"
        out.value = str(out.value)[:16]
    elif widget_hint == "textarea":
        out.widget = "textarea"
    elif widget_hint in ("password", "email", "tel", "url"):
        out.widget, out.attrs["type"] = "text", widget_hint
    if prop.get("maxLength"):
        out.attrs["maxlength"] = prop["maxLength"]
    return out


def _object_fields(prefix: str, schema: Mapping[str, Any], ui: Mapping[str, Any], values: Mapping[str, Any],
                   errors: Mapping[str, list[str]], used: set[str], refs: Refs) -> list[Field]:
    properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    required = set(schema.get("required", [])) if isinstance(schema, Mapping) else set()
    ui = ui if isinstance(ui, Mapping) else {}
    fields = []
    for name in _ordered(properties, ui):
        path = f"{prefix}.{name}" if prefix else name
        fields.append(_field(path, properties[name], ui.get(name, {}), name in required, values.get(name),
                             errors, used, refs))
    return fields


def render(schema: Mapping[str, Any], ui: Mapping[str, Any] | None, values: Mapping[str, Any] | None = None,
           errors: Mapping[str, list[str]] | None = None, refs: Refs | None = None) -> RenderedForm:
    """The fields of a form with the user's values and each field's errors; errors no field took are returned."""
    errors = errors or {}
    used: set[str] = set()
    fields = _object_fields("", schema, ui or {}, values or {}, errors, used, refs or Refs())
    return RenderedForm(fields, {k: v for k, v in errors.items() if k not in used})


# --- parsing ------------------------------------------------------------------------------------------

def _getlist(form: Any, key: str) -> list[str]:
    if hasattr(form, "getlist"):
        return [str(v) for v in form.getlist(key)]
    value = form.get(key) if isinstance(form, Mapping) else None
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def _get(form: Any, key: str) -> str | None:
    values = _getlist(form, key)
    # A checkbox comes after its hidden "false": the last value is the answer.
    return values[-1] if values else None


def _number(text: str, kind: str) -> Any:
    try:
        if kind == "integer":
            return int(text)
        number = float(text)
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    except ValueError:
        return text  # the validator says "应为整数/数字" and the page shows what was typed


def _indices(keys: Iterable[str], prefix: str) -> list[int]:
    found = set()
    for key in keys:
        if key.startswith(prefix):
            head = key[len(prefix):].split(".", 1)[0]
            if head.isdigit() and len(head) < 5:
                found.add(int(head))
    return sorted(found)[:MAX_ROWS]


def _keys(form: Any) -> list[str]:
    return list(form.keys()) if hasattr(form, "keys") else []


def _parse_value(prop: Mapping[str, Any], key: str, form: Any, keys: list[str]) -> Any:
    kind = prop.get("type")
    if kind == "boolean":
        raw = _get(form, key)
        if raw is None or raw.strip() == "":
            return _MISSING
        lowered = raw.strip().lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else raw

    if kind == "array":
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        if _choices(items) is not None or prop.get("x-options-from"):
            return [_convert_choice(items, v) for v in _getlist(form, key) if v != ""]
        result = []
        for index in _indices(keys, key + "."):
            item_key = f"{key}.{index}"
            if items.get("type") == "object":
                row = _parse_object(items, form, keys, item_key + ".")
                if _row_has_content(row):
                    result.append(row)
            else:
                value = _parse_value(items, item_key, form, keys)
                if value is not _MISSING and value != "":
                    result.append(value)
        return result

    if kind == "object":
        return _parse_object(prop, form, keys, key + ".")

    raw = _get(form, key)
    if raw is None:
        return _MISSING
    text = raw.replace("\r\n", "\n").strip()
    if _choices(prop) is not None:
        return _convert_choice(prop, text) if text != "" else _MISSING
    if kind in ("integer", "number"):
        return _number(text, kind) if text != "" else _MISSING
    if text == "":
        # An empty reference means "none" (the diagrams test relay_to_unit != ""); other empty text is absent.
        return "" if isinstance(prop.get("x-ref"), str) else _MISSING
    return text


def _convert_choice(prop: Mapping[str, Any], text: str) -> Any:
    for value, _title in _choices(prop) or []:
        if _as_text(value) == text:
            return value
    return text  # not an offered choice: the validator refuses it with its message


def _row_has_content(row: Mapping[str, Any]) -> bool:
    """A repeatable row left blank is not a row (its unticked checkboxes post "false")."""
    for value in row.values():
        if value is True or (isinstance(value, str) and value != "") or isinstance(value, (int, float)) and value is not False:
            return True
        if isinstance(value, (list, dict)) and value:
            return True
    return False


def _parse_object(schema: Mapping[str, Any], form: Any, keys: list[str], prefix: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping):
            continue
        value = _parse_value(prop, prefix + name, form, keys)
        if value is not _MISSING:
            data[name] = value
    return data


def parse(schema: Mapping[str, Any], form: Any) -> dict[str, Any]:
    """A submitted HTML form (a MultiDict) -> the JSON the form's schema describes: booleans, numbers,
    arrays and nested objects typed; blank optional fields left out; anything the schema lacks ignored."""
    return _parse_object(schema, form, _keys(form))


# --- showing submitted data ---------------------------------------------------------------------------

@dataclass
class Shown:
    label: str
    text: str = ""
    rows: list[list[Shown]] = field(default_factory=list)


def _display(prop: Mapping[str, Any], value: Any, names: Mapping[str, Mapping[str, str]]) -> str:
    if value is True:
        return "是"
    if value is False:
        return "否"
    if value is None or value == "":
        return "—"
    choices = _choices(prop)
    if choices:
        for const, title in choices:
            if const == value:
                return title
    ref = prop.get("x-ref")
    if isinstance(ref, str) and isinstance(value, str):
        name = names.get(ref, {}).get(value)
        return f"{name}（{value}）" if name else value
    if isinstance(value, list):
        return "、".join(_display(prop.get("items", {}) if isinstance(prop.get("items"), Mapping) else {}, v, names)
                        for v in value)
    if isinstance(value, Mapping):
        return "；".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def describe(schema: Mapping[str, Any] | None, data: Mapping[str, Any] | None,
             names: Mapping[str, Mapping[str, str]] | None = None, ui: Mapping[str, Any] | None = None) -> list[Shown]:
    """Submitted data as label/text pairs in the form's order, for the case page and the ledger;
    ``names`` maps x-ref codes to names ({"unit": {...}, "staff": {...}, "matter": {...}})."""
    data = data or {}
    names = names or {}
    properties = (schema or {}).get("properties", {}) if isinstance(schema, Mapping) else {}
    shown = []
    for name in _ordered(properties, ui or {}) + [k for k in data if k not in properties]:
        if name not in data or data[name] is None:
            continue
        prop = properties.get(name, {})
        value = data[name]
        label = str(prop.get("title") or name)
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        if name == NOTICE_KEY and isinstance(value, Mapping):
            shown.append(Shown("一次性告知", notice_summary(value)))
        elif isinstance(value, list) and (items.get("type") == "object" or value and all(isinstance(r, Mapping) for r in value)):
            # Rows of a repeatable group; also material rows typed before the check list came from the
            # catalog (a case that passed this step before the form changed).
            rows = [describe(items if items.get("type") == "object" else LEGACY_MATERIAL_ROW, row, names)
                    for row in value if isinstance(row, Mapping)]
            shown.append(Shown(label, rows=rows))
        else:
            shown.append(Shown(label, _display(prop, value, names)))
    return shown


# --- the one-time notice as a check list (R-5.4, R-9.1.3.3) --------------------------------------------

def notice_summary(notice: Mapping[str, Any]) -> str:
    """One line for the one-time notice a step recorded (NOTICE_KEY)."""
    names = [str(m.get("name")) for m in notice.get("materials") or [] if isinstance(m, Mapping)]
    matter = notice.get("matter_name") or notice.get("matter_code") or ""
    if notice.get("scope") == "full":
        return f"按事项清单《{matter}》一次性告知：申请材料 {len(names)} 项及办理条件、流程、时限、收费、窗口和注意事项。"
    return f"按事项清单《{matter}》一次性列出 {len(names)} 项材料及获取途径：" + "、".join(names)


def options_fields(schema: Mapping[str, Any] | None) -> list[str]:
    """Fields that are check lists of the case's matter's materials (x-options-from)."""
    return [n for n, p in ((schema or {}).get("properties") or {}).items() if isinstance(p, Mapping) and p.get("x-options-from")]


def material_checklist(notice: Mapping[str, Any] | None, have: Iterable[int]) -> dict[str, list[dict[str, Any]]]:
    """The notice's materials split into what the applicant produced (ticked) and what is missing."""
    materials = list((notice or {}).get("materials") or [])
    ticked = {i for i in have if 0 <= i < len(materials)}
    rows = [dict(m, index=i, have=i in ticked) for i, m in enumerate(materials) if isinstance(m, Mapping)]
    return {"materials": rows, "missing": [r for r in rows if not r["have"]], "provided": [r for r in rows if r["have"]]}


def signature_rule(schema: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The form's ``x-signature`` rule: {"required": true} or {"when": "<field>"}; None if it needs none."""
    rule = (schema or {}).get("x-signature")
    return rule if isinstance(rule, Mapping) and rule else None
