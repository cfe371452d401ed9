"""How Flask-Login finds the signed-in user, and what happens when nobody is."""

from __future__ import annotations

import hashlib

from flask import Flask, request, url_for
from sqlalchemy import select

from webapp.extensions import db, login_manager
from webapp.htmx import hx_redirect, is_htmx
from webapp.models import User


def _load_user(token: str) -> User | None:
    return db.session.scalar(select(User).where(User.session_token == token,
                                                User.active.is_(True)))


def _session_identifier() -> str:
    """What Flask-Login's "strong" protection binds a session to: the client address and
    User-Agent. Its own version reads X-Forwarded-For, which any client can forge; the
    request's remote_addr is the socket's peer, or the proxy's X-Forwarded-For only when
    ORDERDECK_BEHIND_PROXY installs ProxyFix (webapp/__init__.py)."""
    base = f"{request.remote_addr}|{request.headers.get('User-Agent', '')}"
    return hashlib.sha512(base.encode("utf-8", errors="replace")).hexdigest()


def _unauthorized():
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():  # a fragment must not swap the login page in: reload to it instead
        return hx_redirect(target)
    from flask import flash, redirect
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(target)


def init_login(app: Flask) -> None:
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager._session_identifier_generator = _session_identifier
