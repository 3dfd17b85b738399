"""Domain errors -> HTTP status codes, in one place. No stack trace ever reaches a client."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from ..errors import DefinitionInvalid, DomainError, FormInvalid
from .throttle import retry_after_seconds

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: "请求格式不正确。", 401: "请先登录。", 403: "您无权进行此操作。", 404: "请求的地址不存在。",
    405: "不支持这种请求方法。", 413: "上传的文件太大。", 415: "不支持的内容类型，请发送 JSON。",
}


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages -> {"data.applicant_phone": ["..."]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(_flatten(value, name))
            else:
                flat[name] = [_translate(m) for m in (value if isinstance(value, list) else [value])]
    else:
        flat[prefix or "_request"] = [_translate(m) for m in (messages if isinstance(messages, list) else [messages])]
    return flat


def _translate(message) -> str:
    text = str(message)
    return {
        "Missing data for required field.": "此项为必填项。",
        "Unknown field.": "不认识的字段。",
        "Not a valid string.": "应为文本。",
        "Not a valid integer.": "应为整数。",
        "Not a valid mapping type.": "应为一个对象（JSON object）。",
        "Field may not be null.": "不能为空（null）。",
        "Invalid input type.": "输入类型不正确。",
    }.get(text, text)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _page(status: int, message: str, title: str | None = None):
    titles = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "请求方法不对",
              409: "数据已变化", 413: "文件太大", 422: "提交的数据有误", 500: "服务器内部错误",
              503: "系统正忙"}
    return render_template("error.html", status=status, title=title or titles.get(status, "出错了"),
                           message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = "页面已过期或来源不明（CSRF 校验未通过），请刷新页面后重新提交。"
        if _wants_json():
            return jsonify({"error": "csrf_failed", "message": message}), 400
        return _page(400, message, "请刷新后重试")

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if exc.retry_after:  # a passing condition (a busy database, full storage): say when to try again
            response = make_response(_page(exc.status, exc.message) if not _wants_json()
                                     else (jsonify({"error": exc.code, "message": exc.message}), exc.status))
            response.headers["Retry-After"] = g.retry_after = str(exc.retry_after)
            return response
        if not _wants_json():
            return _page(exc.status, exc.message)
        body = {"error": exc.code, "message": exc.message}
        if isinstance(exc, FormInvalid):
            body["errors"] = exc.errors
        if isinstance(exc, DefinitionInvalid):
            body["element"] = exc.element
            body["problems"] = exc.problems
        response = jsonify(body)
        response.status_code = exc.status
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="bdd"'
        return response

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        errors = _flatten(exc.messages)
        if not _wants_json():
            return _page(422, "；".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        return jsonify({"error": "invalid_request", "message": "请求数据有误，请按提示修改。", "errors": errors}), 422

    @app.errorhandler(429)
    def too_many_requests(exc: HTTPException):
        """A throttled login (views/throttle.py): Flask-Limiter adds Retry-After to this answer."""
        message = f"登录尝试过于频繁，请 {retry_after_seconds()} 秒后再试。"
        if not _wants_json():
            return _page(429, message, "请稍后再试")
        return jsonify({"error": "too_many_requests", "message": message}), 429

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = HTTP_MESSAGES.get(exc.code or 500, exc.description or "请求失败。")
        if exc.code == 413 and _wants_json():
            limit = request.max_content_length
            message = (f"请求体太大：这个接口最多接受 {limit // 1024} KB（{limit / (1024 * 1024):.1f} MB）。"
                       if limit else "请求体太大。")
        if not _wants_json():
            return _page(exc.code or 500, message)
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            message = f"{message}（可用: {', '.join(sorted(allowed))}）"
        response = jsonify({"error": exc.name.lower().replace(" ", "_"), "message": message})
        response.status_code = exc.code or 500
        if allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _wants_json():
            return _page(500, "服务器内部错误，已记录，请稍后再试或联系管理员。")
        return jsonify({"error": "internal_error", "message": "服务器内部错误，已记录，请稍后再试或联系管理员。"}), 500
