"""A store whose credentials Walmart refuses (400 on the token, as Walmart answers) or finds
lacking a permission (403): the store shows it on Stores, Home and the banner; its updates stay
pending, paused — no attempts counted, no Walmart call but an occasional check, the pause not
counted towards giving up — and go out by themselves once the credentials work again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from simulator import control
from webapp.walmart import AuthenticationError


@pytest.fixture
def store(app, walmart_store, worker):
    """Imported, acknowledged orders and a fresh token cache. Returns (store_id, seller,
    [(order id, {line: qty})] of one-line orders without a buyer cancel request)."""
    from webapp.extensions import db
    from webapp.models import Order
    from webapp.services.orders.importer import import_store
    from webapp.walmart.client import forget_tokens

    store_id, seller = walmart_store(orders=6, seed=5)
    with app.app_context():
        import_store(store_id)
    worker()
    forget_tokens()  # the next call asks Walmart for a token
    with app.app_context():
        rows = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                  .order_by(Order.id)).unique().all()
        orders = [(o.id, {x.line_number: x.quantity for x in o.lines}) for o in rows
                  if len(o.lines) == 1]
    return store_id, seller, orders


def _ship(app, order_id: int, lines: dict) -> int:
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    with app.app_context():
        return ship_order(order_id, [PackageInput("1Z999AA10123456784", "Standard", lines,
                                                  "UPS")], utcnow(), by=None, actor="test",
                          confirm_warnings=True).task_id


def _run(app, task_id: int) -> str:
    from webapp.services.sync.engine import process_task

    with app.app_context():
        return process_task(task_id).state


def _get(app, model, row_id: int):
    from webapp.extensions import db

    with app.app_context():
        row = db.session.get(model, row_id)
        db.session.refresh(row)
        db.session.expunge(row)
        return row


def _task(app, task_id: int):
    from webapp.models import SyncTask

    return _get(app, SyncTask, task_id)


def _store(app, store_id: int):
    from webapp.models import Store

    return _get(app, Store, store_id)


def _make_due(app) -> None:
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.models.base import utcnow

    with app.app_context():
        db.session.execute(update(SyncTask).where(SyncTask.state == "pending")
                           .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def _token_calls(sim, after: int) -> list[int]:
    return [r["status"] for r in sim.conn.execute(
        "SELECT status FROM requests WHERE endpoint = 'token' AND id > ? ORDER BY id", (after,))]


def _mark(sim) -> int:
    return sim.conn.execute("SELECT coalesce(max(id), 0) FROM requests").fetchone()[0]


def _page_text(client, path: str) -> str:
    import html

    return html.unescape(client.get(path).text)


def _section(page: str, start: str, end: str) -> str:
    """The part of a page from `start` to the next `end`."""
    assert start in page, start
    at = page.index(start)
    return page[at:page.index(end, at)]


def _update_secret(app, store_id: int, secret: str) -> None:
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.services.stores.editing import StoreInput, update_store

    with app.app_context():
        store = db.session.get(Store, store_id)
        update_store(store, StoreInput(
            name=store.name, environment=store.environment, base_url=store.base_url,
            client_id=store.client_id, client_secret=secret,
            import_enabled=store.import_enabled, rate_limits=store.rate_limits), by=None)


def test_refused_credentials_pause_updates_until_a_new_secret_resumes_them(
        app, store, worker, signed_in, client):
    """The secret was regenerated in Seller Center: Walmart answers the token request 400. The
    shipment stays pending (no attempt counted, not Error), later tries do not call Walmart,
    Stores, Home, the banner and the order say why; entering the new secret clears it, the
    paused time is added to the task, and the worker sends the shipment by itself."""
    from webapp.extensions import db
    from webapp.models import Store, SyncTask
    from webapp.models.base import utcnow

    store_id, seller, orders = store
    order_id, lines = orders[0]
    task_id = _ship(app, order_id, lines)
    control.set_client_secret(seller.sim.conn, seller.seller_id, "regenerated-secret")
    mark = _mark(seller.sim)
    assert _run(app, task_id) == "paused"
    task = _task(app, task_id)
    assert (task.state, task.attempts, task.last_error_message) == ("pending", 0, None)
    refused = _store(app, store_id)
    assert refused.credentials_problem == "refused" and "(400" in refused.credentials_error
    assert _token_calls(seller.sim, mark) == [400]
    _make_due(app)
    assert _run(app, task_id) == "paused"  # no hammering: no call until the next check
    assert _token_calls(seller.sim, mark) == [400]
    assert _task(app, task_id).attempts == 0

    signed_in("admin")
    row = _section(_page_text(client, "/stores/"), f'id="store-{store_id}"', "</tr>")
    home = _section(_page_text(client, "/"), 'id="imports-title"', "</section>")
    for shown in (row, home):
        assert "Walmart refused the credentials" in shown and "Stores → Edit" in shown
    banner = _section(_page_text(client, "/orders/"), 'class="banner"', "</div>")
    assert f"{refused.name}: Walmart refused the credentials" in banner
    assert "none fails for it" in banner
    assert "waiting: Walmart refused the credentials" in _page_text(client, f"/orders/{order_id}")
    assert "Waiting: Walmart refused the credentials" in _page_text(client, "/sync/?state=pending")

    with app.app_context():  # as if the shipment was made 3 hours ago, refused 2 hours ago
        db.session.execute(update(Store).where(Store.id == store_id).values(
            credentials_failed_at=utcnow() - timedelta(hours=2)))
        db.session.execute(update(SyncTask).where(SyncTask.id == task_id).values(
            created_at=utcnow() - timedelta(hours=3)))
        db.session.commit()
    _update_secret(app, store_id, "regenerated-secret")
    assert _store(app, store_id).credentials_problem is None
    assert 7200 <= _task(app, task_id).paused_seconds < 3 * 3600
    worker()
    task = _task(app, task_id)
    assert (task.state, task.attempts) == ("synced", 1)
    assert "Walmart refused" not in _page_text(client, "/stores/")
    shipped = seller.client().get_order(task.target).lines[0]
    assert shipped.quantity_in("Shipped") == next(iter(lines.values()))


def test_a_fix_made_in_seller_center_alone_is_picked_up_by_the_next_check(app, store, worker):
    """Nothing changes in Orderdeck: the next check (one token request, once the probe
    interval has passed) gets a token, which clears the problem and wakes every paused
    update."""
    from webapp.extensions import redis_connection
    from webapp.services.stores.credentials import PROBE_KEY

    store_id, seller, orders = store
    first, second = (_ship(app, order_id, lines) for order_id, lines in orders[:2])
    original = seller.client_secret
    control.set_client_secret(seller.sim.conn, seller.seller_id, "regenerated-secret")
    assert _run(app, first) == "paused"
    _make_due(app)
    assert _run(app, second) == "paused"
    control.set_client_secret(seller.sim.conn, seller.seller_id, original)  # fixed there
    with app.app_context():
        redis_connection().delete(PROBE_KEY.format(store_id))  # the probe interval passed
    _make_due(app)
    assert _run(app, first) == "synced"
    assert _store(app, store_id).credentials_problem is None
    worker()  # the other paused update was woken: it runs now, not in five minutes
    assert _task(app, second).state == "synced"


@pytest.mark.parametrize("where", ["token", "shipping"])
def test_credentials_lacking_a_permission_are_shown_as_such(app, store, signed_in, client,
                                                            where):
    """Walmart answers 403 (on the token, or on the call the key may not make): the store
    says its credentials lack a permission, and the update waits instead of failing."""
    store_id, seller, orders = store
    order_id, lines = orders[0]
    task_id = _ship(app, order_id, lines)
    if where == "token":
        control.forbid(seller.sim.conn, seller.seller_id, token=True)
    else:
        control.forbid(seller.sim.conn, seller.seller_id, endpoints=["shipping"])
    try:
        assert _run(app, task_id) == "paused"
    finally:
        control.allow(seller.sim.conn, seller.seller_id)
    task = _task(app, task_id)
    assert (task.state, task.attempts) == ("pending", 0)
    assert [r["status"] for r in seller.requests() if r["endpoint"] == "shipping"] == (
        [403] if where == "shipping" else [])
    forbidden = _store(app, store_id)
    assert forbidden.credentials_problem == "forbidden" and "403" in forbidden.credentials_error
    signed_in("admin")
    row = _section(_page_text(client, "/stores/"), f'id="store-{store_id}"', "</tr>")
    home = _section(_page_text(client, "/"), 'id="imports-title"', "</section>")
    banner = _section(_page_text(client, "/orders/"), 'class="banner"', "</div>")
    for shown in (row, home, banner):
        assert "Walmart says the credentials lack a permission" in shown
    assert "API Key Management" in row


def test_time_paused_for_credentials_does_not_count_towards_giving_up(app, store):
    """A task failing for a day, 2 of those hours paused for the store's credentials, keeps
    retrying; without the pause it waits for a person in Error."""
    from webapp.extensions import db
    from webapp.models import SyncTask
    from webapp.models.base import utcnow

    _store_id, seller, orders = store
    order_id, lines = orders[0]
    task_id = _ship(app, order_id, lines)
    control.set_faults(seller.sim.conn, "shipping", error_rate=1.0)
    control.set_faults(seller.sim.conn, "order", error_rate=1.0)

    def aged(paused: int) -> None:
        with app.app_context():
            db.session.execute(update(SyncTask).where(SyncTask.id == task_id).values(
                attempts=40, created_at=utcnow() - timedelta(hours=25), paused_seconds=paused,
                next_attempt_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()

    aged(2 * 3600)
    assert _run(app, task_id) == "retry"
    assert _task(app, task_id).state == "pending"
    aged(0)
    assert _run(app, task_id) == "error"
    assert _task(app, task_id).last_error_message.startswith("Gave up after")


def test_a_pause_still_going_on_does_not_count_towards_giving_up(app, store):
    """While the store's credentials are still refused, the time since they were refused is
    paused time too."""
    from webapp.extensions import db
    from webapp.models import Store, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.sync.engine import _gives_up

    store_id, _seller, orders = store
    order_id, lines = orders[0]
    task_id = _ship(app, order_id, lines)
    with app.app_context():
        task = db.session.get(SyncTask, task_id)
        task.attempts, task.created_at = 40, utcnow() - timedelta(hours=25)
        db.session.commit()
        assert _gives_up(task)
        db.session.execute(update(Store).where(Store.id == store_id).values(
            credentials_problem="refused", credentials_failed_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
        db.session.expire_all()
        assert not _gives_up(db.session.get(SyncTask, task_id))


def test_an_import_refused_sets_the_store_state_and_waits_for_its_turn(app, store, worker):
    """The import meets the refused token first: the store shows the problem; scheduled
    imports then wait for the store's check (one every few minutes), and the first import
    Walmart accepts clears it."""
    from jobs.imports import import_all
    from webapp.extensions import redis_connection
    from webapp.services.orders.importer import import_store
    from webapp.services.stores.credentials import PROBE_KEY

    store_id, seller, _orders = store
    original = seller.client_secret
    control.set_client_secret(seller.sim.conn, seller.seller_id, "regenerated-secret")
    with app.app_context(), pytest.raises(AuthenticationError):
        import_store(store_id)
    refused = _store(app, store_id)
    assert refused.credentials_problem == "refused" and refused.import_failures == 1
    with app.app_context():
        assert import_all() == 0  # not this store's turn to check
        control.set_client_secret(seller.sim.conn, seller.seller_id, original)
        redis_connection().delete(PROBE_KEY.format(store_id))
        assert import_all() == 1
    worker()
    assert _store(app, store_id).credentials_problem is None
