"""Console accounts: creation, login with lockout, sessions, and admin management."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console import security, throttle
from bot.console.config import ConsoleSettings
from bot.console.models import ROLES, ConsoleLoginAttempt, ConsoleSession, ConsoleUser
from bot.db.models import utcnow
from bot.numbers import mask_text

#: Stand-in hashes (one per scrypt cost) checked when an account does not exist or is disabled,
#: so every login costs one scrypt, whatever the name. Computed once per process.
_DUMMY_HASHES: dict[int, str] = {}
_DUMMY_LOCK = threading.Lock()
GENERIC_MESSAGE = "用户名或密码错误。"
CLIENT_MESSAGE = "登录尝试过于频繁，请{minutes}分钟后再试。"


def dummy_hash(n: int) -> str:
    """The stand-in password hash for scrypt cost ``n`` (computed on first use only)."""
    with _DUMMY_LOCK:
        if n not in _DUMMY_HASHES:
            _DUMMY_HASHES[n] = security.hash_password(security.new_token(), n)
        return _DUMMY_HASHES[n]


class AccountError(ValueError):
    """A request about accounts that cannot be carried out (message is user-facing Chinese)."""


@dataclass(frozen=True)
class CurrentUser:
    """The logged-in user of one request.

    Attributes:
        id: ``console_users.id``.
        username: login name.
        role: ``officer`` or ``admin``.
        csrf_token: the session's CSRF token.
        session_id: ``console_sessions.id``.

    """

    id: int
    username: str
    role: str
    csrf_token: str
    session_id: int

    @property
    def is_admin(self) -> bool:
        """Whether the user may manage accounts."""
        return self.role == "admin"


@dataclass(frozen=True)
class LoginResult:
    """Outcome of a login attempt.

    Attributes:
        ok: the password was right and the account usable.
        token: the new session token (cookie value) when ``ok``.
        message: what to tell the user when not ``ok`` (never says which part was wrong).
        throttled: ``account`` when the account name is locked, ``client`` when the client
            made too many failed attempts, else "".

    """

    ok: bool
    token: str = ""
    message: str = ""
    throttled: str = ""

    @property
    def locked(self) -> bool:
        """Whether the account name is (now) locked."""
        return self.throttled == "account"


def validate_username(username: str) -> str:
    """Check a new username (3–64 of letters, digits, ``_.-``) and return it stripped."""
    name = (username or "").strip()
    if not security.USERNAME_RE.match(name):
        raise AccountError("用户名需为3-64位字母、数字或 _ . -")
    return name


def create_user(
    session: Session, settings: ConsoleSettings, username: str, password: str, role: str
) -> ConsoleUser:
    """Create an account.

    Args:
        session: app database session.
        settings: console settings (scrypt cost).
        username: login name.
        password: clear-text password (hashed here, never stored).
        role: ``officer`` or ``admin``.

    Returns:
        The new user row.

    Raises:
        AccountError: invalid name, weak password, unknown role or existing username.

    """
    name = validate_username(username)
    if role not in ROLES:
        raise AccountError("角色只能是 officer 或 admin")
    problem = security.password_problem(password)
    if problem:
        raise AccountError(problem)
    exists = session.execute(
        sa.select(ConsoleUser.id).where(ConsoleUser.username == name)
    ).scalar_one_or_none()
    if exists is not None:
        raise AccountError("该用户名已存在")
    user = ConsoleUser(
        username=name,
        password_hash=security.hash_password(password, settings.scrypt_n),
        role=role,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def _policies(settings: ConsoleSettings) -> tuple[throttle.Policy, throttle.Policy]:
    account = throttle.Policy(settings.lockout_attempts, settings.lockout_minutes)
    client = throttle.Policy(
        settings.client_attempts, settings.lockout_minutes, settings.client_window_minutes
    )
    return account, client


def authenticate(
    session: Session, settings: ConsoleSettings, username: str, password: str, remote: str
) -> LoginResult:
    """Check a login, throttled per account name and per client.

    ``lockout_attempts`` failures in a row lock the account name for ``lockout_minutes``, whether
    such an account exists or not, and a locked name refuses even the right password; a client
    with ``client_attempts`` failures within ``client_window_minutes`` is refused for
    ``lockout_minutes``, whatever name it tries. Every check of a name costs exactly one scrypt
    (a stand-in hash for unknown or disabled accounts), so known and unknown names answer in
    the same time with the same messages.

    Args:
        session: app database session.
        settings: console settings (lockout policy, session lifetime).
        username: the typed username.
        password: the typed password.
        remote: client address.

    Returns:
        The outcome; on success a new session exists and ``token`` is its cookie value.

    """
    name = (username or "").strip()[:64]
    now = utcnow()
    account_policy, client_policy = _policies(settings)
    account, client = throttle.account_key(name), throttle.client_key(remote)
    locked_message = (
        f"该账号因连续{settings.lockout_attempts}次登录失败已被锁定，"
        f"请{settings.lockout_minutes}分钟后再试或联系管理员。"
    )

    def record(success: bool, reason: str) -> None:
        session.add(
            ConsoleLoginAttempt(
                username=mask_text(name)[:64] or "-",
                success=success,
                reason=reason,
                remote=remote[:64],
            )
        )

    if throttle.locked_until(session, client, now) is not None:
        record(False, "client_locked")
        return LoginResult(
            False,
            message=CLIENT_MESSAGE.format(minutes=settings.lockout_minutes),
            throttled="client",
        )
    user = session.execute(
        sa.select(ConsoleUser).where(ConsoleUser.username == name)
    ).scalar_one_or_none()
    usable = user is not None and bool(user.active)
    stored = str(user.password_hash) if usable and user is not None else None
    right = security.verify_password(password or "", stored or dummy_hash(settings.scrypt_n))
    right = right and stored is not None
    if throttle.locked_until(session, account, now) is not None:
        throttle.register_failure(session, client, client_policy, now)
        record(False, "locked")
        return LoginResult(False, message=locked_message, throttled="account")
    if not right or user is None:
        throttle.register_failure(session, client, client_policy, now)
        reason = "unknown_user" if user is None else ("inactive" if not usable else "bad_password")
        if throttle.register_failure(session, account, account_policy, now):
            record(False, "locked_now")
            return LoginResult(False, message=locked_message, throttled="account")
        record(False, reason)
        return LoginResult(False, message=GENERIC_MESSAGE)
    throttle.clear(session, account)
    user.last_login_at = now
    token = security.new_token()
    session.add(
        ConsoleSession(
            token_hash=security.token_hash(token),
            user_id=user.id,
            csrf_token=security.new_token(),
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=settings.session_hours),
        )
    )
    record(True, "ok")
    return LoginResult(True, token=token)


def load_session(
    session: Session, settings: ConsoleSettings, token: str | None
) -> CurrentUser | None:
    """Resolve a session cookie to the logged-in user, sliding its expiry.

    Args:
        session: app database session.
        settings: console settings (session lifetime).
        token: the cookie value (may be None or garbage).

    Returns:
        The current user, or None if the token is missing, unknown, expired, or the account is
        inactive or locked.

    """
    if not token or len(token) > 200:
        return None
    row = session.execute(
        sa.select(ConsoleSession, ConsoleUser)
        .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
        .where(ConsoleSession.token_hash == security.token_hash(token))
    ).first()
    if row is None:
        return None
    console_session, user = row
    now = utcnow()
    if console_session.expires_at <= now or not user.active:
        session.delete(console_session)
        return None
    if (now - console_session.last_seen_at).total_seconds() > 60:
        console_session.last_seen_at = now
        console_session.expires_at = now + dt.timedelta(hours=settings.session_hours)
    return CurrentUser(
        id=int(user.id),
        username=str(user.username),
        role=str(user.role),
        csrf_token=str(console_session.csrf_token),
        session_id=int(console_session.id),
    )


def end_session(session: Session, session_id: int) -> None:
    """Delete one login session (logout)."""
    session.execute(sa.delete(ConsoleSession).where(ConsoleSession.id == session_id))


def list_users(session: Session) -> list[ConsoleUser]:
    """Every account, by username."""
    return list(session.execute(sa.select(ConsoleUser).order_by(ConsoleUser.username)).scalars())


def update_user(
    session: Session,
    settings: ConsoleSettings,
    user_id: int,
    acting_user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    unlock: bool = False,
    new_password: str | None = None,
) -> ConsoleUser:
    """Change an account (admin only; the caller checks the role).

    Args:
        session: app database session.
        settings: console settings (scrypt cost).
        user_id: the account to change.
        acting_user_id: the admin doing it (cannot demote or deactivate themself).
        role: new role.
        active: enable or disable the account (disabling ends its sessions).
        unlock: clear a lockout.
        new_password: set a new password (ends the account's sessions).

    Returns:
        The changed user.

    Raises:
        AccountError: unknown account, invalid role or password, or an admin locking themself out.

    """
    user = session.get(ConsoleUser, user_id)
    if user is None:
        raise AccountError("账号不存在")
    if role is not None:
        if role not in ROLES:
            raise AccountError("角色只能是 officer 或 admin")
        if user.id == acting_user_id and role != "admin":
            raise AccountError("不能取消自己的管理员权限")
        user.role = role
    if active is not None:
        if user.id == acting_user_id and not active:
            raise AccountError("不能停用自己的账号")
        user.active = active
        if not active:
            session.execute(sa.delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    if unlock:
        throttle.clear(session, throttle.account_key(str(user.username)))
    if new_password is not None:
        problem = security.password_problem(new_password)
        if problem:
            raise AccountError(problem)
        user.password_hash = security.hash_password(new_password, settings.scrypt_n)
        session.execute(sa.delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    session.flush()
    return user
