"""One WTForms class per action."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, Optional

from webapp.models import Environment, Role
from webapp.walmart.enums import CANCELLATION_REASONS

ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in Role]
ENVIRONMENT_CHOICES = [SelectChoice(e.value, e.label) for e in Environment]


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


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


class StoreForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    environment = SelectField("Environment", choices=ENVIRONMENT_CHOICES,
                              default=Environment.SIMULATOR)
    base_url = StringField(
        "Base URL", validators=[Optional(), Length(max=255), URL(require_tld=False)],
        description="Leave empty for the environment's default address.")
    client_id = StringField("Client ID", validators=[DataRequired(), Length(max=255)])
    # Write-only: never rendered back (PasswordField drops its value when rendering).
    client_secret = PasswordField("Client secret", validators=[Length(max=1024)])
    import_enabled = BooleanField("Import orders", default=True)
    read_only = BooleanField(
        "Read-only", description="Import and show everything, send nothing to Walmart — to try "
        "Orderdeck beside the tool you use today. Switching back to read-write asks for "
        "confirmation.")
    rate_limits = StringField(
        "Rate limits", validators=[Optional(), Length(max=500)],
        description="Only if this account's Walmart limits differ from the defaults: calls per "
                    "minute per call, e.g. acknowledge=120, shipping=120.")
    # Checked by the stores service (one clear message for a bad id, from the form or the CLI).
    default_ship_node = StringField(
        "Default ship node", validators=[Optional()],
        description="Walmart's id of this account's default ship node, the one Walmart updates "
                    "when stock names no node. Orders from it and stock set without naming a "
                    "node share one row per SKU.")


class CancelForm(FlaskForm):
    reason = SelectField("Cancellation reason", validators=[
        DataRequired("Choose a cancellation reason.")],
        choices=[SelectChoice("", "Choose Walmart's reason…")] +
        [SelectChoice(r.code, r.label) for r in CANCELLATION_REASONS])


class StockForm(FlaskForm):
    sku = StringField("SKU", validators=[DataRequired(), Length(max=100)])
    on_hand = StringField("On hand", validators=[DataRequired(), Length(max=12)])


class ResolveForm(FlaskForm):
    """'Fixed in Seller Center': what the person did there."""
    note = TextAreaField("What was done in Seller Center", validators=[
        DataRequired("Say what was done in Seller Center (a short note)."), Length(max=500)])
