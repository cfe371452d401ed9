"""Sign in and sign out."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from webapp.forms import LoginForm
from webapp.htmx import hx_redirect
from webapp.security import safe_next
from webapp.services.users import accounts as user_service
from webapp.services.users.login_throttle import Throttled

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with e-mail and password (throttled: webapp/services/users/login_throttle.py)."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = user_service.sign_in(form.email.data, form.password.data, request.remote_addr)
        except Throttled as exc:
            form.password.errors.append(exc.message)
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(exc.wait)}
        if user is not None:
            session.clear()  # a new session at sign-in: nothing from before carries over
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        status = 401
        form.password.errors.append("Wrong e-mail or password, or the account is deactivated.")
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out: the session ends on the server too (every copy of the cookie)."""
    user_service.record_logout(current_user)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return hx_redirect(url_for("auth.login"))
