"""Console accounts: creation, login with lockout, sessions, and admin management."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console import security
from bot.console.config import ConsoleSettings
from bot.console.models import ROLES, ConsoleLoginAttempt, ConsoleSession, ConsoleUser
from bot.db.models import utcnow

#: Hash compared against when the username does not exist (equal timing, no enumeration).
_DUMMY_HASH: dict[int, str] = {}


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
        locked: the account is (now) locked.

    """

    ok: bool
    token: str = ""
    message: str = ""
    locked: bool = False


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
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(
    session: Session, settings: ConsoleSettings, username: str, password: str, remote: str
) -> LoginResult:
    """Check a login; count failures; lock after ``lockout_attempts`` failures in a row.

    A locked account refuses even the right password until the lock expires. Unknown
    usernames take as long as known ones and get the same message.

    Args:
        session: app database session.
        settings: console settings (lockout policy, session lifetime).
        username: the typed username.
        password: the typed password.
        remote: client address (for the attempts log).

    Returns:
        The outcome; on success a new session exists and ``token`` is its cookie value.

    """
    name = (username or "").strip()[:64]
    now = utcnow()
    user = session.execute(
        sa.select(ConsoleUser).where(ConsoleUser.username == name)
    ).scalar_one_or_none()
    generic = "用户名或密码错误。"
    locked_message = (
        f"该账号因连续{settings.lockout_attempts}次登录失败已被锁定，"
        f"请{settings.lockout_minutes}分钟后再试或联系管理员。"
    )

    def record(success: bool, reason: str) -> None:
        session.add(
            ConsoleLoginAttempt(
                username=name or "-", success=success, reason=reason, remote=remote[:64]
            )
        )

    if user is None or not user.active:
        dummy = _DUMMY_HASH.setdefault(
            settings.scrypt_n, security.hash_password("x" * 16, settings.scrypt_n)
        )
        security.verify_password(password or "", user.password_hash if user else dummy)
        record(False, "unknown_user" if user is None else "inactive")
        return LoginResult(False, message=generic)
    if user.locked_until is not None and user.locked_until > now:
        record(False, "locked")
        return LoginResult(False, message=locked_message, locked=True)
    if not security.verify_password(password or "", user.password_hash):
        user.failed_logins = int(user.failed_logins or 0) + 1
        if user.failed_logins >= settings.lockout_attempts:
            user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
            record(False, "locked_now")
            return LoginResult(False, message=locked_message, locked=True)
        record(False, "bad_password")
        return LoginResult(False, message=generic)
    user.failed_logins = 0
    user.locked_until = None
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
        user.locked_until = None
        user.failed_logins = 0
    if new_password is not None:
        problem = security.password_problem(new_password)
        if problem:
            raise AccountError(problem)
        user.password_hash = security.hash_password(new_password, settings.scrypt_n)
        session.execute(sa.delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    session.flush()
    return user
