"""What an import pass leaves on its store and its run: complete (the watermark moves),
incomplete (Walmart's pages came short or looped: the same window is read again), or — after
three incomplete passes of one window — moved on anyway, said on the Stores page."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ImportRun, Store
from webapp.models.base import utcnow

INCOMPLETE_LIMIT = 3                 # incomplete passes of one window before moving on
MOVED_ON = "Moved on"                # how a run that moved on anyway starts its error text
MOVED_ON_SHOWN = timedelta(hours=24)  # how long the Stores page keeps saying so


def _walmart_answered(store: Store) -> None:
    """Every call of the pass was answered: whatever failure streak there was is over."""
    store.last_import_error, store.import_failures = None, 0
    store.last_import_error_detail = None
    store.import_failing_since = store.import_alert_sent_at = None


def _when(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y %H:%M} UTC"


def complete(store: Store, run: ImportRun, started: datetime) -> None:
    """Every window read whole: the watermark moves to the pass's start."""
    store.import_watermark = started
    store.last_import_at = utcnow()
    _walmart_answered(store)
    if store.import_incomplete_passes:  # the window that came short is read whole at last
        store.import_incomplete_note = None
    store.import_incomplete_passes = 0  # a note of moving on stays: it is shown for a day
    run.ok, run.finished_at = True, utcnow()


def incomplete(store: Store, run: ImportRun, reasons: list[str], since: datetime,
               started: datetime) -> None:
    """Some walk came short or looped: the watermark stays, so the next pass reads the same
    window again — unless this is the window's third incomplete pass: then it moves anyway
    (nobody stays stuck) and the store says which orders may be missing."""
    _walmart_answered(store)
    passes = (store.import_incomplete_passes or 0) + 1
    why = "; ".join(dict.fromkeys(reasons))  # each reason once
    if passes < INCOMPLETE_LIMIT:
        store.import_incomplete_passes = passes
        store.import_incomplete_note = (
            f"Import incomplete ({passes} of {INCOMPLETE_LIMIT}): {why}. The next import reads "
            "them again.")
        run.error = f"Incomplete ({passes} of {INCOMPLETE_LIMIT}): {why}"
    else:
        store.import_watermark, store.last_import_at = started, utcnow()
        store.import_incomplete_passes = 0
        store.import_incomplete_note = (
            f"On {_when(started)} the import moved on after {INCOMPLETE_LIMIT} incomplete "
            f"imports of the same period ({why}). Orders changed between {_when(since)} and "
            f"{_when(started)} may be missing here: compare with Seller Center.")
        run.error = f"{MOVED_ON} after {INCOMPLETE_LIMIT} incomplete imports: {why}"
    run.ok, run.finished_at = False, utcnow()


def notes(stores: list[Store]) -> dict[int, str]:
    """What the Stores page says per store: the import is incomplete now, or it moved on
    anyway in the last day."""
    shown = {s.id: s.import_incomplete_note for s in stores
             if s.import_incomplete_passes and s.import_incomplete_note}
    moved = [s.id for s in stores if not s.import_incomplete_passes and s.import_incomplete_note]
    if moved:  # read only for stores with such a note (seldom any): a day of runs, by index
        recent = set(db.session.scalars(select(ImportRun.store_id).where(
            ImportRun.store_id.in_(moved), ImportRun.started_at >= utcnow() - MOVED_ON_SHOWN,
            ImportRun.error.like(f"{MOVED_ON}%"))))
        shown.update({s.id: s.import_incomplete_note for s in stores if s.id in recent})
    return shown
