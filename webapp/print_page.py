"""A print's document (packing slips or a pick list) as HTML: served by the print view, and
written to a file by `flask orders slips`, which embeds the print stylesheet (a file opened
from disk has no server to fetch it from)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template

from webapp.models import PrintKind, PrintRecord
from webapp.services.printing.documents import Document


def render_print(record: PrintRecord, document: Document, *, standalone: bool = False) -> str:
    stylesheet = None
    if standalone:
        stylesheet = (Path(current_app.static_folder) / "css" / "print.css").read_text()
    return render_template("printing/document.html", record=record, document=document,
                           PrintKind=PrintKind, standalone=standalone, stylesheet=stylesheet)
