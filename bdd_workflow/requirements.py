"""Requirement IDs of spec/REQUIREMENTS.md, so every diagram element can be traced to its clause."""

from __future__ import annotations

import re
from pathlib import Path

# R-9.1.1.2, R-4.c, R-9.1.3.1–2 (a range), R-7.1.2 b
CITATION = re.compile(r"R-\d+(?:\.(?:\d+|[a-e]))*(?:[–-]\d+)?(?: b\b)?")


def expand(rid: str) -> list[str]:
    """'R-9.2.2.1–3' -> ['R-9.2.2.1', 'R-9.2.2.2', 'R-9.2.2.3']; others unchanged."""
    match = re.fullmatch(r"(R-(?:\d+\.)*)(\d+)[–-](\d+)", rid)
    if not match:
        return [rid]
    prefix, first, last = match.group(1), int(match.group(2)), int(match.group(3))
    return [f"{prefix}{n}" for n in range(first, last + 1)]


class Requirements:
    """The defined IDs, and whether a citation names one of them (or a clause above them)."""

    def __init__(self, defined: set[str]) -> None:
        self.defined = {single for rid in defined for single in expand(rid)}

    @classmethod
    def from_markdown(cls, text: str) -> "Requirements":
        ids = set()
        for line in text.splitlines():
            match = re.match(r"\|\s*(R-[^|]+?)\s*\|", line)
            if match:
                ids.add(match.group(1))
        return cls(ids)

    @classmethod
    def from_file(cls, path: Path) -> "Requirements | None":
        return cls.from_markdown(path.read_text(encoding="utf-8")) if path.exists() else None

    def unknown(self, text: str) -> list[str]:
        """Citations in ``text`` that name no defined requirement."""
        missing = []
        for cited in CITATION.findall(text or ""):
            for single in expand(cited):
                if not self.knows(single):
                    missing.append(cited)
                    break
        return missing

    def knows(self, rid: str) -> bool:
        if rid in self.defined:
            return True
        prefix = rid + "."
        return any(d.startswith(prefix) for d in self.defined)


def cited(text: str) -> set[str]:
    return {single for rid in CITATION.findall(text or "") for single in expand(rid)}
