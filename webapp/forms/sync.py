"""The Sync page's actions that say something."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class ResolveForm(FlaskForm):
    """'Fixed in Seller Center': what the person did there."""
    note = TextAreaField("What was done in Seller Center", validators=[
        DataRequired("Say what was done in Seller Center (a short note)."), Length(max=500)])
