"""A store whose credentials Walmart refuses: recorded on the store, shown on Stores, Home and
the banner, and its updates paused — not failed — until Walmart accepts a token again.

While paused, a store's updates do not call Walmart; one call every PROBE_SECONDS (an update's
attempt, or a scheduled import) checks whether the credentials work again, so a fix made in
Seller Center alone is picked up too. The time an update spends paused is added to its
`paused_seconds` and does not count towards giving up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from redis.exceptions import RedisError
from sqlalchemy import select, union, update

from webapp.extensions import db, redis_connection
from webapp.models import Store, SyncTask, TaskState
from webapp.models.base import utcnow
from webapp.services.sync import outbox
from webapp.walmart import AuthenticationError

log = logging.getLogger(__name__)
PROBE_SECONDS = 300  # one call to Walmart per store this often while its credentials fail
PROBE_KEY = "orderdeck:credentials-probe:{}"


@dataclass(frozen=True)
class Problem:
    title: str
    fix: str


PROBLEMS = {
    "refused": Problem(
        "Walmart refused the credentials",
        "Updates to Walmart wait (none fails for it). Copy the client ID and secret from "
        "Seller Center → Settings → API Key Management into Stores → Edit (an admin's "
        "task): the waiting updates then go out by themselves."),
    "forbidden": Problem(
        "Walmart says the credentials lack a permission",
        "The API key is valid but may not use every API Orderdeck needs (orders, returns, "
        "inventory). Give it full access in Seller Center → Settings → API Key Management, or "
        "enter a key that has it under Stores → Edit (an admin's task). Updates wait (none "
        "fails for it) and go out by themselves once Walmart accepts the key."),
}


def problem(store: Store) -> Problem | None:
    """What to tell people about the store's credentials (None when Walmart accepts them)."""
    if not store.credentials_problem:
        return None
    return PROBLEMS.get(store.credentials_problem, PROBLEMS["refused"])


def _forget_banner() -> None:
    # Local: health imports this module (the banner shows each store's Problem).
    from webapp.services.stores.health import forget_banner

    forget_banner()


def record_refusal(store: Store, exc: AuthenticationError) -> None:
    """Walmart refused the store's credentials (a token request, or a call with a token):
    the store shows it, and the next check waits PROBE_SECONDS."""
    db.session.refresh(store)
    if store.credentials_problem is None:
        store.credentials_failed_at = utcnow()  # since when: the pause starts here
        log.warning("store %s: Walmart refused the credentials (%s)", store.id, exc)
    store.credentials_problem, store.credentials_error = exc.problem, str(exc)[:2000]
    db.session.commit()
    try:
        redis_connection().set(PROBE_KEY.format(store.id), "1", ex=PROBE_SECONDS)
    except RedisError:
        pass
    _forget_banner()


def probe_turn(store_id: int) -> bool:
    """True for the one caller allowed to try the store's credentials now (once per
    PROBE_SECONDS, across every worker)."""
    try:
        return bool(redis_connection().set(PROBE_KEY.format(store_id), "1", nx=True,
                                           ex=PROBE_SECONDS))
    except RedisError:
        return False  # never hammer Walmart: the next wake-up tries again


def paused_for(task: SyncTask, store: Store, now: datetime | None = None) -> float:
    """Seconds the task has waited for the store's credentials: past pauses and this one."""
    seconds = float(task.paused_seconds or 0)
    if store.credentials_problem and store.credentials_failed_at:
        since = max(store.credentials_failed_at, task.created_at)
        seconds += max(((now or utcnow()) - since).total_seconds(), 0.0)
    return seconds


def resume_updates(store_id: int, checked_by: int | None = None) -> bool:
    """The store's credentials work again (Walmart accepted a token) or a person changed them:
    clear the problem, add the pause to each waiting update's paused time, and run them now.
    `checked_by`: the task whose attempt got the token (settled already, but it waited too).
    False when there was no problem (or another worker cleared it first)."""
    store = db.session.get(Store, store_id)
    db.session.refresh(store)
    if store.credentials_problem is None:
        return False
    since = store.credentials_failed_at
    cleared = db.session.execute(
        update(Store).where(Store.id == store_id, Store.credentials_problem.is_not(None))
        .values(credentials_problem=None, credentials_error=None, credentials_failed_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if not cleared:
        db.session.rollback()
        return False
    now = utcnow()
    # Two reads, each through its index (the store's pending tasks; the one by id): as one
    # OR, SQLite reads every task the store ever had.
    waiting = db.session.execute(union(
        select(SyncTask.id, SyncTask.created_at).where(
            SyncTask.store_id == store_id, SyncTask.state == TaskState.PENDING),
        select(SyncTask.id, SyncTask.created_at).where(
            SyncTask.store_id == store_id, SyncTask.id == checked_by))).all()
    for task_id, created_at in waiting:
        paused = int((now - max(since or now, created_at)).total_seconds())
        if paused > 0:
            db.session.execute(update(SyncTask).where(SyncTask.id == task_id)
                               .values(paused_seconds=SyncTask.paused_seconds + paused)
                               .execution_options(synchronize_session=False))
    db.session.commit()
    try:
        redis_connection().delete(PROBE_KEY.format(store_id))
    except RedisError:
        pass
    _forget_banner()
    log.info("store %s: Walmart accepts the credentials again; %d update(s) resume",
             store_id, len(waiting))
    outbox.wake([task_id for task_id, _ in waiting])
    return True
