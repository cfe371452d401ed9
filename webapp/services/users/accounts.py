"""Sign-in and user management."""

from __future__ import annotations

import secrets
from functools import cache

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.models import Role, User
from webapp.models.base import utcnow
from webapp.models.users import new_session_token
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.unit_of_work import action
from webapp.services.users import login_throttle

MIN_PASSWORD_LENGTH = 10
# Checked against when the e-mail matches nobody, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


@cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (lower case) that zxcvbn ships (MIT licence; from Xato's
    10-million-password dump): the first ones an attacker tries. Loaded on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ActionRefused(f"The password must be at least {MIN_PASSWORD_LENGTH} characters.",
                            field="password")
    if not password.strip():
        raise ActionRefused("The password cannot be only spaces.", field="password")
    if password.strip().lower() in _common_passwords():
        raise ActionRefused("This password is one of the most common ones, which attackers try "
                            "first: choose another.", field="password")


@action
def create_user(email: str, role: Role | str, password: str, *, by: User | None = None) -> User:
    """Create an account; refused when the e-mail is taken or the password too short."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise ActionRefused("Enter a valid e-mail address.", field="email")
    if find_by_email(email):
        raise ActionRefused(f"A user with the e-mail {email} already exists.", field="email")
    _check_password(password)
    user = User(email=email, role=Role(role), password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user=by, subject=email, role=user.role)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None; both outcomes are audited."""
    user = find_by_email(email)
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not valid or not user.active:
        audit.record("auth.login_failed", user=user, actor=normalize_email(email)[:254],
                     reason="inactive" if (user and valid) else "bad credentials")
        db.session.commit()
        return None
    user.last_login_at = utcnow()
    audit.record("auth.login", user=user)
    db.session.commit()
    return user


def sign_in(email: str, password: str, address: str | None) -> User | None:
    """A sign-in attempt: counted by the throttle before the password is checked (raises
    login_throttle.Throttled when over the limits), given back when it succeeds."""
    attempt = login_throttle.reserve(normalize_email(email), address)
    user = authenticate(email, password)
    if user is not None:
        attempt.succeeded()
    return user


def _admins_left_without(user: User) -> int:
    return db.session.scalar(select(func.count(User.id)).where(
        User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)) or 0


@action
def change_role(user: User, role: Role | str, *, by: User) -> User:
    """Give `user` another role; the last active admin keeps theirs."""
    role = Role(role)
    if user.role == Role.ADMIN and role != Role.ADMIN and _admins_left_without(user) == 0:
        raise ActionRefused("This is the last active admin: make someone else admin first.")
    if user.role != role:
        audit.record("user.role", user=by, subject=user.email, old=user.role, new=role)
        user.role = role
        user.session_token = new_session_token()  # re-sign-in picks up the new rights
        db.session.commit()
    return user


@action
def set_active(user: User, active: bool, *, by: User) -> User:
    """Deactivate (ending their sessions) or reactivate an account."""
    if not active and user.id == by.id:
        raise ActionRefused("You cannot deactivate your own account.")
    if not active and user.role == Role.ADMIN and _admins_left_without(user) == 0:
        raise ActionRefused("This is the last active admin: make someone else admin first.")
    if user.active != active:
        user.active = active
        user.session_token = new_session_token()
        audit.record("user.activate" if active else "user.deactivate", user=by, subject=user.email)
        db.session.commit()
    return user


@action
def set_password(user: User, password: str, *, by: User | None = None) -> User:
    """Set a new password; every open session of that user ends."""
    _check_password(password)
    user.password_hash = generate_password_hash(password)
    user.session_token = new_session_token()
    audit.record("user.password", user=by or user, subject=user.email)
    db.session.commit()
    return user


def record_logout(user: User) -> None:
    """Sign-out ends the session on the server too: a new session_token makes every copy of
    the cookie (and the user's other devices) stop working."""
    user.session_token = new_session_token()
    audit.record("auth.logout", user=user)
    db.session.commit()


def first_admin_email() -> str | None:
    """The oldest active admin's e-mail (whom `make run` tells to sign in)."""
    return db.session.scalar(select(User.email).where(
        User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id).limit(1))


def ensure_first_admin(email: str, password: str | None) -> tuple[User | None, str | None]:
    """Create the first admin when nobody can sign in yet; returns it and a generated password."""
    if db.session.scalar(select(func.count(User.id))):
        return None, None
    generated = None if password else generate_password()
    user = create_user(email, Role.ADMIN, password or generated)
    return user, generated
