"""forms/*.json -> validation and rendering data. One file describes what a user task asks for."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .errors import DomainError, FormInvalid
from .phrases import find_forbidden

RefCheck = Callable[[str, str], bool]


@dataclass
class Form:
    name: str
    title: str
    schema: dict[str, Any]
    ui: dict[str, Any]
    validator: Draft202012Validator


def _message(error) -> str:
    """A Chinese message for one jsonschema error."""
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
    if v == "additionalProperties":
        return "表单中没有这个字段。"
    return "内容不符合要求。"


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


class FormRegistry:
    """All forms of forms/, loaded and checked once."""

    def __init__(self, forms_dir: Path) -> None:
        self.forms_dir = forms_dir
        self.forms: dict[str, Form] = {}
        self.problems: dict[str, str] = {}
        self.reload()

    def reload(self) -> None:
        self.forms.clear()
        self.problems.clear()
        if not self.forms_dir.exists():
            return
        for path in sorted(self.forms_dir.glob("*.json")):
            try:
                self.forms[path.stem] = self.load(path.stem, json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, DomainError) as exc:
                self.problems[path.stem] = getattr(exc, "message", str(exc))

    @staticmethod
    def load(name: str, raw: dict[str, Any]) -> Form:
        schema = raw.get("schema")
        if not isinstance(schema, dict):
            raise DomainError(f"表单 {name} 缺少 schema。")
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise DomainError(f"表单 {name} 的 JSON Schema 无效: {exc.message}") from None
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return Form(name, raw.get("title", name), schema, raw.get("ui", {}), validator)

    def exists(self, name: str) -> bool:
        return name in self.forms

    def get(self, name: str) -> Form:
        if name not in self.forms:
            raise DomainError(f"表单 {name} 不存在或无效: {self.problems.get(name, '没有 forms/' + name + '.json')}")
        return self.forms[name]

    def validate(self, name: str, data: Any, ref_exists: RefCheck) -> dict[str, Any]:
        """The submission if it is valid; otherwise FormInvalid with each field's messages."""
        form = self.get(name)
        if not isinstance(data, dict):
            raise FormInvalid({"_form": ["提交的数据应为一个对象（JSON object）。"]})
        errors: dict[str, list[str]] = {}
        for error in form.validator.iter_errors(data):
            # oneOf/anyOf report on the parent; keep the most specific message per field.
            errors.setdefault(_field_of(error), []).append(_message(error))
        for path, prop, value in _walk(form.schema, data):
            if value in (None, "") or path in errors:
                continue
            if prop.get("x-applicant-text") and isinstance(value, str):
                hit = find_forbidden(value)
                if hit:
                    errors.setdefault(path, []).append(
                        f"含有服务禁忌用语（第{hit[0]}条）“{hit[1]}”，请使用文明规范用语（R-6.3.2）。"
                    )
            ref = prop.get("x-ref")
            if ref and isinstance(value, str) and not ref_exists(ref, value):
                label = {"unit": "单位", "matter": "事项", "staff": "工作人员"}.get(ref, ref)
                errors.setdefault(path, []).append(f"{label}编码 {value} 不存在。")
        if errors:
            raise FormInvalid(errors)
        return data
