"""The Ship form: packages (tracking numbers), each with one quantity per order line."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from webapp.walmart.enums import CARRIERS, METHOD_CODES


class ShipLineForm(Form):
    """A plain Form: a nested FlaskForm would add a CSRF token per row."""
    line_number = HiddenField()
    quantity = IntegerField("Quantity", validators=[
        InputRequired("Enter a quantity (0 skips the line)."),
        NumberRange(min=0, max=100000, message="Quantities are whole numbers, 0 or more.")])


class PackageForm(Form):
    # Walmart's list; the service names a carrier outside it (validate_choice off: its
    # message says which carriers Walmart knows, not just "not a valid choice").
    carrier = SelectField("Carrier", validators=[Optional(), Length(max=80)],
                          choices=[SelectChoice("", "Choose a carrier…")] +
                          [SelectChoice(c, c) for c in CARRIERS], validate_choice=False)
    other_carrier = StringField("Other shipping company",
                                validators=[Optional(), Length(max=120)])
    tracking_url = StringField("Tracking URL", validators=[Optional(), Length(max=500)])
    method_code = SelectField("Method", choices=[SelectChoice(m, m) for m in METHOD_CODES])
    tracking_number = StringField("Tracking number", validators=[
        InputRequired("Enter the tracking number."), Length(max=100)])
    lines = FieldList(FormField(ShipLineForm), min_entries=0, max_entries=200)


class ShipForm(FlaskForm):
    # No package until "Add tracking number" (as in Channel Manager); Ship then needs one.
    packages = FieldList(FormField(PackageForm), min_entries=0, max_entries=20)
    ship_time = DateTimeLocalField("Ship date and time", format=["%Y-%m-%dT%H:%M",
                                                                 "%Y-%m-%dT%H:%M:%S"],
                                   validators=[InputRequired("Enter the ship date and time.")])
    override_intent = BooleanField("Ship anyway — the buyer asked to cancel")
    confirm_warnings = BooleanField("Ship anyway — I checked the tracking number")
    form_token = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.packages.entries:
            self.form_errors.append("Add a tracking number first: Walmart needs the carrier "
                                    "and tracking number of every package.")
            return False
        return valid
