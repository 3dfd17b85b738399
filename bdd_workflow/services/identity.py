"""Who is acting, what they may see (R-6.2), and API tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from ..db.models import Staff
from ..errors import AuthenticationRequired, Forbidden
from ..roles import ADMINISTRATOR, CHIEF_OFFICER, SEE_ALL_ROLES, SUPERVISOR
from ..system import System

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# A deactivated account or a changed role takes effect within this time on tokens already issued.
ACTOR_CACHE_TTL = timedelta(seconds=30)
SYSTEM_ACTOR = "system"
SUPERVISING_ROLES = (CHIEF_OFFICER, SUPERVISOR, ADMINISTRATOR)


@dataclass(frozen=True)
class Actor:
    """An authenticated staff member, or the system itself (timers, linked cases)."""

    username: str
    name: str
    role: str
    unit_code: str | None
    staff_id: int | None = None

    @property
    def sees_all(self) -> bool:
        return self.role in SEE_ALL_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == ADMINISTRATOR

    @property
    def directs_cases(self) -> bool:
        """The chief officer guides and directs every case (R-6.4.1); so may administrators."""
        return self.role in (CHIEF_OFFICER, ADMINISTRATOR)


SYSTEM = Actor(username=SYSTEM_ACTOR, name="系统", role=ADMINISTRATOR, unit_code=None)
# The applicant applying online: may start assist, proxy and onsite cases, nothing else.
PUBLIC = Actor(username="applicant", name="服务对象（网上申请）", role="applicant", unit_code=None)


def hash_password(password: str) -> str:
    return generate_password_hash(password)


# Tokens whose signature was checked, with the time they were issued: a busy client's next call
# skips the HMAC and the decoding. Keyed by the whole token, so only a token that verified can hit.
VERIFIED_TOKENS_MAX = 4096


def _tokens(system: System) -> URLSafeTimedSerializer:
    return _serializer(system.settings.secret_key)


@lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="bdd-api-token")


def actor_of(staff: Staff) -> Actor:
    return Actor(staff.username, staff.name, staff.role, staff.unit.code if staff.unit else None, staff.id)


def authenticate(system: System, username: str, password: str) -> Actor:
    """Check a password; after repeated failures the account waits (no guessing at speed)."""
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        staff = session.scalars(select(Staff).where(Staff.username == username)).first()
        if staff is None or not staff.active:
            # Same work and same answer as a wrong password: no user enumeration.
            check_password_hash(hash_password("x"), password)
            raise AuthenticationRequired("用户名或密码错误。")
        if staff.locked_until and staff.locked_until > now:
            minutes = max(1, int((staff.locked_until - now).total_seconds() // 60) + 1)
            raise AuthenticationRequired(f"密码错误次数过多，账户已暂时锁定，请 {minutes} 分钟后再试。")
        if not check_password_hash(staff.password_hash, password):
            staff.failed_logins += 1
            if staff.failed_logins >= MAX_FAILED_LOGINS:
                staff.locked_until = now + LOCKOUT
                staff.failed_logins = 0
            return_error = AuthenticationRequired("用户名或密码错误。")
        else:
            staff.failed_logins = 0
            staff.locked_until = None
            return_error = None
            actor = actor_of(staff)
    if return_error is not None:
        raise return_error
    return actor


def issue_token(system: System, actor: Actor) -> str:
    return _tokens(system).dumps({"u": actor.staff_id})


def actor_from_token(system: System, token: str) -> Actor:
    verified = system.verified_tokens.get(token)
    if verified is not None:
        staff_id, issued = verified
        # The signer's clock, as itsdangerous checks max_age: the token's timestamp came from it.
        if time.time() - issued > system.settings.token_ttl_seconds:
            system.verified_tokens.pop(token, None)
            raise AuthenticationRequired("登录已过期，请重新获取令牌。")
        return actor_by_id(system, staff_id)
    try:
        payload, issued = _tokens(system).loads(token, max_age=system.settings.token_ttl_seconds, return_timestamp=True)
    except SignatureExpired:
        raise AuthenticationRequired("登录已过期，请重新获取令牌。") from None
    except BadSignature:
        raise AuthenticationRequired("令牌无效。") from None
    staff_id = payload.get("u") if isinstance(payload, dict) else None
    actor = actor_by_id(system, staff_id)
    if len(system.verified_tokens) >= VERIFIED_TOKENS_MAX:
        system.verified_tokens.clear()
    system.verified_tokens[token] = (staff_id, issued.timestamp())
    return actor


def actor_by_id(system: System, staff_id: int | None) -> Actor:
    """The staff member behind a token; remembered briefly so a busy client costs no extra query."""
    now = system.clock.now()
    cached = system.actor_cache.get(staff_id)
    if cached is not None and cached[1] > now:
        return cached[0]
    with system.db.unit_of_work(write=False) as session:
        staff = session.scalars(select(Staff).options(joinedload(Staff.unit)).where(Staff.id == staff_id)).first() if staff_id else None
        if staff is None or not staff.active:
            raise AuthenticationRequired("账户不存在或已停用。")
        actor = actor_of(staff)
    system.actor_cache[staff_id] = (actor, now + ACTOR_CACHE_TTL)
    return actor


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden("您的角色无权进行此操作。")
