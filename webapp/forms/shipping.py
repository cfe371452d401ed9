"""The Ship form: packages (tracking numbers), each with one quantity per order line; the
correction of a refused cancellation (a quantity per line); a synced package's tracking
correction."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from webapp.forms.cancelling import CancelForm
from webapp.forms.fields import MAX_LINE_QUANTITY, IndexedList, WholeNumberField
from webapp.models import Order
from webapp.services.shipping.ship import PackageInput
from webapp.walmart.enums import CARRIERS, METHOD_CODES, carrier_label


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

    def add_package(self, order: Order) -> None:
        """One more package by the order's method: the first holds every unit left to ship,
        the next ones none (the person moves units into them)."""
        first = not self.packages.entries
        package = self.packages.append_entry()
        package.method_code.data = order.ship_method or "Standard"
        for line in order.lines:
            package.lines.append_entry({"line_number": line.line_number,
                                        "quantity": line.open_qty if first else 0})

    def package_inputs(self) -> list[PackageInput]:
        """The packages as the shipping service takes them."""
        return [PackageInput(tracking_number=p.tracking_number.data or "",
                             method_code=p.method_code.data, carrier=p.carrier.data,
                             other_carrier=p.other_carrier.data,
                             tracking_url=p.tracking_url.data,
                             lines={x.line_number.data: x.quantity.data for x in p.lines})
                for p in (entry.form for entry in self.packages)]


class CancelCorrectionForm(CancelForm):
    """A refused cancellation, corrected: its reason and its quantity per order line."""
    lines = IndexedList(FormField(ShipLineForm), min_entries=0, max_entries=200)


class TrackingCorrectionForm(FlaskForm):
    """A synced package's new tracking (Walmart's 4-hour window). Checked by the shipping
    service, as a shipment's packages are (the same messages for the form and the CLI)."""
    carrier = StringField("Carrier")
    other_carrier = StringField("Other shipping company")
    tracking_url = StringField("Tracking URL")
    tracking_number = StringField("Tracking number")
    confirm_warnings = BooleanField("The number is right", false_values=("",))
