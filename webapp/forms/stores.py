"""A store: add or change one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, Optional

from webapp.models import Environment

ENVIRONMENT_CHOICES = [SelectChoice(e.value, e.label) for e in Environment]


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
    slip_name = StringField(
        "Name on slips", validators=[Optional(), Length(max=80)],
        description="Printed at the top of packing slips, e.g. your shop's name as buyers know "
                    "it. Empty: none (the store's name above is an internal label).")
    slip_prices = BooleanField(
        "Show prices on slips", default=False,
        description="Unit price and amount per line on packing slips (off: quantities only).")
    default_ship_node = StringField(
        "Default ship node", validators=[Optional()],
        description="Walmart's id of this account's default ship node, the one Walmart updates "
                    "when stock names no node. Orders from it and stock set without naming a "
                    "node share one row per SKU.")
