"""The Ship form: packages (tracking numbers), each with one quantity per order line; the
correction of a refused cancellation (a quantity per line)."""

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
from wtforms.validators import InputRequired, Length, Optional

from webapp.forms import CancelForm
from webapp.numbers import digits, whole
from webapp.walmart.enums import CARRIERS, METHOD_CODES, carrier_label

MAX_LINE_QUANTITY = 100_000


class WholeNumberField(IntegerField):
    """A whole number from 0 to `maximum`, ASCII digits only: "²", "٣", "1e9", "-1" or 5,000
    digits get `message` (IntegerField's int() reads "٣" as 3 and " 1_0" as 10)."""

    def __init__(self, label=None, validators=None, maximum: int = MAX_LINE_QUANTITY,
                 message: str = "Enter a whole number.", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.maximum, self.message = maximum, message

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            self.data = whole(valuelist[0], self.maximum)
            if self.data is None:
                raise ValueError(self.message)


class IndexedList(FieldList):
    """A FieldList reading only short ASCII-digit indexes from field names (packages-0-…):
    WTForms' own takes "packages-²-…" as an index and int() then fails."""

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if digits(index) and len(index) <= 4:
                    yield int(index)


class ShipLineForm(Form):
    """A plain Form: a nested FlaskForm would add a CSRF token per row."""
    line_number = HiddenField()
    quantity = WholeNumberField("Quantity", validators=[
        InputRequired("Enter a quantity (0 skips the line).")],
        message=f"Quantities are whole numbers from 0 to {MAX_LINE_QUANTITY:,}.")


class PackageForm(Form):
    # Walmart's list, in words (the code is the value sent); the service names a carrier
    # outside it (validate_choice off: its message says which carriers Walmart knows, not
    # just "not a valid choice").
    carrier = SelectField("Carrier", validators=[Optional(), Length(max=80)],
                          choices=[SelectChoice("", "Choose a carrier…")] +
                          [SelectChoice(c, carrier_label(c)) for c in CARRIERS],
                          validate_choice=False)
    other_carrier = StringField("Other shipping company",
                                validators=[Optional(), Length(max=120)])
    tracking_url = StringField("Tracking URL", validators=[Optional(), Length(max=500)])
    method_code = SelectField("Method", choices=[SelectChoice(m, m) for m in METHOD_CODES])
    tracking_number = StringField("Tracking number", validators=[
        InputRequired("Enter the tracking number."), Length(max=100)])
    lines = IndexedList(FormField(ShipLineForm), min_entries=0, max_entries=200)


class ShipForm(FlaskForm):
    # No package until "Add tracking number" (as in Channel Manager); Ship then needs one.
    packages = IndexedList(FormField(PackageForm), min_entries=0, max_entries=20)
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


class CancelCorrectionForm(CancelForm):
    """A refused cancellation, corrected: its reason and its quantity per order line."""
    lines = IndexedList(FormField(ShipLineForm), min_entries=0, max_entries=200)
