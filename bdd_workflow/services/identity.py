"""Who is acting, what they may see (R-6.2), and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, exists, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..db.fast import Prepared
from ..db.models import LoginFailure, LoginSession, OrgUnit, Staff
from ..errors import AuthenticationRequired, Conflict, DatabaseBusy, Forbidden
from ..roles import ADMINISTRATOR, CHIEF_OFFICER, SEE_ALL_ROLES, SUPERVISOR
from ..system import System

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Failure counts older than this start again from one; rows older than a day are deleted.
FAILURE_WINDOW = LOCKOUT
FAILURE_ROWS_KEPT = timedelta(days=1)
SYSTEM_ACTOR = "system"
SUPERVISING_ROLES = (CHIEF_OFFICER, SUPERVISOR, ADMINISTRATOR)

# The one answer to every failed login: unknown user, wrong password, deactivated account and a
# locked client address read alike, so the answer tells no one which usernames exist.
LOGIN_REFUSED = (f"用户名或密码错误，或账户已停用、已暂时锁定（同一地址连续输错 {MAX_FAILED_LOGINS} 次须等 "
                 f"{int(LOCKOUT.total_seconds() // 60)} 分钟）。")
CREDENTIALS_CHANGED = "登录已失效（密码、角色或单位已变更，或账户已停用），请重新登录。"
SESSION_ENDED = "登录已结束或超时，请重新登录。"


class LoginRefused(AuthenticationRequired):
    """A failed login. ``checked``: a password was really tried against the account (not refused
    for a lock), which is what the per-account throttle counts."""

    def __init__(self, checked: bool) -> None:
        super().__init__(LOGIN_REFUSED)
        self.checked = checked


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
# The applicant applying online: may start assist, proxy and onsite cases, nothing else. The ledger names
# them so (R-4.e: every online application's opening entry has a person, read in Chinese).
PUBLIC = Actor(username="applicant", name="网上申请（服务对象本人）", role="applicant", unit_code=None)
# Who did a step when it was not a staff member: shown by name wherever staff names are shown.
NON_STAFF_NAMES = {SYSTEM.username: SYSTEM.name, PUBLIC.username: PUBLIC.name}


def hash_password(password: str) -> str:
    return generate_password_hash(password)


@lru_cache(maxsize=1)
def decoy_hash() -> str:
    """A hash of a random password, made once per process: a login for an unknown, deactivated or
    locked account checks against it, so every login costs exactly one hash computation."""
    return hash_password(secrets.token_urlsafe(24))


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


def _lock_key(username: str) -> str:
    return username.strip().lower()[:64]


def authenticate(system: System, username: str, password: str, address: str = "") -> Actor:
    """Check a password; five failures from one client address lock that address out of that
    account for a while. Exactly one hash computation whatever the outcome, and one answer
    (``LoginRefused``) for every failure. The hash is computed outside any write transaction."""
    now = system.clock.now()
    key, address = _lock_key(username), (address or "-")[:64]
    with system.db.unit_of_work(write=False) as session:
        staff = session.execute(select(Staff.id, Staff.password_hash, Staff.active)
                                .where(Staff.username == username)).first()
        failure = session.execute(select(LoginFailure.id, LoginFailure.locked_until)
                                  .where(LoginFailure.username == key, LoginFailure.address == address)).first()
    locked = failure is not None and failure.locked_until is not None and failure.locked_until > now
    usable = staff is not None and staff.active and not locked
    matches = check_password_hash(staff.password_hash if usable else decoy_hash(), password)
    if usable and matches:
        if failure is not None:
            with system.db.unit_of_work() as session:
                session.execute(delete(LoginFailure).where(LoginFailure.id == failure.id))
        return current_staff(system, staff.id)
    if not locked:
        _record_failure(system, key, address, now)
    raise LoginRefused(checked=not locked)


def _record_failure(system: System, key: str, address: str, now: datetime) -> None:
    try:
        with system.db.unit_of_work() as session:
            row = session.scalars(select(LoginFailure).where(LoginFailure.username == key, LoginFailure.address == address)
                                  .with_for_update()).first()
            if row is None:
                session.execute(delete(LoginFailure).where(LoginFailure.last_at < now - FAILURE_ROWS_KEPT))
                row = LoginFailure(username=key, address=address, failures=0, last_at=now)
                session.add(row)
            elif row.last_at < now - FAILURE_WINDOW:
                row.failures = 0
            row.failures += 1
            row.last_at = now
            if row.failures >= MAX_FAILED_LOGINS:
                row.locked_until, row.failures = now + LOCKOUT, 0
    except (Conflict, DatabaseBusy):
        pass  # a busy database, or a simultaneous failure from the same address took the row first; the login is refused anyway


# --- who is behind a token or a session: read from the database on every request -----------------

_STAFF_COLUMNS = (Staff.id, Staff.username, Staff.name, Staff.role, Staff.active, Staff.credentials_version,
                  OrgUnit.code.label("unit_code"))
# Every authenticated API call runs this: a prepared statement on a bare connection (db/fast.py).
_STAFF_NOW = Prepared(select(*_STAFF_COLUMNS).select_from(Staff).outerjoin(OrgUnit, OrgUnit.id == Staff.unit_id)
                      .where(Staff.id == bindparam("staff_id")))


def _actor_row(row) -> Actor:
    return Actor(row["username"], row["name"], row["role"], row["unit_code"], row["id"], row["credentials_version"])


def current_staff(system: System, staff_id: int | None, credentials_version: int | None = None) -> Actor:
    """The staff member as the database says now; with ``credentials_version``, only if it still
    matches (no cache: another server process's revocation holds at once)."""
    if not isinstance(staff_id, int) or isinstance(staff_id, bool):
        raise AuthenticationRequired("令牌无效。")
    with system.db.engine.connect() as connection:
        row = _STAFF_NOW.first(connection, {"staff_id": staff_id})
    if row is None or not row["active"]:
        raise AuthenticationRequired(CREDENTIALS_CHANGED)
    if credentials_version is not None and row["credentials_version"] != credentials_version:
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


# Every page of a logged-in browser runs this one.
_SESSION_NOW = Prepared(select(*_STAFF_COLUMNS, LoginSession.started_at, LoginSession.ended_at).select_from(LoginSession)
                        .join(Staff, Staff.id == LoginSession.staff_id).outerjoin(OrgUnit, OrgUnit.id == Staff.unit_id)
                        .where(LoginSession.key_hash == bindparam("key_hash")))


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
    with system.db.engine.connect() as connection:
        row = _SESSION_NOW.first(connection, {"key_hash": _key_hash(key)})
    if (row is None or row["ended_at"] is not None
            or now - row["started_at"] > timedelta(seconds=settings.session_max_seconds)):
        raise AuthenticationRequired(SESSION_ENDED)
    if not row["active"] or row["credentials_version"] != credentials_version:
        raise AuthenticationRequired(CREDENTIALS_CHANGED)
    return _actor_row(row)


def revoke_credentials(staff: Staff) -> None:
    """Every token and browser session issued to this staff member so far stops working (callers
    change the row inside their unit of work)."""
    staff.credentials_version = (staff.credentials_version or 0) + 1


def lift_locks(session, username: str, now: datetime) -> bool:
    """An administrator's unlock: every client address may try this account again. True if one was locked."""
    was_locked = locked_until(session, username, now) is not None
    session.execute(delete(LoginFailure).where(LoginFailure.username == _lock_key(username)))
    return was_locked


def locked_until(session, username: str, now: datetime) -> datetime | None:
    """Until when some client address is locked out of this account (the latest), or None."""
    return session.scalar(select(func.max(LoginFailure.locked_until)).where(
        LoginFailure.username == _lock_key(username), LoginFailure.locked_until > now))


def is_locked(now: datetime):
    """A WHERE clause on Staff: some client address is locked out of the account."""
    return exists().where(LoginFailure.username == func.lower(Staff.username), LoginFailure.locked_until > now)


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden("您的角色无权进行此操作。")
