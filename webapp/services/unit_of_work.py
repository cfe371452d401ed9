"""The unit of work: one transaction per action, and what must follow it, in one place.

A service writes its change, and the outbox tasks that carry it to Walmart (outbox.add_task,
add_batch, start), in one transaction, and commits or rolls back. The session's events do the
rest, whoever committed — the web, a worker, the CLI — so no service can forget a step:

- after a commit: the cached counts are invalidated when it wrote a table they read (the
  Orders page's status counts: orders; Home's: orders, their lines, returns and Walmart
  differences), then the tasks it queued are handed to RQ (outbox.committed);
- after a rollback: the tasks it queued are forgotten — they were never written; a savepoint
  rolled back forgets only those queued inside it;
- `@action` on a service that views, the CLI and jobs call: an exception leaving it — a
  refusal (ActionRefused) or a bug — rolls back what it had not committed, so the caller shows
  the refusal on a clean session and never touches the session itself.

Redis down loses nothing: the commit stands, the tasks are pending rows that the sweeper
enqueues once Redis answers (outbox), and the counts' cache is unreachable anyway.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from itertools import chain
from typing import ParamSpec, TypeVar

from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from webapp.extensions import db
from webapp.services.orders import dashboard
from webapp.services.orders import queries as order_queries
from webapp.services.sync import outbox

log = logging.getLogger(__name__)
COUNTED_WRITTEN = "orderdeck_counted_written"  # session.info: COUNTED tables this one wrote
DEPTH = "orderdeck_action_depth"             # session.info: @action calls under way
P = ParamSpec("P")
R = TypeVar("R")


def action(service: Callable[P, R]) -> Callable[P, R]:
    """A service that is one unit of work: anything raised out of it rolls back what it had
    not committed (and so forgets the tasks it queued). A service called from another joins
    that one's unit of work: only the outermost rolls back."""

    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        info = db.session.info
        info[DEPTH] = info.get(DEPTH, 0) + 1
        try:
            return service(*args, **kwargs)
        except Exception:
            if info[DEPTH] == 1:
                db.session.rollback()
            raise
        finally:
            info[DEPTH] -= 1

    return run


# The tables that cached counts read: a commit that wrote one makes them stale.
COUNTED = frozenset({"orders", "order_lines", "returns", "walmart_differences"})


def _note_written(session: Session, tables) -> None:
    written = COUNTED.intersection(tables)
    if written:
        session.info.setdefault(COUNTED_WRITTEN, set()).update(written)


def _after_flush(session: Session, _context) -> None:
    """Objects added, deleted, or with a column that really changed."""
    if session.info.get(COUNTED_WRITTEN) == COUNTED:
        return
    dirty = (o for o in session.dirty if session.is_modified(o, include_collections=False))
    _note_written(session, {getattr(o, "__tablename__", None)
                            for o in chain(session.new, session.deleted, dirty)})


def _on_execute(state) -> None:
    """Bulk INSERT/UPDATE/DELETE run through the session (imports, conditional updates)."""
    if state.is_insert or state.is_update or state.is_delete:
        _note_written(state.session,
                      {getattr(getattr(state.statement, "table", None), "name", None)})


def _after_transaction_create(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        outbox.savepoint_opened(session, transaction)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction, rolled back or closed (a commit
        # took its own already): none of what it queued was written
        session.info.pop(COUNTED_WRITTEN, None)
        outbox.rolled_back(session)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the real commit comes later
        return
    written = session.info.pop(COUNTED_WRITTEN, set())
    if not has_app_context():  # (a session of no app: no Redis to tell)
        return
    try:
        if "orders" in written:
            order_queries.invalidate_counts()
        if written:
            dashboard.invalidate_counts()
        outbox.committed(session)
    except Exception:  # the commit stands: raising here would leave the session half-closed
        log.exception("after a commit: the tasks it wrote are left to the sweeper")


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.nested:  # (the whole transaction's end is _after_transaction_end's)
        outbox.rolled_back(session, previous)


def init_unit_of_work() -> None:
    """Listen on every session (once per process; each app's sessions use its own Redis)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_transaction_create", _after_transaction_create)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
