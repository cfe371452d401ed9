"""The orders CSV export neutralises formulas a spreadsheet would run in any locale."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from sqlalchemy import select, update

from webapp.services.orders.export import safe


def test_formulas_after_a_separator_or_leading_spaces_are_neutralised():
    """`Bob;=1+1` (a ;-locale splits it) and ` =1+1` (spaces skipped) get a ' before the
    formula; ordinary text and plain (negative) numbers are left alone."""
    assert safe("Bob;=1+1") == "Bob;'=1+1"
    assert safe(" =1+1") == "' =1+1"
    assert safe("  @SUM(A1)") == "'  @SUM(A1)"
    assert safe("a, -2+3|+1") == "a, '-2+3|'+1"
    assert safe("=1+1") == "'=1+1" and safe("\t=1") == "'\t=1"
    assert safe("Bob Smith") == "Bob Smith" and safe("a - b") == "a - b"
    assert safe("-12.50") == "-12.50" and safe(Decimal("-3.5")) == "-3.5" and safe(None) == ""


def test_export_quotes_every_cell_and_neutralises_hidden_formulas(app, walmart_store,
                                                                   signed_in, client):
    """In /orders.csv a customer `Bob;=1+1` and a status ` =1+1` come out neutralised, and
    every cell is quoted (a spreadsheet splitting on ; keeps the cell whole)."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders.importer import import_store

    store_id, _seller = walmart_store(orders=2)
    with app.app_context():
        import_store(store_id)
        order = db.session.scalars(select(Order).order_by(Order.id)).first()
        po = order.purchase_order_id
        db.session.execute(update(Order).where(Order.id == order.id).values(
            customer_name="Bob;=1+1", status_details=" =1+1"))
        db.session.commit()
    signed_in("viewer")
    text = client.get("/orders.csv").get_data(as_text=True)
    row = next(r for r in csv.reader(io.StringIO(text)) if r[0] == po)
    assert row[-1] == "Bob;'=1+1" and row[-2] == "' =1+1"
    line = next(x for x in text.splitlines() if x.startswith(f'"{po}"'))
    assert '"Bob;\'=1+1"' in line and line.endswith('"')
