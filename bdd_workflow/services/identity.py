"""Who is acting, what they may see (R-6.2), and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..db.models import LoginSession, OrgUnit, Staff
from ..errors import AuthenticationRequired, Forbidden
from ..roles import ADMINISTRATOR, CHIEF_OFFICER, SEE_ALL_ROLES, SUPERVISOR
from ..system import System

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SYSTEM_ACTOR = "system"
SUPERVISING_ROLES = (CHIEF_OFFICER, SUPERVISOR, ADMINISTRATOR)

CREDENTIALS_CHANGED = "登录已失效（密码、角色或单位已变更，或账户已停用），请重新登录。"
SESSION_ENDED = "登录已结束或超时，请重新登录。"


@dataclass(frozen=True)
class Actor:
    """An authenticated staff member, or the system itself (timers, linked cases)."""

    username: str
    name: str
    role: str
    unit_code: str | None
    staff_id: int | None = None
    credentials_version: int = 0

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
# The staff row is read on every call all the same (see current_staff).
VERIFIED_TOKENS_MAX = 4096


def _tokens(system: System) -> URLSafeTimedSerializer:
    return _serializer(system.settings.secret_key)


@lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="bdd-api-token")


def actor_of(staff: Staff) -> Actor:
    return Actor(staff.username, staff.name, staff.role, staff.unit.code if staff.unit else None, staff.id,
                 staff.credentials_version or 0)


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


# --- who is behind a token or a session: read from the database on every request -----------------

_STAFF_COLUMNS = (Staff.id, Staff.username, Staff.name, Staff.role, Staff.active, Staff.credentials_version,
                  OrgUnit.code.label("unit_code"))


def _actor_row(row) -> Actor:
    return Actor(row.username, row.name, row.role, row.unit_code, row.id, row.credentials_version)


def current_staff(system: System, staff_id: int | None, credentials_version: int | None = None) -> Actor:
    """The staff member as the database says now; with ``credentials_version``, only if it still
    matches (no cache: another server process's revocation holds at once)."""
    if not isinstance(staff_id, int):
        raise AuthenticationRequired("令牌无效。")
    with system.db.unit_of_work(write=False) as session:
        row = session.execute(select(*_STAFF_COLUMNS).outerjoin(OrgUnit, OrgUnit.id == Staff.unit_id)
                              .where(Staff.id == staff_id)).first()
    if row is None or not row.active:
        raise AuthenticationRequired(CREDENTIALS_CHANGED)
    if credentials_version is not None and row.credentials_version != credentials_version:
        raise AuthenticationRequired(CREDENTIALS_CHANGED)
    return _actor_row(row)


def actor_by_id(system: System, staff_id: int | None) -> Actor:
    """The staff member with this id, if active (scripts and benchmarks; requests use current_staff)."""
    return current_staff(system, staff_id)


def issue_token(system: System, actor: Actor) -> str:
    return _tokens(system).dumps({"u": actor.staff_id, "v": actor.credentials_version})


def actor_from_token(system: System, token: str) -> Actor:
    verified = system.verified_tokens.get(token)
    if verified is not None:
        staff_id, version, issued = verified
        # The signer's clock, as itsdangerous checks max_age: the token's timestamp came from it.
        if time.time() - issued > system.settings.token_ttl_seconds:
            system.verified_tokens.pop(token, None)
            raise AuthenticationRequired("登录已过期，请重新获取令牌。")
        return current_staff(system, staff_id, version)
    try:
        payload, issued = _tokens(system).loads(token, max_age=system.settings.token_ttl_seconds, return_timestamp=True)
    except SignatureExpired:
        raise AuthenticationRequired("登录已过期，请重新获取令牌。") from None
    except BadSignature:
        raise AuthenticationRequired("令牌无效。") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("v"), int):
        raise AuthenticationRequired(CREDENTIALS_CHANGED)  # a token from before credentials had versions
    staff_id, version = payload.get("u"), payload["v"]
    actor = current_staff(system, staff_id, version)
    if len(system.verified_tokens) >= VERIFIED_TOKENS_MAX:
        system.verified_tokens.clear()
    system.verified_tokens[token] = (staff_id, version, issued.timestamp())
    return actor


# --- browser sessions ------------------------------------------------------------------------------

def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(system: System, actor: Actor) -> str:
    """A new browser session for a staff member who just logged in; returns the key for the cookie.
    Sessions past the absolute lifetime are deleted on the way."""
    now = system.clock.now()
    key = secrets.token_urlsafe(32)
    with system.db.unit_of_work() as session:
        session.execute(delete(LoginSession).where(
            LoginSession.started_at < now - timedelta(seconds=system.settings.session_max_seconds)))
        session.add(LoginSession(key_hash=_key_hash(key), staff_id=actor.staff_id, started_at=now))
    return key


def end_session(system: System, key: str | None) -> None:
    """Logging out: the session ends on the server, so a copy of the cookie opens nothing any more."""
    if not isinstance(key, str) or not key:
        return
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        session.execute(update(LoginSession).where(LoginSession.key_hash == _key_hash(key), LoginSession.ended_at.is_(None))
                        .values(ended_at=now))


def actor_from_session(system: System, key: object, credentials_version: object, last_seen: object) -> Actor:
    """The staff member of a browser session, if it has not ended: not logged out, within the
    absolute lifetime since the login and the idle time since the last request, and issued under
    the credentials the account has now."""
    now = system.clock.now()
    settings = system.settings
    if not isinstance(key, str) or not isinstance(credentials_version, int) or not isinstance(last_seen, (int, float)):
        raise AuthenticationRequired(SESSION_ENDED)
    if now.timestamp() - last_seen > settings.session_idle_seconds:
        raise AuthenticationRequired(SESSION_ENDED)
    with system.db.unit_of_work(write=False) as session:
        row = session.execute(select(*_STAFF_COLUMNS, LoginSession.started_at, LoginSession.ended_at)
                              .join(Staff, Staff.id == LoginSession.staff_id)
                              .outerjoin(OrgUnit, OrgUnit.id == Staff.unit_id)
                              .where(LoginSession.key_hash == _key_hash(key))).first()
    if (row is None or row.ended_at is not None
            or now - row.started_at > timedelta(seconds=settings.session_max_seconds)):
        raise AuthenticationRequired(SESSION_ENDED)
    if not row.active or row.credentials_version != credentials_version:
        raise AuthenticationRequired(CREDENTIALS_CHANGED)
    return _actor_row(row)


def revoke_credentials(staff: Staff) -> None:
    """Every token and browser session issued to this staff member so far stops working (callers
    change the row inside their unit of work)."""
    staff.credentials_version = (staff.credentials_version or 0) + 1


def visible_units(system: System, session, actor: Actor) -> set[str] | None:
    """Unit codes whose cases the actor may see; None means all (R-6.2)."""
    if actor.sees_all:
        return None
    return system.org(session).subtree(actor.unit_code)


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden("您的角色无权进行此操作。")
