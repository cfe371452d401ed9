"""Cancel Order."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from webapp.walmart.enums import CANCELLATION_REASONS


class CancelForm(FlaskForm):
    reason = SelectField("Cancellation reason", validators=[
        DataRequired("Choose a cancellation reason.")],
        choices=[SelectChoice("", "Choose Walmart's reason…")] +
        [SelectChoice(r.code, r.label) for r in CANCELLATION_REASONS])
