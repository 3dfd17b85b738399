"""The OpenAPI document, generated from the same marshmallow schemas the views use."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from .. import __version__
from .. import schemas as s
from ..db.models import MAX_ROW_ID
from ..forms import Form

ERR = {"content": {"application/json": {"schema": "ErrorResponse"}}}

# (path, method, summary, request schema, success status, response schema, error statuses, query schema)
ROUTES = [
    ("/auth/token", "post", "获取访问令牌", s.TokenRequest, 200, s.TokenResponse, (401, 422, 429), None),
    ("/processes", "get", "已部署的流程及版本", None, 200, s.ProcessSchema(many=True), (401,), None),
    ("/processes", "post", "部署 BPMN/DMN 文件（管理员）", "multipart", 201, s.DeployResponse, (401, 403, 413, 422), None),
    ("/processes/{process_id}/versions", "get", "一个流程的全部版本：部署人、时间、校验和、各版本在办和已办结的办件数（督办人员）",
     None, 200, s.ProcessVersionSchema(many=True), (401, 403, 404), None),
    ("/processes/validate", "post", "检查 BPMN/DMN 文件而不部署（管理员）：部署会拒绝的全部问题及 bdd check 的提醒，"
     "每条注明元素（multipart 字段 file，或以 XML 作为请求体）", "multipart", 200, s.ValidationReport, (401, 403, 413), None),
    ("/cases", "post", "发起办件", s.StartCaseRequest, 201, s.CaseSchema, (401, 403, 404, 422), None),
    ("/cases", "get", "可见的办件", None, 200, s.CasePage, (401, 422), s.CaseQuery),
    ("/cases/{case_id}", "get", "办件详情：待办、已办、计时器、历史、关联办件", None, 200, s.CaseSchema, (401, 403, 404), None),
    ("/cases/{case_id}/relays", "post", "互动接力（R-6.4.3）：正在办理帮办、代办办件当前步骤的工作人员把办件交给另一层级的单位，"
     "写明原因和移交材料；接收单位须有在岗的同角色人员，涉企事项不离开行政审批局，不能交给本单位", s.RelayRequest, 201,
     s.RelaySchema, (401, 403, 404, 409, 422), None),
    ("/cases/{case_id}/rating", "post", "窗口好差评（R-7.2.1）：工作人员记录服务对象对已办结的帮办、代办、上门办办件的评价。"
     "一事一评：办件已在任何渠道评价过的 409 并说明何时经哪个渠道评价；回访、整改、投诉等办件 422；差评启动承办单位整改（R-10.2）",
     s.RatingRequest, 201, s.RatingResponse, (401, 403, 404, 409, 422), None),
    ("/relays", "get", "等我接收的接力（本单位、本角色）", None, 200, s.RelaySchema(many=True), (401,), None),
    ("/relays/{relay_id}/accept", "post", "接收接力：办件及本角色的待办转到本单位", s.RelayAnswer, 200, s.RelaySchema,
     (401, 403, 404, 409, 422), None),
    ("/relays/{relay_id}/return", "post", "退回接力（须写明原因）：办件留在原单位", s.RelayAnswer, 200, s.RelaySchema,
     (401, 403, 404, 409, 422), None),
    ("/tasks", "get", "待办箱（我的 / 本组）", None, 200, s.TaskPage, (401, 422), s.TaskQuery),
    ("/tasks/{task_id}", "get", "任务详情：表单与一次性告知", None, 200, s.TaskDetailSchema, (401, 403, 404), None),
    ("/tasks/{task_id}/claim", "post", "认领任务", None, 200, s.TaskSchema, (401, 403, 404, 409), None),
    ("/tasks/{task_id}/complete", "post", "办理（提交表单）", s.CompleteTaskRequest, 200, s.CompleteTaskResponse,
     (401, 403, 404, 409, 422), None),
    ("/tasks/{task_id}/report", "post", "问题上报：就正在办理的任务向督办本单位的首席服务专员报告问题（R-6.4.2）；"
     "答复送回上报人的待办并记入原办件", s.ReportProblemRequest, 201, s.ProblemReportResponse, (401, 403, 404, 409, 422), None),
    ("/tasks/reassign", "post", "批量改派（首席服务专员，R-7.1.1）：把多项待办改派给督办单位内同一岗位的一名在岗人员，任务随之转到其单位；"
     "一项不能改派则全部不改派，422 的 errors.task_ids 列出每项原因；办理抢先时 409", s.ReassignTasksRequest, 200,
     s.ReassignTasksResponse, (401, 403, 409, 422), None),
    ("/alerts", "get", "高峰预警与待改派（督办人员，按本人督办范围，R-7.1.1、R-9.1.1.2）：此刻待办积压的单位及其数字"
     "（待办、在岗人员、人均待办、超时待办、预警值），以及无人可办的待办和可改派给谁", None, 200, s.AlertReport, (401, 403), None),
    ("/units", "get", "组织机构树（县/乡镇/村）", None, 200, s.UnitSchema(many=True), (401,), None),
    ("/matters", "get", "事项清单与一次性告知", None, 200, s.MatterSchema(many=True), (401,), None),
    ("/ledger", "get", "台账", None, 200, s.LedgerPage, (401, 422), s.LedgerQuery),
    ("/cases/{case_id}/attachments", "post", "上传附件：申请材料、签名、照片、录音、视频（multipart: file, kind, task_id, note）",
     "multipart", 201, s.AttachmentSchema, (401, 403, 404, 413, 422), None),
    ("/cases/{case_id}/attachments", "get", "办件的附件", None, 200, s.AttachmentSchema(many=True), (401, 403, 404), None),
    ("/attachments/{attachment_id}", "get", "下载附件", None, 200, s.AttachmentSchema, (401, 403, 404), None),
    ("/quality", "get", "第 4 节服务质量五项指标（R-4.a–e），可按单位（督办人员）", None, 200, s.QualityReport,
     (401, 403, 404, 422), s.QualityQuery),
    ("/assessment", "get", "工作考核（R-5.2）：期间内一个单位（含下级；不指定时为本人督办的全部单位）每名工作人员的办理环节与超期办理、"
     "其办理过的办件的好评与差评、被投诉与投诉属实、差评整改，以及合计；每个数字附其办件 id（督办人员）", None, 200,
     s.AssessmentReport, (401, 403, 404, 422), s.AssessmentQuery),
    ("/assessment/staff/{username}", "get", "一名工作人员的工作考核（R-5.2）：本人、政务服务中心办公室、管理员，"
     "以及督办其单位的首席服务专员可查看", None, 200, s.AssessmentReport, (401, 403, 404, 422), s.AssessmentStaffQuery),
    ("/calendar", "get", "节假日日历状态与暂定期限（督办人员）", None, 200, s.CalendarStatus, (401, 403), None),
    ("/processes/{process_id}/heatmap", "get", "流程热力图：一个版本各环节在期间内经过的办件数、停留时间中位数和 90% 分位，"
     "以及此刻停留的待办和计时（督办人员，按本人督办范围）", None, 200, s.HeatmapReport, (401, 403, 404, 422), s.HeatmapQuery),
    ("/cases/{case_id}/migrate", "post", "把已暂停的办件迁移到其流程的新版本（首席服务专员、管理员）：SpiffWorkflow 判定不能迁移时 409，"
     "并指出环节；办件仍保持暂停", s.MigrateRequest, 200, s.MigrateResponse, (401, 403, 404, 409, 422), None),
    ("/forms", "get", "全部表单：标题、当前版本（0 为随系统提供的文件）、最后保存人和时间、使用它的用户任务", None, 200,
     s.FormSummarySchema(many=True), (401,), None),
    ("/forms/{name}", "get", "一张表单的当前版本：JSON Schema、UI schema、历史版本", None, 200, s.FormDetailSchema,
     (401, 404), None),
]


# The Schema Object keywords of OpenAPI 3.0; a form may use more of JSON Schema 2020-12 (see task_data_schema).
OPENAPI_30_KEYWORDS = frozenset({
    "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
    "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required", "enum", "type",
    "allOf", "oneOf", "anyOf", "not", "items", "properties", "additionalProperties", "description", "format",
    "default", "nullable", "readOnly", "writeOnly", "example", "deprecated",
})
_SUBSCHEMA_LISTS = ("allOf", "oneOf", "anyOf")
_SUBSCHEMA = ("not", "items", "additionalProperties")


def task_data_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A form's JSON Schema (2020-12) as an OpenAPI 3.0 Schema Object describing the same data:
    ``const`` becomes a one-value ``enum``; a list of types, one type and ``nullable``; a numeric
    ``exclusiveMaximum``/``exclusiveMinimum``, the bound with the boolean flag. The form's own
    ``x-`` keys stay (specification extensions); any other keyword 3.0 lacks is kept under
    ``x-json-schema`` rather than dropped, and the form itself (GET /forms/{name}) is the full truth."""
    out: dict[str, Any] = {}
    beyond: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _converted(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [_converted(sub) for sub in value]
        elif key in _SUBSCHEMA and isinstance(value, Mapping):
            out[key] = task_data_schema(value)
        elif key == "const":
            out["enum"] = [value]
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if len(types) == 1:
                out["type"] = types[0]
            elif types:
                out["anyOf"] = [{"type": t} for t in types]
            if "null" in value:
                out["nullable"] = True
        elif key in ("exclusiveMaximum", "exclusiveMinimum") and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            out[key.replace("exclusiveM", "m")] = value
            out[key] = True
        elif key == "examples" and isinstance(value, list) and value:
            out["example"] = value[0]
        elif key in OPENAPI_30_KEYWORDS or key.startswith("x-"):
            out[key] = value
        elif key not in ("$schema", "$id", "$comment"):
            beyond[key] = value
    if beyond:
        out["x-json-schema"] = beyond
    return out


def _converted(value: Any) -> Any:
    return task_data_schema(value) if isinstance(value, Mapping) else value


def task_data_component(name: str) -> str:
    return f"TaskData.{name}"


def start_data_component(name: str) -> str:
    return f"StartData.{name}"


def _form_component(form: Form, name: str) -> dict[str, Any]:
    return task_data_schema(form.schema) | {
        "title": f"{form.title}（{name}）" if form.title else name,  # unique: two forms may share a title
        "x-form": {"name": name, "version": form.version},
    }


def _with_form_data(doc: dict, forms: Mapping[str, Form], starts: Mapping[str, str], task_forms: frozenset[str]) -> dict:
    """Every form a task may take as TaskData.<form name> (every form but those only start events name), the
    completion's ``data`` as any of them; every start form as StartData.<form name>, named per process in
    the start request's ``data``."""
    schemas = doc["components"]["schemas"]
    only_starts = {name for name in starts.values() if name not in task_forms}
    task_names = sorted(name for name in forms if name not in only_starts)
    for name in task_names:
        schemas[task_data_component(name)] = _form_component(forms[name], name)
    complete = schemas["CompleteTaskRequest"]["properties"]
    complete["data"] = {
        "description": "the task's form data: GET /tasks/{task_id} names the form (form_name); its schema is "
                       "components.schemas[\"TaskData.<form_name>\"], checked by the server for that task "
                       "(422 with each field's errors when it does not hold)",
        "anyOf": [{"$ref": f"#/components/schemas/{task_data_component(name)}"} for name in task_names]
        or [{"type": "object", "additionalProperties": True}],
    }
    described = {process: name for process, name in sorted(starts.items()) if name in forms}
    for name in sorted(set(described.values())):
        schemas[start_data_component(name)] = _form_component(forms[name], name)
    if "problem_report" in described:  # a problem report's data is that process's start form
        schemas["ReportProblemRequest"]["properties"]["data"] = {
            "$ref": f"#/components/schemas/{start_data_component(described['problem_report'])}"}
    start = schemas["StartCaseRequest"]["properties"]["data"]
    start["x-start-forms"] = {process: f"#/components/schemas/{start_data_component(name)}"
                              for process, name in described.items()}
    return doc


# The document last built, with what it was built from. FormRegistry.forms is a new mapping whenever a
# form is saved or the files are read again, so "the same mapping" is exact; what the deployed diagrams
# name is compared by value.
_LAST: tuple[tuple[Any, ...], dict] | None = None


def spec(forms: Mapping[str, Form], starts: Mapping[str, str] | None = None,
         task_forms: frozenset[str] = frozenset()) -> dict:
    """The document, with the data schema of every form in use now (forms are edited, diagrams deployed,
    at run time): ``starts`` maps each process to its start form, ``task_forms`` are those user tasks name."""
    global _LAST
    starts = dict(starts or {})
    key = (forms, tuple(sorted(starts.items())), task_forms)
    last = _LAST
    if last is not None and last[0][0] is forms and last[0][1:] == key[1:]:
        return last[1]
    doc = _with_form_data(copy.deepcopy(_base_spec()), forms, starts, task_forms)
    _LAST = (key, doc)
    return doc


@lru_cache(maxsize=1)
def _base_spec() -> dict:
    doc = APISpec(
        title="成安县政务服务帮办代办上门办 API", version=__version__, openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Bearer 令牌见 POST /auth/token。时间均为带时区偏移的 ISO 8601。"},
        servers=[{"url": "/api/v1"}],
    )
    doc.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    doc.components.schema("ErrorResponse", schema=s.ErrorResponse)
    paths: dict[str, dict] = {}
    for path, method, summary, request, status, response, errors, query in ROUTES:
        operation: dict = {"summary": summary, "responses": {str(status): {
            "description": "OK", "content": {"application/json": {"schema": response}}}}}
        # A body or query that cannot be read at all (not JSON, not multipart, an impossible date) is a 400.
        for code in sorted({*errors, *((400,) if request is not None or query is not None else ())}):
            operation["responses"][str(code)] = {"description": {
                400: "请求格式不正确（例如请求体不是 JSON）", 401: "未登录或令牌无效", 403: "无权操作", 404: "不存在",
                409: "冲突：任务已不是待办或被并发修改", 413: "文件过大",
                422: "数据无效（errors 给出每个字段的原因）",
                429: "登录尝试过于频繁（同一地址或同一账户）；Retry-After 给出几秒后可再试"}[code], **ERR}
        if 429 in errors:
            operation["responses"]["429"]["headers"] = {"Retry-After": {
                "description": "几秒后可再试", "schema": {"type": "integer"}}}
        if path != "/auth/token":
            operation["security"] = [{"bearer": []}]
        if request == "multipart":
            operation["requestBody"] = {"content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}}
        elif request is not None:
            operation["requestBody"] = {"content": {"application/json": {"schema": request}}}
        parameters = [{"in": "path", "name": name, "required": True,
                       "schema": {"type": "string"} if name in ("task_id", "process_id", "name", "username")
                       else {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID}}  # app.RowId
                      for name in ("case_id", "task_id", "attachment_id", "relay_id", "process_id", "name", "username")
                      if "{" + name + "}" in path]
        if query is not None:
            parameters.append({"in": "query", "schema": query})
        if parameters:
            operation["parameters"] = parameters
        paths.setdefault(path, {})[method] = operation
    for path, operations in paths.items():
        doc.path(path=path, operations=operations)
    return doc.to_dict()
