"""服务禁忌语言 in the registry (R-6.3.2): the 25 phrases of 6.3.2 as the system checks them, and the phrases
the centre adds for item 26 (其他有损窗口形象的不文明用语).

Who: the registry's rule for what the centre keeps (services/registry.py MANAGE_ROLES): administrators and
the centre office. An added phrase is plain words (its wording and other wordings, compared without spaces
and punctuation), never a regular expression, so nothing an administrator types can make a check slow.
It is refused when it is too short to be a phrase, is already forbidden, or would refuse one of the civil
sentences of phrases.CIVIL_EXAMPLES (a phrase like "办理" would stop every notice). Each change is one unit
of work, audited; every process sees it at its next check (phrases.PhraseBook).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..db.models import ExtraPhrase, Staff
from ..errors import FormInvalid, NotFound
from ..phrases import BUILTIN_BOOK, CIVIL_EXAMPLES, FORBIDDEN, OTHER_ITEM, OTHER_ITEM_TEXT, plain
from ..system import System
from .audit import audit
from .identity import Actor, require_role
from .registry import MANAGE_ROLES

PHRASE_MAX = 50
MIN_CHARS = 2  # after spaces and punctuation are taken out
VARIANTS_MAX = 10
ALTERNATIVE_MAX = 200


def phrase_input(form) -> dict[str, str]:
    """A posted form -> plain data, unvalidated (one more character than allowed, so "too long" is seen)."""
    return {"phrase": (form.get("phrase") or "").strip()[:PHRASE_MAX + 1],
            "variants": (form.get("variants") or "")[:(PHRASE_MAX + 2) * (VARIANTS_MAX + 1)],
            "alternative": (form.get("alternative") or "").strip()[:ALTERNATIVE_MAX + 1]}


def _row(row: ExtraPhrase, names: dict[str, str]) -> dict[str, Any]:
    return {"id": row.id, "phrase": row.phrase, "variants": list(row.variants or []), "alternative": row.alternative,
            "active": row.active, "created_by": row.created_by, "created_by_name": names.get(row.created_by, row.created_by),
            "created_at": row.created_at, "deactivated_by": row.deactivated_by,
            "deactivated_by_name": names.get(row.deactivated_by or "", row.deactivated_by), "deactivated_at": row.deactivated_at}


def phrase_registry(system: System, actor: Actor) -> dict[str, Any]:
    """The 25 phrases of 6.3.2 with their civil alternatives, and the added ones (active first)."""
    require_role(actor, *MANAGE_ROLES)
    with system.db.unit_of_work(write=False) as session:
        rows = session.scalars(select(ExtraPhrase).order_by(ExtraPhrase.active.desc(), ExtraPhrase.id.desc())).all()
        names = dict(session.execute(select(Staff.username, Staff.name)).all())
    return {"builtin": [{"number": p.number, "phrase": p.phrase, "alternative": p.alternative} for p in FORBIDDEN],
            "extras": [_row(r, names) for r in rows], "other_item": OTHER_ITEM, "other_item_text": OTHER_ITEM_TEXT}


def _check_words(errors: dict[str, list[str]], field: str, title: str, words: list[str], taken: dict[str, str]) -> None:
    for word in words:
        flat = plain(word)
        if len(word) > PHRASE_MAX:
            errors.setdefault(field, []).append(f"{title}“{word[:10]}…”不能超过 {PHRASE_MAX} 个字。")
        elif len(flat) < MIN_CHARS:
            errors.setdefault(field, []).append(f"{title}“{word}”太短（去掉空格和标点后至少 {MIN_CHARS} 个字），会误拦正常用语。")
        elif flat in taken:
            errors.setdefault(field, []).append(f"{title}“{word}”已在禁忌用语中（{taken[flat]}）。")
        else:
            hit = BUILTIN_BOOK.find(word)
            civil = next((s for s in CIVIL_EXAMPLES if s and flat in plain(s)), None)
            if hit is not None:
                errors.setdefault(field, []).append(f"{title}“{word}”已按《规范》6.3.2 第{hit.number}条“{hit.phrase}”拦截，无需再添加。")
            elif civil is not None:
                errors.setdefault(field, []).append(f"{title}“{word}”会把文明用语“{civil}”也拦下，请写得更具体。")
            else:
                taken[flat] = f"本次填写的“{word}”"


def add_phrase(system: System, actor: Actor, data: dict[str, str]) -> dict[str, Any]:
    """Add a forbidden phrase (item 26) with its other wordings and the civil alternative; audited."""
    require_role(actor, *MANAGE_ROLES)
    phrase = (data.get("phrase") or "").strip()
    variants = list(dict.fromkeys(v.strip() for v in (data.get("variants") or "").splitlines() if v.strip()))
    alternative = (data.get("alternative") or "").strip()
    errors: dict[str, list[str]] = {}
    if not phrase:
        errors["phrase"] = ["请填写禁忌用语。"]
    if len(variants) > VARIANTS_MAX:
        errors["variants"] = [f"其他说法最多 {VARIANTS_MAX} 条（每行一条）。"]
    if not alternative:
        errors["alternative"] = ["请填写文明用语（改用的说法），例如“请稍等，我帮您问一下”。"]
    elif len(alternative) > ALTERNATIVE_MAX:
        errors["alternative"] = [f"文明用语不能超过 {ALTERNATIVE_MAX} 个字。"]
    elif BUILTIN_BOOK.find(alternative) is not None:
        errors["alternative"] = [f"文明用语本身含有禁忌用语：{BUILTIN_BOOK.find(alternative).message()}"]
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        taken: dict[str, str] = {}
        for row in session.scalars(select(ExtraPhrase).where(ExtraPhrase.active)):
            for word in [row.phrase, *(row.variants or [])]:
                taken[plain(word)] = f"已登记的“{row.phrase}”"
        if phrase:
            _check_words(errors, "phrase", "禁忌用语", [phrase], taken)
        if "variants" not in errors:
            _check_words(errors, "variants", "其他说法", variants, taken)
        if not errors:
            flat = {plain(w) for w in [phrase, *variants]}
            if any(word in plain(alternative) for word in flat):
                errors["alternative"] = ["文明用语里含有要禁止的说法，请换一种说法。"]
        if errors:
            raise FormInvalid(errors, "禁忌用语未添加：请按提示修改。")
        row = ExtraPhrase(phrase=phrase, variants=variants, alternative=alternative, active=True,
                          created_by=actor.username, created_at=now, deactivated_by=None, deactivated_at=None)
        session.add(row)
        session.flush()
        audit(session, now, actor.username, "phrase_added",
              detail={"phrase_id": row.id, "phrase": phrase, "variants": variants, "alternative": alternative})
        return {"id": row.id, "phrase": phrase}


def set_phrase_active(system: System, actor: Actor, phrase_id: int, active: bool) -> dict[str, Any]:
    """Deactivate (or reactivate) an added phrase; audited. The 25 of 6.3.2 cannot be switched off."""
    require_role(actor, *MANAGE_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        row = session.get(ExtraPhrase, phrase_id)
        if row is None:
            raise NotFound("没有这条登记的禁忌用语。")
        if row.active == active:
            return {"id": row.id, "phrase": row.phrase, "active": active, "changed": False}
        if active:
            words = {plain(w) for w in [row.phrase, *(row.variants or [])]}
            for other in session.scalars(select(ExtraPhrase).where(ExtraPhrase.active, ExtraPhrase.id != row.id)):
                if words & {plain(w) for w in [other.phrase, *(other.variants or [])]}:
                    raise FormInvalid({}, f"“{row.phrase}”与已登记的“{other.phrase}”重复，不能恢复。")
        row.active = active
        row.deactivated_by, row.deactivated_at = (None, None) if active else (actor.username, now)
        audit(session, now, actor.username, "phrase_reactivated" if active else "phrase_deactivated",
              detail={"phrase_id": row.id, "phrase": row.phrase})
        return {"id": row.id, "phrase": row.phrase, "active": active, "changed": True}
