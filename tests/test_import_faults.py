"""Import and acknowledgement while Walmart misbehaves: every order once, acknowledged once."""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import select

from simulator import control


def test_every_order_once_and_acknowledged_once_under_faults(app, walmart_store, runner):
    """With 5xx, timeouts (before and after acting), broken JSON and 429s on every call,
    repeated imports and the sync engine still store each released order exactly once and
    acknowledge each exactly once; the failures are recorded on the store."""
    from webapp.extensions import db
    from webapp.models import ImportRun, Order, Store
    from webapp.services.orders.importer import ImportDeferred, import_store
    from webapp.walmart import WalmartError

    app.config.update(WALMART_READ_TIMEOUT=1.0, SYNC_BACKOFF_BASE=0.2, SYNC_BACKOFF_CAP=2.0)
    store_id, seller = walmart_store(orders=150, seed=21)
    conn = seller.sim.conn
    for endpoint in ("released", "orders"):
        control.set_faults(conn, endpoint, error_rate=0.2, malformed_rate=0.1,
                           throttle_rate=0.1, timeout_rate=0.05, hang_seconds=2)
    control.set_faults(conn, "acknowledge", error_rate=0.15, timeout_after_rate=0.1,
                       malformed_rate=0.1, throttle_rate=0.1, hang_seconds=2)
    control.set_faults(conn, "order", error_rate=0.1)
    failures = 0
    with app.app_context():
        for _ in range(8):
            try:
                import_store(store_id)
            except (WalmartError, ImportDeferred):
                failures += 1
        errors = db.session.scalars(select(ImportRun.error).where(ImportRun.ok.is_(False))).all()
        assert failures and len(errors) == failures and all(errors)
    result = runner.invoke(args=["sync", "drain", "--timeout", "240"])
    control.clear_faults(conn)
    with app.app_context():
        assert import_store(store_id).ok
    result = runner.invoke(args=["sync", "drain", "--timeout", "120"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        pos = db.session.scalars(select(Order.purchase_order_id)).all()
        assert db.session.get(Store, store_id).import_failures == 0
    assert len(pos) == 150 and len(set(pos)) == 150
    acked = Counter(re.search(r"/v3/orders/(\d+)/acknowledge", r["path"]).group(1)
                    for r in seller.requests()
                    if r["endpoint"] == "acknowledge" and r["status"] == 200)
    assert set(acked) == set(pos) and set(acked.values()) == {1}
    for po in pos[:20]:
        state = control.order_state(conn, seller.seller_id, po)
        assert {s["status"] for x in state["orderLines"]["orderLine"]
                for s in x["orderLineStatuses"]["orderLineStatus"]} == {"Acknowledged"}
