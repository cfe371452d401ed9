"""Users: add one, change a role, deactivate or reactivate."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from webapp.models import Role

ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in Role]


class UserCreateForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.OPERATOR)
    password = PasswordField("Password", validators=[Optional(), Length(min=10, max=256)],
                             description="Leave empty to generate one; it is shown once.")


class UserRoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class UserActiveForm(FlaskForm):
    """Deactivate/reactivate: only the CSRF token and the target state."""
    active = BooleanField("Active")
