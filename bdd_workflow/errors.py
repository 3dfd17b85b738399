"""Domain errors. Views map each to one HTTP status in one place (views/errors.py)."""

from __future__ import annotations


class DomainError(Exception):
    """Base: a message a person can act on."""

    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds: a passing condition (busy, full storage): answered with Retry-After

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    status = 404
    code = "not_found"


class ProcessNotFound(NotFound):
    code = "process_not_found"


class AuthenticationRequired(DomainError):
    status = 401
    code = "authentication_required"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The thing changed under the caller: a task no longer ready, a concurrent update."""

    status = 409
    code = "conflict"


class DatabaseBusy(DomainError):
    """SQLite's write lock stayed taken past BDD_DB_BUSY_SECONDS: try again shortly (503, Retry-After)."""

    status = 503
    code = "database_busy"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"系统正忙（有其他操作正在保存），本次未做任何更改，请 {retry_after} 秒后再试。")
        self.retry_after = retry_after


class StorageUnavailable(DomainError):
    """The disk is full or the storage read-only: nothing was saved; the server goes on (503, Retry-After)."""

    status = 503
    code = "storage_unavailable"
    retry_after = 300

    def __init__(self) -> None:
        super().__init__("服务器存储空间已满或暂时只读，本次未保存任何内容。请稍后再试，并请告知系统管理员。")


class TaskNotReady(Conflict):
    code = "task_not_ready"


class FormInvalid(DomainError):
    """Submitted data does not match the task's form; ``errors`` maps field -> messages."""

    status = 422
    code = "form_invalid"

    def __init__(self, errors: dict[str, list[str]], message: str = "提交的数据有误，请按提示修改后重新提交。") -> None:
        super().__init__(message, errors=errors)
        self.errors = errors


class DefinitionInvalid(DomainError):
    """A diagram that cannot be deployed; names the element and the reason."""

    status = 422
    code = "definition_invalid"

    def __init__(self, message: str, element: str | None = None, problems: list[dict] | None = None) -> None:
        super().__init__(message, element=element, problems=problems or [])
        self.element = element
        self.problems = problems or [{"element": element, "message": message}]


class ScriptError(DomainError):
    """An expression or script in a diagram failed or was refused by the sandbox."""

    status = 422
    code = "script_error"
