"""JSON from outside (request bodies, texts typed into the forms editor) with a bound on nesting.

Python's parser recurses once per level: a body of 50,000 opening brackets (100 KB, well under the
size limit) raised RecursionError, a 500, even on the unauthenticated token request; a document a
few hundred levels deep parses but makes later recursive code (validation, NUL checks) fail the same
way. No form, task or API payload of ours comes near MAX_DEPTH levels."""

from __future__ import annotations

import json
from typing import Any

from .errors import DomainError

MAX_DEPTH = 32


class JSONTooDeep(DomainError):
    """A JSON document nested deeper than MAX_DEPTH levels."""

    status = 400
    code = "json_too_deep"

    def __init__(self) -> None:
        super().__init__(f"JSON 嵌套层数过多：对象和数组最多嵌套 {MAX_DEPTH} 层，请检查请求体。")


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def check_depth(text: str | bytes, value: Any) -> Any:
    """``value`` (parsed from ``text``) if it is at most MAX_DEPTH levels deep, else JSONTooDeep."""
    # A text with no more brackets than the limit cannot be deeper: the usual small body costs two counts.
    opening = (b"[", b"{") if isinstance(text, (bytes, bytearray)) else ("[", "{")
    if text.count(opening[0]) + text.count(opening[1]) > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
        raise JSONTooDeep()
    return value


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """json.loads, refusing a document nested deeper than MAX_DEPTH (JSONTooDeep, a 400) instead of
    running out of stack; malformed JSON still raises ValueError (json.JSONDecodeError)."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep() from None
    return check_depth(text, value)
