"""Change markers of the lists people keep open (Orders, Stock, Returns), for their idle poll.

Each list has a counter in Redis, bumped after every commit that wrote a table the list shows,
whoever committed it: a web request, a worker's job, the CLI. A list puts the counter it was
rendered at into its poll URL; while the counter is the same, the poll answers 204 after one
Redis round trip and no SQL — as cheap at a million orders as at ten.

The bump needs no call in the services: SQLAlchemy's session events see the unit of work's
objects (new, changed, deleted) and the bulk INSERT/UPDATE/DELETE statements run through the
session, and the counters move after the commit, so a poll that reads the new counter also
reads the new rows. (A statement run outside the session — by hand in psql — is not seen.)

Redis forgets the counters when it restarts without persistence: a missing counter starts
again at a random value, so a page rendered before the restart never matches one after it by
chance. Without Redis no poll answers 204: every poll refreshes its list.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from itertools import chain

from flask import has_app_context, request
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import redis_connection
from webapp.models.sync import TaskKind
from webapp.team_time import team_zone

log = logging.getLogger(__name__)
KEY = "orderdeck:list-version:{}"
PENDING = "orderdeck_changed_lists"  # session.info: the lists this transaction changed
LISTS = ("orders", "stock", "returns")

# What each list shows, by table. Sync tasks change all the time (every claim, every attempt
# counted): only the tasks a list shows, and only the columns it shows of them, change it.
TABLES: dict[str, tuple[str, ...]] = {
    "orders": ("orders",), "order_lines": ("orders",),
    "stores": ("orders", "stock", "returns"),
    "sku_stock": ("stock",),
    "returns": ("returns",), "return_lines": ("returns",), "refunds": ("returns",),
}
# sync task kind → the list showing it
TASK_LISTS = {TaskKind.INVENTORY: "stock", TaskKind.REFUND: "returns"}
TASK_COLUMNS = {"state", "last_error_message", "last_error_code", "synced_at"}
# Minutes a list's time words stay right (local-time periods: midnight starts one).
FRESH_MINUTES = {"orders": 60, "returns": 60, "stock": 10}


def _task_lists(kinds: set | None) -> set[str]:
    """The lists that show sync tasks of these kinds (None: kinds unknown, so every one)."""
    if kinds is None:
        return set(TASK_LISTS.values())
    return {TASK_LISTS[k] for k in kinds if k in TASK_LISTS}


def _note(session: Session, lists) -> None:
    if lists:
        session.info.setdefault(PENDING, set()).update(lists)


def _after_flush(session: Session, _context) -> None:
    """The unit of work: objects added, deleted, or with a column that really changed."""
    lists: set[str] = set()
    dirty = (o for o in session.dirty if session.is_modified(o, include_collections=False))
    for obj in chain(session.new, session.deleted, dirty):
        table = getattr(obj, "__tablename__", None)
        lists.update(TABLES.get(table, ()))
        if table == "sync_tasks":
            lists.update(_task_lists({obj.kind}))
    _note(session, lists)


def _statement_lists(statement, parameters) -> set[str]:
    table = getattr(getattr(statement, "table", None), "name", None)
    lists = set(TABLES.get(table, ()))
    if table == "sync_tasks":
        if statement.is_insert:
            rows = parameters if isinstance(parameters, list) else [parameters or {}]
            kinds = {row.get("kind") for row in rows if isinstance(row, dict)}
            lists.update(_task_lists(kinds if all(kinds) else None))
        else:
            # An UPDATE that sets none of the columns a list shows (a claim, a counted
            # attempt, a lease swept) changes no list; one that cannot be read, every list.
            values = getattr(statement, "_values", None)
            columns = {getattr(c, "key", c) for c in values} if values else None
            if statement.is_delete or columns is None or columns & TASK_COLUMNS:
                lists.update(_task_lists(None))
    return lists


def _on_execute(state) -> None:
    """Bulk statements run through the session (imports, conditional updates)."""
    if state.is_insert or state.is_update or state.is_delete:
        _note(state.session, _statement_lists(state.statement, state.parameters))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the real commit comes later
        return
    lists = session.info.pop(PENDING, None)
    if lists and has_app_context():  # (a session of no app: nobody polls it)
        bump(*sorted(lists))


def _after_soft_rollback(session: Session, previous) -> None:
    if not previous.nested:  # the whole transaction is undone: nothing of it changed
        session.info.pop(PENDING, None)


def bump(*names: str) -> None:
    """These lists changed: every page showing one refreshes at its next poll."""
    try:
        pipe = redis_connection().pipeline(transaction=False)
        for name in names:
            pipe.set(KEY.format(name), _start(), nx=True)
            pipe.incr(KEY.format(name))
        pipe.execute()
    except RedisError as exc:  # the lists refresh at their next change (or reload)
        log.debug("could not mark lists %s changed (%s)", names, exc)


def current(name: str) -> str | None:
    """The list's change marker now; None without Redis (then no poll is answered 204)."""
    try:
        pipe = redis_connection().pipeline(transaction=False)
        pipe.set(KEY.format(name), _start(), nx=True)
        pipe.get(KEY.format(name))
        value = pipe.execute()[1]
    except RedisError:
        return None
    return value.decode() if value is not None else None


def mark(name: str) -> str | None:
    """What a poll of the list sends back: its change marker and the clock's period (a list
    shows time too: "Today", "Overdue", "3 min ago"), so a day's turn refreshes it as well.
    Read it before the rows: a change in between shows at the next poll, never gets lost."""
    version = current(name)
    if version is None:
        return None
    local = datetime.now(team_zone())
    minutes = int((local.timestamp() + local.utcoffset().total_seconds()) // 60)
    return f"{version}.{minutes // FRESH_MINUTES[name]}"


def unchanged(name: str) -> bool:
    """A poll of the list (`?poll=1&v=…`) whose marker is still the current one."""
    seen = request.args.get("v", "")[:64]
    return bool(seen) and seen == mark(name)


def _start() -> int:
    """Where a counter Redis forgot starts again: far from any value it had before."""
    return secrets.randbelow(2 ** 52) + 2 ** 40


def init_list_versions() -> None:
    """Listen on every session (once per process; each app's sessions use its own Redis)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
