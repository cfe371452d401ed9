"""A return's refund, and starting to track a returned SKU's stock."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField

from webapp.forms.fields import WholeNumberField
from webapp.models import ReturnLine
from webapp.numbers import MAX_QUANTITY


class RefundForm(FlaskForm):
    """Refund some or all of a return: a quantity per line (qty-N, empty: 0), the lines going
    back on hand (restock-N) and the form's one-time token. Its fields depend on the return:
    build it with `RefundForm.of(lines)`. How much is still refundable is the service's check."""
    form_token = HiddenField()

    @classmethod
    def of(cls, lines: Iterable[ReturnLine], **kwargs) -> RefundForm:
        lines, fields = list(lines), {}
        for line in lines:
            fields[f"qty-{line.number}"] = WholeNumberField(
                maximum=MAX_QUANTITY, default=0,
                message=f"Line {line.number}: the quantity must be a whole number, 0 or more.")
            fields[f"restock-{line.number}"] = BooleanField(false_values=("",))
        form = type(cls.__name__, (cls,), fields)(**kwargs)
        form.numbers = [line.number for line in lines]
        return form

    def quantities(self) -> dict[int, int]:
        """Units to refund per line number (lines whose quantity was no number left out)."""
        return {n: self[f"qty-{n}"].data for n in self.numbers
                if not self[f"qty-{n}"].errors}

    def restock(self) -> set[int]:
        """The line numbers whose units go back on hand."""
        return {n for n in self.numbers if self[f"restock-{n}"].data}

    def messages(self) -> list[str]:
        """Every error, line by line, as the page lists them."""
        return [message for field in self for message in field.errors]


class StartTrackingForm(FlaskForm):
    """Start tracking an untracked SKU of a return line: the line and what is on hand now
    (the stock service checks the count)."""
    line = StringField("Line")
    on_hand = StringField("On hand now")
