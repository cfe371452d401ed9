"""Packing slips and pick lists: record a print, show it to print, and the prints made."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from webapp.extensions import db
from webapp.htmx import render_page
from webapp.models import PrintKind, PrintRecord
from webapp.numbers import row_id
from webapp.order_filters import parse_filter
from webapp.print_page import render_print
from webapp.services.errors import ActionRefused
from webapp.services.printing import documents, records, selection

bp = Blueprint("printing", __name__, url_prefix="/print")


def _selection() -> tuple[PrintKind, list[int], int | None]:
    """(what, which orders, which package) from the posted form; refusals are ActionRefused."""
    form = request.form
    scope = form.get("scope", "ticked")
    if scope == "again":
        record = selection.of_record(row_id(form.get("record")))
        return record.kind, records.order_ids_of(record), record.package_id
    if scope == "package":  # its own packing slip
        order_id, package_id = selection.of_package(row_id(form.get("package")))
        return PrintKind.SLIPS, [order_id], package_id
    if form.get("kind") not in {k.value for k in PrintKind}:
        abort(400)
    kind = PrintKind(form["kind"])
    if scope == "filter":
        return kind, selection.matching(parse_filter(form)), None
    ticked = form.getlist("order")[:selection.MAX_ORDERS + 1]
    return kind, selection.ticked(row_id(x) for x in ticked), None


@bp.post("/")
def create():
    """Record a print — of the ticked orders, all matching the Orders filter, one order, one
    package, or a print again — then show it. The one write a viewer may make."""
    try:
        kind, order_ids, package_id = _selection()
        document = documents.build(kind, order_ids, package_id)
        record = records.record_print(document, by=current_user, package_id=package_id)
    except ActionRefused as exc:
        return render_page("errors/error.html", "content", status=422, title="Nothing printed",
                           message=str(exc), code=422)
    if document.left_out:
        flash(f"{len(document.left_out)} order(s) left out: "
              + "; ".join(f"{x.customer_order_id or x.number} ({x.reason})"
                          for x in document.left_out[:10]), "info")
    return redirect(url_for("printing.show", record_id=record.id), code=303)


@bp.get("/<int:record_id>")
def show(record_id: int):
    """A recorded print, ready to print (the browser's own print, with the print stylesheet);
    the orders as they are now."""
    record = db.session.get(PrintRecord, record_id) or abort(404)
    document = documents.build(record.kind, records.order_ids_of(record), record.package_id)
    return render_print(record, document)


@bp.get("/")
def index():
    """The prints made, newest first: who printed what, and when; each can be printed again."""
    page, next_before = records.history(before=row_id(request.args.get("before")))
    return render_page("printing/index.html", "content", records=page, next_before=next_before)
