"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from webapp.extensions import limiter
from webapp.forms import LoginForm
from webapp.htmx import hx_redirect
from webapp.services import users as user_service

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """`?next=` only to a path on this site; anything else goes to the Home page."""
    if target:
        parts = urlsplit(target)
        if (target.startswith("/") and not target.startswith("//") and "\\" not in target
                and not parts.scheme and not parts.netloc):
            return target
    return url_for("home.index")


def _account_key() -> str:
    return "login-account:" + user_service.normalize_email(request.form.get("email", ""))[:254]


def _failed(response) -> bool:
    """Only failed sign-ins count against the limits."""
    return bool(g.get("login_failed"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
               deduct_when=_failed, scope="login-address")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_account_key, deduct_when=_failed, scope="login-account")
def login():
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = user_service.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a new session at sign-in: nothing from before carries over
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        g.login_failed = True
        form.password.errors.append("Wrong e-mail or password, or the account is deactivated.")
    return render_template("auth/login.html", form=form), 401 if g.get("login_failed") else 200


@bp.post("/logout")
def logout():
    """Sign out and forget the session."""
    user_service.record_logout(current_user)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return hx_redirect(url_for("auth.login"))
