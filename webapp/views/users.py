"""Users page (admins only): create, change role, deactivate."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db
from webapp.forms import UserActiveForm, UserCreateForm, UserRoleForm
from webapp.models import Role, User
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.users import accounts as user_service

bp = Blueprint("users", __name__, url_prefix="/users")


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _page(form: UserCreateForm, status: int = 200, new_password: str | None = None):
    people = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("users/index.html", users=people, form=form,
                           role_form=UserRoleForm(), active_form=UserActiveForm(),
                           new_password=new_password), status


@bp.get("/")
@require_role(Role.ADMIN)
def index():
    """Everyone who can sign in, with their role."""
    return _page(UserCreateForm())


@bp.post("/")
@require_role(Role.ADMIN)
def create():
    """Create an account; a generated password is shown once."""
    form = UserCreateForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    password = form.password.data or user_service.generate_password()
    try:
        user = user_service.create_user(form.email.data, form.role.data, password, by=current_user)
    except ActionRefused as exc:
        getattr(form, exc.field or "email").errors = [str(exc)]
        return _page(form, 422)
    flash(f"{user.email} can now sign in as {user.role.label.lower()}.", "success")
    return _page(UserCreateForm(formdata=None), 200,
                 new_password=None if form.password.data else password)


@bp.post("/<int:user_id>/role")
@require_role(Role.ADMIN)
def change_role(user_id: int):
    """Give a user another role."""
    user, form = _user_or_404(user_id), UserRoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        user_service.change_role(user, form.role.data, by=current_user)
        flash(f"{user.email} is now {user.role.label.lower()}.", "success")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return redirect(url_for("users.index"))


@bp.post("/<int:user_id>/active")
@require_role(Role.ADMIN)
def set_active(user_id: int):
    """Deactivate or reactivate an account."""
    user, form = _user_or_404(user_id), UserActiveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        user_service.set_active(user, form.active.data, by=current_user)
        flash(f"{user.email} is {'active' if user.active else 'deactivated'}.", "success")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return redirect(url_for("users.index"))
