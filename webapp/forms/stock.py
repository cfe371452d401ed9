"""The Stock page: set one SKU's on-hand count, or many from a CSV file."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, ValidationError

from webapp.extensions import db
from webapp.models import Store
from webapp.numbers import row_id


class _StoreForm(FlaskForm):
    store = HiddenField("Store")

    @property
    def store_id(self) -> int | None:
        return row_id(self.store.data)

    def validate_store(self, field) -> None:
        if db.session.get(Store, self.store_id or 0) is None:
            raise ValidationError("Choose a store.")

    def messages(self) -> list[str]:
        return [message for field in self for message in field.errors]


class StockForm(_StoreForm):
    """Set one SKU's on-hand count at a ship node (none: the default node). The stock service
    checks the SKU, the count and the node: the same messages for this form, a CSV and the
    CLI."""
    sku = StringField("SKU")
    on_hand = StringField("On hand")
    ship_node = StringField("Ship node")


class StockImportForm(_StoreForm):
    """A CSV of sku,quantity rows (checked, all of them, by the stock service)."""
    file = FileField("CSV file")
